"""The health check and the raw upload against the real local HDFS."""

from __future__ import annotations

import gzip

import pytest

from include.ecommerce.hdfs_health import (
    HdfsUnhealthyError,
    HealthThresholds,
    NameNodeUnreachableError,
    check_hdfs_health,
)
from include.ecommerce.upload import (
    MANIFEST_NAME,
    STAGING_PREFIX,
    LandingFilesMissingError,
    landing_files,
    replace_partition,
)

pytestmark = pytest.mark.integration


def test_running_hdfs_is_healthy(hdfs):
    state = check_hdfs_health(
        [hdfs.webhdfs_url], HealthThresholds(min_live_datanodes=1, min_free_bytes=1)
    )
    assert state.fs_state == "Operational"
    assert state.live_datanodes >= 1
    assert state.capacity_remaining > 0


def test_too_little_free_space_names_both_figures(hdfs):
    with pytest.raises(HdfsUnhealthyError, match=r"free, at least 1024\.0 TiB required"):
        check_hdfs_health(
            [hdfs.webhdfs_url], HealthThresholds(min_live_datanodes=1, min_free_bytes=1024**5)
        )


def test_more_datanodes_than_exist(hdfs):
    with pytest.raises(HdfsUnhealthyError, match=r"1 live DataNode\(s\), at least 3 required"):
        check_hdfs_health(
            [hdfs.webhdfs_url], HealthThresholds(min_live_datanodes=3, min_free_bytes=0)
        )


def test_unreachable_namenode_is_named():
    with pytest.raises(NameNodeUnreachableError, match=r"127\.0\.0\.1:9"):
        check_hdfs_health(
            ["http://127.0.0.1:9"], HealthThresholds(min_live_datanodes=1, min_free_bytes=0)
        )


def test_healthy_standby_address_is_skipped_for_the_one_that_answers(hdfs):
    state = check_hdfs_health(
        ["http://127.0.0.1:9", hdfs.webhdfs_url],
        HealthThresholds(min_live_datanodes=1, min_free_bytes=0),
    )
    assert state.address == hdfs.webhdfs_url


def test_upload_leaves_exactly_the_landing_files_on_every_rerun(hdfs, hdfs_scratch, tmp_path):
    raw_partition = f"{hdfs_scratch}/raw/2026/02/14"
    landing = tmp_path / "2026" / "02" / "14"
    landing.mkdir(parents=True)
    (landing / "a.csv").write_text("timestamp,user_id\n")
    (landing / "b.csv.gz").write_bytes(gzip.compress(b"timestamp,user_id\n"))
    (landing / "notes.txt").write_text("not input")

    uploaded = replace_partition(hdfs.client, landing_files(landing), raw_partition)
    assert [item.name for item in uploaded] == ["a.csv", "b.csv.gz"]
    assert sorted(hdfs.client.list(raw_partition)) == [MANIFEST_NAME, "a.csv", "b.csv.gz"]
    assert hdfs.client.status(raw_partition)["owner"] == hdfs.user

    # A crashed earlier attempt left a staging folder; the collector replaced its files.
    hdfs.client.makedirs(f"{hdfs_scratch}/raw/2026/02/{STAGING_PREFIX}14-deadbeef")
    (landing / "a.csv").unlink()
    (landing / "c.csv").write_text("timestamp,user_id\n1,2\n")
    second = replace_partition(hdfs.client, landing_files(landing), raw_partition)
    assert sorted(hdfs.client.list(raw_partition)) == [MANIFEST_NAME, "b.csv.gz", "c.csv"]
    assert sorted(hdfs.client.list(f"{hdfs_scratch}/raw/2026/02")) == ["14"]
    assert second.restated
    assert set(second.changes.added) == {"c.csv"} and set(second.changes.removed) == {"a.csv"}
    with hdfs.client.read(f"{raw_partition}/c.csv") as reader:
        assert reader.read() == b"timestamp,user_id\n1,2\n"


def test_missing_landing_files_name_the_expected_path(tmp_path):
    with pytest.raises(
        LandingFilesMissingError, match=f"no landing folder: expected {tmp_path}/x/\\*.csv"
    ):
        landing_files(tmp_path / "x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        LandingFilesMissingError, match=r"no landing file: expected .*empty/\*\.csv\.gz"
    ):
        landing_files(tmp_path / "empty")
