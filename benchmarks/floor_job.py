"""The floor: what reading the day costs at all (start-up, CSV parse, stop), with no tables.

    spark-submit benchmarks/floor_job.py --input hdfs://.../day/

Parses every column of the CSV once with the contract's types (an explicit schema, so no
inference pass) and hands the rows to the ``noop`` sink, which consumes them and writes nothing.
A job that computes the four tables cannot be faster than this on the same machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyspark.sql import SparkSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spark_jobs import contract

RAW_TYPES = {
    "timestamp": "TIMESTAMP",
    "user_id": "BIGINT",
    "price": contract.PRICE_TYPE,
    "quantity": "INT",
}
"""Typed columns of the contract; the others are STRING."""


def raw_ddl() -> str:
    return ", ".join(f"`{name}` {RAW_TYPES.get(name, 'STRING')}" for name in contract.RAW_COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input", required=True)
    args = parser.parse_args()

    spark = (
        SparkSession.builder.appName("ecommerce floor")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    (
        spark.read.schema(raw_ddl())
        .option("header", True)
        .option("timestampFormat", contract.TIMESTAMP_FORMAT)
        .csv(args.input)
        .write.format("noop")
        .mode("overwrite")
        .save()
    )
    spark.stop()


if __name__ == "__main__":
    main()
