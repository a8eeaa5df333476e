"""The pure parts of the handover rule: names, lease staleness, the input rule, manifests."""

from __future__ import annotations

import os

import pytest

from include.ecommerce.upload import compare_manifests
from spark_jobs import contract, handover
from spark_jobs.ecommerce_etl import unreadable_file_error
from spark_jobs.storage import InputError

PARTITION = "/user/data/processed/ecommerce/2026/02/14"


def test_every_name_of_the_protocol_sits_beside_the_partition_and_is_hidden():
    names = [
        handover.lease_path(PARTITION),
        handover.staging_path(PARTITION, "w1"),
        handover.aside_path(PARTITION, "w1"),
        handover.attempt_path(PARTITION, "w1").rsplit("/", 1)[0],
    ]
    assert names == [
        "/user/data/processed/ecommerce/2026/02/_lease-14",
        "/user/data/processed/ecommerce/2026/02/_staging-14-w1",
        "/user/data/processed/ecommerce/2026/02/_aside-14-w1",
        "/user/data/processed/ecommerce/2026/02/_attempts-14",
    ]
    assert (
        handover.lease_path("hdfs://nn:8020/a/2026/02/14/") == "hdfs://nn:8020/a/2026/02/_lease-14"
    )


def test_trash_target_mirrors_the_absolute_path_like_hadoop():
    uri = "hdfs://127.0.0.1:8020/user/data/raw/ecommerce/2026/02/_aside-14-w"
    expected = "/user/airflow/.Trash/Current/user/data/raw/ecommerce/2026/02/_aside-14-w"
    assert handover.trash_target("/user/airflow", uri) == expected
    assert handover.trash_target("/user/airflow/", "/tmp/x") == "/user/airflow/.Trash/Current/tmp/x"


def test_writer_ids_are_unique_and_keep_a_readable_label():
    first, second = (handover.new_writer_id("scheduled__2026-02-15T00:00:00+00:00") for _ in "ab")
    assert first != second
    assert first.startswith("scheduled__2026-02-15T00_00_00_00_00.")
    assert "/" not in handover.new_writer_id("a/b")


def record(host: str, pid: int, start: str | None, expires_at: float) -> handover.LeaseRecord:
    return handover.LeaseRecord("w", "run", host, pid, start, 0.0, expires_at)


@pytest.mark.parametrize(
    ("lease", "alive", "stale"),
    [
        (record("here", 7, "100", 10.0), {7: "100"}, False),  # live holder here: never expires
        (record("here", 7, "100", 10.0), {}, True),  # its process is gone (killed spark-submit)
        (record("here", 7, "100", 1e12), {7: "555"}, True),  # pid reused by another process
        (record("there", 7, "100", 1e12), {}, False),  # other host: until it expires
        (record("there", 7, "100", 10.0), {7: "100"}, True),  # other host, expired
    ],
)
def test_a_lease_is_stale_when_its_holder_is_dead_here_or_expired_elsewhere(lease, alive, stale):
    assert lease.is_stale(now=50.0, host="here", alive=alive.get) is stale


def test_the_lease_of_this_process_names_it_and_is_live():
    lease = handover.new_record("w", "run_1", ttl_s=60)
    assert lease.pid == os.getpid() and lease.pid_start == handover.process_start(os.getpid())
    assert lease.expires_at - lease.acquired_at == 60
    assert not lease.is_stale(lease.acquired_at, lease.host, handover.process_start)
    assert handover.LeaseRecord.from_json(lease.to_json()) == lease
    assert handover.LeaseRecord.from_json("not json") is None
    assert "run run_1" in lease.describe() and f"pid {os.getpid()}" in lease.describe()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ecommerce_logs.csv", None),
        ("day-2.csv.gz", None),
        ("_late.csv", "leading '_'"),
        (".part.csv", "hidden file"),
        ("day.csv.part", "in-progress"),
        ("EXTRA.CSV", "upper-case extension"),
        ("day.CSV.gz", "upper-case extension"),
        ("notes.txt", "not an input file"),
    ],
)
def test_one_input_rule_says_why_a_file_is_left_out(name, reason):
    problem = contract.input_file_problem(name)
    assert problem is None if reason is None else reason in problem


def test_manifest_comparison_names_added_replaced_and_removed_with_sizes():
    before = {"a.csv": {"size": 10, "sha256": "x"}, "b.csv": {"size": 5, "sha256": "y"}}
    after = {"a.csv": {"size": 10, "sha256": "z"}, "c.csv": {"size": 7, "sha256": "w"}}
    changes = compare_manifests(before, after)
    assert changes.describe() == (
        "added c.csv (7 bytes); replaced a.csv (10 -> 10 bytes); removed b.csv (5 bytes)"
    )
    assert not compare_manifests(after, after)
    # A partition uploaded before manifests existed: sizes only.
    assert not compare_manifests({"c.csv": {"size": 7}}, {"c.csv": {"size": 7, "sha256": "w"}})


SPARK_READ_FAILURE = (
    "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file "
    "hdfs://nn/raw/2026/02/14/ecommerce_logs.csv. SQLSTATE: KD001\n"
    "Caused by: java.io.IOException: {cause}"
)


def test_a_file_changed_underneath_is_not_an_input_verdict():
    changed = SPARK_READ_FAILURE.format(cause="Blocklist for /raw/x.csv has changed!")
    assert unreadable_file_error(Exception(changed)) is None
    truncated = SPARK_READ_FAILURE.format(cause="Unexpected end of input stream")
    error = unreadable_file_error(Exception(truncated))
    assert isinstance(error, InputError)
    assert error.path == "hdfs://nn/raw/2026/02/14/ecommerce_logs.csv"
