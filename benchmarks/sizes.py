"""One size of ``make bench``: its day staged in HDFS, each engine run ``repeats`` times,
interleaved (ours, naive, floor, DuckDB, ours, ...), the medians, and the agreement of the tables.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_stack import (
    BENCH_DIR,
    HDFS_BENCH_ROOT,
    PROJECT_ROOT,
    Stack,
    entries,
    folder_bytes,
    generated_day,
    job_fingerprint,
    log,
    upload_day,
)
from benchmarks.compare import differences
from benchmarks.engines import ENGINES, engine_command
from benchmarks.measure import Measurement, run_measured
from benchmarks.results import (
    Agreement,
    AgreementCheck,
    BenchResults,
    EngineResult,
    RunRecord,
    SizeResult,
    Spill,
    ratio_of,
)

OUTAGE_SIGNS = ("could only be written to 0 of the", "Connection refused", "BlockMissingException")
COMPARED = ("ours", "naive", "duckdb")
"""The engines whose tables are compared (the floor writes none)."""


@dataclass(frozen=True)
class SizeRun:
    """Everything one size's runs need: where its input and outputs live."""

    day: dt.date
    rows: int
    local_input: Path
    hdfs_folder: str
    local_work: Path
    stack: Stack
    spark_conf: tuple[str, ...]

    @property
    def input_uri(self) -> str:
        return self.stack.uri(f"{self.hdfs_folder}/input")

    def output_path(self, engine: str, repeat: int) -> str:
        return f"{self.hdfs_folder}/{engine}-{repeat}"

    def measure(self, engine: str, repeat: int, log_path: Path) -> Measurement:
        return run_measured(
            self.command(engine, repeat), log_path=log_path, env=self.stack.env(), cwd=PROJECT_ROOT
        )

    def command(self, engine: str, repeat: int) -> list[str]:
        return engine_command(
            engine,
            day=self.day,
            input_uri=self.input_uri,
            output_uri=self.stack.uri(self.output_path(engine, repeat)),
            local_input=self.local_input,
            local_output=self.local_work / f"duckdb-{repeat}",
            conf=self.spark_conf,
        )


def read_outputs(run: SizeRun, engine: str, repeat: int) -> dict:
    """The four tables an engine wrote (HDFS for Spark, local for DuckDB), as Arrow tables."""
    import pyarrow.parquet as pq

    from include.ecommerce.validation import read_table
    from spark_jobs.contract import CORE_TABLES

    if engine == "duckdb":
        folder = run.local_work / f"duckdb-{repeat}"
        return {t.name: pq.read_table(folder / t.name / "data.parquet") for t in CORE_TABLES}
    client = run.stack.client()
    base = run.output_path(engine, repeat)
    return {t.name: read_table(client, f"{base}/{t.name}") for t in CORE_TABLES}


def agreement(run: SizeRun, repeat: int) -> Agreement:
    """Ours is the reference; DuckDB must match exactly, naive to the cent (it sums DOUBLEs)."""
    ours = read_outputs(run, "ours", repeat)
    duckdb = differences(ours, read_outputs(run, "duckdb", repeat))
    naive = differences(ours, read_outputs(run, "naive", repeat), money_in_cents=True)
    return Agreement(
        duckdb=AgreementCheck(money="exact", agrees=not duckdb, problems=duckdb),
        naive=AgreementCheck(
            money="rounded to cents (naive sums DOUBLE prices from inferSchema)",
            agrees=not naive,
            problems=naive,
        ),
        repeat=repeat,
    )


def _hit_datanode_outage(m: Measurement) -> bool:
    """Whether a failed run's log shows the shared DataNode going away under it."""
    text = Path(m.log).read_text(errors="replace") if m.log else ""
    return any(sign in text for sign in OUTAGE_SIGNS)


def profile_of_median_run(engine: EngineResult) -> dict | None:
    """Where the median run's time went, from its Spark event log (benchmarks.eventlog)."""
    from benchmarks import eventlog

    runs = [r for r in engine.runs if r.ok and r.event_log]
    if not runs:
        return None
    median = sorted(runs, key=lambda r: r.wall_s)[(len(runs) - 1) // 2]
    assert median.event_log is not None
    return {"wall_s": median.wall_s, "event_log": median.event_log} | eventlog.analyse(
        Path(median.event_log)
    )


def refresh_profiles(results: BenchResults) -> None:
    """Re-read the profiled event logs that still exist (the analysis may have grown since)."""
    from benchmarks import eventlog

    for size in results.sizes:
        profile = size.engines["ours"].profile
        if profile and Path(profile["event_log"]).exists():
            profile.update(eventlog.analyse(Path(profile["event_log"])))


def spill_of(event_log: str | None) -> Spill | None:
    """What a run spilled, from its event log (None without one)."""
    from benchmarks import eventlog

    if event_log is None:
        return None
    memory, disk = eventlog.spilled_bytes(Path(event_log))
    return Spill(memory_bytes_spilled=memory, disk_bytes_spilled=disk)


def _first_comparable_repeat(runs: dict[str, list[RunRecord]], repeats: int) -> int | None:
    return next(
        (r for r in range(1, repeats + 1) if all(runs[e][r - 1].ok for e in COMPARED)), None
    )


def bench_size(
    stack: Stack,
    run_id: str,
    day: dt.date,
    rows: int,
    repeats: int,
    spark_conf: tuple[str, ...],
    event_log_dir: Path | None = None,
) -> SizeResult:
    job_files = job_fingerprint()  # the job may change between sizes: know which one ran
    local_input = generated_day(day, rows)
    hdfs_folder = f"{HDFS_BENCH_ROOT}/{run_id}/rows-{rows}"
    client = stack.client()
    stack.wait_for_datanode()
    log(f"uploading {folder_bytes(local_input) / 1e6:.0f} MB to hdfs://{hdfs_folder}/input")
    upload_day(client, local_input, f"{hdfs_folder}/input")
    run = SizeRun(
        day=day,
        rows=rows,
        local_input=local_input,
        hdfs_folder=hdfs_folder,
        local_work=BENCH_DIR / "work" / run_id / f"rows-{rows}",
        stack=stack,
        spark_conf=spark_conf,
    )
    logs = BENCH_DIR / "logs" / run_id / f"rows-{rows}"
    runs: dict[str, list[RunRecord]] = {engine: [] for engine in ENGINES}
    for repeat in range(1, repeats + 1):
        for engine in ENGINES:
            waited = stack.wait_for_datanode() if engine != "duckdb" else 0.0
            before = entries(event_log_dir)
            m = run.measure(engine, repeat, logs / f"{engine}-{repeat}.log")
            if m.returncode != 0 and _hit_datanode_outage(m):
                log(f"{engine} #{repeat} failed on a DataNode outage: running it once more")
                waited += stack.wait_for_datanode()
                client.delete(run.output_path(engine, repeat), recursive=True)
                before = entries(event_log_dir)
                m = run.measure(engine, repeat, logs / f"{engine}-{repeat}-rerun.log")
            new_logs = sorted(entries(event_log_dir) - before)
            event_log = new_logs[0] if len(new_logs) == 1 else None
            runs[engine].append(
                RunRecord.of(
                    m,
                    event_log=event_log,
                    waited_for_datanode_s=waited,
                    spill=spill_of(event_log),
                )
            )
            spill = runs[engine][-1].spill
            status = "ok" if m.returncode == 0 else f"FAILED (exit {m.returncode}, log {m.log})"
            log(
                f"{rows:>9,} rows  {engine:<6} #{repeat}: {m.wall_s:7.2f} s (cpu {m.cpu_s:6.1f}), "
                f"peak {m.peak_rss_bytes / 2**20:5.0f} MiB, load {m.load_before[0]:.2f}"
                f"->{m.load_after[0]:.2f}"
                + (f", spilled {spill.disk_bytes_spilled / 2**20:.0f} MiB" if spill else "")
                + f"  {status}"
            )
    engines = {engine: EngineResult.summarize(rs, rows) for engine, rs in runs.items()}
    if event_log_dir:
        engines["ours"].profile = profile_of_median_run(engines["ours"])
    first_ok = _first_comparable_repeat(runs, repeats)
    if first_ok is None:
        agree = Agreement(error="no repeat where ours, naive and DuckDB all succeeded")
    else:
        try:
            agree = agreement(run, first_ok)
        except Exception as error:  # a missing table is a finding, not a crash of the bench
            agree = Agreement(error=f"{type(error).__name__}: {error}")
    log(f"{rows:,} rows: agreement {json.dumps(agree, default=vars)[:300]}")
    client.delete(hdfs_folder, recursive=True)
    shutil.rmtree(run.local_work, ignore_errors=True)
    medians = {engine: result.median_s for engine, result in engines.items()}
    return SizeResult(
        rows=rows,
        date=day.isoformat(),
        input_bytes=folder_bytes(local_input),
        job_files=job_files,
        engines=engines,
        ratios={
            f"ours/{other}": ratio_of(medians["ours"], medians[other])
            for other in ("naive", "floor", "duckdb")
        },
        agreement=agree,
    )
