"""A small real cluster of its own for the fault tests, and what they record.

``fault_cluster`` (session) starts, on free ports and in its own runtime folder
(``.runtime/faults``), ``stack/hdfs.sh start --datanodes 3`` (replication 2) and
``stack/spark-standalone.sh start --workers 2`` (1 core, 1 GiB each), and stops both at the end:
the rest of the suite keeps its single-DataNode HDFS. The Hadoop jars are shared with the main
stack (``HADOOP_LIB_DIR``).

Every fault test appends one row to ``fault_results``; at the end of the session they are written
to ``FAULT_RESULTS_FILE`` (default ``.runtime/faults/results.json``), from which
``python -m tests.integration.faults.fault_table`` writes docs/reliability-faults.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import requests
from hdfs import InsecureClient

from benchmarks.compare import differences
from include.data.generate_logs import write_day
from include.ecommerce.partitions import Partition, hdfs_uri
from include.ecommerce.spark_submit import etl_submission
from include.ecommerce.upload import landing_files, replace_partition
from include.ecommerce.validation import read_partition
from spark_jobs.contract import CORE_TABLES

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STACK_DIR = PROJECT_ROOT / "stack"
MAIN_RUNTIME_DIR = Path(os.environ.get("RUNTIME_DIR", PROJECT_ROOT / ".runtime"))
FAULTS_RUNTIME_DIR = MAIN_RUNTIME_DIR / "faults"
RESULTS_FILE = Path(os.environ.get("FAULT_RESULTS_FILE", FAULTS_RUNTIME_DIR / "results.json"))

DATANODES = 3
WORKERS = 2
FAULT_DAY = dt.date(2026, 3, 1)
PREVIOUS_DAY = dt.date(2026, 2, 28)
FAULT_DAY_ROWS = 600_000  # ~50 MB in 4 files: uploads and writes last long enough to hit
FAULT_DAY_FILES = 4
ATTEMPTS = 3  # the DAG's default_args: retries=2, so at most 3 tries of a task
JOB_TIMEOUT_S = 900
STACK_TIMEOUT_S = 300
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


def _free_port_block(size: int = 30) -> int:
    """A first port p with p .. p+size-1 all free on 127.0.0.1 (checked by binding each)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 40_000 - size, 10)
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no block of free ports found for the fault cluster")


@dataclass
class JobResult:
    returncode: int
    stdout: str
    stderr: str
    attempts: int = 1


@dataclass
class FaultCluster:
    """The running cluster, with the knobs the fault tests turn."""

    runtime_dir: Path
    env: dict[str, str]
    webhdfs_url: str
    hdfs_uri: str
    spark_master: str
    spark_master_ui: str
    landing_dir: Path
    user: str
    """The pipeline's HDFS user (the DAG's webhdfs_default login)."""
    client: InsecureClient = field(repr=False)

    # --- stack scripts ---------------------------------------------------------------------

    def script(self, name: str, *args: str, check: bool = True, timeout: float = 180) -> str:
        done = subprocess.run(
            [str(STACK_DIR / name), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"stack/{name} {' '.join(args)} exited with {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}",
                pytrace=False,
            )
        return done.stdout

    def pid(self, daemon: str) -> int:
        """PID of a daemon of this cluster by its PID file name (datanode2, spark-worker2...)."""
        return int((self.runtime_dir / "pids" / f"{daemon}.pid").read_text().strip())

    def kill(self, daemon: str) -> int:
        """SIGKILL, like a machine that dies: no shutdown hook runs. Returns the PID."""
        pid = self.pid(daemon)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return pid

    def start_datanode(self, index: int) -> None:
        self.script("hdfs.sh", "start-datanode", str(index))

    def start_worker(self, index: int) -> None:
        self.script("spark-standalone.sh", "start-worker", str(index))

    def namenode_state(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.webhdfs_url}/jmx",
            params={"qry": "Hadoop:service=NameNode,name=FSNamesystemState"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["beans"][0]

    def files_total(self) -> int:
        return int(self.namenode_state()["FilesTotal"])

    def fsck(self, path: str = "/") -> tuple[int, str]:
        done = subprocess.run(
            [str(STACK_DIR / "hdfs.sh"), "fsck", path],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )
        return done.returncode, done.stdout

    def wait_until_fully_replicated(self, path: str, timeout_s: float = 240) -> tuple[str, float]:
        """Poll ``hdfs fsck PATH`` until HEALTHY with no missing, corrupt or under-replicated
        block; returns the last report and the seconds waited (the report is returned either
        way: the caller asserts on it)."""
        started = time.monotonic()
        while True:
            returncode, report = self.fsck(path)
            figures = fsck_figures(report)
            if (
                returncode == 0
                and "is HEALTHY" in report
                and figures.get("Missing blocks") == 0
                and figures.get("Corrupt blocks") == 0
                and figures.get("Under-replicated blocks") == 0
            ) or time.monotonic() - started > timeout_s:
                return report, time.monotonic() - started
            time.sleep(2)

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
            result = self.finish(self.submit_etl(day, output_partition))
        result.attempts = attempts
        return result

    def tables(self, processed_partition: str) -> dict[str, pa.Table]:
        return dict(read_partition(self.client, processed_partition, CORE_TABLES).tables)

    def table_differences(
        self, reference: dict[str, pa.Table], processed_partition: str
    ) -> list[str]:
        return differences(reference, self.tables(processed_partition))


def fsck_figures(report: str) -> dict[str, int]:
    """``Missing blocks: 0`` and the like from an fsck report, as numbers."""
    figures = {}
    for line in report.splitlines():
        name, _, value = line.strip().partition(":")
        words = value.strip().split()
        if words and words[0].isdigit():
            figures[name.strip()] = int(words[0])
    return figures


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of ours stays a zombie until reaped; the daemons are not our children.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_for(condition, timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return False


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    base = _free_port_block()
    env = {
        **os.environ,
        "RUNTIME_DIR": str(FAULTS_RUNTIME_DIR),
        "HADOOP_LIB_DIR": str(MAIN_RUNTIME_DIR / "hadoop" / "lib"),
        "HDFS_NAMENODE_RPC_PORT": str(base),
        "HDFS_NAMENODE_HTTP_PORT": str(base + 1),
        # DataNode I binds these + 10 * (I - 1): base+2..4, base+12..14, base+22..24
        "HDFS_DATANODE_PORT": str(base + 2),
        "HDFS_DATANODE_HTTP_PORT": str(base + 3),
        "HDFS_DATANODE_IPC_PORT": str(base + 4),
        "SPARK_MASTER_PORT": str(base + 5),
        "SPARK_MASTER_WEBUI_PORT": str(base + 6),
        "SPARK_WORKER_WEBUI_PORT": str(base + 7),  # worker 2: base + 8
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    env.pop("HDFS_DATANODE_DU_RESERVED", None)
    # A fresh file system each session: stop what a killed session left, then start anew.
    for script in ("spark-standalone.sh", "hdfs.sh"):
        subprocess.run([str(STACK_DIR / script), "stop"], env=env, capture_output=True, check=False)
    for stale in ("hdfs", "spark"):
        subprocess.run(["rm", "-rf", str(FAULTS_RUNTIME_DIR / stale)], check=True)
    # The jars: fetched into the main runtime once (instant when already there).
    subprocess.run(
        [str(STACK_DIR / "hdfs.sh"), "fetch"],
        env={**env, "RUNTIME_DIR": str(MAIN_RUNTIME_DIR)},
        capture_output=True,
        check=False,
        timeout=STACK_TIMEOUT_S,
    )
    landing_dir = tmp_path_factory.mktemp("fault-landing")
    for day in (PREVIOUS_DAY, FAULT_DAY):
        write_day(day, FAULT_DAY_ROWS, landing_dir, files=FAULT_DAY_FILES)
    webhdfs_url = f"http://127.0.0.1:{base + 1}"
    user = os.environ.get("PIPELINE_HDFS_USER", "airflow")
    cluster = FaultCluster(
        runtime_dir=FAULTS_RUNTIME_DIR,
        env=env,
        webhdfs_url=webhdfs_url,
        hdfs_uri=f"hdfs://127.0.0.1:{base}",
        spark_master=f"spark://127.0.0.1:{base + 5}",
        spark_master_ui=f"http://127.0.0.1:{base + 6}",
        landing_dir=landing_dir,
        user=user,
        client=InsecureClient(webhdfs_url, user=user),
    )
    try:
        cluster.script("hdfs.sh", "start", "--datanodes", str(DATANODES), timeout=STACK_TIMEOUT_S)
        cluster.script(
            "spark-standalone.sh", "start", "--workers", str(WORKERS), timeout=STACK_TIMEOUT_S
        )
        yield cluster
    finally:
        cluster.script("spark-standalone.sh", "stop", check=False, timeout=120)
        cluster.script("hdfs.sh", "stop", check=False, timeout=120)


@pytest.fixture(scope="session")
def clean_run(fault_cluster: FaultCluster) -> dict[str, pa.Table]:
    """The fault day uploaded and processed once without a fault; its tables are the reference.
    The previous day is published too (the partition a failing run must leave intact)."""
    for day in (PREVIOUS_DAY, FAULT_DAY):
        fault_cluster.upload(day)
        result = fault_cluster.run_etl_with_retries(day)
        assert result.returncode == 0 and result.attempts == 1, result.stderr[-4000:]
    return fault_cluster.tables(Partition(FAULT_DAY).processed_partition)


@pytest.fixture(scope="session")
def fault_results() -> Iterator[list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
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
            json.dumps({"finished_at": finished, "faults": merged}, indent=2) + "\n"
        )
