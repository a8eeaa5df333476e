"""Fixtures for tests that run on the real local stack.

``hdfs`` (session) starts the local HDFS with ``stack/hdfs.sh start`` (idempotent: instant when it
already runs) and leaves it running: other sessions and the Airflow stack share it.
``spark_standalone`` (session) starts a Spark master and worker with
``stack/spark-standalone.sh start`` and stops them at the end of the session, unless they were
already running before it (then they belong to someone else and stay up).

Scratch space: every test that writes to HDFS gets a fresh folder under ``/tmp/tests/`` in HDFS
(``hdfs.scratch_dir()`` or the ``hdfs_scratch`` fixture, which also removes it afterwards). HDFS's
``/tmp`` is 1777 like on a real cluster, so the pipeline's user may create folders there while the
pipeline's own folders under ``/user/data`` stay untouched by tests.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from hdfs import InsecureClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = PROJECT_ROOT / "stack"
HDFS_SCRATCH_ROOT = "/tmp/tests"
STACK_START_TIMEOUT_S = 300  # a cold start fetches ~70 MB of jars first


def run_stack_script(script: str, *args: str, timeout: float = STACK_START_TIMEOUT_S) -> str:
    """Run ``stack/<script> <args>``; fail the test with the script's own output when it fails."""
    completed = subprocess.run(
        [str(STACK_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(
            f"stack/{script} {' '.join(args)} exited with {completed.returncode}:\n"
            f"{completed.stdout}\n{completed.stderr}",
            pytrace=False,
        )
    return completed.stdout


@dataclass(frozen=True)
class LocalHdfs:
    """The running local HDFS, as the pipeline's (non-super) user sees it."""

    webhdfs_url: str
    """NameNode HTTP address: WebHDFS under ``/webhdfs/v1``, JMX under ``/jmx``."""
    uri: str
    """``fs.defaultFS``, for Spark and other Hadoop clients."""
    user: str
    """The pipeline's HDFS user; owns the pipeline's folders, is not the superuser."""
    datanode_http_port: int
    """The (first) DataNode's HTTP port, where WebHDFS redirects reads and writes."""
    client: InsecureClient = field(repr=False, compare=False)
    """HdfsCLI client acting as ``user`` (what Airflow's WebHDFSHook hands out)."""

    def namenode_bean(self, name: str = "FSNamesystemState") -> dict[str, Any]:
        """One NameNode JMX bean, e.g. ``FSNamesystemState`` or ``NameNodeInfo``."""
        response = requests.get(
            f"{self.webhdfs_url}/jmx",
            params={"qry": f"Hadoop:service=NameNode,name={name}"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["beans"][0]

    def wait_for_live_datanodes(self, expected: int, timeout_s: float) -> dict[str, Any]:
        """Poll ``FSNamesystemState`` until ``NumLiveDataNodes == expected``; return the last one."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.namenode_bean("FSNamesystemState")
            if state["NumLiveDataNodes"] == expected or time.monotonic() > deadline:
                return state
            time.sleep(0.5)

    def stop_datanode(self) -> None:
        """Stop the DataNode (a dead DataNode for health-check tests); the NameNode notices it
        after ~15-18 s. Always pair with ``start_datanode()`` in a ``finally``."""
        run_stack_script("hdfs.sh", "stop-datanode", timeout=60)

    def start_datanode(self) -> None:
        """Start the DataNode again; returns once the NameNode counts it live."""
        run_stack_script("hdfs.sh", "start-datanode", timeout=120)

    def scratch_dir(self) -> str:
        """Create a fresh folder under ``/tmp/tests`` owned by ``user``; the caller removes it."""
        path = f"{HDFS_SCRATCH_ROOT}/{uuid.uuid4().hex}"
        self.client.makedirs(path)
        return path


@pytest.fixture(scope="session")
def hdfs() -> LocalHdfs:
    """The local HDFS, started if needed, healthy and provisioned; left running afterwards."""
    run_stack_script("hdfs.sh", "start")
    webhdfs_url = f"http://127.0.0.1:{os.environ.get('HDFS_NAMENODE_HTTP_PORT', '9870')}"
    user = os.environ.get("PIPELINE_HDFS_USER", "airflow")
    return LocalHdfs(
        webhdfs_url=webhdfs_url,
        uri=f"hdfs://127.0.0.1:{os.environ.get('HDFS_NAMENODE_RPC_PORT', '8020')}",
        user=user,
        datanode_http_port=int(os.environ.get("HDFS_DATANODE_HTTP_PORT", "9864")),
        client=InsecureClient(webhdfs_url, user=user),
    )


@pytest.fixture
def hdfs_scratch(hdfs: LocalHdfs) -> Iterator[str]:
    """A fresh HDFS folder for one test, removed afterwards."""
    path = hdfs.scratch_dir()
    yield path
    hdfs.client.delete(path, recursive=True)


@pytest.fixture(scope="session")
def spark_standalone() -> Iterator[str]:
    """The master URL of a running Spark standalone cluster (one worker, 2 cores, 2 GB)."""
    already_running = (
        subprocess.run(
            [str(STACK_DIR / "spark-standalone.sh"), "status"],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    run_stack_script("spark-standalone.sh", "start")
    yield f"spark://127.0.0.1:{os.environ.get('SPARK_MASTER_PORT', '7077')}"
    if not already_running:
        run_stack_script("spark-standalone.sh", "stop", timeout=60)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.rep_call``), so a fixture can tell in
    its teardown whether the test failed (the browser tests then save a screenshot)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
