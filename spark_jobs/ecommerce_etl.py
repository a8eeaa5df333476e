"""The daily ETL job: one raw partition of e-commerce logs in, the processed partition out.

    spark-submit spark_jobs/ecommerce_etl.py --date 2026-02-14 \\
        --input hdfs://127.0.0.1:8020/user/data/raw/ecommerce/2026/02/14 \\
        --output hdfs://127.0.0.1:8020/user/data/processed/ecommerce/2026/02/14

Reads every ``*.csv`` and ``*.csv.gz`` of the input folder once, with an explicit all-STRING
schema, types and validates the rows, and publishes the tables of ``contract.TABLES`` as Parquet
folders of the output partition, then ``_SUCCESS`` (atomically: see storage.publish_partition).

Exit codes: 0 published; 2 a file-level input problem (one line on stderr:
``error: <path>: <problem>``) or bad arguments; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

if not __package__:
    # Run as a script (spark-submit spark_jobs/ecommerce_etl.py): Python put spark_jobs/ itself
    # on sys.path, not the project root, so `from spark_jobs import ...` needs the parent added.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spark_jobs import contract, storage, transforms

EXIT_INPUT_ERROR = contract.JOB_EXIT_INPUT_ERROR
DEFAULT_SHUFFLE_PARTITIONS = 8
"""The tables are small (hundreds of thousands of users at most): a few shuffle partitions."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ecommerce_etl.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--date", required=True, type=dt.date.fromisoformat, help="partition date, YYYY-MM-DD"
    )
    parser.add_argument("--input", required=True, help="raw partition folder (any Hadoop URI)")
    parser.add_argument("--output", required=True, help="processed partition folder to replace")
    parser.add_argument(
        "--shuffle-partitions",
        type=int,
        default=None,
        help=f"spark.sql.shuffle.partitions (default: --conf value, else "
        f"{DEFAULT_SHUFFLE_PARTITIONS})",
    )
    return parser.parse_args(argv)


def start_session(args: argparse.Namespace):  # -> SparkSession (pyspark imported lazily)
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    shuffle_partitions = args.shuffle_partitions or SparkConf().get(
        "spark.sql.shuffle.partitions", str(DEFAULT_SHUFFLE_PARTITIONS)
    )
    spark = (
        SparkSession.builder.appName(f"ecommerce_etl {args.date}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.ui.showConsoleProgress", "false")
        # One _SUCCESS per partition (ours, written last), none per table folder.
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    return spark


def read_raw(spark, files: list[str]):  # -> DataFrame
    """All input files through Spark's CSV reader: header skipped, RFC 4180 quoting, UTF-8."""
    from pyspark.sql import functions as F

    return (
        spark.read.schema(transforms.raw_schema())
        .option("header", True)
        .option("encoding", "UTF-8")
        .option("quote", '"')
        .option("escape", '"')
        .option("mode", "PERMISSIVE")
        .csv(files)
        .select("*", F.col("_metadata.file_path").alias(transforms.SOURCE_FILE))
    )


def run(args: argparse.Namespace) -> int:
    hadoop = storage.Hadoop.from_gateway()
    storage.set_log_level(hadoop)
    files = storage.list_input_files(hadoop, args.input)
    storage.check_headers(hadoop, files)

    spark = start_session(args)
    raw = read_raw(spark, files)
    events = transforms.parse_events(raw, args.date).cache()
    tables = {name: build(events) for name, build in transforms.CORE_TRANSFORMS.items()}

    def write_tables(staging_uri: str) -> None:
        for name, table in tables.items():
            table.coalesce(1).write.mode("errorifexists").parquet(f"{staging_uri}/{name}")

    storage.publish_partition(
        storage.Hadoop.from_session(spark), args.output, write_tables, complete=True
    )
    return 0


def report_error(message: str) -> None:
    """One line ``error: ...`` on the job's stderr.

    Under spark-submit the Python driver's stdout and stderr are both piped into spark-submit's
    *stdout*; the JVM's System.err is spark-submit's real stderr, so the line goes there when the
    gateway is up (and to Python's stderr otherwise, e.g. ``python -m spark_jobs.ecommerce_etl``).
    """
    line = f"{contract.JOB_ERROR_PREFIX}{message}"
    from pyspark import SparkContext

    if SparkContext._jvm is not None:
        SparkContext._jvm.System.err.println(line)
        SparkContext._jvm.System.err.flush()
    else:
        print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except storage.InputError as error:
        report_error(str(error))
        return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
