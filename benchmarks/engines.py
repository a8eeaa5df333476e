"""The command line of each engine, in one place: ours, naive, floor (spark-submit) and DuckDB.

Every ``spark-submit`` comes from ``include/ecommerce/spark_submit.py``, the DAG's builder: ours is
``etl_submission`` (the DAG's ``spark_etl`` command line), the baselines are
``script_submission`` (the job's driver memory and ``--conf``).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path

from benchmarks.bench_stack import PROJECT_ROOT
from include.ecommerce.spark_submit import (
    etl_job_args,
    etl_submission,
    job_conf,
    script_submission,
)

ENGINES = ("ours", "naive", "floor", "duckdb")
SPARK_MASTER = "local[2]"
DAG_MASTER = "local[*]"
"""The master of the local stack's ``spark_default`` connection: the DAG's ``spark_etl``."""
JOB_PATH = PROJECT_ROOT / "spark_jobs" / "ecommerce_etl.py"
SCRIPTS = {
    "naive": PROJECT_ROOT / "benchmarks" / "naive_job.py",
    "floor": PROJECT_ROOT / "benchmarks" / "floor_job.py",
    "trivial": PROJECT_ROOT / "benchmarks" / "trivial_job.py",
    "stage": PROJECT_ROOT / "benchmarks" / "stage_job.py",
}


def _conf_pairs(conf: Iterable[str]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in conf)


def spark_submit(
    script: Path, *args: str, master: str = SPARK_MASTER, conf: Iterable[str] = (), name=None
) -> list[str]:
    """``spark-submit`` of a script with the job's driver settings, plus ``conf`` (``key=value``):
    the command line comes from include/ecommerce/spark_submit.py, like the DAG's."""
    submission = script_submission(str(script), args, name=name)
    return submission.with_conf(_conf_pairs(conf)).argv(master)


def spark_submit_options(master: str = SPARK_MASTER) -> list[str]:
    """``spark-submit`` and the options every Spark engine gets (what the results record)."""
    return spark_submit(JOB_PATH, master=master)[:-1]


def ours_command(
    day: dt.date, input_uri: str, output_uri: str, *, master: str = SPARK_MASTER, conf=()
) -> list[str]:
    """The DAG's ``spark_etl`` command line for ``day``: the one builder, ``etl_submission``."""
    submission = etl_submission(day.isoformat(), input_uri, output_uri)
    return submission.with_conf(_conf_pairs(conf)).argv(master)


def ours_args(day: dt.date, input_uri: str, output_uri: str) -> list[str]:
    """The job's arguments alone (for experiments that submit another copy of the job)."""
    return [str(arg) for arg in etl_job_args(day.isoformat(), input_uri, output_uri)]


def trivial_command(output_uri: str, *, master: str = DAG_MASTER) -> list[str]:
    """The trivial PySpark job (benchmarks/trivial_job.py) with the job's driver memory and
    ``settings.SPARK_JOB_CONF``, without the job's class-data-sharing archive: the yardstick is
    what a plain PySpark job pays, and the archive is one of the ways ours cuts that."""
    return spark_submit(SCRIPTS["trivial"], "--output", output_uri, master=master)


def engine_command(
    engine: str,
    *,
    day: dt.date,
    input_uri: str,
    output_uri: str,
    local_input: Path,
    local_output: Path,
    conf: Iterable[str] = (),
) -> list[str]:
    """The command of ``engine`` for one day: Spark engines read ``input_uri`` (HDFS) and write
    ``output_uri``; DuckDB reads ``local_input`` and writes ``local_output``."""
    if engine == "ours":
        return ours_command(day, input_uri, output_uri, conf=conf)
    # The baselines get the job's JVM settings, the class-data-sharing archive included when
    # made: the comparison is between jobs, not JVM settings.
    baseline_conf = [*(f"{key}={value}" for key, value in job_conf().items()), *conf]
    if engine == "naive":
        args = ("--input", input_uri, "--output", output_uri)
        return spark_submit(SCRIPTS["naive"], *args, conf=baseline_conf)
    if engine == "floor":
        return spark_submit(SCRIPTS["floor"], "--input", input_uri, conf=baseline_conf)
    if engine == "duckdb":
        return [
            sys.executable,
            "-m",
            "benchmarks.duckdb_tables",
            "--date",
            day.isoformat(),
            "--input",
            str(local_input),
            "--output",
            str(local_output),
        ]
    raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
