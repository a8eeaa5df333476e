"""The job's plan for a day of a given size (spark_jobs/plan.py), and that the small-day plan
builds the same tables as the large-day one."""

from __future__ import annotations

import re

import pytest

from spark_jobs import plan


def test_a_small_day_gets_one_partition_and_no_cache():
    chosen = plan.choose(984)
    assert chosen.small_day
    assert chosen.shuffle_partitions == 1
    assert not chosen.cache_summaries
    assert chosen.session_conf["spark.sql.shuffle.partitions"] == "1"
    assert chosen.session_conf["spark.sql.adaptive.enabled"] == "false"
    assert "spark.sql.inMemoryColumnarStorage.compressed" not in chosen.session_conf  # no cache
    assert chosen.session_conf["spark.sql.codegen.wholeStage"] == "false"  # rows interpreted
    assert chosen.session_conf["spark.sql.codegen.factoryMode"] == "NO_CODEGEN"


def test_a_large_day_gets_the_default_partitions_and_the_cache():
    chosen = plan.choose(plan.SMALL_DAY_MAX_BYTES + 1)
    assert not chosen.small_day
    assert chosen.shuffle_partitions == plan.DEFAULT_SHUFFLE_PARTITIONS
    assert chosen.cache_summaries
    assert "spark.sql.adaptive.enabled" not in chosen.session_conf  # Spark's or --conf's
    assert not set(plan.SMALL_DAY_CODEGEN_CONF) & set(chosen.session_conf)  # code generated
    # the cache of validated rows is built once, read a few times: not worth compressing
    assert chosen.session_conf["spark.sql.inMemoryColumnarStorage.compressed"] == "false"
    assert chosen.session_conf["spark.sql.shuffle.partitions"] == str(
        plan.DEFAULT_SHUFFLE_PARTITIONS
    )


def test_the_threshold_is_inclusive_and_can_be_moved():
    assert plan.choose(plan.SMALL_DAY_MAX_BYTES).small_day
    assert not plan.choose(1000, small_day_max_bytes=999).small_day
    assert plan.choose(1000, small_day_max_bytes=1000).small_day


def test_a_requested_partition_count_wins_over_the_plan():
    assert plan.choose(10, shuffle_partitions=4).shuffle_partitions == 4
    big = plan.choose(plan.SMALL_DAY_MAX_BYTES * 2, shuffle_partitions=2)
    assert big.shuffle_partitions == 2 and big.cache_summaries


def test_every_plan_keeps_the_session_settings_the_tables_need():
    for chosen in (plan.choose(0), plan.choose(plan.SMALL_DAY_MAX_BYTES * 10)):
        assert chosen.session_conf["spark.sql.session.timeZone"] == "UTC"
        assert chosen.session_conf["spark.ui.enabled"] == "false"
        assert chosen.session_conf["spark.python.sql.dataFrameDebugging.enabled"] == "false"
        assert (
            chosen.session_conf["spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs"]
            == "false"
        )


def test_gzip_files_count_at_their_expanded_size():
    sizes = [("a.csv", 1000), ("b.csv.gz", 1000)]
    assert plan.sized_bytes(sizes) == 1000 + 1000 * plan.GZIP_EXPANSION
    limit = plan.sized_bytes([("b.csv.gz", 1000)]) - 1
    assert not plan.choose(
        plan.sized_bytes([("b.csv.gz", 1000)]), small_day_max_bytes=limit
    ).small_day


def test_a_negative_size_is_refused_by_name():
    with pytest.raises(ValueError, match="input_bytes"):
        plan.choose(-1)


def test_describe_names_the_plan():
    assert "small-day" in plan.choose(10).describe()
    assert "large-day" in plan.choose(plan.SMALL_DAY_MAX_BYTES + 1).describe()


def test_storage_levels_are_pyspark_storage_levels():
    """The job looks the plan's storage levels up by name on pyspark.StorageLevel."""
    from pyspark import StorageLevel

    rows = getattr(StorageLevel, plan.ROWS_STORAGE_LEVEL)
    summaries = getattr(StorageLevel, plan.SUMMARIES_STORAGE_LEVEL)
    assert rows.useDisk and not rows.useMemory  # the large cache stays out of the heap
    assert summaries.useMemory


MIB = 1024**2


@pytest.mark.parametrize(
    ("splittable", "parallelism", "splits"),
    [
        (373_900_386, 2, 4),  # the 5M-row day: Spark's rule makes 3 (128, 128, 101 MiB)
        (1_495_740_026, 2, 12),  # the 20M-row day: 6 whole waves
        (149_555_395, 2, 2),  # 2M rows: Spark's own rule is balanced already
        (300 * MIB, 8, 8),  # more cores than 128 MB pieces: one wave
        (1, 2, 1),
    ],
)
def test_input_splits_come_in_whole_waves_of_at_most_the_largest_split(
    splittable, parallelism, splits
):
    size = plan.split_bytes(splittable, parallelism)
    assert size <= plan.MAX_SPLIT_BYTES
    assert -(-splittable // size) == splits  # what Spark cuts a file of that size into


def test_the_split_size_is_only_set_for_a_large_day():
    large = plan.choose(plan.SMALL_DAY_MAX_BYTES * 30, splittable_bytes=400 * MIB)
    assert large.input_split_bytes(2) == plan.split_bytes(400 * MIB, 2)
    assert plan.choose(984, splittable_bytes=984).input_split_bytes(2) is None
    with pytest.raises(ValueError, match="parallelism"):
        plan.split_bytes(10, 0)


def test_gzip_files_are_not_splittable():
    assert plan.splittable_bytes([("a.csv", 1000), ("b.csv.gz", 500)]) == 1000


def test_spark_reads_a_file_in_the_splits_the_plan_sets(spark, tmp_path):
    """The job sets ``split_bytes`` as spark.sql.files.maxPartitionBytes: Spark then reads a file
    in that many partitions (its packing adds an open cost per piece, which must not merge or
    split them further)."""
    from spark_jobs import ecommerce_etl

    csv = tmp_path / "day.csv"
    csv.write_text("".join(f"{i},{'x' * 40}\n" for i in range(20_000)))  # about 1 MB
    size = csv.stat().st_size
    day = plan.choose(size, small_day_max_bytes=0, splittable_bytes=size)
    parallelism = spark.sparkContext.defaultParallelism
    # A split cap of size / 5 at two cores: three waves, six splits.
    split = plan.split_bytes(size, parallelism, max_split_bytes=size // 5)
    with ecommerce_etl.session_settings(spark, {ecommerce_etl.SPLIT_SIZE_CONF: str(split)}):
        partitions = spark.read.csv(str(csv)).rdd.getNumPartitions()
        assert partitions == -(-size // split) == 3 * parallelism
        # And through the job's own function, with the real cap: one wave.
        assert ecommerce_etl.balance_input_splits(spark, day) == plan.split_bytes(size, parallelism)
        assert spark.read.csv(str(csv)).rdd.getNumPartitions() == parallelism


def test_session_settings_hold_inside_the_block_and_are_undone_after(spark):
    from spark_jobs import ecommerce_etl

    adaptive, partitions = "spark.sql.adaptive.enabled", "spark.sql.shuffle.partitions"
    spark.conf.unset(adaptive)
    before = spark.conf.get(partitions)
    with ecommerce_etl.session_settings(spark, {**plan.ONE_PASS_CONF, partitions: "3"}):
        assert spark.conf.get(adaptive) == plan.ONE_PASS_CONF[adaptive] == "false"
        assert spark.conf.get(partitions) == "3"
    assert spark.conf.get(adaptive, None) is None  # not set before: not set after
    assert spark.conf.get(partitions) == before  # set before: its value again
    with (
        pytest.raises(RuntimeError, match="inside"),
        ecommerce_etl.session_settings(spark, {partitions: "5"}),
    ):
        raise RuntimeError("inside")
    assert spark.conf.get(partitions) == before


def test_a_small_days_interpreted_queries_give_the_generated_codes_rows(spark):
    """``plan.SMALL_DAY_CODEGEN_CONF`` runs every query interpreted: the hand-made cases of the
    validation tests (every reason, and copies to merge) give the same validated rows and the
    same rows of every table as with the generated code."""
    from spark_jobs import contract, ecommerce_etl
    from tests.unit.spark_frames import aggregates_of, rows_of, validated_frame
    from tests.unit.test_validation_transform import CASES

    rows = [row for row, _ in CASES] + [row for row, _ in CASES[:4]]

    def outputs() -> tuple[dict[str, list], str]:
        validated = validated_frame(spark, rows)
        aggregates = aggregates_of(spark, rows)
        tables = {
            table.name: rows_of(table.load_builder()(aggregates), table.name)
            for table in contract.BUILT_TABLES
        }
        validated_rows = sorted(map(repr, rows_of(validated)))
        executed = validated._jdf.queryExecution().executedPlan().toString()
        return {"validated": validated_rows, **tables}, executed

    generated, generated_plan = outputs()
    with ecommerce_etl.session_settings(spark, plan.SMALL_DAY_CODEGEN_CONF):
        interpreted, interpreted_plan = outputs()
    stage_codegen = re.compile(r"\*\(\d+\) ")  # an operator in a generated stage: *(2) ...
    assert stage_codegen.search(generated_plan)
    assert not stage_codegen.search(interpreted_plan)
    assert interpreted == generated
    assert len(generated["validated"]) == len(CASES)  # the four copies merged
    assert generated["user_behavior"]  # the valid rows made it into the tables
