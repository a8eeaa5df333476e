"""Orchestration overhead: ``airflow dags test`` of one day against a bare ``spark-submit`` of
the same job, and a real ``airflow backfill create`` of consecutive days on a throwaway Airflow
against the same days run alone, one after the other.

The Airflow runs use the harness of the live tests, ``stack/live_airflow.py`` (an isolated
AIRFLOW_HOME for ``dags test``; scheduler, dag-processor and api-server for the backfill).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from benchmarks.bench_stack import (
    BENCH_DATE,
    BENCH_DIR,
    HDFS_BENCH_ROOT,
    PROJECT_ROOT,
    Stack,
    cleanup_pipeline_partitions,
    existing_partitions,
    generated_day,
    landing_root,
    log,
)
from benchmarks.engines import DAG_MASTER, ours_command
from benchmarks.measure import run_measured
from benchmarks.results import Backfill, Orchestration, SingleDay, TimedRun, ratio_of
from stack.live_airflow import FINISHED_RUN_STATES, isolated_airflow_home, running_airflow

DAG_ID = "ecommerce_daily"
BACKFILL_DATE = dt.date(2026, 9, 1)
"""First day of the backfill comparison. Not in 2030: ``airflow backfill create`` refuses future
days ("Backfill cannot be executed for future dates") and creates runs only for days after the
DAG's start date (2026-02-10) whose interval has ended. The tests and the demo use January to
March 2026; the bench leaves the backfill alone when the pipeline already has a partition of one
of its days (it would overwrite it, then delete it)."""

BACKFILL_MAX_ACTIVE_RUNS = 1
"""Backfill runs one day at a time, like the seven single days it is compared with (and like the
DAG's own max_active_runs; the backfill's default would be 10)."""
BACKFILL_TIMEOUT_PER_DAY_S = 20 * 60
BACKFILL_POLL_S = 5.0


def _pipeline_env(stack: Stack, landing: Path, reports_dir: Path) -> dict[str, str]:
    """What the DAG's tasks read besides the defaults: the landing root of the days,
    a temporary reports folder, this HDFS."""
    return {
        "HADOOP_USER_NAME": stack.user,
        "AIRFLOW_VAR_ECOMMERCE_LANDING_DIR": str(landing),
        "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
        "AIRFLOW_VAR_ECOMMERCE_HDFS_URI": stack.hdfs_uri,
    }


def dags_test(
    stack: Stack,
    day: dt.date,
    landing: Path,
    reports_dir: Path,
    log_path: Path,
    airflow_home: Mapping[str, str],
) -> TimedRun:
    """``airflow dags test`` of one day; ``airflow_home`` is the environment of a fresh, migrated
    AIRFLOW_HOME with its own database (``isolated_airflow_home``): never the developer's."""
    env = stack.env() | dict(airflow_home) | _pipeline_env(stack, landing, reports_dir)
    stack.wait_for_datanode()
    m = run_measured(
        ["airflow", "dags", "test", DAG_ID, day.isoformat()],
        log_path=log_path,
        env=env,
        cwd=PROJECT_ROOT,
    )
    text = Path(log_path).read_text(errors="replace")
    succeeded = m.returncode == 0 and ("state=success" in text or "DagRunState.SUCCESS" in text)
    return TimedRun.of(
        m,
        succeeded,
        # A retry (retry_delay 1 min, exponential) would dominate the figure: count them.
        retries=text.count("new_state=up_for_retry"),
        tasks=task_durations(day, env),
    )


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
    return ours_command(day, raw, stack.uri(output), master=DAG_MASTER)


def bare_submit(stack: Stack, day: dt.date, output: str, log_path: Path) -> TimedRun:
    command = bare_submit_command(stack, day, output)
    stack.wait_for_datanode()
    m = run_measured(command, log_path=log_path, env=stack.env(), cwd=PROJECT_ROOT)
    return TimedRun.of(m, m.returncode == 0)


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


def idle_and_overlap(gap_s: float | None) -> tuple[float | None, float | None]:
    """A run's start minus the end of the runs before it, as (idle seconds, overlap seconds):
    a negative gap is an overlap (runs side by side), never a negative idle time."""
    if gap_s is None:
        return None, None
    return max(gap_s, 0.0), max(-gap_s, 0.0)


def backfill_timeline(
    created_at: dt.datetime, runs: Sequence[dict], days: Sequence[dt.date]
) -> dict:
    """The backfill's figures from its runs' records in the metadata DB (``logical_date``,
    ``state``, ``start_date``, ``end_date``): wall time from the create command to the end of
    the last run (None until every day's run is in a final state), each run's start, end and
    duration, and the idle time before each run (since the create, or the end of the runs before
    it) or, when runs ran side by side (``--max-active-runs`` > 1), how long it overlapped them."""
    ordered = sorted(runs, key=lambda run: run["logical_date"])
    timeline, last_end = [], created_at
    for run in ordered:
        start, end = run.get("start_date"), run.get("end_date")
        idle, overlap = idle_and_overlap(_seconds(last_end, start))
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
                "idle_before_s": idle,
                "overlap_before_s": overlap,
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
    env = _pipeline_env(stack, landing_root(rows), reports_dir)
    with running_airflow(folder, env) as airflow:
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
    days: Sequence[dt.date],
    rows: int,
    scheduler: dict,
    dags_tests: list[TimedRun],
    bares: list[TimedRun],
) -> Backfill:
    """The 7-day comparison: the real backfill's wall time against the sum of the single days
    (``airflow dags test`` each, one after the other; bare spark-submits for reference)."""
    dags_total = _total(r.wall_s for r in dags_tests)
    bare_total = _total(r.wall_s for r in bares)
    return Backfill(
        days=[day.isoformat() for day in days],
        rows_per_day=rows,
        method=f"`{scheduler['command']}` on a throwaway Airflow (scheduler, dag-processor, "
        "api-server), from the create command to the end of the last run, against one "
        "`airflow dags test` per day, one after the other",
        scheduler=scheduler,
        dags_test_runs=list(dags_tests),
        bare_submits=list(bares),
        dags_test_total_s=dags_total,
        bare_total_s=bare_total,
        all_succeeded=bool(scheduler.get("all_succeeded"))
        and all(r.succeeded for r in [*dags_tests, *bares]),
        ratio=ratio_of(scheduler.get("wall_s"), dags_total),
        ratio_to_bare=ratio_of(scheduler.get("wall_s"), bare_total),
    )


def bench_backfill(
    stack: Stack,
    days: Sequence[dt.date],
    rows: int,
    reports_dir: Path,
    logs: Path,
    out_root: str,
    airflow_home: Mapping[str, str],
) -> Backfill:
    """The same days run alone, one after the other (``airflow dags test`` each), then all of
    them as one real backfill, then bare submits of each day for reference. Their pipeline
    partitions are deleted afterwards; when one exists beforehand, nothing runs."""
    scheduler: dict = {"command": "airflow " + " ".join(backfill_command(days))}
    runs: list[TimedRun] = []
    bares: list[TimedRun] = []
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
            runs.append(
                dags_test(stack, day, landing_root(rows), reports_dir, log_path, airflow_home)
            )
            log(f"  single day {day}: dags test {runs[-1].wall_s} s")
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
            log(f"  single day {day}: bare submit {bares[-1].wall_s} s")
    finally:
        cleanup_pipeline_partitions(stack, days)
    return summarize_backfill(days, rows, scheduler, runs, bares)


def bench_orchestration(
    stack: Stack, run_id: str, single_rows: int, backfill_days: int, backfill_rows: int
) -> Orchestration:
    logs = BENCH_DIR / "logs" / run_id / "orchestration"
    reports_dir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    out_root = f"{HDFS_BENCH_ROOT}/{run_id}/orchestration"
    days_used: list[dt.date] = []
    result = Orchestration()
    exits = contextlib.ExitStack()
    try:
        home_folder = logs / "dags-test-airflow-home"
        home_folder.mkdir(parents=True, exist_ok=True)
        home = exits.enter_context(isolated_airflow_home(home_folder))
        generated_day(BENCH_DATE, single_rows)
        days_used.append(BENCH_DATE)
        log(f"orchestration: airflow dags test {DAG_ID} {BENCH_DATE} ({single_rows:,} rows)")
        airflow_run = dags_test(
            stack,
            BENCH_DATE,
            landing_root(single_rows),
            reports_dir,
            logs / "single-dag.log",
            home,
        )
        log(f"  dags test: {airflow_run.wall_s} s, succeeded={airflow_run.succeeded}")
        bare = bare_submit(stack, BENCH_DATE, f"{out_root}/single", logs / "single-bare.log")
        log(f"  bare spark-submit: {bare.wall_s} s, succeeded={bare.succeeded}")
        result.single = SingleDay(
            rows=single_rows,
            date=BENCH_DATE.isoformat(),
            dags_test=airflow_run,
            bare_submit=bare,
            ratio=ratio_of(airflow_run.wall_s, bare.wall_s),
        )
        if backfill_days > 0:
            days = [BACKFILL_DATE + dt.timedelta(days=n) for n in range(backfill_days)]
            result.backfill = bench_backfill(
                stack, days, backfill_rows, reports_dir, logs, f"{out_root}/days", home
            )
    finally:
        exits.close()
        cleanup_pipeline_partitions(stack, days_used)
        stack.client().delete(out_root, recursive=True)
        shutil.rmtree(reports_dir, ignore_errors=True)
    return result
