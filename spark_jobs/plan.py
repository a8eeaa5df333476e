"""How the job runs for a day of a given size: the session settings and whether to cache.

Most days are small, and a small day's cost is nearly all fixed cost: the JVM and the
SparkContext starting, and for every query its planning, code generation and the set-up of its
tasks. Below ``SMALL_DAY_MAX_BYTES`` of input the job takes the small-day plan: one shuffle
partition (eight partitions of 15 rows are eight tasks per stage, each with its own set-up), no
cache (building a cached relation of a few rows costs more than reading them again), no
adaptive query execution (its re-planning after every shuffle costs more than it can save) and no
generated code (``SMALL_DAY_CODEGEN_CONF``: compiling Java for every query costs more than
interpreting a few rows). The tables do not depend on the plan (tests/unit/test_plan.py, the
job's integration test): only how many tasks compute them, whether a summary is kept between
queries and whether their code is generated or interpreted. A large day's plain CSV
is cut into whole waves of read tasks, one per core each (``split_bytes``), once the session
knows its cores.

Settings every plan shares (the Spark UI off: nobody browses the UI of a batch job that ends in
seconds, and its server and listeners cost start-up and driver time; PySpark's call-site capture
off) are here too, so that the session's configuration has one home.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SMALL_DAY_MAX_BYTES = 1024**2
"""Input bytes (gzip files counted at ``GZIP_EXPANSION`` times their size) up to which a day is
small: about 13k rows of the contract's CSV. The small-day plan reads its input again for every
table, so it only pays below a few thousand rows; measured (docs/benchmarks-per-row.md, "Tenth
pass", wall s, small-day plan against large-day plan): 15 rows 18.7 against 20.1, 5k rows 21.8
against 22.9, 20k rows 24.2 against 21.6, 200k rows 41.7 against 24.4 (the limit was 16 MiB,
about 200k rows)."""
GZIP_EXPANSION = 5
"""Roughly how much a gzip input file expands: only used to size the day for the plan."""
DEFAULT_SHUFFLE_PARTITIONS = 8
"""The tables are small (hundreds of thousands of users at most): a few shuffle partitions."""
ROWS_STORAGE_LEVEL = "DISK_ONLY"
"""Where a large day keeps its validated rows (a ``pyspark.StorageLevel`` name): on the local
disk, not in the heap. They are the one large cache (every event: about 570 MB at 5M rows,
written once, read three times); in memory they filled the storage share of the 1 GiB driver,
and the merge's hash aggregation beside them spilled (370 MB at 5M rows). On disk, read back
through the OS's page cache, nothing spilled and a 5M-row day took about 2 % less wall and CPU time
(docs/benchmarks-per-row.md, "Fifth pass")."""
SUMMARIES_STORAGE_LEVEL = "MEMORY_AND_DISK"
"""Where a large day keeps its summaries (small: one row per session, user or cell)."""

MAX_SPLIT_BYTES = 128 * 1024**2
"""Spark's default ``spark.sql.files.maxPartitionBytes``: the largest split of an input file
that one task reads."""

ONE_PASS_CONF: Mapping[str, str] = {"spark.sql.adaptive.enabled": "false"}
"""Session settings while the one pass runs (``ecommerce_etl.one_pass``; every other query keeps
the plan's). Adaptive execution plans a cached frame as a query stage of its own: one stage builds
the cache of validated rows on disk, and the next reads all of it back (571 MB at 5M rows) to
count the rows per reason. Without it, the stage that builds the cache counts them too: 5M rows
-3 % wall and CPU (docs/benchmarks-per-row.md, "Sixth pass")."""

SMALL_DAY_CODEGEN_CONF: Mapping[str, str] = {
    "spark.sql.codegen.wholeStage": "false",
    # Spark's own switch (internal, the one its test suite uses to run every query interpreted):
    # without it, each operator's projections and orderings are still generated and compiled.
    # An unknown setting is ignored, so a Spark without it only loses the gain.
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}
"""A small day's queries interpreted, none compiled: every query of the job is new to the JVM,
and for a few rows Janino's compilation and the JIT's work on its classes cost more than the
rows. The sample day as the DAG submits it (docs/benchmarks-per-row.md, "Tenth pass"): wall
median 15.7 -> 12.2 s, CPU 25.1 -> 18.5 s, every table identical. A large day keeps the
generated code: interpreted rows cost +22 % CPU at 5M rows ("Eighth pass")."""

SESSION_CONF: Mapping[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.showConsoleProgress": "false",
    "spark.ui.enabled": "false",
    # PySpark 4 sends the Python call site of every DataFrame function to the JVM (for error
    # messages): about ten py4j round trips per F.col/F.sum/..., half of the job's round trips.
    "spark.python.sql.dataFrameDebugging.enabled": "false",
    # One _SUCCESS per partition (ours, written last), none per table folder.
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
}
"""Settings of every run's session (the job's own: spark-submit's ``--conf`` cannot drop them)."""


@dataclass(frozen=True)
class JobPlan:
    """What the job does differently for a day of ``input_bytes``."""

    input_bytes: int
    small_day: bool
    shuffle_partitions: int
    cache_summaries: bool
    """Persist the validated rows and the three summaries (several queries read each)."""
    session_conf: Mapping[str, str] = field(default_factory=dict)
    splittable_bytes: int = 0
    """Bytes of the input files Spark can split (plain CSV; a gzip file is one task)."""

    def input_split_bytes(self, parallelism: int) -> int | None:
        """``spark.sql.files.maxPartitionBytes`` for a large day read by ``parallelism`` cores
        (see ``split_bytes``); None for a small day, which keeps Spark's rule."""
        return None if self.small_day else split_bytes(self.splittable_bytes, parallelism)

    def describe(self) -> str:
        kind = "small-day" if self.small_day else "large-day"
        return (
            f"plan: {kind} ({self.input_bytes:,} input bytes), "
            f"{self.shuffle_partitions} shuffle partition(s), "
            f"summaries {'cached' if self.cache_summaries else 'not cached'}"
        )


def split_bytes(
    splittable_bytes: int, parallelism: int, max_split_bytes: int = MAX_SPLIT_BYTES
) -> int:
    """The split size that cuts ``splittable_bytes`` into whole waves of ``parallelism`` tasks,
    no split larger than ``max_split_bytes``.

    Spark's own rule (bytes / parallelism, at most ``max_split_bytes``) is balanced up to
    ``max_split_bytes`` per core; beyond that it makes splits of exactly that size and one short
    remainder: a 5M-row day (374 MB) is three splits on two cores, and the third has a core to
    itself while the other core has no task. Here it is four splits of 93.5 MB. Measured at 5M
    rows (docs/benchmarks-per-row.md, "Sixth pass"): alone, wall medians 44.2 -> 43.2 s, inside
    the runs' spread (CPU unchanged: the lone task's core is less idle than it looks, the JIT uses
    it); with the JIT setting of ``settings.SPARK_JOB_CONF``, 44.2 -> 40.5 s against 43.2 for that
    setting alone.
    """
    if parallelism < 1:
        raise ValueError(f"parallelism must be >= 1, got {parallelism}")
    if splittable_bytes <= 0:
        return max_split_bytes
    waves = -(-splittable_bytes // (max_split_bytes * parallelism))
    return -(-splittable_bytes // (waves * parallelism))


def splittable_bytes(files: Iterable[tuple[str, int]]) -> int:
    """Bytes of the (file name, bytes) pairs that Spark splits: every file but gzip."""
    return sum(size for name, size in files if not name.endswith(".gz"))


def sized_bytes(files: Iterable[tuple[str, int]]) -> int:
    """The day's size for the plan from (file name, bytes) pairs: gzip files expanded."""
    return sum(size * (GZIP_EXPANSION if name.endswith(".gz") else 1) for name, size in files)


def choose(
    input_bytes: int,
    *,
    shuffle_partitions: int | None = None,
    small_day_max_bytes: int = SMALL_DAY_MAX_BYTES,
    splittable_bytes: int = 0,
) -> JobPlan:
    """The plan for a day of ``input_bytes`` (of which ``splittable_bytes`` in files Spark
    splits); ``shuffle_partitions`` (the job's option or spark-submit's ``--conf``) wins over
    the plan's own number."""
    if input_bytes < 0:
        raise ValueError(f"input_bytes must be >= 0, got {input_bytes}")
    small = input_bytes <= small_day_max_bytes
    partitions = shuffle_partitions or (1 if small else DEFAULT_SHUFFLE_PARTITIONS)
    return JobPlan(
        input_bytes=input_bytes,
        small_day=small,
        shuffle_partitions=partitions,
        cache_summaries=not small,
        splittable_bytes=splittable_bytes,
        session_conf={
            **SESSION_CONF,
            "spark.sql.shuffle.partitions": str(partitions),
            # Adaptive execution re-plans after each shuffle: for a few rows that planning is the
            # cost, and there is nothing to coalesce or rebalance (small day: -4 CPU s of 30).
            # A large day keeps Spark's default or spark-submit's --conf. A small day's queries
            # are interpreted too (SMALL_DAY_CODEGEN_CONF).
            **({"spark.sql.adaptive.enabled": "false", **SMALL_DAY_CODEGEN_CONF} if small else {}),
            # A large day's cache of validated rows (several queries read it) is built once and
            # read a few times in the same run: compressing its columns costs more CPU (the
            # statistics of every compression scheme, gathered per value) than reading the
            # larger columns saves (docs/benchmarks-per-row.md, "Fourth pass").
            **({} if small else {"spark.sql.inMemoryColumnarStorage.compressed": "false"}),
        },
    )
