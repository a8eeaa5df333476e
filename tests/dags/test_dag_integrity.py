"""Every DAG imports cleanly and ecommerce_daily has the promised shape (Astronomer's pattern)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import CronDataIntervalTimetable

from include.ecommerce import settings
from include.ecommerce.spark_submit import job_conf

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
TASK_ORDER = [
    "check_hdfs_health",
    "wait_for_landing_day",
    "upload_raw_logs",
    "spark_etl",
    "validate_outputs",
    "generate_report",
]


@pytest.fixture(scope="module")
def dag_bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER))  # examples are off in stack/env.sh


@pytest.fixture(scope="module")
def dag(dag_bag):
    return dag_bag.dags["ecommerce_daily"]


def test_every_dag_imports_without_errors(dag_bag):
    assert dag_bag.import_errors == {}
    assert set(dag_bag.dag_ids) == {"ecommerce_daily"}


def test_five_tasks_in_a_chain(dag):
    assert [task.task_id for task in dag.topological_sort()] == TASK_ORDER
    for upstream, downstream in itertools.pairwise(TASK_ORDER):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


def test_tags_retries_docs_and_callback(dag):
    assert dag.tags and "ecommerce" in dag.tags
    assert "Which day?" in dag.doc_md
    for task in dag.tasks:
        assert task.retries >= 1, task.task_id
        assert task.retry_delay.total_seconds() > 0
        assert task.on_failure_callback, task.task_id


def test_timetable_is_a_data_interval_one_in_utc(dag):
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.expression == "0 0 * * *"
    assert str(dag.timetable.timezone) == "UTC"
    assert dag.catchup is False


def test_a_waiting_run_does_not_hold_back_other_days_but_spark_runs_one_at_a_time(dag):
    assert dag.max_active_runs > 1
    assert dag.get_task("spark_etl").max_active_tis_per_dag == 1
    sensor = dag.get_task("wait_for_landing_day")
    assert sensor.mode == "reschedule"  # holds no worker slot while it waits
    assert sensor.poke_interval == settings.DEFAULT_LANDING_POKE_INTERVAL_S


def test_params_have_defaults_from_settings(dag):
    params = dag.params.dump()
    assert params["partition_date"] is None
    assert params["max_reject_ratio"] == settings.DEFAULT_MAX_REJECT_RATIO
    assert params["min_live_datanodes"] == settings.DEFAULT_MIN_LIVE_DATANODES
    assert params["min_free_bytes"] == settings.DEFAULT_MIN_FREE_BYTES
    assert params["landing_deadline_hours"] == settings.DEFAULT_LANDING_DEADLINE_HOURS


def test_spark_task_uses_the_connection_and_the_job(dag):
    spark_etl = dag.get_task("spark_etl")
    assert spark_etl.spark_conn_id == settings.SPARK_CONN_ID
    assert Path(spark_etl.application) == settings.SPARK_JOB_PATH
    assert settings.SPARK_JOB_PATH.is_file()
    # the job's settings, plus the JVM archive's option on a machine that has made one
    assert spark_etl.conf == job_conf()
    for key, value in settings.SPARK_JOB_CONF.items():
        assert spark_etl.conf[key].startswith(value), key
    assert spark_etl.spark_driver_memory == settings.SPARK_DRIVER_MEMORY


def test_sensor_reschedules_and_declares_the_asset(dag):
    sensor = dag.get_task("validate_outputs")
    assert sensor.mode == "reschedule"
    assert sensor.timeout > 0
    assert [asset.name for asset in sensor.outlets] == [settings.PROCESSED_ASSET_NAME]


def test_parsing_imports_nothing_heavy():
    """A DAG file is parsed often: no pyspark, pandas or pyarrow at import time."""
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]);"
        "heavy = sorted(m for m in ('pyspark', 'pandas', 'pyarrow', 'hdfs') if m in sys.modules);"
        "print('HEAVY=' + ','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(DAGS_FOLDER / "ecommerce_daily.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "HEAVY=\n" in result.stdout + "\n"


def test_the_spark_task_reads_only_keys_the_upload_returns(dag):
    """``spark_etl`` indexes ``upload_raw_logs``' XCom; each key must be one the upload returns."""
    from include.ecommerce.partitions import Partition
    from include.ecommerce.tasks import job_arguments

    spark_etl = dag.get_task("spark_etl")
    templated = [*spark_etl.application_args, *spark_etl.env_vars.values()]
    read = {
        arg.key
        for arg in templated
        if getattr(getattr(arg, "operator", None), "task_id", None) == "upload_raw_logs"
    }
    returned = job_arguments(Partition.parse("2026-02-14"), "hdfs://nn:8020", "airflow")

    assert read == {"partition_date", "input_uri", "output_uri", "hdfs_user"}
    assert read <= returned.keys()
    assert returned == {
        "partition_date": "2026-02-14",
        "input_uri": "hdfs://nn:8020/user/data/raw/ecommerce/2026/02/14",
        "output_uri": "hdfs://nn:8020/user/data/processed/ecommerce/2026/02/14",
        "hdfs_user": "airflow",
    }
