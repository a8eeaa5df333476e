"""The benchmark's stack: the local HDFS it stages days in, the generated days, the cleanup.

Paths, the days' cache and every HDFS operation of ``make bench`` live here; the engines, the
sizes and the orchestration runs ask this module where things are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from include.ecommerce.hdfs_health import NameNodeUnreachableError, fetch_namenode_state

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = PROJECT_ROOT / ".runtime" / "bench"
DATA_DIR = BENCH_DIR / "data"
HDFS_BENCH_ROOT = "/tmp/bench"

BENCH_DATE = dt.date(2030, 1, 1)
"""First generated day: far from any date the tests or the demo use, so the orchestration runs
(which write the pipeline's real partitions) touch nobody else's data."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Stack:
    """The local HDFS of this worktree (its ports from the environment) and the HDFS user."""

    hdfs_uri: str
    webhdfs_url: str
    user: str

    @classmethod
    def from_env(cls) -> Stack:
        rpc = os.environ.get("HDFS_NAMENODE_RPC_PORT", "8020")
        http = os.environ.get("HDFS_NAMENODE_HTTP_PORT", "9870")
        return cls(
            hdfs_uri=f"hdfs://127.0.0.1:{rpc}",
            webhdfs_url=f"http://127.0.0.1:{http}",
            user=os.environ.get("PIPELINE_HDFS_USER", "airflow"),
        )

    def client(self):
        from hdfs import InsecureClient

        return InsecureClient(self.webhdfs_url, user=self.user)

    def uri(self, path: str) -> str:
        return f"{self.hdfs_uri}{path}"

    def live_datanodes(self) -> int:
        """Live DataNodes the NameNode counts (the pipeline's health check reads the same JMX);
        0 when the NameNode does not answer."""
        try:
            return fetch_namenode_state([self.webhdfs_url]).live_datanodes
        except NameNodeUnreachableError:
            return 0

    def wait_for_datanode(self, timeout_s: float = 600) -> float:
        """Seconds waited until a DataNode is live. The HDFS may be shared: another session's
        test may stop the DataNode for a while, and a run started then fails for nothing."""
        started = time.monotonic()
        announced = False
        while self.live_datanodes() < 1 and time.monotonic() - started < timeout_s:
            if not announced:
                log("no live DataNode (another session's test?): waiting before the next run")
                announced = True
            time.sleep(2)
        return round(time.monotonic() - started, 1)

    def env(self) -> dict[str, str]:
        return {**os.environ, "HADOOP_USER_NAME": self.user}


# --- Input days ------------------------------------------------------------------------------------


def landing_root(rows: int) -> Path:
    """Landing root of the generated days of one size: ``<root>/YYYY/MM/DD/ecommerce_logs.csv``."""
    return DATA_DIR / f"rows-{rows}"


def generated_day(day: dt.date, rows: int) -> Path:
    """The folder of a generated day, generated once (cache key: date and rows)."""
    from include.data.generate_logs import write_day

    root = landing_root(rows)
    folder = root / f"{day:%Y/%m/%d}"
    marker = root / f".complete-{day.isoformat()}"
    if marker.exists():
        return folder
    log(f"generating {rows:,} rows for {day} into {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    write_day(day, rows, root, progress=sys.stderr.isatty())
    marker.touch()
    return folder


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def upload_day(client, folder: Path, hdfs_folder: str) -> None:
    client.makedirs(hdfs_folder)
    for path in sorted(folder.iterdir()):
        client.upload(f"{hdfs_folder}/{path.name}", str(path), overwrite=True)


def entries(folder: Path | None) -> set[str]:
    """The paths in ``folder`` now (to tell which event log a run added)."""
    return {str(path) for path in folder.iterdir()} if folder and folder.is_dir() else set()


def job_fingerprint() -> dict[str, str]:
    """sha256 of the job's files: the job may change while a run is going on."""
    jobs = PROJECT_ROOT / "spark_jobs"
    return {
        str(path.relative_to(jobs)): hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        for path in sorted(jobs.rglob("*.py"))
    }


# --- The pipeline's own partitions of the bench days ----------------------------------------------


def pipeline_partitions(days: Sequence[dt.date]) -> list[str]:
    """The pipeline's raw, processed and report partitions of ``days``."""
    from include.ecommerce.partitions import Partition

    return [
        path
        for partition in map(Partition, sorted(set(days)))
        for path in (
            partition.raw_partition,
            partition.processed_partition,
            partition.report_partition,
        )
    ]


def existing_partitions(stack: Stack, days: Sequence[dt.date]) -> list[str]:
    client = stack.client()
    return [path for path in pipeline_partitions(days) if client.status(path, strict=False)]


def cleanup_pipeline_partitions(stack: Stack, days: Sequence[dt.date]) -> None:
    """Remove what the orchestration runs wrote into the pipeline's folders for the bench days
    (raw, processed, report partitions), then their parent folders if left empty."""
    from include.ecommerce.settings import PIPELINE_ROOTS

    client = stack.client()
    for path in pipeline_partitions(days):
        client.delete(path, recursive=True)
    for root in PIPELINE_ROOTS:
        for year in {f"{d:%Y}" for d in days}:
            for sub in sorted({f"{d:%Y/%m}" for d in days if f"{d:%Y}" == year}):
                _delete_if_empty(client, f"{root}/{sub}")
            _delete_if_empty(client, f"{root}/{year}")


def _delete_if_empty(client, path: str) -> None:
    if client.status(path, strict=False) is not None and not client.list(path):
        client.delete(path)
