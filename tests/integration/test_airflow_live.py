"""The DAG on a real, running Airflow 3: REST triggers, a backfill, killing a Spark job.

One Airflow (api-server, scheduler, dag-processor from ``stack/airflow.sh``) serves every test
of this module, in a throwaway AIRFLOW_HOME on free ports (``stack/live_airflow.py``); its tasks read
a temporary landing folder (the project's February days plus a large generated day) and write
local reports to a temporary folder. HDFS partitions are the pipeline's real ones: a test
checks that its run rewrote them (modification time after the run started), not merely that
they exist. The last test runs ``airflow dags test`` against the Spark standalone master.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests

from include.ecommerce.partitions import Partition
from stack.live_airflow import (
    FINISHED_RUN_STATES,
    PROJECT_ROOT,
    LiveAirflow,
    LiveAirflowError,
    isolated_airflow_home,
    run_airflow,
    running_airflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

RUN_TIMEOUT_S = 300
BACKFILL_TIMEOUT_S = 15 * 60
BACKFILL_TO_DATE = "2026-02-12"  # inclusive: the runs for 02-10, 02-11 and 02-12
KILL_DEADLINE_S = 30
BIG_DAY = Partition.parse("2026-03-01")
BIG_DAY_ROWS = 2_000_000
NO_DATE_MESSAGE = "this run has no logical date and no 'partition_date' param"
DOWNSTREAM_OF_HEALTH = (
    "wait_for_landing_day",
    "upload_raw_logs",
    "spark_etl",
    "validate_outputs",
    "generate_report",
)
SPARK_MASTER_UI = (  # the master's JSON status, where stack/spark-standalone.sh serves it
    f"http://127.0.0.1:{os.environ.get('SPARK_MASTER_WEBUI_PORT', '8081')}/json/"
)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Iterator[tuple[Path, subprocess.Popen]]:
    """A landing folder: the project's February days (linked) plus BIG_DAY, generated in the
    background while Airflow starts (the kill test waits for it)."""
    root = tmp_path_factory.mktemp("landing")
    (root / "2026").mkdir()
    (root / "2026" / "02").symlink_to(PROJECT_ROOT / "include" / "data" / "landing" / "2026" / "02")
    generator = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "include.data.generate_logs",
            "--date",
            BIG_DAY.iso,
            "--rows",
            str(BIG_DAY_ROWS),
            "--out",
            str(root),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield root, generator
    if generator.poll() is None:
        generator.kill()
    generator.wait()


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def airflow(request, hdfs, landing, reports_dir, tmp_path_factory) -> Iterator[LiveAirflow]:
    folder = tmp_path_factory.mktemp("live-airflow")
    extra_env = {
        "AIRFLOW_VAR_ECOMMERCE_LANDING_DIR": str(landing[0]),
        "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
    }
    failed_before = request.session.testsfailed
    started = time.monotonic()
    with running_airflow(folder, extra_env) as live:
        print(f"\nlive Airflow up in {time.monotonic() - started:.0f} s at {live.api_url}")
        yield live
        if request.session.testsfailed > failed_before:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                print(
                    f"\n=== live Airflow log tails (home {live.home}) ===\n{live.diagnostics(80)}"
                )


# --- helpers ------------------------------------------------------------------------------------


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def written_since(hdfs, path: str, since: datetime) -> bool:
    """``path`` exists in HDFS and was last written at or after ``since`` (1 s of slack)."""
    status = hdfs.client.status(path, strict=False)
    return status is not None and status["modificationTime"] / 1000 >= since.timestamp() - 1


def assert_day_published(hdfs, day: Partition, since: datetime) -> None:
    for path in (f"{day.processed_partition}/_SUCCESS", f"{day.report_partition}/report.txt"):
        assert written_since(hdfs, path, since), f"{path} missing or older than {since}"


def run_to_success(airflow: LiveAirflow, run_id: str, timeout_s: float = RUN_TIMEOUT_S) -> dict:
    run = airflow.wait_for_run(run_id, timeout_s)
    assert run["state"] == "success", airflow.explain_run(run_id)
    return run


# --- REST triggers ------------------------------------------------------------------------------


def test_trigger_without_logical_date_or_param_fails_at_the_first_task(airflow):
    run_id = airflow.trigger(logical_date=None)
    run = airflow.wait_for_run(run_id, RUN_TIMEOUT_S)

    assert run["logical_date"] is None
    assert run["state"] == "failed", airflow.explain_run(run_id)
    instances = airflow.task_instances(run_id)
    health = instances["check_hdfs_health"]
    assert health["state"] == "failed", airflow.explain_run(run_id)
    assert health["try_number"] == 1  # failed at once, no retries
    log = airflow.task_log(run_id, "check_hdfs_health", 1)
    assert NO_DATE_MESSAGE in log, log
    assert "UndefinedError" not in log
    assert {task: instances[task]["state"] for task in DOWNSTREAM_OF_HEALTH} == dict.fromkeys(
        DOWNSTREAM_OF_HEALTH, "upstream_failed"
    ), airflow.explain_run(run_id)


def test_trigger_without_logical_date_processes_the_partition_date_param(airflow, hdfs):
    day = Partition.parse("2026-02-11")
    run_id = airflow.trigger(logical_date=None, conf={"partition_date": day.iso})
    run = run_to_success(airflow, run_id)

    assert run["logical_date"] is None
    assert run["conf"] == {"partition_date": day.iso}
    assert_day_published(hdfs, day, parse_time(run["start_date"]))
    assert f"report for {day.iso}" in airflow.task_log(run_id, "generate_report")


def test_trigger_with_logical_date_processes_that_day(airflow, hdfs, reports_dir):
    day = Partition.parse("2026-02-14")
    run_id = airflow.trigger(logical_date="2026-02-14T00:00:00Z")
    run = run_to_success(airflow, run_id)

    assert_day_published(hdfs, day, parse_time(run["start_date"]))
    assert (
        "E-COMMERCE DAILY REPORT - 2026-02-14"
        in (reports_dir / day.subpath / "report.txt").read_text()
    )


# --- backfill -----------------------------------------------------------------------------------


def test_backfill_create_processes_each_day_of_the_range(airflow, hdfs):
    days = [Partition.parse(iso) for iso in ("2026-02-10", "2026-02-11", "2026-02-12")]
    command = ["backfill", "create", "--dag-id", "ecommerce_daily", "--from-date", days[0].iso,
               "--to-date", BACKFILL_TO_DATE, "--max-active-runs", "1"]  # fmt: skip

    # A dry run lists the runs a backfill would create, and creates none.
    dry_run = airflow.cli(*command, "--dry-run")
    assert dry_run.returncode == 0, dry_run.stdout[-3000:]
    planned = re.findall(r"^\| (\d{4}-\d\d-\d\d[ T][\d:]+\+00:00)", dry_run.stdout, re.M)
    planned_days = [parse_time(logical_date).date().isoformat() for logical_date in planned]
    assert planned_days == [day.iso for day in days], (
        f"`airflow {' '.join(command)}` would create runs with logical dates {planned}, "
        f"i.e. partitions {planned_days}, not {[day.iso for day in days]}"
    )

    started = datetime.now(UTC)
    created = airflow.cli(*command)
    assert created.returncode == 0, created.stdout[-3000:]
    runs = airflow.dag_runs(run_type="backfill", order_by="logical_date")
    assert [parse_time(run["logical_date"]).date().isoformat() for run in runs] == [
        day.iso for day in days
    ]
    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    for run in runs:
        remaining = max(deadline - time.monotonic(), 1)
        finished = airflow.wait_for_run(run["dag_run_id"], remaining)
        assert finished["state"] == "success", airflow.explain_run(run["dag_run_id"])
    for day in days:
        assert_day_published(hdfs, day, started)
    airflow.wait_for_backfills_to_complete(timeout_s=120)


DATABASE_ERRORS = re.compile(
    r"database is locked|OperationalError|deadlock detected|could not serialize access"
)
STRESS_DAYS = [f"2025-01-0{n}" for n in range(1, 8)]  # no landing data: each run fails early
STRESS_TRIGGER_DAY = "2025-01-08"


def log_sizes(airflow: LiveAirflow) -> dict[Path, int]:
    logs = airflow.home / "run"
    return {path: path.stat().st_size for path in logs.glob("airflow-*.log")}


def new_log_text(sizes: dict[Path, int]) -> str:
    text = []
    for path, size in sizes.items():
        with path.open(errors="replace") as log_file:
            log_file.seek(size)
            text.append(f"--- {path.name} ---\n{log_file.read()}")
    return "\n".join(text)


def test_backfill_and_trigger_at_once_while_the_scheduler_runs_hit_no_database_error(airflow):
    """The metadata database under the load that locked SQLite: a 7-day backfill (seven runs
    at once) created while the scheduler, api-server and dag-processor write, and a REST
    trigger arriving at the same moment. Days without landing data keep the runs short."""
    airflow.wait_for_backfills_to_complete(timeout_s=120)  # one running backfill per DAG
    sizes = log_sizes(airflow)
    command = ["backfill", "create", "--dag-id", "ecommerce_daily", "--from-date", STRESS_DAYS[0],
               "--to-date", STRESS_DAYS[-1], "--max-active-runs", str(len(STRESS_DAYS))]  # fmt: skip
    start_together = threading.Barrier(2)
    triggered: dict[str, str] = {}

    def trigger() -> None:
        start_together.wait()
        triggered["run_id"] = airflow.trigger(logical_date=f"{STRESS_TRIGGER_DAY}T00:00:00Z")

    trigger_thread = threading.Thread(target=trigger)
    trigger_thread.start()
    start_together.wait()
    created = airflow.cli(*command)
    trigger_thread.join(timeout=120)

    assert created.returncode == 0, created.stdout[-3000:]
    assert not DATABASE_ERRORS.search(created.stdout), created.stdout[-3000:]
    assert "run_id" in triggered, "the REST trigger did not return"
    backfill_runs = [
        run
        for run in airflow.dag_runs(run_type="backfill", order_by="logical_date")
        if parse_time(run["logical_date"]).date().isoformat() in STRESS_DAYS
    ]
    assert [parse_time(run["logical_date"]).date().isoformat() for run in backfill_runs] == (
        STRESS_DAYS
    )
    deadline = time.monotonic() + RUN_TIMEOUT_S
    for run_id in [triggered["run_id"], *(run["dag_run_id"] for run in backfill_runs)]:
        finished = airflow.wait_for_run(run_id, max(deadline - time.monotonic(), 1))
        # No landing data: each run ends failed, after a healthy HDFS check, for that reason.
        assert finished["state"] == "failed", airflow.explain_run(run_id)
        assert airflow.task_states(run_id)["check_hdfs_health"] == "success", airflow.explain_run(
            run_id
        )
    logs = new_log_text(sizes)
    assert not DATABASE_ERRORS.search(logs), DATABASE_ERRORS.search(logs) and logs[-5000:]


# --- killing the task kills the Spark job -------------------------------------------------------


SPARK_SUBMIT_CLASS = "org.apache.spark.deploy.SparkSubmit"
SPARK_LAUNCHER_CLASS = "org.apache.spark.launcher.Main"  # short-lived: builds the command line


def spark_processes_of(day: Partition) -> dict[str, list[psutil.Process]]:
    """The Spark job of one day: its SparkSubmit JVM(s) and its Python driver(s)."""
    found: dict[str, list[psutil.Process]] = {"jvm": [], "driver": []}
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if day.iso not in cmdline or SPARK_LAUNCHER_CLASS in cmdline:
            continue
        if SPARK_SUBMIT_CLASS in cmdline:
            found["jvm"].append(process)
        elif "ecommerce_etl.py" in cmdline:
            found["driver"].append(process)
    return found


def alive(processes: list[psutil.Process]) -> list[psutil.Process]:
    survivors = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                survivors.append(process)
        except psutil.NoSuchProcess:
            pass
    return survivors


def descendants(processes: list[psutil.Process]) -> list[psutil.Process]:
    found = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            found += process.children(recursive=True)
    return found


def wait_for_spark_job(airflow: LiveAirflow, run_id: str, day: Partition) -> list[psutil.Process]:
    """Once ``spark_etl`` runs the job (SparkSubmit JVM and Python driver up): every process of
    it, the JVM's descendants included (the driver, PySpark workers)."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        found = spark_processes_of(day)
        if alive(found["jvm"]) and alive(found["driver"]):
            return [*found["jvm"], *found["driver"], *descendants(found["jvm"])]
        if time.monotonic() > deadline or airflow.dag_run(run_id)["state"] in FINISHED_RUN_STATES:
            raise LiveAirflowError(
                f"spark_etl never had its Spark job running: {found}\n"
                + airflow.explain_run(run_id)
            )
        time.sleep(0.5)


def stop_run(airflow: LiveAirflow, run_id: str, day: Partition) -> None:
    """Leave nothing running after the test: the run failed, its Spark processes gone."""
    if airflow.dag_run(run_id)["state"] not in FINISHED_RUN_STATES:
        airflow.api("PATCH", f"/dags/ecommerce_daily/dagRuns/{run_id}", json={"state": "failed"})
    deadline = time.monotonic() + 60
    while any(map(alive, spark_processes_of(day).values())) and time.monotonic() < deadline:
        time.sleep(1)


def test_failing_spark_etl_through_rest_kills_the_spark_job(airflow, hdfs, landing):
    _, generator = landing
    output, _ = generator.communicate(timeout=300)
    assert generator.returncode == 0, output
    run_id = airflow.trigger(logical_date=f"{BIG_DAY.iso}T00:00:00Z")
    try:
        doomed = wait_for_spark_job(airflow, run_id, BIG_DAY)
        assert airflow.task_states(run_id)["spark_etl"] == "running"
        print(f"\nkilling {len(doomed)} Spark process(es) of {BIG_DAY.iso}")

        airflow.set_task_state(run_id, "spark_etl", "failed")
        patched_at = time.monotonic()
        while alive(doomed) and time.monotonic() - patched_at < KILL_DEADLINE_S:
            time.sleep(0.5)
        survivors = alive(doomed)
        print(f"Spark processes gone {time.monotonic() - patched_at:.1f} s after the PATCH")
        assert not survivors, [" ".join(p.cmdline())[:300] for p in survivors]

        run = airflow.wait_for_run(run_id, 120)
        states = airflow.task_states(run_id)
        assert run["state"] == "failed"
        assert states["spark_etl"] == "failed"
        assert states["generate_report"] == "upstream_failed"
        assert not hdfs.client.status(f"{BIG_DAY.processed_partition}/_SUCCESS", strict=False)
    finally:
        stop_run(airflow, run_id, BIG_DAY)
        for path in (BIG_DAY.raw_partition, BIG_DAY.processed_partition):
            hdfs.client.delete(path, recursive=True)


# --- Spark standalone ---------------------------------------------------------------------------


def completed_apps() -> list[dict]:
    response = requests.get(SPARK_MASTER_UI, timeout=10)
    response.raise_for_status()
    return response.json().get("completedapps", [])


def test_dags_test_on_the_spark_standalone_master(spark_standalone, hdfs, tmp_path, reports_dir):
    """`airflow dags test` needs no scheduler: its own fresh AIRFLOW_HOME, the master's URL as
    spark_default, and the run shows up as a finished application on the master."""
    day = Partition.parse("2026-02-15")
    known = {app["id"] for app in completed_apps()}
    started = datetime.now(UTC)
    with isolated_airflow_home(tmp_path / "airflow-home") as database:
        env = {
            **database,
            "AIRFLOW_CONN_SPARK_DEFAULT": spark_standalone,
            "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
        }
        result = run_airflow("dags", "test", "ecommerce_daily", day.iso, env=env)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "state=success" in result.stdout or "DagRunState.SUCCESS" in result.stdout, (
        result.stdout[-5000:]
    )
    assert f"--master {spark_standalone}" in result.stdout or spark_standalone in result.stdout
    assert_day_published(hdfs, day, started)
    new_apps = [app for app in completed_apps() if app["id"] not in known]
    assert [app["state"] for app in new_apps if app["name"].startswith("ecommerce_etl")] == [
        "FINISHED"
    ], new_apps
