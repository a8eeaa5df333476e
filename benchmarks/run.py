"""``make bench``: our Spark job against a naive baseline, a parse-only floor and DuckDB.

    stack/run.sh python -m benchmarks.run [--sizes 500000,2000000,5000000] [--repeats 3]
                                          [--skip-orchestration] [--backfill-days 7]
    stack/run.sh python -m benchmarks.run --docs-from .runtime/bench/results-<ts>.json

For each size: generate the day (cached under ``.runtime/bench/data``), put it into the local
HDFS (``/tmp/bench/<run>/``, as the pipeline's user), then run each engine ``--repeats`` times,
interleaved (ours, naive, floor, DuckDB, ours, ...), and keep the median. Check that the tables of
ours, naive and DuckDB agree. Then (unless ``--skip-orchestration``) time ``airflow dags test``
against a bare ``spark-submit`` of the same job on the same raw partition, and a real
``airflow backfill create`` of seven consecutive days on a throwaway Airflow (scheduler,
dag-processor, api-server on free ports, its own AIRFLOW_HOME) against the same seven days run
alone, one after the other (``airflow dags test`` each, and bare submits). Results go to
``.runtime/bench/results-<timestamp>.json`` and ``docs/benchmarks.md`` (its generated block) is
rendered from that file.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import docs, machine
from benchmarks.compare import differences
from benchmarks.measure import Measurement, run_measured
from include.ecommerce.spark_submit import etl_job_args, etl_submission, script_submission
from stack.live_airflow import FINISHED_RUN_STATES, isolated_airflow_home, running_airflow

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / ".runtime" / "bench"
DATA_DIR = BENCH_DIR / "data"
DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
JOB_PATH = PROJECT_ROOT / "spark_jobs" / "ecommerce_etl.py"
HDFS_BENCH_ROOT = "/tmp/bench"

BENCH_DATE = dt.date(2030, 1, 1)
"""First generated day: far from any date the tests or the demo use, so the orchestration runs
(which write the pipeline's real partitions) touch nobody else's data."""
BACKFILL_DATE = dt.date(2026, 9, 1)
"""First day of the backfill comparison. Not in 2030: ``airflow backfill create`` refuses future
days ("Backfill cannot be executed for future dates") and creates runs only for days after the
DAG's start date (2026-02-10) whose interval has ended. The tests and the demo use January to
March 2026; the bench leaves the backfill alone when the pipeline already has a partition of one
of its days (it would overwrite it, then delete it)."""
DEFAULT_SIZES = (500_000, 2_000_000, 5_000_000)
SPARK_MASTER = "local[2]"
DAG_ID = "ecommerce_daily"

ENGINES = ("ours", "naive", "floor", "duckdb")


# --- Settings of the local stack ----------------------------------------------------------------


@dataclass(frozen=True)
class Stack:
    hdfs_uri: str
    webhdfs_url: str
    user: str

    @classmethod
    def from_env(cls) -> Stack:
        rpc = os.environ.get("HDFS_NAMENODE_RPC_PORT", "8020")
        http = os.environ.get("HDFS_NAMENODE_HTTP_PORT", "9870")
        return cls(
            hdfs_uri=f"hdfs://127.0.0.1:{rpc}",
            webhdfs_url=f"http://127.0.0.1:{http}",
            user=os.environ.get("PIPELINE_HDFS_USER", "airflow"),
        )

    def client(self):
        from hdfs import InsecureClient

        return InsecureClient(self.webhdfs_url, user=self.user)

    def uri(self, path: str) -> str:
        return f"{self.hdfs_uri}{path}"

    def live_datanodes(self) -> int:
        import requests

        try:
            answer = requests.get(
                f"{self.webhdfs_url}/jmx",
                params={"qry": "Hadoop:service=NameNode,name=FSNamesystemState"},
                timeout=5,
            )
            return int(answer.json()["beans"][0]["NumLiveDataNodes"])
        except (requests.RequestException, ValueError, LookupError):
            return 0

    def wait_for_datanode(self, timeout_s: float = 600) -> float:
        """Seconds waited until a DataNode is live. The HDFS is shared: another session's test
        may stop the DataNode for a while, and a run started then fails for nothing."""
        started = time.monotonic()
        announced = False
        while self.live_datanodes() < 1 and time.monotonic() - started < timeout_s:
            if not announced:
                log("no live DataNode (another session's test?): waiting before the next run")
                announced = True
            time.sleep(2)
        return round(time.monotonic() - started, 1)

    def env(self) -> dict[str, str]:
        return {**os.environ, "HADOOP_USER_NAME": self.user}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Input days ------------------------------------------------------------------------------------


def landing_root(rows: int) -> Path:
    """Landing root of the generated days of one size: ``<root>/YYYY/MM/DD/ecommerce_logs.csv``."""
    return DATA_DIR / f"rows-{rows}"


def generated_day(day: dt.date, rows: int) -> Path:
    """The folder of a generated day, generated once (cache key: date and rows)."""
    from include.data.generate_logs import write_day

    root = landing_root(rows)
    folder = root / f"{day:%Y/%m/%d}"
    marker = root / f".complete-{day.isoformat()}"
    if marker.exists():
        return folder
    log(f"generating {rows:,} rows for {day} into {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    write_day(day, rows, root, progress=sys.stderr.isatty())
    marker.touch()
    return folder


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def upload_day(client, folder: Path, hdfs_folder: str) -> None:
    client.makedirs(hdfs_folder)
    for path in sorted(folder.iterdir()):
        client.upload(f"{hdfs_folder}/{path.name}", str(path), overwrite=True)


# --- Engines -------------------------------------------------------------------------------------


def _conf_pairs(conf: Iterable[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in conf)


def spark_submit(
    script: Path, *args: str, master: str = SPARK_MASTER, conf: Iterable[str] = (), name=None
) -> list[str]:
    """``spark-submit`` of a script with the job's driver settings, plus ``conf`` (``key=value``):
    the command line comes from include/ecommerce/spark_submit.py, like the DAG's."""
    submission = script_submission(str(script), args, name=name)
    return submission.with_conf(_conf_pairs(conf)).argv(master)


def spark_submit_options(master: str = SPARK_MASTER) -> list[str]:
    """``spark-submit`` and the options every Spark engine gets (what the results record)."""
    return spark_submit(JOB_PATH, master=master)[:-1]


def ours_command(
    day: dt.date, input_uri: str, output_uri: str, *, master: str = SPARK_MASTER, conf=()
) -> list[str]:
    """The DAG's ``spark_etl`` command line for ``day``: the one builder, ``etl_submission``."""
    submission = etl_submission(day.isoformat(), input_uri, output_uri)
    return submission.with_conf(_conf_pairs(conf)).argv(master)


def ours_args(day: dt.date, input_uri: str, output_uri: str) -> list[str]:
    """The job's arguments alone (for experiments that submit another copy of the job)."""
    return [str(arg) for arg in etl_job_args(day.isoformat(), input_uri, output_uri)]


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
        out = self.stack.uri(self.output_path(engine, repeat))
        if engine == "ours":
            return ours_command(self.day, self.input_uri, out, conf=self.spark_conf)
        if engine == "naive":
            return spark_submit(
                PROJECT_ROOT / "benchmarks" / "naive_job.py",
                "--input",
                self.input_uri,
                "--output",
                out,
                conf=self.spark_conf,
            )
        if engine == "floor":
            return spark_submit(
                PROJECT_ROOT / "benchmarks" / "floor_job.py",
                "--input",
                self.input_uri,
                conf=self.spark_conf,
            )
        if engine == "duckdb":
            return [
                sys.executable,
                "-m",
                "benchmarks.duckdb_tables",
                "--date",
                self.day.isoformat(),
                "--input",
                str(self.local_input),
                "--output",
                str(self.local_work / f"duckdb-{repeat}"),
            ]
        raise ValueError(engine)


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


def agreement(run: SizeRun, repeat: int) -> dict:
    """Ours is the reference; DuckDB must match exactly, naive to the cent (it sums DOUBLEs)."""
    ours = read_outputs(run, "ours", repeat)
    checks = {
        "duckdb": differences(ours, read_outputs(run, "duckdb", repeat)),
        "naive": differences(ours, read_outputs(run, "naive", repeat), money_in_cents=True),
    }
    return {
        "reference": "ours",
        "duckdb": {"money": "exact", "agrees": not checks["duckdb"], "problems": checks["duckdb"]},
        "naive": {
            "money": "rounded to cents (naive sums DOUBLE prices from inferSchema)",
            "agrees": not checks["naive"],
            "problems": checks["naive"],
        },
    }


def summarize(measurements: list[Measurement], rows: int) -> dict:
    ok = [m for m in measurements if m.returncode == 0]
    walls = [m.wall_s for m in ok]
    summary: dict = {
        "runs": [m.to_json() for m in measurements],
        "failures": len(measurements) - len(ok),
    }
    if walls:
        median = statistics.median(walls)
        summary |= {
            "median_s": round(median, 3),
            "min_s": min(walls),
            "max_s": max(walls),
            "cpu_median_s": round(statistics.median(m.cpu_s for m in ok), 2),
            "peak_rss_bytes": max(m.peak_rss_bytes for m in ok),
            "rows_per_s": round(rows / median),
        }
    return summary


def ratio_of(top: float | None, bottom: float | None) -> float | None:
    """top / bottom to three decimals; None when either is unknown or 0."""
    return round(top / bottom, 3) if top and bottom else None


def ratio(results: dict, numerator: str, denominator: str) -> float | None:
    return ratio_of(results[numerator].get("median_s"), results[denominator].get("median_s"))


OUTAGE_SIGNS = ("could only be written to 0 of the", "Connection refused", "BlockMissingException")


def _hit_datanode_outage(m: Measurement) -> bool:
    """Whether a failed run's log shows the shared DataNode going away under it."""
    text = Path(m.log).read_text(errors="replace") if m.log else ""
    return any(sign in text for sign in OUTAGE_SIGNS)


def _entries(folder: Path | None) -> set[str]:
    return {str(path) for path in folder.iterdir()} if folder and folder.is_dir() else set()


def profile_of_median_run(engine: dict) -> dict | None:
    """Where the median run's time went, from its Spark event log (benchmarks.eventlog)."""
    from benchmarks import eventlog

    runs = [r for r in engine["runs"] if r["returncode"] == 0 and r.get("event_log")]
    if not runs:
        return None
    median = sorted(runs, key=lambda r: r["wall_s"])[(len(runs) - 1) // 2]
    return {"wall_s": median["wall_s"], "event_log": median["event_log"]} | eventlog.analyse(
        Path(median["event_log"])
    )


def refresh_profiles(results: dict) -> None:
    """Re-read the profiled event logs that still exist (the analysis may have grown since)."""
    from benchmarks import eventlog

    for size in results.get("sizes", []):
        profile = size["engines"]["ours"].get("profile")
        if profile and Path(profile["event_log"]).exists():
            profile.update(eventlog.analyse(Path(profile["event_log"])))


def bench_size(
    stack: Stack,
    run_id: str,
    day: dt.date,
    rows: int,
    repeats: int,
    spark_conf: tuple[str, ...],
    event_log_dir: Path | None = None,
) -> dict:
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
    measured: dict[str, list[Measurement]] = {engine: [] for engine in ENGINES}
    event_logs: dict[str, list[str | None]] = {engine: [] for engine in ENGINES}
    hdfs_waits: dict[str, list[float]] = {engine: [] for engine in ENGINES}
    for repeat in range(1, repeats + 1):
        for engine in ENGINES:
            waited = stack.wait_for_datanode() if engine != "duckdb" else 0.0
            before = _entries(event_log_dir)
            m = run.measure(engine, repeat, logs / f"{engine}-{repeat}.log")
            if m.returncode != 0 and _hit_datanode_outage(m):
                log(f"{engine} #{repeat} failed on a DataNode outage: running it once more")
                waited += stack.wait_for_datanode()
                client.delete(run.output_path(engine, repeat), recursive=True)
                before = _entries(event_log_dir)
                m = run.measure(engine, repeat, logs / f"{engine}-{repeat}-rerun.log")
            measured[engine].append(m)
            new_logs = sorted(_entries(event_log_dir) - before)
            event_logs[engine].append(new_logs[0] if len(new_logs) == 1 else None)
            hdfs_waits[engine].append(waited)
            status = "ok" if m.returncode == 0 else f"FAILED (exit {m.returncode}, log {m.log})"
            log(
                f"{rows:>9,} rows  {engine:<6} #{repeat}: {m.wall_s:7.2f} s (cpu {m.cpu_s:6.1f}), "
                f"peak {m.peak_rss_bytes / 2**20:5.0f} MiB, load {m.load_before[0]:.2f}"
                f"->{m.load_after[0]:.2f}  {status}"
            )
    results = {engine: summarize(ms, rows) for engine, ms in measured.items()}
    for engine, paths in event_logs.items():
        for run_json, path, waited in zip(
            results[engine]["runs"], paths, hdfs_waits[engine], strict=True
        ):
            run_json["event_log"] = path
            run_json["waited_for_datanode_s"] = waited
    if event_log_dir:
        results["ours"]["profile"] = profile_of_median_run(results["ours"])
    first_ok = next(
        (
            r
            for r in range(1, repeats + 1)
            if all(measured[e][r - 1].returncode == 0 for e in ("ours", "naive", "duckdb"))
        ),
        None,
    )
    if first_ok is None:
        agree = {"error": "no repeat where ours, naive and DuckDB all succeeded"}
    else:
        try:
            agree = agreement(run, first_ok) | {"repeat": first_ok}
        except Exception as error:  # a missing table is a finding, not a crash of the bench
            agree = {"error": f"{type(error).__name__}: {error}"}
    log(f"{rows:,} rows: agreement {json.dumps(agree)[:300]}")
    client.delete(hdfs_folder, recursive=True)
    shutil.rmtree(run.local_work, ignore_errors=True)
    return {
        "rows": rows,
        "date": day.isoformat(),
        "input_bytes": folder_bytes(local_input),
        "job_files": job_files,
        "engines": results,
        "ratios": {
            "ours/naive": ratio(results, "ours", "naive"),
            "ours/floor": ratio(results, "ours", "floor"),
            "ours/duckdb": ratio(results, "ours", "duckdb"),
        },
        "agreement": agree,
    }


# --- Orchestration ---------------------------------------------------------------------------------

BACKFILL_MAX_ACTIVE_RUNS = 1
"""Backfill runs one day at a time, like the seven single days it is compared with (and like the
DAG's own max_active_runs; the backfill's default would be 10)."""
BACKFILL_TIMEOUT_PER_DAY_S = 20 * 60
BACKFILL_POLL_S = 5.0


def _pipeline_env(stack: Stack, rows: int, reports_dir: Path) -> dict[str, str]:
    """What the DAG's tasks read besides the defaults: the generated landing root of ``rows``,
    a temporary reports folder, this HDFS."""
    return {
        "HADOOP_USER_NAME": stack.user,
        "AIRFLOW_VAR_ECOMMERCE_LANDING_DIR": str(landing_root(rows)),
        "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
        "AIRFLOW_VAR_ECOMMERCE_HDFS_URI": stack.hdfs_uri,
    }


def dags_test(
    stack: Stack,
    day: dt.date,
    rows: int,
    reports_dir: Path,
    log_path: Path,
    airflow_home: Mapping[str, str],
) -> dict:
    """``airflow dags test`` of one day; ``airflow_home`` is the environment of a fresh, migrated
    AIRFLOW_HOME with its own database (``isolated_airflow_home``): never the developer's."""
    env = stack.env() | dict(airflow_home) | _pipeline_env(stack, rows, reports_dir)
    stack.wait_for_datanode()
    m = run_measured(
        ["airflow", "dags", "test", DAG_ID, day.isoformat()],
        log_path=log_path,
        env=env,
        cwd=PROJECT_ROOT,
    )
    text = Path(log_path).read_text(errors="replace")
    succeeded = m.returncode == 0 and ("state=success" in text or "DagRunState.SUCCESS" in text)
    return m.to_json() | {
        "succeeded": succeeded,
        # A retry (retry_delay 1 min, exponential) would dominate the figure: count them.
        "retries": text.count("new_state=up_for_retry"),
        "tasks": task_durations(day, env),
    }


def _seconds(start: dt.datetime | str | None, end: dt.datetime | str | None) -> float | None:
    """``end - start`` in seconds (ISO strings or datetimes); None when either is missing."""
    if not start or not end:
        return None
    start, end = (dt.datetime.fromisoformat(t) if isinstance(t, str) else t for t in (start, end))
    return round((end - start).total_seconds(), 2)


def seconds_per_task(task_instances: Iterable[dict]) -> dict[str, float]:
    """Seconds per task from task-instance records (CLI JSON or REST) with start and end dates."""
    durations = {
        ti["task_id"]: _seconds(ti.get("start_date"), ti.get("end_date")) for ti in task_instances
    }
    return {task_id: s for task_id, s in durations.items() if s is not None}


def task_durations(day: dt.date, env: dict[str, str]) -> dict[str, float]:
    """Seconds per task of the day's run, from Airflow's metadata (asked after the timing)."""
    completed = subprocess.run(
        [
            "airflow",
            "tasks",
            "states-for-dag-run",
            DAG_ID,
            f"{day.isoformat()}T00:00:00+00:00",
            "-o",
            "json",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    try:
        return seconds_per_task(json.loads(completed.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError, KeyError, TypeError):
        return {}


def bare_submit_command(stack: Stack, day: dt.date, output: str) -> list[str]:
    """The DAG's spark_etl command line without Airflow: same master, settings, name, input."""
    from include.ecommerce.partitions import Partition

    raw = stack.uri(Partition(day).raw_partition)
    # master: the spark_default connection of the local stack
    return ours_command(day, raw, stack.uri(output), master="local[*]")


def bare_submit(stack: Stack, day: dt.date, output: str, log_path: Path) -> dict:
    command = bare_submit_command(stack, day, output)
    stack.wait_for_datanode()
    m = run_measured(command, log_path=log_path, env=stack.env(), cwd=PROJECT_ROOT)
    return m.to_json() | {"succeeded": m.returncode == 0}


def backfill_command(days: Sequence[dt.date]) -> list[str]:
    return [
        "backfill",
        "create",
        "--dag-id",
        DAG_ID,
        "--from-date",
        days[0].isoformat(),
        "--to-date",
        days[-1].isoformat(),
        "--max-active-runs",
        str(BACKFILL_MAX_ACTIVE_RUNS),
    ]


def _total(values: Iterable[float | None]) -> float | None:
    """Sum of the known values; None when none is known."""
    known = [value for value in values if value is not None]
    return round(sum(known), 3) if known else None


def backfill_timeline(
    created_at: dt.datetime, runs: Sequence[dict], days: Sequence[dt.date]
) -> dict:
    """The backfill's figures from its runs' records in the metadata DB (``logical_date``,
    ``state``, ``start_date``, ``end_date``): wall time from the create command to the end of
    the last run (None until every day's run is in a final state), each run's start, end and
    duration, and the idle time before each run (since the create, or the previous run's end)."""
    ordered = sorted(runs, key=lambda run: run["logical_date"])
    timeline, last_end = [], created_at
    for run in ordered:
        start, end = run.get("start_date"), run.get("end_date")
        timeline.append(
            {
                "day": dt.datetime.fromisoformat(run["logical_date"]).date().isoformat(),
                "run_id": run.get("dag_run_id") or run.get("run_id"),
                "state": run["state"],
                "start_date": start,
                "end_date": end,
                "start_after_create_s": _seconds(created_at, start),
                "end_after_create_s": _seconds(created_at, end),
                "duration_s": _seconds(start, end),
                "idle_before_s": _seconds(last_end, start),
            }
        )
        if end:
            last_end = max(last_end, dt.datetime.fromisoformat(end))
    expected = [day.isoformat() for day in days]
    seen = [run["day"] for run in timeline]
    finished = seen == expected and all(run["state"] in FINISHED_RUN_STATES for run in timeline)
    return {
        "runs": timeline,
        "missing_days": [day for day in expected if day not in seen],
        "finished": finished,
        "all_succeeded": finished and all(run["state"] == "success" for run in timeline),
        "wall_s": _seconds(created_at, last_end) if finished else None,
        "runs_total_s": _total(run["duration_s"] for run in timeline),
        "idle_total_s": _total(run["idle_before_s"] for run in timeline),
    }


def live_backfill(
    stack: Stack, days: Sequence[dt.date], rows: int, reports_dir: Path, folder: Path
) -> dict:
    """``airflow backfill create`` for ``days`` on a throwaway Airflow (api-server for the tasks'
    Execution API, scheduler, dag-processor in ``folder``, free ports; the live tests' harness),
    timed from the create command until every run is final. The Airflow is stopped (its
    process sessions) on the way out, also on an error or Ctrl-C."""
    command = backfill_command(days)
    timeout_s = 10 * 60 + BACKFILL_TIMEOUT_PER_DAY_S * len(days)
    result: dict = {
        "max_active_runs": BACKFILL_MAX_ACTIVE_RUNS,
        "airflow_home": str(folder / "airflow-home"),
    }
    log(f"  backfill: starting a throwaway Airflow in {folder}")
    with running_airflow(folder, _pipeline_env(stack, rows, reports_dir)) as airflow:
        stack.wait_for_datanode()
        result["load_before"] = [round(x, 2) for x in os.getloadavg()]
        created_at = dt.datetime.now(dt.UTC)
        log(f"  backfill: airflow {' '.join(command)}")
        created = airflow.cli(*command)
        result |= {
            "created_at": created_at.isoformat(),
            "create_command_s": _seconds(created_at, dt.datetime.now(dt.UTC)),
            "create_returncode": created.returncode,
        }
        if created.returncode != 0:
            last_line = (created.stdout.strip().splitlines() or ["(no output)"])[-1]
            result["error"] = (
                f"airflow backfill create exited with {created.returncode}: {last_line}"
            )
            result["create_output_tail"] = created.stdout[-3000:]
            log(f"  backfill: {result['error']}")
            return result | backfill_timeline(created_at, [], days)
        deadline = time.monotonic() + timeout_s
        while True:
            timeline = backfill_timeline(
                created_at, airflow.dag_runs(run_type="backfill", order_by="logical_date"), days
            )
            if timeline["finished"] or time.monotonic() > deadline:
                break
            time.sleep(BACKFILL_POLL_S)
        result["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if not timeline["finished"]:
            result["error"] = f"not every run was final after {timeout_s} s"
        for run in timeline["runs"]:
            if run["run_id"]:
                run["tasks"] = seconds_per_task(airflow.task_instances(run["run_id"]).values())
        if not timeline["all_succeeded"]:
            result["explain"] = [airflow.explain_run(r["run_id"]) for r in timeline["runs"]]
    return result | timeline


def summarize_backfill(
    days: Sequence[dt.date], rows: int, scheduler: dict, dags_tests: list[dict], bares: list[dict]
) -> dict:
    """The 7-day comparison: the real backfill's wall time against the sum of the single days
    (``airflow dags test`` each, one after the other; bare spark-submits for reference)."""
    dags_total = _total(r["wall_s"] for r in dags_tests)
    bare_total = _total(r["wall_s"] for r in bares)
    return {
        "days": [day.isoformat() for day in days],
        "rows_per_day": rows,
        "method": f"`{scheduler['command']}` on a throwaway Airflow (scheduler, dag-processor, "
        "api-server), from the create command to the end of the last run, against one "
        "`airflow dags test` per day, one after the other",
        "scheduler": scheduler,
        "dags_test_runs": dags_tests,
        "bare_submits": bares,
        "dags_test_total_s": dags_total,
        "bare_total_s": bare_total,
        "all_succeeded": bool(scheduler.get("all_succeeded"))
        and all(r["succeeded"] for r in dags_tests + bares),
        "ratio": ratio_of(scheduler.get("wall_s"), dags_total),
        "ratio_to_bare": ratio_of(scheduler.get("wall_s"), bare_total),
    }


def bench_backfill(
    stack: Stack,
    days: Sequence[dt.date],
    rows: int,
    reports_dir: Path,
    logs: Path,
    out_root: str,
    airflow_home: Mapping[str, str],
) -> dict:
    """The same days run alone, one after the other (``airflow dags test`` each), then all of
    them as one real backfill, then bare submits of each day for reference. Their pipeline
    partitions are deleted afterwards; when one exists beforehand, nothing runs."""
    scheduler: dict = {"command": "airflow " + " ".join(backfill_command(days))}
    runs: list[dict] = []
    bares: list[dict] = []
    taken = existing_partitions(stack, days)
    if taken:
        scheduler["error"] = f"not run: the pipeline already has {', '.join(taken)}"
        log(f"  backfill {scheduler['error']}")
        return summarize_backfill(days, rows, scheduler, runs, bares)
    try:
        for day in days:
            generated_day(day, rows)
        for n, day in enumerate(days):
            log_path = logs / f"day-dag-{n}.log"
            runs.append(dags_test(stack, day, rows, reports_dir, log_path, airflow_home))
            log(f"  single day {day}: dags test {runs[-1]['wall_s']} s")
        try:
            scheduler |= live_backfill(stack, days, rows, reports_dir, logs / "backfill-airflow")
        except Exception as error:  # a finding: the single days are still reported
            scheduler["error"] = f"{type(error).__name__}: {error}"[-5000:]
        log(
            f"  backfill of {len(days)} days: {scheduler.get('wall_s')} s from the create to the "
            f"end of the last run, all succeeded={scheduler.get('all_succeeded')}"
        )
        for n, day in enumerate(days):
            bares.append(bare_submit(stack, day, f"{out_root}/{n}", logs / f"day-bare-{n}.log"))
            log(f"  single day {day}: bare submit {bares[-1]['wall_s']} s")
    finally:
        cleanup_pipeline_partitions(stack, days)
    return summarize_backfill(days, rows, scheduler, runs, bares)


def bench_orchestration(
    stack: Stack, run_id: str, single_rows: int, backfill_days: int, backfill_rows: int
) -> dict:
    logs = BENCH_DIR / "logs" / run_id / "orchestration"
    reports_dir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    out_root = f"{HDFS_BENCH_ROOT}/{run_id}/orchestration"
    days_used: list[dt.date] = []
    result: dict = {"single": None, "backfill": None}
    exits = contextlib.ExitStack()
    try:
        home_folder = logs / "dags-test-airflow-home"
        home_folder.mkdir(parents=True, exist_ok=True)
        home = exits.enter_context(isolated_airflow_home(home_folder))
        generated_day(BENCH_DATE, single_rows)
        days_used.append(BENCH_DATE)
        log(f"orchestration: airflow dags test {DAG_ID} {BENCH_DATE} ({single_rows:,} rows)")
        airflow_run = dags_test(
            stack, BENCH_DATE, single_rows, reports_dir, logs / "single-dag.log", home
        )
        log(f"  dags test: {airflow_run['wall_s']} s, succeeded={airflow_run['succeeded']}")
        bare = bare_submit(stack, BENCH_DATE, f"{out_root}/single", logs / "single-bare.log")
        log(f"  bare spark-submit: {bare['wall_s']} s, succeeded={bare['succeeded']}")
        result["single"] = {
            "rows": single_rows,
            "date": BENCH_DATE.isoformat(),
            "dags_test": airflow_run,
            "bare_submit": bare,
            "ratio": ratio_of(airflow_run["wall_s"], bare["wall_s"]),
        }
        if backfill_days > 0:
            days = [BACKFILL_DATE + dt.timedelta(days=n) for n in range(backfill_days)]
            result["backfill"] = bench_backfill(
                stack, days, backfill_rows, reports_dir, logs, f"{out_root}/days", home
            )
    finally:
        exits.close()
        cleanup_pipeline_partitions(stack, days_used)
        stack.client().delete(out_root, recursive=True)
        shutil.rmtree(reports_dir, ignore_errors=True)
    return result


def pipeline_partitions(days: Sequence[dt.date]) -> list[str]:
    """The pipeline's raw, processed and report partitions of ``days``."""
    from include.ecommerce.partitions import Partition

    return [
        path
        for partition in map(Partition, sorted(set(days)))
        for path in (
            partition.raw_partition,
            partition.processed_partition,
            partition.report_partition,
        )
    ]


def existing_partitions(stack: Stack, days: Sequence[dt.date]) -> list[str]:
    client = stack.client()
    return [path for path in pipeline_partitions(days) if client.status(path, strict=False)]


def cleanup_pipeline_partitions(stack: Stack, days: Sequence[dt.date]) -> None:
    """Remove what the orchestration runs wrote into the pipeline's folders for the bench days
    (raw, processed, report partitions), then their parent folders if left empty."""
    from include.ecommerce.settings import PIPELINE_ROOTS

    client = stack.client()
    for path in pipeline_partitions(days):
        client.delete(path, recursive=True)
    for root in PIPELINE_ROOTS:
        for year in {f"{d:%Y}" for d in days}:
            for sub in sorted({f"{d:%Y/%m}" for d in days if f"{d:%Y}" == year}):
                _delete_if_empty(client, f"{root}/{sub}")
            _delete_if_empty(client, f"{root}/{year}")


def _delete_if_empty(client, path: str) -> None:
    if client.status(path, strict=False) is not None and not client.list(path):
        client.delete(path)


# --- Main ------------------------------------------------------------------------------------------


def job_fingerprint() -> dict[str, str]:
    """sha256 of the job's files: the job may change while a run is going on."""
    jobs = PROJECT_ROOT / "spark_jobs"
    return {
        str(path.relative_to(jobs)): hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(jobs.rglob("*.py"))
    }


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="rows per day")
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine and size")
    parser.add_argument("--skip-orchestration", action="store_true")
    parser.add_argument("--skip-sizes", action="store_true", help="only the orchestration part")
    parser.add_argument(
        "--orchestration-rows", type=int, default=None, help="default: the largest size"
    )
    parser.add_argument("--backfill-days", type=int, default=7, help="0 skips the backfill")
    parser.add_argument("--backfill-rows", type=int, default=500_000, help="rows per backfill day")
    parser.add_argument(
        "--event-log-dir",
        type=Path,
        default=None,
        help="write Spark event logs of every Spark run here (for profiling)",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--docs-from", type=Path, default=None, help="only render the docs from a results JSON"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the running engine is killed and HDFS is cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.docs_from:
        results = json.loads(args.docs_from.read_text())
        refresh_profiles(results)
        docs.write_docs(results, DOCS_PATH, args.docs_from)
        log(f"rendered {DOCS_PATH} from {args.docs_from}")
        return 0
    if not os.environ.get("JAVA_HOME"):
        log("warning: JAVA_HOME is not set; run me through stack/run.sh (make bench does)")
    now = dt.datetime.now(dt.UTC)
    run_id = now.strftime("%Y%m%dT%H%M%SZ")
    stack = Stack.from_env()
    spark_conf: tuple[str, ...] = ()
    if args.event_log_dir:
        args.event_log_dir.mkdir(parents=True, exist_ok=True)
        spark_conf = (
            "spark.eventLog.enabled=true",
            "spark.eventLog.compress=false",
            f"spark.eventLog.dir=file://{args.event_log_dir.resolve()}",
        )
    results: dict = {
        "run_id": run_id,
        "started": now.isoformat(),
        "argv": sys.argv[1:] if argv is None else list(argv),
        "settings": {
            "spark": shlex.join(spark_submit_options()),
            "repeats": args.repeats,
            "order": "interleaved per repeat: " + ", ".join(ENGINES),
            "event_logs": bool(args.event_log_dir),
        },
        "machine": machine.describe(),
        "job": {"git_head": machine.git_head(PROJECT_ROOT), "files_before": job_fingerprint()},
        "sizes": [],
        "orchestration": None,
    }
    out_path = BENCH_DIR / f"results-{run_id}.json"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        results["job"]["files_after"] = job_fingerprint()
        results["job"]["changed_during_run"] = (
            results["job"]["files_after"] != results["job"]["files_before"]
        )
        out_path.write_text(json.dumps(results, indent=2, default=str) + "\n")

    try:
        for rows in () if args.skip_sizes else args.sizes:
            results["sizes"].append(
                bench_size(
                    stack, run_id, BENCH_DATE, rows, args.repeats, spark_conf, args.event_log_dir
                )
            )
            save()
        if not args.skip_orchestration:
            results["orchestration"] = bench_orchestration(
                stack,
                run_id,
                args.orchestration_rows or max(args.sizes),
                args.backfill_days,
                args.backfill_rows,
            )
    finally:
        results["finished"] = dt.datetime.now(dt.UTC).isoformat()
        results["targets"] = docs.evaluate_targets(results)
        save()
        stack.client().delete(f"{HDFS_BENCH_ROOT}/{run_id}", recursive=True)
    log(f"results: {out_path}")
    print(docs.render_tables(results))
    if not args.no_docs:
        docs.write_docs(results, DOCS_PATH, out_path)
        log(f"updated {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
