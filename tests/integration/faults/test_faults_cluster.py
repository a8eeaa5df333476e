"""Real processes of a small cluster killed at a chosen moment, and what the pipeline promises.

Each test drives the pipeline's own steps directly (the upload function, the DAG's spark-submit
command line), retrying as the DAG's tasks would (retries=2), and asserts outcomes that hold
whatever the write protocol is: the run succeeds, the partition is complete and equals a clean
run's, fsck reports no missing or corrupt block once HDFS re-replicated, the previous partition
survives a failed run. Each records one row for docs/reliability-faults.md.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pyarrow as pa
import pytest
import requests

from include.ecommerce.hdfs_health import (
    HdfsUnhealthyError,
    HealthThresholds,
    NameNodeInSafeModeError,
    check_hdfs_health,
)
from include.ecommerce.partitions import Partition
from include.ecommerce.upload import (
    MANIFEST_NAME,
    STAGING_PREFIX,
    landing_files,
    read_manifest,
)
from stack.small_cluster import fsck_figures, wait_for
from tests.integration.faults.conftest import (
    ATTEMPTS,
    DATANODES,
    FAULT_DAY,
    PREVIOUS_DAY,
    RETRY_DELAY_S,
    FaultCluster,
)

pytestmark = [pytest.mark.integration, pytest.mark.faults]

FAULT = Partition(FAULT_DAY)
PREVIOUS = Partition(PREVIOUS_DAY)
VICTIM_DATANODE = 2
VICTIM_WORKER = 2


def rows(tables: dict[str, pa.Table]) -> int:
    return sum(table.num_rows for table in tables.values())


def assert_fully_replicated(cluster: FaultCluster, path: str) -> float:
    report, waited = cluster.wait_until_fully_replicated(path)
    figures = fsck_figures(report)
    assert "is HEALTHY" in report, report
    assert figures.get("Missing blocks") == 0, report
    assert figures.get("Corrupt blocks") == 0, report
    assert figures.get("Under-replicated blocks") == 0, report
    return waited


def test_datanode_killed_while_the_upload_writes(
    fault_cluster: FaultCluster, clean_run: dict[str, pa.Table], fault_results: list[dict]
) -> None:
    """The landing files are compared byte for byte; the tables of this day are then the
    Spark tests' input."""
    cluster = fault_cluster
    parent = FAULT.raw_partition.rsplit("/", 1)[0]
    before = set(cluster.client.list(parent))
    errors: list[BaseException] = []

    def upload() -> None:
        try:
            cluster.upload(FAULT_DAY)
        except BaseException as error:  # recorded: the task would retry
            errors.append(error)

    started = time.monotonic()
    writer = threading.Thread(target=upload)
    writer.start()

    # Kill once the upload's staging area exists beside the partition: it holds the day's lease
    # and writes the files. (Not at the lease file: a DataNode killed while it serves the
    # lease's own WebHDFS create leaves the lease unclosed for the HDFS soft limit, 60 s, and
    # then held in the name of this process, which these in-process retries cannot take over;
    # Airflow's retries are new processes, which take a dead process's lease over at once.)
    def staging_started() -> bool:
        new = set(cluster.client.list(parent)) - before
        return any(name.startswith(STAGING_PREFIX) for name in new)

    assert wait_for(staging_started, timeout_s=60)
    mid_write = writer.is_alive()
    cluster.kill(f"datanode{VICTIM_DATANODE}")
    try:
        writer.join(timeout=600)
        attempts = 1
        while errors and attempts < ATTEMPTS:  # the task's retries, after the task's delay
            errors.clear()
            attempts += 1
            time.sleep(RETRY_DELAY_S)
            upload()
        assert not errors, f"upload failed on every one of {ATTEMPTS} attempts: {errors[-1]!r}"
        assert mid_write, "the upload finished before the DataNode was killed: no fault injected"
        # The landing day's input files (its _READY marker is not one), against the raw
        # partition's files beside its manifest, whose record must agree with both.
        local = {
            p.name: p.stat().st_size for p in landing_files(cluster.landing_dir / FAULT.subpath)
        }
        remote = {
            name: status["length"]
            for name, status in cluster.client.list(FAULT.raw_partition, status=True)
            if name != MANIFEST_NAME
        }
        assert remote == local
        manifest = read_manifest(cluster.client, FAULT.raw_partition)
        assert {name: entry["size"] for name, entry in manifest.items()} == local
        for name in local:  # byte for byte, not only the sizes
            with cluster.client.read(f"{FAULT.raw_partition}/{name}") as reader:
                assert reader.read() == (cluster.landing_dir / FAULT.subpath / name).read_bytes()
        recovered = assert_fully_replicated(cluster, FAULT.raw_partition)
        fault_results.append(
            {
                "fault": f"DataNode {VICTIM_DATANODE} of {DATANODES} killed (SIGKILL)",
                "injected": "during upload_raw_logs, once its staging area existed",
                "outcome": "upload succeeded; the raw partition holds every landing file, "
                "byte for byte; fsck HEALTHY after re-replication",
                "retries": attempts - 1,
                "rows_lost": 0,  # every byte compared above
                "recover_s": round(time.monotonic() - started, 1),
                "fsck_wait_s": round(recovered, 1),
                "test": "test_datanode_killed_while_the_upload_writes",
            }
        )
    finally:
        cluster.start_datanode(VICTIM_DATANODE)


def test_datanode_killed_while_the_spark_job_writes(
    fault_cluster: FaultCluster, clean_run: dict[str, pa.Table], fault_results: list[dict]
) -> None:
    cluster = fault_cluster
    cluster.upload(FAULT_DAY)
    files_before = cluster.files_total()
    started = time.monotonic()
    job = cluster.submit_etl(FAULT_DAY)
    # New files in the namespace = the job started writing its output.
    assert wait_for(lambda: cluster.files_total() > files_before, timeout_s=600, poll_s=0.2)
    mid_write = job.poll() is None
    cluster.kill(f"datanode{VICTIM_DATANODE}")
    try:
        result = cluster.run_etl_with_retries(FAULT_DAY, first=job)
        assert result.returncode == 0, result.stderr[-4000:]
        assert mid_write, "the job ended before the DataNode was killed: no fault injected"
        assert cluster.table_differences(clean_run, FAULT.processed_partition) == []
        recovered = assert_fully_replicated(cluster, FAULT.processed_partition)
        fault_results.append(
            {
                "fault": f"DataNode {VICTIM_DATANODE} of {DATANODES} killed (SIGKILL)",
                "injected": "during the Spark job, once it had created its first output file",
                "outcome": "job succeeded; tables equal a clean run's; "
                "fsck HEALTHY after re-replication",
                "retries": result.attempts - 1,
                "rows_lost": rows(clean_run) - rows(cluster.tables(FAULT.processed_partition)),
                "recover_s": round(time.monotonic() - started, 1),
                "fsck_wait_s": round(recovered, 1),
                "test": "test_datanode_killed_while_the_spark_job_writes",
            }
        )
    finally:
        cluster.start_datanode(VICTIM_DATANODE)


def worker_executors(cluster: FaultCluster, index: int) -> int:
    port = int(cluster.env["SPARK_WORKER_WEBUI_PORT"]) + index - 1
    try:
        answer = requests.get(f"http://127.0.0.1:{port}/json/", timeout=3).json()
    except (requests.RequestException, ValueError):
        return 0
    return len(answer.get("executors", []))


def test_spark_worker_killed_mid_job(
    fault_cluster: FaultCluster, clean_run: dict[str, pa.Table], fault_results: list[dict]
) -> None:
    cluster = fault_cluster
    cluster.upload(FAULT_DAY)
    started = time.monotonic()
    job = cluster.submit_etl(FAULT_DAY)
    # Mid-job: the victim runs an executor of the job.
    assert wait_for(lambda: worker_executors(cluster, VICTIM_WORKER) > 0, timeout_s=300, poll_s=0.5)
    time.sleep(5)  # into the job's stages
    mid_job = job.poll() is None
    cluster.kill(f"spark-worker{VICTIM_WORKER}")
    try:
        result = cluster.run_etl_with_retries(FAULT_DAY, first=job)
        assert result.returncode == 0, result.stderr[-4000:]
        assert mid_job, "the job ended before the worker was killed: no fault injected"
        assert cluster.table_differences(clean_run, FAULT.processed_partition) == []
        fault_results.append(
            {
                "fault": f"Spark worker {VICTIM_WORKER} of 2 killed (SIGKILL; its executor exits)",
                "injected": "5 s after the worker's executor for the job started",
                "outcome": "job succeeded on the other worker; tables equal a clean run's",
                "retries": result.attempts - 1,
                "rows_lost": rows(clean_run) - rows(cluster.tables(FAULT.processed_partition)),
                "recover_s": round(time.monotonic() - started, 1),
                "test": "test_spark_worker_killed_mid_job",
            }
        )
    finally:
        cluster.start_worker(VICTIM_WORKER)


def test_safe_mode_is_waited_for_then_the_run_goes_on(
    fault_cluster: FaultCluster, fault_results: list[dict]
) -> None:
    cluster = fault_cluster
    thresholds = HealthThresholds(min_live_datanodes=DATANODES, min_free_bytes=1)
    cluster.script("hdfs.sh", "safemode", "enter")
    try:
        # Still there after the whole wait: a retryable error that says so.
        with pytest.raises(NameNodeInSafeModeError, match=r"still in safe mode.*Retry later"):
            check_hdfs_health([cluster.webhdfs_url], thresholds, safe_mode_wait_seconds=3)
        outcome: dict[str, Any] = {}

        def check() -> None:
            try:
                outcome["state"] = check_hdfs_health(
                    [cluster.webhdfs_url], thresholds, safe_mode_wait_seconds=120, poll_seconds=1
                )
            except Exception as error:
                outcome["error"] = error

        started = time.monotonic()
        checker = threading.Thread(target=check)
        checker.start()
        time.sleep(5)
        assert checker.is_alive(), f"the check did not wait for safe mode: {outcome}"
    finally:
        cluster.script("hdfs.sh", "safemode", "leave")
    checker.join(timeout=180)
    assert "error" not in outcome, outcome
    assert outcome["state"].fs_state == "Operational"
    fault_results.append(
        {
            "fault": "NameNode in safe mode (hdfs dfsadmin -safemode enter)",
            "injected": "before check_hdfs_health; left 5 s later",
            "outcome": "the check waited, then passed; had safe mode lasted past its 60 s wait: "
            "NameNodeInSafeModeError (retried by Airflow, not failed for good)",
            "retries": 0,
            "rows_lost": 0,
            "recover_s": round(time.monotonic() - started, 1),
            "test": "test_safe_mode_is_waited_for_then_the_run_goes_on",
        }
    )


def test_namenode_restarted_between_upload_and_job(
    fault_cluster: FaultCluster, clean_run: dict[str, pa.Table], fault_results: list[dict]
) -> None:
    cluster = fault_cluster
    cluster.upload(FAULT_DAY)
    started = time.monotonic()
    cluster.kill("namenode")
    restart = threading.Thread(
        target=cluster.script, args=("hdfs.sh", "start", "--datanodes", str(DATANODES))
    )
    restart.start()  # the NameNode comes back while the job is being submitted
    try:
        result = cluster.run_etl_with_retries(FAULT_DAY)
    finally:
        restart.join(timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    assert cluster.table_differences(clean_run, FAULT.processed_partition) == []
    fault_results.append(
        {
            "fault": "NameNode killed (SIGKILL) and restarted",
            "injected": "between upload_raw_logs and spark_etl",
            "outcome": "job succeeded (its HDFS client retried the connection); "
            "tables equal a clean run's",
            "retries": result.attempts - 1,
            "rows_lost": rows(clean_run) - rows(cluster.tables(FAULT.processed_partition)),
            "recover_s": round(time.monotonic() - started, 1),
            "test": "test_namenode_restarted_between_upload_and_job",
        }
    )


def restart_all_datanodes(cluster: FaultCluster, env: dict[str, str]) -> None:
    """Stop every DataNode, wait until the NameNode counts none live (so no read or write is
    sent to a stopped one's old registration), start them with ``env``."""
    for index in range(1, DATANODES + 1):
        cluster.script("hdfs.sh", "stop-datanode", str(index))
    assert wait_for(lambda: cluster.namenode_state()["NumLiveDataNodes"] == 0, 180, 1)
    cluster.env = env
    for index in range(1, DATANODES + 1):
        cluster.start_datanode(index)


def test_full_datanode_volumes_give_a_clear_error_and_keep_the_previous_partition(
    fault_cluster: FaultCluster, clean_run: dict[str, pa.Table], fault_results: list[dict]
) -> None:
    cluster = fault_cluster
    previous_tables = cluster.tables(PREVIOUS.processed_partition)
    previous_raw = cluster.client.list(PREVIOUS.raw_partition, status=True)
    full = {**cluster.env, "HDFS_DATANODE_DU_RESERVED": str(1024**5)}  # 1 PiB: no room left
    started = time.monotonic()
    original_env = cluster.env
    try:
        restart_all_datanodes(cluster, full)
        assert wait_for(lambda: cluster.namenode_state()["CapacityRemaining"] == 0, 120, 1)
        # The health check names the cause before anything is written.
        with pytest.raises(HdfsUnhealthyError, match=r"0 B free, at least 1\.0 GiB required"):
            check_hdfs_health(
                [cluster.webhdfs_url],
                HealthThresholds(min_live_datanodes=1, min_free_bytes=1024**3),
            )
        # Past it (a threshold set too low): the upload and the job fail, naming the cause.
        upload_error = None
        try:
            cluster.upload(PREVIOUS_DAY)
        except Exception as error:
            upload_error = error
        result = cluster.finish(cluster.submit_etl(PREVIOUS_DAY))
        assert upload_error is not None, "the upload succeeded on full volumes"
        assert result.returncode != 0, "the job succeeded on full volumes"
        cause = "could only be written to 0 of the 1 minReplication nodes"
        assert cause in result.stderr, result.stderr[-4000:]
        assert cluster.client.list(PREVIOUS.raw_partition, status=True) == previous_raw
        assert cluster.table_differences(previous_tables, PREVIOUS.processed_partition) == []
    finally:
        restart_all_datanodes(cluster, original_env)
    fault_results.append(
        {
            "fault": f"all {DATANODES} DataNode volumes full (dfs.datanode.du.reserved = 1 PiB)",
            "injected": "before a rerun of the previous day",
            "outcome": "health check: '0 B free, at least 1.0 GiB required'; "
            f"upload fails ({type(upload_error).__name__}); job fails: '{cause}'; "
            "previous raw and processed partitions intact",
            "retries": 0,
            "rows_lost": rows(previous_tables) - rows(cluster.tables(PREVIOUS.processed_partition)),
            "recover_s": round(time.monotonic() - started, 1),
            "test": "test_full_datanode_volumes_give_a_clear_error_and_keep_the_previous_partition",
        }
    )
