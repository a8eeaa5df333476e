"""The DAG on a real, running Airflow 3: REST triggers, a backfill, killing a Spark job.

One Airflow (api-server, scheduler, dag-processor from ``stack/airflow.sh``) serves every test
of this module, in a throwaway AIRFLOW_HOME on free ports (``live_airflow.py``); its tasks read
a temporary landing folder (the project's February days plus a large generated day) and write
local reports to a temporary folder. HDFS partitions are the pipeline's real ones: a test
checks that its run rewrote them (modification time after the run started), not merely that
they exist. The last test runs ``airflow dags test`` against the Spark standalone master.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests

from include.ecommerce.partitions import Partition
from tests.integration.live_airflow import (
    PROJECT_ROOT,
    LiveAirflow,
    LiveAirflowError,
    airflow_env,
    free_port,
    running_airflow,
)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

RUN_TIMEOUT_S = 300
BACKFILL_TIMEOUT_S = 15 * 60
KILL_DEADLINE_S = 30
BIG_DAY = Partition.parse("2026-03-01")
BIG_DAY_ROWS = 2_000_000
NO_DATE_MESSAGE = "this run has no logical date and no 'partition_date' param"
DOWNSTREAM_OF_HEALTH = ("upload_raw_logs", "spark_etl", "validate_outputs", "generate_report")
SPARK_MASTER_UI = "http://127.0.0.1:8081/json/"


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
    started = datetime.now(UTC)
    created = airflow.cli(
        "backfill", "create", "--dag-id", "ecommerce_daily",
        "--from-date", "2026-02-10", "--to-date", "2026-02-12", "--max-active-runs", "1",
    )  # fmt: skip
    assert created.returncode == 0, created.stdout[-3000:]

    runs = airflow.dag_runs(run_type="backfill", order_by="logical_date")
    created_days = [parse_time(run["logical_date"]).date().isoformat() for run in runs]
    if created_days != [day.iso for day in days]:
        for backfill in airflow.api("GET", "/backfills", params={"dag_id": "ecommerce_daily"})[
            "backfills"
        ]:
            if backfill["completed_at"] is None:
                airflow.api("PUT", f"/backfills/{backfill['id']}/cancel")
        pytest.fail(
            "backfill --from-date 2026-02-10 --to-date 2026-02-12 created runs for "
            f"{[run['logical_date'] for run in runs]}, not one per day 02-10..02-12",
            pytrace=False,
        )

    deadline = time.monotonic() + BACKFILL_TIMEOUT_S
    for run in runs:
        remaining = max(deadline - time.monotonic(), 1)
        finished = airflow.wait_for_run(run["dag_run_id"], remaining)
        assert finished["state"] == "success", airflow.explain_run(run["dag_run_id"])
    for day in days:
        assert_day_published(hdfs, day, started)


# --- killing the task kills the Spark job -------------------------------------------------------


def spark_processes_of(day: Partition) -> list[psutil.Process]:
    """spark-submit (the SparkSubmit JVM and its launcher) and the Python driver of one day."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if day.iso in cmdline and ("SparkSubmit" in cmdline or "ecommerce_etl" in cmdline):
            found.append(process)
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


def test_failing_spark_etl_through_rest_kills_the_spark_job(airflow, hdfs, landing):
    _, generator = landing
    output, _ = generator.communicate(timeout=300)
    assert generator.returncode == 0, output
    run_id = airflow.trigger(logical_date=f"{BIG_DAY.iso}T00:00:00Z")
    try:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        jvm = []
        while not jvm:
            if time.monotonic() > deadline or airflow.dag_run(run_id)["state"] != "running":
                raise LiveAirflowError(
                    "spark_etl never ran a SparkSubmit JVM\n" + airflow.explain_run(run_id)
                )
            jvm = [p for p in spark_processes_of(BIG_DAY) if "SparkSubmit" in " ".join(p.cmdline())]
            time.sleep(0.5)
        assert airflow.task_states(run_id)["spark_etl"] == "running"
        time.sleep(3)  # let the job get going: the driver, its Python process, the first stage
        doomed = spark_processes_of(BIG_DAY)
        doomed += [child for process in jvm for child in process.children(recursive=True)]

        airflow.set_task_state(run_id, "spark_etl", "failed")
        killed_at = time.monotonic()
        while alive(doomed) and time.monotonic() - killed_at < KILL_DEADLINE_S:
            time.sleep(0.5)
        survivors = alive(doomed)
        print(f"\nSpark processes gone {time.monotonic() - killed_at:.1f} s after the PATCH")
        assert not survivors, [" ".join(p.cmdline())[:300] for p in survivors]

        run = airflow.wait_for_run(run_id, 120)
        states = airflow.task_states(run_id)
        assert run["state"] == "failed"
        assert states["spark_etl"] == "failed"
        assert states["generate_report"] == "upstream_failed"
        assert not hdfs.client.status(f"{BIG_DAY.processed_partition}/_SUCCESS", strict=False)
    finally:
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
    env = airflow_env(
        tmp_path / "airflow-home",
        free_port(),
        {
            "AIRFLOW_CONN_SPARK_DEFAULT": spark_standalone,
            "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
        },
    )
    known = {app["id"] for app in completed_apps()}
    started = datetime.now(UTC)
    run_sh = [str(PROJECT_ROOT / "stack" / "run.sh"), "airflow"]
    for args in (["db", "migrate"], ["dags", "test", "ecommerce_daily", day.iso]):
        result = subprocess.run(
            [*run_sh, *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=600,
            check=False,
        )
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
