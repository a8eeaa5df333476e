"""The local HDFS (stack/hdfs.sh) is a real one: healthy, WebHDFS and the RPC client work, and
permissions are enforced. The last test stops the DataNode for a while (see its docstring)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import TYPE_CHECKING

import pytest
import requests
from hdfs import HdfsError

from include.ecommerce.settings import PIPELINE_ROOTS

if TYPE_CHECKING:
    from tests.integration.conftest import LocalHdfs

pytestmark = pytest.mark.integration

HADOOP_VERSION = "3.5.0"
"""The server's version (stack/hadoop/pom.xml), and the client's inside the pyspark wheel."""


def test_namenode_reports_a_live_datanode_and_no_safe_mode(hdfs: LocalHdfs) -> None:
    state = hdfs.namenode_bean("FSNamesystemState")
    info = hdfs.namenode_bean("NameNodeInfo")

    assert state["FSState"] == "Operational"
    assert state["NumLiveDataNodes"] >= 1
    assert info["Safemode"] == ""
    assert info["Version"].startswith(HADOOP_VERSION)


def test_webhdfs_write_then_read_round_trips_bytes(hdfs: LocalHdfs, hdfs_scratch: str) -> None:
    path = f"{hdfs_scratch}/sample.bin"
    payload = b"timestamp,user_id\n2026-02-14 09:00:00,1\n" + bytes(range(256)) * 64

    hdfs.client.write(path, data=payload)
    with hdfs.client.read(path) as reader:
        assert reader.read() == payload
    status = hdfs.client.status(path)
    assert status["length"] == len(payload)
    assert status["owner"] == hdfs.user


def test_webhdfs_redirects_writes_to_the_datanode_on_loopback(
    hdfs: LocalHdfs, hdfs_scratch: str
) -> None:
    """HdfsCLI follows this 307 by itself; the address must be one this machine can reach."""
    response = requests.put(
        f"{hdfs.webhdfs_url}/webhdfs/v1{hdfs_scratch}/redirected.txt",
        params={"op": "CREATE", "user.name": hdfs.user},
        allow_redirects=False,
        timeout=5,
    )

    assert response.status_code == 307
    assert response.headers["Location"].startswith(
        f"http://127.0.0.1:{hdfs.datanode_http_port}/webhdfs/v1/"
    )


@pytest.mark.parametrize("root", PIPELINE_ROOTS)
def test_pipeline_folders_belong_to_the_pipeline_user(hdfs: LocalHdfs, root: str) -> None:
    status = hdfs.client.status(root)

    assert status["type"] == "DIRECTORY"
    assert status["owner"] == hdfs.user
    assert status["permission"] == "755"


def test_data_root_belongs_to_the_superuser(hdfs: LocalHdfs) -> None:
    status = hdfs.client.status("/user/data")

    assert status["owner"] != hdfs.user
    assert status["permission"] == "755"


def test_pipeline_user_cannot_write_into_the_data_root(hdfs: LocalHdfs) -> None:
    forbidden = f"/user/data/_should_not_exist_{uuid.uuid4().hex}"

    with pytest.raises(HdfsError, match="Permission denied"):
        hdfs.client.makedirs(forbidden)
    with pytest.raises(HdfsError, match="Permission denied"):
        hdfs.client.write(f"{forbidden}.txt", data=b"nope")
    assert hdfs.client.status(forbidden, strict=False) is None


SPARK_ROUND_TRIP = """
import sys
from pyspark.sql import SparkSession

target = sys.argv[1]
spark = (
    SparkSession.builder.master("local[1]")
    .appName("hdfs-round-trip-test")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
print("HADOOP_VERSION", spark._jvm.org.apache.hadoop.util.VersionInfo.getVersion())
spark.createDataFrame([(1, "view"), (2, "purchase")], "user_id int, event_type string") \\
    .write.mode("overwrite").parquet(target)
rows = sorted(tuple(row) for row in spark.read.parquet(target).collect())
print("ROWS", rows)
spark.stop()
"""


def test_spark_hadoop_client_writes_and_reads_parquet(hdfs: LocalHdfs, hdfs_scratch: str) -> None:
    """pyspark's bundled Hadoop client speaks RPC to the NameNode and streams to the DataNode."""
    target = f"{hdfs.uri}{hdfs_scratch}/events.parquet"
    env = {**os.environ, "HADOOP_USER_NAME": hdfs.user, "SPARK_LOCAL_IP": "127.0.0.1"}

    completed = subprocess.run(
        [sys.executable, "-c", SPARK_ROUND_TRIP, target],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-4000:]
    assert f"HADOOP_VERSION {HADOOP_VERSION}" in completed.stdout
    assert "ROWS [(1, 'view'), (2, 'purchase')]" in completed.stdout
    written = hdfs.client.status(f"{hdfs_scratch}/events.parquet/_SUCCESS")
    assert written["owner"] == hdfs.user


def test_a_stopped_datanode_is_reported_dead_then_recovers(hdfs: LocalHdfs) -> None:
    """Stops the DataNode; the NameNode marks it dead after ~15-18 s (hdfs-site.xml shortens the
    default 10.5 min). Other users of this HDFS see it unhealthy meanwhile; it is always
    restarted, and start-datanode waits until the NameNode counts it live again."""
    try:
        hdfs.stop_datanode()
        dead = hdfs.wait_for_live_datanodes(expected=0, timeout_s=40)
        assert dead["NumLiveDataNodes"] == 0
        assert dead["NumDeadDataNodes"] >= 1
    finally:
        hdfs.start_datanode()

    recovered = hdfs.namenode_bean("FSNamesystemState")
    assert recovered["NumLiveDataNodes"] >= 1
    assert recovered["FSState"] == "Operational"
