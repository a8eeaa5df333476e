"""The `etl` compose service: run the Spark job for one day against the compose cluster.

The seed's container challenge, done as a one-shot: ``docker compose --profile etl run --rm etl``
(``PARTITION_DATE=YYYY-MM-DD`` picks the day, 2026-02-14 by default). docker/wait-for-cluster.sh
has already waited, bounded, for HDFS and the Spark master. This script then

1. copies the day's landing files into its raw HDFS partition when there are any (the DAG's
   upload step, so the one-shot also works on a fresh cluster; ``ETL_UPLOAD_LANDING=false``
   skips it and uses what HDFS already holds);
2. execs the DAG's ``spark-submit spark_jobs/ecommerce_etl.py --date D --input RAW --output
   PROCESSED ...`` (built by include.ecommerce.spark_submit, like the DAG's and the
   benchmark's) on ``spark://spark-master:7077`` in client mode, as HDFS user
   ``HADOOP_USER_NAME``.

Paths come from include.ecommerce.partitions, the one module that formats ``YYYY/MM/DD``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from include.ecommerce.partitions import Partition, hdfs_uri  # noqa: E402
from include.ecommerce.settings import DEFAULT_LANDING_DIR  # noqa: E402
from include.ecommerce.spark_submit import etl_submission  # noqa: E402

DEFAULT_PARTITION_DATE = "2026-02-14"
DEFAULT_HDFS_URI = "hdfs://namenode:8020"
DEFAULT_SPARK_MASTER = "spark://spark-master:7077"
DEFAULT_NAMENODE_HTTP_URL = "http://namenode:9870"


def spark_submit_argv(
    partition: Partition,
    *,
    hdfs_filesystem_uri: str,
    spark_master: str,
    driver_host: str,
    py_files: str,
) -> list[str]:
    """The DAG's spark-submit command line for one day (include/ecommerce/spark_submit.py), in
    client mode (Python apps cannot use cluster mode on a standalone master), plus what this
    one-shot container adds: the driver address executors reach it at, and the zipped
    spark_jobs package. The job's settings (driver memory, ``settings.SPARK_JOB_CONF``) are the
    DAG's own."""
    submission = etl_submission(
        partition.iso,
        hdfs_uri(hdfs_filesystem_uri, partition.raw_partition),
        hdfs_uri(hdfs_filesystem_uri, partition.processed_partition),
        extra_conf=one_shot_conf(driver_host),
        py_files=py_files,
    )
    return submission.argv(spark_master, deploy_mode="client")


def one_shot_conf(driver_host: str) -> dict[str, str]:
    """The ``--conf`` this container adds to the DAG's: it has no name the executors resolve
    (``docker compose run`` gives it none), so the driver advertises its address."""
    return {"spark.driver.host": driver_host, "spark.driver.bindAddress": "0.0.0.0"}


def driver_address() -> str:
    """An address of this container that other containers on its network can reach."""
    explicit = os.environ.get("SPARK_DRIVER_HOST")
    if explicit:
        return explicit
    return socket.gethostbyname(socket.gethostname())


def upload_landing(partition: Partition, landing_root: Path, user: str) -> None:
    """Replace the raw partition with the day's landing files, as the DAG's upload task does."""
    from hdfs import InsecureClient

    from include.ecommerce.upload import LandingFilesMissingError, landing_files, replace_partition

    try:
        files = landing_files(partition.local_folder(landing_root))
    except LandingFilesMissingError as error:
        print(f"etl: no upload ({error}); using what {partition.raw_partition} holds", flush=True)
        return
    client = InsecureClient(
        os.environ.get("NAMENODE_HTTP_URL", DEFAULT_NAMENODE_HTTP_URL), user=user
    )
    uploaded = replace_partition(client, files, partition.raw_partition)
    print(f"etl: uploaded {len(uploaded)} file(s) to {partition.raw_partition}", flush=True)


def package_spark_jobs(destination: Path) -> Path:
    """Zip the spark_jobs package for --py-files, so executors can import what the job imports."""
    archive = shutil.make_archive(
        str(destination / "spark_jobs"), "zip", root_dir=PROJECT_ROOT, base_dir="spark_jobs"
    )
    return Path(archive)


def main() -> None:
    partition = Partition.parse(os.environ.get("PARTITION_DATE", DEFAULT_PARTITION_DATE))
    user = os.environ.setdefault("HADOOP_USER_NAME", "airflow")
    if os.environ.get("ETL_UPLOAD_LANDING", "true").lower() != "false":
        landing_root = Path(os.environ.get("ECOMMERCE_LANDING_DIR", str(DEFAULT_LANDING_DIR)))
        upload_landing(partition, landing_root, user)
    py_files = package_spark_jobs(Path(tempfile.mkdtemp(prefix="etl-")))
    argv = spark_submit_argv(
        partition,
        hdfs_filesystem_uri=os.environ.get("ECOMMERCE_HDFS_URI", DEFAULT_HDFS_URI),
        spark_master=os.environ.get("SPARK_MASTER_URL", DEFAULT_SPARK_MASTER),
        driver_host=driver_address(),
        py_files=str(py_files),
    )
    print("etl:", " ".join(argv), flush=True)
    os.chdir(PROJECT_ROOT)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
