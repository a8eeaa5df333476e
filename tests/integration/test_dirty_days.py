"""Dirty days through the whole DAG: below the reject threshold the day is published and the
report accounts for every row; above it the run fails with the job's verdict and the rejected
rows are stored for inspection in the attempt's own folder, named in the error line."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from include.data.generate_logs import write_day
from include.ecommerce.partitions import Partition
from spark_jobs import handover
from stack.live_airflow import isolated_airflow_home, run_airflow

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

BELOW = Partition.parse("2026-03-02")
ABOVE = Partition.parse("2026-03-03")
CLEAN_ROWS = 400


def bad_lines(day: str) -> list[str]:
    return [
        f"{day} 25:61:00,1,s1,view,p1,books,1.00,1",  # unparseable_timestamp
        f"{day} 10:00:00,1,s1,refund,p1,books,1.00,1",  # unknown_event_type
        f"{day} 10:00:00,1,s1,view,p1,books,-1.00,1",  # invalid_price
    ]


def write_dirty_day(root, partition: Partition, bad: list[str]) -> list[str]:
    (path,) = write_day(partition.partition_date, CLEAN_ROWS, root)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, *bad, lines[1]]) + "\n", encoding="utf-8")  # + a duplicate
    return lines[1:]


@pytest.fixture(scope="module")
def dirty_days(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    reports = tmp_path_factory.mktemp("reports")
    clean_below = write_dirty_day(landing, BELOW, bad_lines(BELOW.iso))
    write_dirty_day(landing, ABOVE, bad_lines(ABOVE.iso) * 20)  # 60 of 461 rows: 13%
    with isolated_airflow_home(tmp_path_factory.mktemp("airflow_home")) as home:
        env = {
            **home,
            "AIRFLOW_VAR_ECOMMERCE_LANDING_DIR": str(landing),
            "AIRFLOW_VAR_ECOMMERCE_REPORTS_DIR": str(reports),
        }
        yield env, reports, clean_below


def test_dirty_day_below_the_threshold_is_published_with_every_row_accounted_for(dirty_days, hdfs):
    env, reports, clean_lines = dirty_days
    result = run_airflow("dags", "test", "ecommerce_daily", BELOW.iso, env=env)
    assert "state=success" in result.stdout, result.stdout[-5000:]

    with hdfs.client.read(f"{BELOW.processed_partition}/quality.json") as reader:
        quality = json.loads(reader.read())
    distinct_clean = len(set(clean_lines))
    assert quality["rows_read"] == CLEAN_ROWS + 3 + 1
    assert quality["rows_rejected"] == 3
    assert quality["rows_valid"] == distinct_clean
    assert quality["duplicates_dropped"] == 1 + CLEAN_ROWS - distinct_clean
    by_reason = {reason: rows for reason, rows in quality["rejected_by_reason"].items() if rows}
    assert by_reason == {"unparseable_timestamp": 1, "unknown_event_type": 1, "invalid_price": 1}

    report = (reports / BELOW.subpath / "report.txt").read_text()
    section = report.split("[5] Data Quality")[1]
    assert f"|{CLEAN_ROWS + 4}|" in section.replace(" ", "")
    assert f"3 ({3 / (CLEAN_ROWS + 4):.2%} of rows read, limit 5.00%)" in section
    for reason in by_reason:
        assert f"rejected: {reason}|" in section


def test_dirty_day_above_the_threshold_fails_and_keeps_the_rejects(dirty_days, hdfs):
    env, _, _ = dirty_days
    started = dt.datetime.now()
    result = run_airflow("dags", "test", "ecommerce_daily", ABOVE.iso, env=env)
    assert (
        "the ETL job exited 3: too many rows were rejected; the day is not published: error: "
        in result.stdout
    )
    assert "state=failed" in result.stdout, result.stdout[-5000:]
    # Failed at once: the job's verdict is not retried (retry delays would add minutes).
    assert result.stdout.count("Cannot execute: spark-submit") == 1
    assert (dt.datetime.now() - started).total_seconds() < 600

    # Nothing replaced the day; the attempt's evidence is where the error line says.
    assert hdfs.client.status(ABOVE.processed_partition, strict=False) is None
    named = re.search(r"rejected rows and quality of this attempt: (\S+)", result.stdout)
    assert named, result.stdout[-5000:]
    attempt = handover.path_part(named.group(1))
    assert attempt.startswith(handover.attempt_path(ABOVE.processed_partition, ""))
    kept = set(hdfs.client.list(attempt))
    assert {"rejected", "quality", "quality.json"} <= kept
    assert "_SUCCESS" not in kept
    with hdfs.client.read(f"{attempt}/quality.json") as reader:
        quality = json.loads(reader.read())
    assert quality["rows_rejected"] == 60
    assert quality["published"] is False
