"""The quality summary: counts add up or the job fails loudly; the verdict's one line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from spark_jobs import contract, quality

DATE = dt.date(2026, 2, 14)


def reason_row(reason: str | None, rows: int, **missing: int) -> dict:
    return {"reason": reason, "rows": rows, "source_file": None, **missing}


TOTALS = {
    "rows_valid": 90,
    "duplicates_dropped": 2,
    "negative_revenue": 0,
    "purchases_without_prior_event": 3,
}


def test_summary_adds_up_and_lists_every_reason():
    # 92 valid rows before dedup (90 kept + 2 duplicates), 5 + 3 rejected: 100 read
    rows = [
        reason_row(None, 92),
        reason_row("invalid_price", 5, price=2),
        reason_row("missing_field", 3, user_id=3),
    ]
    summary = quality.summarize(DATE, rows, TOTALS, 0.05)
    assert tuple(summary) == contract.QUALITY_FIELDS
    assert summary["rows_read"] == 100
    assert summary["rows_rejected"] == 8
    assert summary["reject_ratio"] == 0.08
    assert summary["published"] is False  # 0.08 > 0.05
    assert summary["rejected_by_reason"] == {
        **dict.fromkeys(contract.REJECT_REASONS, 0),
        "invalid_price": 5,
        "missing_field": 3,
    }
    assert summary["null_counts"]["price"] == 2 and summary["null_counts"]["user_id"] == 3
    assert json.loads(quality.to_json(summary))["partition_date"] == "2026-02-14"


def test_ratio_equal_to_the_threshold_publishes():
    rows = [reason_row(None, 97), reason_row("invalid_price", 5)]
    assert quality.summarize(DATE, rows, {**TOTALS, "rows_valid": 95}, 0.05)["published"] is True


def test_lost_rows_fail_loudly():
    with pytest.raises(quality.RowsLostError, match="rows_read 100 != rows_valid 90"):
        quality.summarize(DATE, [reason_row(None, 100)], TOTALS, 0.05)


def test_too_many_rejects_line_has_ratio_threshold_and_counts():
    rows = [reason_row(None, 92), reason_row("invalid_price", 5), reason_row("missing_field", 3)]
    line = quality.too_many_rejects_message(quality.summarize(DATE, rows, TOTALS, 0.05))
    assert line.startswith("8 of 100 rows rejected: reject_ratio 0.0800 > max_reject_ratio 0.05")
    assert "(invalid_price 5, missing_field 3)" in line
    assert "\n" not in line
