"""CPU seconds of single steps of the one pass, in one SparkSession (local[2], 1 GiB), each run
to the ``noop`` sink, alternating A/B, after a warm-up: which per-row expression costs what.

    stack/run.sh python -m benchmarks.experiments.steps --rows 2000000 --rounds 3

CPU is the driver JVM's user + system time (psutil), so other load on the machine changes it
little; wall time is printed too.
"""

from __future__ import annotations

import argparse
import time

import psutil
from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from benchmarks.bench_stack import BENCH_DATE, generated_day
from spark_jobs import contract, transforms

TIMESTAMP_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"


def jvm_cpu() -> float:
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", default="", help="comma-separated subset (default: all)")
    args = parser.parse_args()
    day = generated_day(BENCH_DATE, args.rows)
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    raw = (
        spark.read.schema(transforms.raw_schema())
        .option("header", True)
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", transforms.CORRUPT_RECORD)
        .csv(f"file://{day.resolve()}/*.csv")
        .select("*", F.col("_metadata.file_path").alias(transforms.SOURCE_FILE))
    )
    ts = F.col("timestamp")
    steps = {
        "parse": lambda: raw,
        "ts_format": lambda: raw.select(
            F.try_to_timestamp(ts, F.lit(contract.TIMESTAMP_FORMAT)).alias("t")
        ),
        "ts_cast": lambda: raw.select(ts.try_cast("TIMESTAMP").alias("t")),
        # the format's shape as a regular expression, then the cast (tried, not kept)
        "ts_shape_cast": lambda: raw.select(
            F.when(ts.rlike(TIMESTAMP_SHAPE), ts.try_cast("TIMESTAMP")).alias("t")
        ),
        "classify": lambda: transforms.classify_rows(raw, BENCH_DATE),
        "validate": lambda: transforms.validate(raw, BENCH_DATE, 8),
        # the merge's own shuffle (keyed by every column) instead of a repartition by user first
        "validate_no_repartition": lambda: transforms.validate(raw, BENCH_DATE),
        # validate, then the job's cache of it (built by this step, dropped after it)
        "validate_cached": lambda: (
            cached.append(
                transforms.validate(raw, BENCH_DATE, 8).persist(StorageLevel.MEMORY_AND_DISK)
            )
            or cached[-1]
        ),
    }
    cached: list = []
    if args.steps:
        steps = {name: steps[name] for name in args.steps.split(",")}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in steps}
    for round_ in range(args.rounds + 1):
        for name, build in steps.items():
            cpu, wall = jvm_cpu(), time.monotonic()
            build().write.format("noop").mode("overwrite").save()
            figures = (jvm_cpu() - cpu, time.monotonic() - wall)
            while cached:
                cached.pop().unpersist(blocking=True)
            if round_:  # the first round warms the JIT
                results[name].append(figures)
            print(
                f"round {round_} {name}: cpu {figures[0]:.1f} s, wall {figures[1]:.1f} s",
                flush=True,
            )
    for name, runs in results.items():
        print(
            f"| {name} | {', '.join(f'{c:.1f}' for c, _ in runs)} | {', '.join(f'{w:.1f}' for _, w in runs)} |"
        )
    spark.stop()


if __name__ == "__main__":
    main()
