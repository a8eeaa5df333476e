"""The DAG on real Airflow, real HDFS and real Spark, through `airflow dags test`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from include.ecommerce.partitions import Partition
from include.ecommerce.validation import read_partition
from spark_jobs.contract import CORE_TABLES
from spark_jobs.handover import MANIFEST_NAME
from stack.live_airflow import isolated_airflow_home, run_airflow
from tests.unit.test_report import EXPECTED_SAMPLE_REPORT_WITH_QUALITY

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

SAMPLE_DAY = Partition.parse("2026-02-14")
TASK_FAILED = "Task failed with exception"


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory, reports_dir) -> Iterator[dict[str, str]]:
    with isolated_airflow_home(tmp_path_factory.mktemp("airflow_home")) as home:
        yield {**home, "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir)}


def dags_test(day: str, airflow_env: dict[str, str]) -> str:
    result = run_airflow("dags", "test", "ecommerce_daily", day, env=airflow_env)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "state=success" in result.stdout or "DagRunState.SUCCESS" in result.stdout, (
        result.stdout[-5000:]
    )
    return result.stdout


def read_tables(hdfs) -> dict:
    contents = read_partition(hdfs.client, SAMPLE_DAY.processed_partition, CORE_TABLES)
    return dict(contents.tables)


@pytest.fixture(scope="module")
def first_run(hdfs, airflow_env):
    output = dags_test(SAMPLE_DAY.iso, airflow_env)
    return output, read_tables(hdfs)


def test_sample_day_report_is_stored_in_hdfs_and_locally(first_run, hdfs, reports_dir):
    output, _ = first_run
    with hdfs.client.read(f"{SAMPLE_DAY.report_partition}/report.txt") as reader:
        assert reader.read().decode("utf-8") == EXPECTED_SAMPLE_REPORT_WITH_QUALITY
    assert (
        reports_dir / "2026/02/14/report.txt"
    ).read_text() == EXPECTED_SAMPLE_REPORT_WITH_QUALITY
    assert "E-COMMERCE DAILY REPORT - 2026-02-14" in output  # and in the task log


def test_every_stage_left_its_partition(first_run, hdfs):
    assert hdfs.client.list(SAMPLE_DAY.raw_partition) == [MANIFEST_NAME, "ecommerce_logs.csv"]
    # The upload handed the raw day over to its run's job, which adopted and released it.
    for partition in (SAMPLE_DAY.raw_partition, SAMPLE_DAY.processed_partition):
        parent, day = partition.rsplit("/", 1)
        assert not [n for n in hdfs.client.list(parent) if n.startswith("_") and f"-{day}" in n]
    published = set(hdfs.client.list(SAMPLE_DAY.processed_partition))
    assert {table.name for table in CORE_TABLES} | {"_SUCCESS"} <= published
    assert hdfs.client.status(SAMPLE_DAY.processed_partition)["owner"] == hdfs.user


def test_running_the_same_date_again_gives_identical_tables(first_run, hdfs, airflow_env):
    _, tables_before = first_run
    dags_test(SAMPLE_DAY.iso, airflow_env)
    tables_after = read_tables(hdfs)
    for name, table in tables_before.items():
        assert tables_after[name].equals(table), name


def test_dead_datanode_fails_the_health_check_with_its_reason(hdfs, first_run, airflow_env):
    hdfs.stop_datanode()
    try:
        state = hdfs.wait_for_live_datanodes(0, timeout_s=60)
        assert state["NumLiveDataNodes"] == 0
        result = run_airflow(
            "tasks", "test", "ecommerce_daily", "check_hdfs_health", SAMPLE_DAY.iso, env=airflow_env
        )
    finally:
        hdfs.start_datanode()
    assert TASK_FAILED in result.stdout  # `airflow tasks test` exits 0 whatever the outcome
    assert "is unhealthy: 0 live DataNode(s), at least 1 required (1 dead)" in result.stdout


def test_missing_landing_day_fails_with_the_expected_path(hdfs, airflow_env):
    result = run_airflow(
        "tasks", "test", "ecommerce_daily", "upload_raw_logs", "2026-01-13", env=airflow_env
    )
    assert TASK_FAILED in result.stdout
    assert "ecommerce_daily failed for 2026-01-13 in task upload_raw_logs" in result.stdout
    assert "2026-01-13: no landing folder: expected " in result.stdout
    assert "include/data/landing/2026/01/13/*.csv" in result.stdout


def test_long_past_day_without_data_fails_at_once_while_waiting_for_it(hdfs, airflow_env):
    result = run_airflow(
        "tasks", "test", "ecommerce_daily", "wait_for_landing_day", "2026-01-13", env=airflow_env
    )
    assert TASK_FAILED in result.stdout, result.stdout[-3000:]
    assert "ecommerce_daily failed for 2026-01-13 in task wait_for_landing_day" in result.stdout
    assert (
        "2026-01-13: landing day not ready by its deadline 2026-01-14 06:00 UTC: no landing folder "
    ) in result.stdout
    assert "include/data/landing/2026/01/13" in result.stdout
