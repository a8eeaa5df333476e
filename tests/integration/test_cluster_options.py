"""The small-cluster options of the stack scripts refuse bad input with a clear message (the
cluster itself runs in tests/integration/faults)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

STACK_DIR = Path(__file__).resolve().parents[2] / "stack"


def run(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(STACK_DIR / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "RUNTIME_DIR": str(tmp_path)},  # nothing running there
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("script", "args", "message"),
    [
        (
            "hdfs.sh",
            ("start", "--datanodes", "0"),
            "--datanodes needs a number from 1 to 99, got '0'",
        ),
        ("hdfs.sh", ("start", "--datanodes"), "--datanodes needs a number from 1 to 99, got ''"),
        ("hdfs.sh", ("start", "--replicas", "2"), "start: unknown option '--replicas'"),
        ("hdfs.sh", ("stop-datanode", "2"), "no DataNode 2: this HDFS has 1"),
        ("hdfs.sh", ("start-datanode", "x"), "no DataNode x: this HDFS has 1"),
        (
            "spark-standalone.sh",
            ("start", "--workers", "-1"),
            "--workers needs a number from 1 to 99",
        ),
        ("spark-standalone.sh", ("stop-worker", "3"), "no worker 3: this cluster has 1"),
    ],
)
def test_bad_cluster_option_is_named(
    tmp_path: Path, script: str, args: tuple, message: str
) -> None:
    completed = run(tmp_path, script, *args)
    assert completed.returncode != 0
    assert message in completed.stderr, completed.stderr
    assert not (tmp_path / "pids").exists() or not list((tmp_path / "pids").glob("*.pid"))
