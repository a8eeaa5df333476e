"""The job's plan for a day of a given size (spark_jobs/plan.py), and that the small-day plan
builds the same tables as the large-day one."""

from __future__ import annotations

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


def test_a_large_day_gets_the_default_partitions_and_the_cache():
    chosen = plan.choose(plan.SMALL_DAY_MAX_BYTES + 1)
    assert not chosen.small_day
    assert chosen.shuffle_partitions == plan.DEFAULT_SHUFFLE_PARTITIONS
    assert chosen.cache_summaries
    assert "spark.sql.adaptive.enabled" not in chosen.session_conf  # Spark's or --conf's
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
