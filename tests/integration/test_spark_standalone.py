"""The local Spark standalone cluster runs a Python application submitted with spark-submit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# Runs Python code on the executors (the lambda), not only in the driver's JVM.
APP = """
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("standalone-smoke-test").getOrCreate()
sc = spark.sparkContext
print("MASTER", sc.master)
print("RANGE_COUNT", spark.range(0, 100_000, numPartitions=4).count())
print("SUM_OF_SQUARES", sc.parallelize(range(1, 101), 4).map(lambda n: n * n).sum())
spark.stop()
"""


def test_spark_submit_runs_on_the_standalone_master(spark_standalone: str, tmp_path: Path) -> None:
    app = tmp_path / "count_range.py"
    app.write_text(APP)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}

    completed = subprocess.run(
        [
            str(spark_submit),
            "--master",
            spark_standalone,
            "--conf",
            "spark.ui.enabled=false",
            "--executor-memory",
            "512m",
            str(app),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-4000:]
    results = dict(line.split(" ", 1) for line in completed.stdout.splitlines() if " " in line)
    assert results["MASTER"] == spark_standalone
    assert results["RANGE_COUNT"] == "100000"
    assert results["SUM_OF_SQUARES"] == str(sum(n * n for n in range(1, 101)))
