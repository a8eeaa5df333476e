from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from include.ecommerce.partitions import (
    Partition,
    PartitionDateError,
    hdfs_uri,
    parse_partition_date,
    resolve_partition_date,
)


def test_paths_of_a_partition():
    partition = Partition.parse("2026-02-14")
    assert partition.iso == "2026-02-14"
    assert partition.raw_partition == "/user/data/raw/ecommerce/2026/02/14"
    assert partition.processed_partition == "/user/data/processed/ecommerce/2026/02/14"
    assert partition.report_partition == "/user/data/reports/ecommerce/2026/02/14"
    assert partition.local_folder(Path("/landing")) == Path("/landing/2026/02/14")


def test_logical_date_decides_the_day():
    assert resolve_partition_date(datetime(2026, 2, 14, tzinfo=UTC), None) == date(2026, 2, 14)


def test_scheduled_run_just_after_midnight_processes_the_day_that_ended():
    # CronDataIntervalTimetable("0 0 * * *"): the run at 2026-02-15 00:00 has logical date
    # 2026-02-14 00:00 (its interval's start).
    logical_date = datetime(2026, 2, 14, 0, 0, tzinfo=UTC)
    assert resolve_partition_date(logical_date, None) == date(2026, 2, 14)


def test_day_is_taken_in_utc():
    seoul = timezone(timedelta(hours=9))
    assert resolve_partition_date(datetime(2026, 2, 15, 8, 0, tzinfo=seoul), "") == date(
        2026, 2, 14
    )


def test_param_wins_and_serves_runs_without_logical_date():
    assert resolve_partition_date(None, "2026-02-11") == date(2026, 2, 11)
    assert resolve_partition_date(datetime(2026, 2, 14, tzinfo=UTC), "2026-02-11") == date(
        2026, 2, 11
    )


def test_no_logical_date_and_no_param_is_one_clear_error():
    with pytest.raises(PartitionDateError, match="no logical date and no 'partition_date' param"):
        resolve_partition_date(None, None)


@pytest.mark.parametrize(
    "text", ["2026/02/14", "14-02-2026", "2026-2-14", "yesterday", "2026-02-30"]
)
def test_malformed_dates_are_named(text):
    with pytest.raises(PartitionDateError, match=text.replace("/", "/")):
        parse_partition_date(text)


def test_hdfs_uri_joins_filesystem_and_path():
    assert (
        hdfs_uri("hdfs://namenode:8020/", "/user/data/raw") == "hdfs://namenode:8020/user/data/raw"
    )
    with pytest.raises(ValueError, match="absolute"):
        hdfs_uri("hdfs://namenode:8020", "user/data")
