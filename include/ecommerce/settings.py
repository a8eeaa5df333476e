"""Every default of the pipeline, in one place.

What a deployment changes lives in Airflow: connections (``webhdfs_default`` for the NameNode's
HTTP address and the pipeline's HDFS user, ``spark_default`` for the Spark master), variables
(``ecommerce_hdfs_uri``, ``ecommerce_landing_dir``, ``ecommerce_reports_dir``) and DAG params
(thresholds). This module names them and holds their defaults; nothing else spells them out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from spark_jobs import contract

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# --- Airflow connections -----------------------------------------------------------------------
WEBHDFS_CONN_ID = "webhdfs_default"
"""NameNode HTTP (WebHDFS and JMX) address; its login is the HDFS user the pipeline acts as."""
SPARK_CONN_ID = "spark_default"
"""Spark master (``local[*]``, ``spark://host:7077``, ``yarn``...)."""

# --- Airflow variables and their defaults ----------------------------------------------------
HDFS_URI_VARIABLE = "ecommerce_hdfs_uri"
DEFAULT_HDFS_URI = "hdfs://127.0.0.1:8020"
"""``fs.defaultFS`` of the cluster, as the Spark job must address it."""

LANDING_DIR_VARIABLE = "ecommerce_landing_dir"
DEFAULT_LANDING_DIR = PROJECT_ROOT / "include" / "data" / "landing"
"""Where collectors drop a day's files: ``<landing>/YYYY/MM/DD/*.csv[.gz]``."""

REPORTS_DIR_VARIABLE = "ecommerce_reports_dir"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports"
"""Local copy of the reports, for people who do not browse HDFS."""

# --- HDFS layout (roots; partition sub-paths come from include.ecommerce.partitions) ---------
RAW_ROOT = "/user/data/raw/ecommerce"
PROCESSED_ROOT = "/user/data/processed/ecommerce"
REPORTS_ROOT = "/user/data/reports/ecommerce"
PIPELINE_ROOTS: tuple[str, ...] = (RAW_ROOT, PROCESSED_ROOT, REPORTS_ROOT)
"""Folders the pipeline's HDFS user owns (created by stack/hdfs.sh or a cluster admin)."""

PROCESSED_ASSET_NAME = "ecommerce_processed_partitions"


def variable_from_environment(name: str, default: str) -> str:
    """A variable's value as set in the environment (``AIRFLOW_VAR_<NAME>``), read without the
    metadata database: for parse time and command-line helpers outside a task."""
    return os.environ.get(f"AIRFLOW_VAR_{name.upper()}", default)


def processed_asset_uri() -> str:
    """URI of the Asset a validated day updates (events carry ``{"partition_date": ...}``).

    An Asset is declared at parse time, when reading a Variable from the metadata database is
    unwelcome; the variable's environment form (``AIRFLOW_VAR_ECOMMERCE_HDFS_URI``) is free.
    """
    filesystem = variable_from_environment(HDFS_URI_VARIABLE, DEFAULT_HDFS_URI)
    return f"{filesystem.rstrip('/')}{PROCESSED_ROOT}"


# --- The Spark job ------------------------------------------------------------------------------
SPARK_JOB_PATH = PROJECT_ROOT / "spark_jobs" / "ecommerce_etl.py"
SPARK_DRIVER_MEMORY = "1g"
"""Enough at 5M rows a day: nothing collects raw rows to the driver."""
SPARK_JOB_CONF: dict[str, str] = {
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:CompileThresholdScaling=4",
    "spark.hadoop.dfs.client.block.write.locateFollowingBlock.initial.delay.ms": "50",
    "spark.hadoop.dfs.client.block.write.locateFollowingBlock.retries": "8",
}
"""spark-submit ``--conf`` of the job (the benchmark passes the same). The serial collector
suits a 1 GiB driver heap on a couple of cores, where G1's concurrent threads cost more than
they save: measured 10 % less wall and CPU time at 2M rows in ``local[2]`` (docs/benchmarks.md).
With a driver heap of several GiB, drop it. ``CompileThresholdScaling=4``: a method is compiled
(C1, then C2) after four times as many calls as by default. The JIT took 33 of a 5M-row run's 78
CPU seconds (C2 26 s, for about 3,000 methods); every query's generated code is new to it, and
much of it runs too little to repay a compile. Measured: 5M rows -6.6 % CPU (-1 s wall), the sample day
-5 % CPU (wall unchanged); per-row code still reaches C2 (docs/benchmarks-per-row.md, "Sixth
pass"). The benchmark gives these options to its baselines too.

The HDFS client's wait when it closes a file before the DataNode has reported the last block to
the NameNode: 50 ms at first instead of 400 ms (then doubling, 8 times instead of 5: as long in
all before it gives up). Small files (quality.json, the small tables, the lease) hit that wait
on most runs; see the same pair in stack/hadoop/conf/hdfs-site.xml for WebHDFS writes."""

# --- The DAG --------------------------------------------------------------------------------
TASK_RETRIES = 2
"""Retries of every task of the DAG (so at most three tries): HDFS and Spark faults that a
retry outlives (a DataNode or worker lost mid-write, a NameNode restart) heal within them."""
TASK_RETRY_DELAY = timedelta(minutes=1)
"""The first retry's delay (exponential backoff after it): long enough for the NameNode to
notice a killed DataNode (15-20 s with stack/hdfs.sh's heartbeat settings), so that a retry is
not sent to the same dead DataNode again."""
EARLIEST_PARTITION_DATE = datetime(2000, 1, 1, tzinfo=UTC)
"""The DAG's start date. Airflow creates no task instance for a manual run whose logical date
lies before it, and that run turns green having done nothing: so it lies before any day a
person may trigger. The schedule does not catch up (``catchup=False``), so this creates no runs."""

# --- DAG params (thresholds) and their defaults ------------------------------------------------
DEFAULT_MIN_LIVE_DATANODES = 1
DEFAULT_MIN_FREE_BYTES = 1 * 1024**3
DEFAULT_LATE_DATA_DAYS = 7
"""Each upload compares the landing folders of this many days before its own with the
manifests of their raw partitions, and flags the days whose landing changed (late data)."""
DEFAULT_MAX_REJECT_RATIO = contract.DEFAULT_MAX_REJECT_RATIO
"""Share of rejected raw rows above which a day is not published (the job's own default)."""
DEFAULT_LANDING_DEADLINE_HOURS = 6
"""How long after its day ends (midnight UTC) a run waits for the landing day's ``_READY``."""

# --- Waiting for the landing day ----------------------------------------------------------------
LANDING_POKE_INTERVAL_VARIABLE = "ecommerce_landing_poke_seconds"
DEFAULT_LANDING_POKE_INTERVAL_S = 60


def landing_poke_interval_s() -> int:
    """Seconds between two looks for a landing day's marker (each look is a short task run).

    Read at parse time (a sensor's ``poke_interval`` is not templated), so only from the
    variable's environment form ``AIRFLOW_VAR_ECOMMERCE_LANDING_POKE_SECONDS``.
    """
    text = variable_from_environment(
        LANDING_POKE_INTERVAL_VARIABLE, str(DEFAULT_LANDING_POKE_INTERVAL_S)
    )
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise ValueError(
            f"AIRFLOW_VAR_{LANDING_POKE_INTERVAL_VARIABLE.upper()}={text!r}: "
            "expected a whole number of seconds >= 1"
        )
    return seconds


@dataclass(frozen=True)
class PipelineLocations:
    """Deployment-specific locations, resolved from Airflow variables at task run time."""

    hdfs_uri: str
    landing_dir: Path
    reports_dir: Path


def load_locations() -> PipelineLocations:
    """Read the variables (inside a task: this touches Airflow's metadata, not for parse time)."""
    from airflow.sdk import Variable

    return PipelineLocations(
        hdfs_uri=Variable.get(HDFS_URI_VARIABLE, default=DEFAULT_HDFS_URI).rstrip("/"),
        landing_dir=Path(Variable.get(LANDING_DIR_VARIABLE, default=str(DEFAULT_LANDING_DIR))),
        reports_dir=Path(Variable.get(REPORTS_DIR_VARIABLE, default=str(DEFAULT_REPORTS_DIR))),
    )
