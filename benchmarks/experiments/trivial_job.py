"""The fixed-cost yardstick: a PySpark job that starts a session, writes one tiny Parquet file
and stops. Whatever our job pays beyond this on a 15-row day is ours to cut.

    spark-submit benchmarks/experiments/trivial_job.py <output folder URI>
"""

from __future__ import annotations

import sys

from pyspark.sql import SparkSession


def main(output: str) -> int:
    spark = SparkSession.builder.appName("trivial").getOrCreate()
    spark.createDataFrame([(1, "a")], "id INT, name STRING").write.mode("overwrite").parquet(output)
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
