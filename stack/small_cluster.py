"""A small real cluster on one machine, driven from Python: for the fault tests and the scale-out
benchmark (one harness for both; nothing here imports tests/).

``small_cluster(runtime_dir, datanodes=3, workers=2)`` starts, on a block of free ports and in a
runtime folder of its own, ``stack/hdfs.sh start --datanodes N`` (replication min(N, 2)) and
``stack/spark-standalone.sh start --workers M`` (1 core, 1 GiB each), yields a
:class:`SmallCluster`, and stops both at the end. The Hadoop jars are shared with the main stack
(``HADOOP_LIB_DIR``). ``SmallCluster.airflow_env()`` is what points a live Airflow
(``stack/live_airflow.py``) at it: its connections and variables, no DAG change.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from hdfs import InsecureClient

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STACK_DIR = PROJECT_ROOT / "stack"
MAIN_RUNTIME_DIR = Path(os.environ.get("RUNTIME_DIR", PROJECT_ROOT / ".runtime"))
STACK_TIMEOUT_S = 300
PORT_BLOCK = 30
"""Ports per cluster: NameNode 2, DataNode I 3 at base+2+10*(I-1), Spark master 2, workers 1 each."""


class ClusterError(RuntimeError):
    """A stack script of the cluster failed; the message carries its output."""


def free_port_block(size: int = PORT_BLOCK) -> int:
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
    raise ClusterError("no block of free ports found for the small cluster")


def cluster_env(base: int, runtime_dir: Path) -> dict[str, str]:
    """The stack scripts' environment for a cluster on ports ``base`` .. ``base + 29``."""
    env = {
        **os.environ,
        "RUNTIME_DIR": str(runtime_dir),
        "HADOOP_LIB_DIR": str(MAIN_RUNTIME_DIR / "hadoop" / "lib"),
        "HDFS_NAMENODE_RPC_PORT": str(base),
        "HDFS_NAMENODE_HTTP_PORT": str(base + 1),
        # DataNode I binds these + 10 * (I - 1): base+2..4, base+12..14, base+22..24
        "HDFS_DATANODE_PORT": str(base + 2),
        "HDFS_DATANODE_HTTP_PORT": str(base + 3),
        "HDFS_DATANODE_IPC_PORT": str(base + 4),
        "SPARK_MASTER_PORT": str(base + 5),
        "SPARK_MASTER_WEBUI_PORT": str(base + 6),
        "SPARK_WORKER_WEBUI_PORT": str(base + 7),  # worker I: base + 6 + I
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    env.pop("HDFS_DATANODE_DU_RESERVED", None)
    return env


def fsck_figures(report: str) -> dict[str, int]:
    """``Missing blocks: 0`` and the like from an fsck report, as numbers."""
    figures = {}
    for line in report.splitlines():
        name, _, value = line.strip().partition(":")
        words = value.strip().split()
        if words and words[0].isdigit():
            figures[name.strip()] = int(words[0])
    return figures


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child of ours stays a zombie until reaped; the daemons are not our children.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def wait_for(condition: Callable[[], Any], timeout_s: float, poll_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return False


@dataclass
class SmallCluster:
    """The running cluster: its stack scripts, processes and HDFS state."""

    runtime_dir: Path
    env: dict[str, str]
    webhdfs_url: str
    hdfs_uri: str
    spark_master: str
    spark_master_ui: str
    datanodes: int
    workers: int
    user: str
    """The pipeline's HDFS user (the DAG's webhdfs_default login)."""
    client: InsecureClient = field(repr=False)

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
            raise ClusterError(
                f"stack/{name} {' '.join(args)} exited with {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
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
        while alive(pid) and time.monotonic() < deadline:
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

    def airflow_env(self, reports_dir: Path, landing_dir: Path | None = None) -> dict[str, str]:
        """What points a live Airflow's DAG at this cluster: its connections and variables."""
        nn_http = self.env["HDFS_NAMENODE_HTTP_PORT"]
        env = {
            "AIRFLOW_CONN_WEBHDFS_DEFAULT": f"webhdfs://{self.user}@127.0.0.1:{nn_http}",
            "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(
                {
                    "conn_type": "spark",
                    "host": "spark://127.0.0.1",
                    "port": int(self.env["SPARK_MASTER_PORT"]),
                }
            ),
            "AIRFLOW_VAR_ECOMMERCE_HDFS_URI": self.hdfs_uri,
            "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports_dir),
        }
        if landing_dir is not None:
            env["AIRFLOW_VAR_ECOMMERCE_LANDING_DIR"] = str(landing_dir)
        return env


@contextmanager
def small_cluster(
    runtime_dir: Path, datanodes: int = 3, workers: int = 2, cls: type[SmallCluster] = SmallCluster
) -> Iterator[SmallCluster]:
    """A fresh cluster in ``runtime_dir`` (what a killed session left there is stopped and
    deleted first), stopped on the way out. ``cls`` may add methods (the fault tests' steps)."""
    base = free_port_block()
    env = cluster_env(base, runtime_dir)
    for script in ("spark-standalone.sh", "hdfs.sh"):
        subprocess.run([str(STACK_DIR / script), "stop"], env=env, capture_output=True, check=False)
    for stale in ("hdfs", "spark"):
        subprocess.run(["rm", "-rf", str(runtime_dir / stale)], check=True)
    # The jars: fetched into the main runtime once (instant when already there).
    subprocess.run(
        [str(STACK_DIR / "hdfs.sh"), "fetch"],
        env={**env, "RUNTIME_DIR": str(MAIN_RUNTIME_DIR)},
        capture_output=True,
        check=False,
        timeout=STACK_TIMEOUT_S,
    )
    webhdfs_url = f"http://127.0.0.1:{base + 1}"
    user = os.environ.get("PIPELINE_HDFS_USER", "airflow")
    cluster = cls(
        runtime_dir=runtime_dir,
        env=env,
        webhdfs_url=webhdfs_url,
        hdfs_uri=f"hdfs://127.0.0.1:{base}",
        spark_master=f"spark://127.0.0.1:{base + 5}",
        spark_master_ui=f"http://127.0.0.1:{base + 6}",
        datanodes=datanodes,
        workers=workers,
        user=user,
        client=InsecureClient(webhdfs_url, user=user),
    )
    try:
        cluster.script("hdfs.sh", "start", "--datanodes", str(datanodes), timeout=STACK_TIMEOUT_S)
        cluster.script(
            "spark-standalone.sh", "start", "--workers", str(workers), timeout=STACK_TIMEOUT_S
        )
        yield cluster
    finally:
        cluster.script("spark-standalone.sh", "stop", check=False, timeout=120)
        cluster.script("hdfs.sh", "stop", check=False, timeout=120)
