"""The fixed cost of any PySpark job: start a SparkSession, write one tiny Parquet file, stop.

    spark-submit benchmarks/trivial_job.py --output hdfs://.../trivial-1

What every run of the daily job pays whatever the day's size (JVM and Python start-up, the
session, one planned and executed write to HDFS, the stop). ``make bench`` runs it beside our
job on the sample day, with the same master, driver memory and ``--conf`` (benchmarks/fixed_cost.py).
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    spark = SparkSession.builder.appName("ecommerce trivial").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    spark.createDataFrame([(1, "one")], "id INT, name STRING").coalesce(1).write.mode(
        "overwrite"
    ).parquet(args.output)
    spark.stop()


if __name__ == "__main__":
    main()
