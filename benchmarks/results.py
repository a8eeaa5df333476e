"""The benchmark's results, typed: what ``benchmarks.run`` measures and ``benchmarks.docs`` renders.

Serialised with ``to_json`` to ``.runtime/bench/results-<timestamp>.json`` and read back with
``BenchResults.from_json``, which also reads the files written before these classes existed (the
same keys; a key a file lacks takes its default, so ``--docs-from`` renders an old run).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.measure import Measurement

JsonDict = dict[str, Any]


def to_json(value: Any) -> Any:
    """A results object as the JSON the results file holds (``dataclasses.asdict``)."""
    return asdict(value)


def ratio_of(top: float | None, bottom: float | None) -> float | None:
    """top / bottom to three decimals; None when either is unknown or 0."""
    return round(top / bottom, 3) if top and bottom else None


@dataclass
class Spill:
    """Bytes a Spark run spilled, summed over its tasks (from its event log)."""

    memory_bytes_spilled: int = 0
    disk_bytes_spilled: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Spill | None:
        return cls(**data) if data else None


@dataclass
class RunRecord:
    """One measured run of a command (``benchmarks.measure.Measurement``) and what came with it."""

    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    returncode: int
    load_before: tuple[float, ...]
    load_after: tuple[float, ...]
    log: str | None = None
    event_log: str | None = None
    waited_for_datanode_s: float = 0.0
    spill: Spill | None = None

    @classmethod
    def of(cls, m: Measurement, **extra: Any) -> RunRecord:
        return cls(**m.to_json(), **extra)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            wall_s=data["wall_s"],
            cpu_s=data.get("cpu_s", 0.0),
            peak_rss_bytes=data.get("peak_rss_bytes", 0),
            returncode=data.get("returncode", 0),
            load_before=tuple(data.get("load_before", ())),
            load_after=tuple(data.get("load_after", ())),
            log=data.get("log"),
            event_log=data.get("event_log"),
            waited_for_datanode_s=data.get("waited_for_datanode_s", 0.0),
            spill=Spill.from_json(data.get("spill")),
        )

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class EngineResult:
    """The runs of one engine at one size and their summary (medians of the successful runs)."""

    runs: list[RunRecord]
    failures: int
    median_s: float | None = None
    min_s: float | None = None
    max_s: float | None = None
    cpu_median_s: float | None = None
    peak_rss_bytes: int | None = None
    rows_per_s: int | None = None
    profile: JsonDict | None = None
    """Where the median run's time went (``benchmarks.eventlog.analyse``), with event logs."""

    @classmethod
    def summarize(cls, runs: Sequence[RunRecord], rows: int) -> EngineResult:
        ok = [r for r in runs if r.ok]
        result = cls(runs=list(runs), failures=len(runs) - len(ok))
        if ok:
            walls = [r.wall_s for r in ok]
            median = statistics.median(walls)
            result.median_s = round(median, 3)
            result.min_s, result.max_s = min(walls), max(walls)
            result.cpu_median_s = round(statistics.median(r.cpu_s for r in ok), 2)
            result.peak_rss_bytes = max(r.peak_rss_bytes for r in ok)
            result.rows_per_s = round(rows / median)
        return result

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EngineResult:
        return cls(
            runs=[RunRecord.from_json(run) for run in data.get("runs", [])],
            failures=data.get("failures", 0),
            median_s=data.get("median_s"),
            min_s=data.get("min_s"),
            max_s=data.get("max_s"),
            cpu_median_s=data.get("cpu_median_s"),
            peak_rss_bytes=data.get("peak_rss_bytes"),
            rows_per_s=data.get("rows_per_s"),
            profile=data.get("profile"),
        )


@dataclass
class AgreementCheck:
    money: str
    agrees: bool
    problems: list[str]


@dataclass
class Agreement:
    """Ours is the reference; the others' tables compared with it, or why they were not."""

    reference: str = "ours"
    duckdb: AgreementCheck | None = None
    naive: AgreementCheck | None = None
    repeat: int | None = None
    error: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Agreement:
        checks = {
            name: AgreementCheck(**data[name]) if data.get(name) else None
            for name in ("duckdb", "naive")
        }
        return cls(
            reference=data.get("reference", "ours"),
            repeat=data.get("repeat"),
            error=data.get("error"),
            **checks,
        )


@dataclass
class SizeResult:
    rows: int
    date: str
    input_bytes: int
    engines: dict[str, EngineResult]
    ratios: dict[str, float | None]
    agreement: Agreement
    job_files: dict[str, str] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SizeResult:
        return cls(
            rows=data["rows"],
            date=data["date"],
            input_bytes=data["input_bytes"],
            engines={k: EngineResult.from_json(v) for k, v in data["engines"].items()},
            ratios=dict(data["ratios"]),
            agreement=Agreement.from_json(data["agreement"]),
            job_files=data.get("job_files"),
        )


@dataclass
class TimedRun:
    """A run judged by more than its exit code: ``airflow dags test`` or a bare submit."""

    wall_s: float
    succeeded: bool
    cpu_s: float = 0.0
    peak_rss_bytes: int = 0
    returncode: int = 0
    load_before: tuple[float, ...] = ()
    load_after: tuple[float, ...] = ()
    log: str | None = None
    retries: int | None = None
    tasks: dict[str, float] | None = None

    @classmethod
    def of(cls, m: Measurement, succeeded: bool, **extra: Any) -> TimedRun:
        return cls(**m.to_json(), succeeded=succeeded, **extra)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TimedRun:
        known = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in known}
        for key in ("load_before", "load_after"):
            values[key] = tuple(values.get(key, ()))
        return cls(**values)


@dataclass
class SingleDay:
    """``airflow dags test`` of one day against a bare spark-submit of the same job."""

    rows: int
    date: str
    dags_test: TimedRun
    bare_submit: TimedRun
    ratio: float | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SingleDay:
        return cls(
            rows=data["rows"],
            date=data["date"],
            dags_test=TimedRun.from_json(data["dags_test"]),
            bare_submit=TimedRun.from_json(data["bare_submit"]),
            ratio=data["ratio"],
        )


@dataclass
class Backfill:
    """A real ``airflow backfill create`` against the same days run alone, one after the other.
    ``scheduler`` is the backfill's own record (command, timeline of its runs from the REST API,
    error); None in files from before the backfill was measured (``method`` says how then)."""

    days: list[str]
    rows_per_day: int
    method: str
    ratio: float | None
    scheduler: JsonDict | None = None
    dags_test_runs: list[TimedRun] = field(default_factory=list)
    bare_submits: list[TimedRun] = field(default_factory=list)
    dags_test_total_s: float | None = None
    bare_total_s: float | None = None
    all_succeeded: bool = False
    ratio_to_bare: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Backfill:
        return cls(
            days=list(data["days"]),
            rows_per_day=data["rows_per_day"],
            method=data.get("method", ""),
            ratio=data.get("ratio"),
            scheduler=data.get("scheduler"),
            dags_test_runs=[TimedRun.from_json(r) for r in data.get("dags_test_runs", [])],
            bare_submits=[TimedRun.from_json(r) for r in data.get("bare_submits", [])],
            dags_test_total_s=data.get("dags_test_total_s"),
            bare_total_s=data.get("bare_total_s"),
            all_succeeded=data.get("all_succeeded", False),
            ratio_to_bare=data.get("ratio_to_bare"),
        )


@dataclass
class Orchestration:
    single: SingleDay | None = None
    backfill: Backfill | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Orchestration | None:
        if data is None:
            return None
        single, backfill = data.get("single"), data.get("backfill")
        return cls(
            single=SingleDay.from_json(single) if single else None,
            backfill=Backfill.from_json(backfill) if backfill else None,
        )


@dataclass
class FixedCost:
    """What every run pays whatever its size: our job on the sample day against a trivial PySpark
    job (session, one tiny Parquet write, stop), interleaved, and the sample day's ``dags test``
    (``dags_test_runs``, one per repeat: a single run of a 30-second command is at the mercy of
    the machine's load; the figure is their median)."""

    date: str
    rows: int
    trivial: EngineResult
    ours: EngineResult
    ratio: float | None
    dags_test_runs: list[TimedRun] = field(default_factory=list)
    error: str | None = None

    @property
    def dags_test_median_s(self) -> float | None:
        """Median wall seconds of the ``dags test`` runs; None when there is none."""
        walls = [run.wall_s for run in self.dags_test_runs]
        return round(statistics.median(walls), 2) if walls else None

    @property
    def dags_test(self) -> TimedRun | None:
        """The ``dags test`` run nearest the median (the lower one of an even count): its
        seconds per task are the ones shown."""
        if not self.dags_test_runs:
            return None
        by_wall = sorted(self.dags_test_runs, key=lambda run: run.wall_s)
        return by_wall[(len(by_wall) - 1) // 2]

    @property
    def dags_tests_succeeded(self) -> bool:
        return bool(self.dags_test_runs) and all(run.succeeded for run in self.dags_test_runs)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> FixedCost | None:
        if data is None:
            return None
        runs = data.get("dags_test_runs")
        if runs is None:  # results from before the repeats: one run
            runs = [data["dags_test"]] if data.get("dags_test") else []
        return cls(
            date=data["date"],
            rows=data["rows"],
            trivial=EngineResult.from_json(data["trivial"]),
            ours=EngineResult.from_json(data["ours"]),
            ratio=data.get("ratio"),
            dags_test_runs=[TimedRun.from_json(run) for run in runs],
            error=data.get("error"),
        )


@dataclass
class Target:
    target: str
    measured: str
    met: bool | None


@dataclass
class BenchResults:
    run_id: str
    started: str
    settings: JsonDict
    machine: JsonDict
    job: JsonDict
    argv: list[str] = field(default_factory=list)
    sizes: list[SizeResult] = field(default_factory=list)
    orchestration: Orchestration | None = None
    finished: str | None = None
    targets: list[Target] = field(default_factory=list)
    fixed_cost: FixedCost | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BenchResults:
        return cls(
            run_id=data["run_id"],
            started=data["started"],
            settings=dict(data["settings"]),
            machine=dict(data["machine"]),
            job=dict(data["job"]),
            argv=list(data.get("argv", [])),
            sizes=[SizeResult.from_json(size) for size in data.get("sizes", [])],
            orchestration=Orchestration.from_json(data.get("orchestration")),
            finished=data.get("finished"),
            targets=[Target(**t) for t in data.get("targets", [])],
            fixed_cost=FixedCost.from_json(data.get("fixed_cost")),
        )

    def size(self, rows: int) -> SizeResult | None:
        return next((s for s in self.sizes if s.rows == rows), None)
