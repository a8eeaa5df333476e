"""A small real cluster of its own for the fault tests, and what they record.

``fault_cluster`` (for this package's tests only) starts, on free ports and in its own runtime folder
(``.runtime/faults``), ``stack/hdfs.sh start --datanodes 3`` (replication 2) and
``stack/spark-standalone.sh start --workers 2`` (1 core, 1 GiB each) through
``stack/small_cluster.py``, and stops both once the fault tests are done: the rest of the suite
keeps its single-DataNode HDFS.

Every fault test appends one row to ``fault_results``; once the fault tests are done they are
written to ``FAULT_RESULTS_FILE`` (default ``.runtime/faults/results.json``), and
``tests.integration.faults.fault_table`` writes docs/reliability-faults.md and the table of
docs/reliability.md from it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from benchmarks.compare import differences
from include.data.generate_logs import write_day
from include.ecommerce import settings
from include.ecommerce.partitions import Partition, hdfs_uri
from include.ecommerce.spark_submit import etl_submission
from include.ecommerce.upload import landing_files, replace_partition
from include.ecommerce.validation import read_partition
from spark_jobs.contract import CORE_TABLES
from stack.small_cluster import (
    MAIN_RUNTIME_DIR,
    PROJECT_ROOT,
    SmallCluster,
    small_cluster,
)

FAULTS_RUNTIME_DIR = MAIN_RUNTIME_DIR / "faults"
RESULTS_FILE = Path(os.environ.get("FAULT_RESULTS_FILE", FAULTS_RUNTIME_DIR / "results.json"))

DATANODES = 3
WORKERS = 2
FAULT_DAY = dt.date(2026, 3, 1)
PREVIOUS_DAY = dt.date(2026, 2, 28)
FAULT_DAY_ROWS = 600_000  # ~50 MB in 4 files: uploads and writes last long enough to hit
FAULT_DAY_FILES = 4
ATTEMPTS = settings.TASK_RETRIES + 1  # at most this many tries of a task, like the DAG's
RETRY_DELAY_S = settings.TASK_RETRY_DELAY.total_seconds()  # before each retry, like the DAG's
JOB_TIMEOUT_S = 900
SPARK_EXTRA_CONF = {
    "spark.ui.enabled": "false",
    "spark.executor.memory": "512m",
    # Spark's own Hadoop client defaults to 3 replicas; the cluster's is min(N, 2).
    "spark.hadoop.dfs.replication": "2",
}


FAULT_TEST_ORDER = (
    "test_datanode_killed_while_the_upload_writes",
    "test_datanode_killed_while_the_spark_job_writes",
    "test_spark_worker_killed_mid_job",
    "test_safe_mode_is_waited_for_then_the_run_goes_on",
    "test_namenode_restarted_between_upload_and_job",
    "test_scheduler_and_dag_processor_killed_mid_backfill",
    "test_full_datanode_volumes_give_a_clear_error_and_keep_the_previous_partition",
)
"""The table's rows, in this order."""


@dataclass
class JobResult:
    returncode: int
    stdout: str
    stderr: str
    attempts: int = 1


@dataclass
class FaultCluster(SmallCluster):
    """The running cluster (stack/small_cluster.py), with the pipeline's steps the fault tests
    drive directly."""

    landing_dir: Path = field(init=False)
    """The generated landing days (the fault day and the day before)."""

    # --- the pipeline's steps, called directly ---------------------------------------------

    def upload(self, day: dt.date) -> list[str]:
        """``upload_raw_logs``'s work: the landing files of ``day`` into its raw partition."""
        partition = Partition(day)
        files = landing_files(partition.local_folder(self.landing_dir))
        return [
            item.name for item in replace_partition(self.client, files, partition.raw_partition)
        ]

    def submit_etl(self, day: dt.date, output_partition: str | None = None) -> subprocess.Popen:
        """The DAG's spark-submit of the ETL job for ``day``, on this cluster, started."""
        partition = Partition(day)
        submission = etl_submission(
            day.isoformat(),
            hdfs_uri(self.hdfs_uri, partition.raw_partition),
            hdfs_uri(self.hdfs_uri, output_partition or partition.processed_partition),
            extra_conf=SPARK_EXTRA_CONF,
        )
        spark_submit = str(Path(sys.executable).parent / "spark-submit")
        return subprocess.Popen(
            submission.argv(self.spark_master, spark_binary=spark_submit),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**self.env, "HADOOP_USER_NAME": self.user},
            cwd=PROJECT_ROOT,
        )

    def finish(self, process: subprocess.Popen) -> JobResult:
        stdout, stderr = process.communicate(timeout=JOB_TIMEOUT_S)
        return JobResult(process.returncode, stdout, stderr)

    def run_etl_with_retries(
        self,
        day: dt.date,
        output_partition: str | None = None,
        first: subprocess.Popen | None = None,
    ) -> JobResult:
        """Like the DAG's ``spark_etl`` task with its retries: up to ATTEMPTS submissions."""
        result = self.finish(first or self.submit_etl(day, output_partition))
        attempts = 1
        while result.returncode != 0 and attempts < ATTEMPTS:
            attempts += 1
            time.sleep(RETRY_DELAY_S)
            result = self.finish(self.submit_etl(day, output_partition))
        result.attempts = attempts
        return result

    def tables(self, processed_partition: str) -> dict[str, pa.Table]:
        return dict(read_partition(self.client, processed_partition, CORE_TABLES).tables)

    def table_differences(
        self, reference: dict[str, pa.Table], processed_partition: str
    ) -> list[str]:
        return differences(reference, self.tables(processed_partition))


@pytest.fixture(scope="package")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    landing_dir = tmp_path_factory.mktemp("fault-landing")
    for day in (PREVIOUS_DAY, FAULT_DAY):
        write_day(day, FAULT_DAY_ROWS, landing_dir, files=FAULT_DAY_FILES)
    with small_cluster(FAULTS_RUNTIME_DIR, DATANODES, WORKERS, cls=FaultCluster) as cluster:
        assert isinstance(cluster, FaultCluster)
        cluster.landing_dir = landing_dir
        yield cluster


@pytest.fixture(scope="package")
def clean_run(fault_cluster: FaultCluster) -> dict[str, pa.Table]:
    """The fault day uploaded and processed once without a fault; its tables are the reference.
    The previous day is published too (the partition a failing run must leave intact)."""
    for day in (PREVIOUS_DAY, FAULT_DAY):
        fault_cluster.upload(day)
        result = fault_cluster.run_etl_with_retries(day)
        assert result.returncode == 0 and result.attempts == 1, result.stderr[-4000:]
    return fault_cluster.tables(Partition(FAULT_DAY).processed_partition)


@pytest.fixture(scope="package")
def fault_results() -> Iterator[list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    load_at_start = [round(load, 1) for load in os.getloadavg()]
    yield rows
    if rows:
        # A run of some of the tests replaces their rows and keeps the others' last rows.
        previous = json.loads(RESULTS_FILE.read_text())["faults"] if RESULTS_FILE.is_file() else []
        tests = [row["test"] for row in rows]
        merged = [row for row in previous if row["test"] not in tests] + rows
        merged.sort(key=lambda row: FAULT_TEST_ORDER.index(row["test"]))
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        RESULTS_FILE.write_text(
            json.dumps(
                {
                    "finished_at": finished,
                    "load_average": {  # 1, 5 and 15 minutes: how busy the machine was
                        "start": load_at_start,
                        "end": [round(load, 1) for load in os.getloadavg()],
                        "cores": os.cpu_count(),
                    },
                    "faults": merged,
                },
                indent=2,
            )
            + "\n"
        )
        from tests.integration.faults import fault_table  # it imports this module's names

        fault_table.main([])  # docs/reliability-faults.md and docs/reliability.md's table
