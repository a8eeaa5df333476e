"""A local SparkSession for the transform tests (helpers that build frames: spark_frames.py).

One session for the whole test session: starting a JVM costs seconds, a tiny job milliseconds.
Settings mirror the job's (UTC, few shuffle partitions) so results compare one to one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator:
    # A plain import: a broken PySpark install must fail these tests, not skip them.
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("unit-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # py4j's connections log "Closing down" from __del__ at interpreter exit, after pytest has
    # closed its streams ("--- Logging error ---" below the summary); they have nothing to say.
    logging.getLogger("py4j").setLevel(logging.WARNING)
