"""The partition's quality summary, assembled on the driver from the job's small aggregates.

Plain Python (no Spark): the counting happens in transforms.row_counts / session_checks; this
module only adds them up, checks that no row went missing, and words the verdict, so all of it is
unit-tested without a JVM.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from spark_jobs import contract

NOT_UTF8 = "_not_utf8"  # transforms.NOT_UTF8 (kept here too: this module must not need pyspark)


class RowsLostError(RuntimeError):
    """rows_read != rows_valid + rows_rejected + duplicates_dropped: a bug, never a data issue."""


def summarize(
    partition_date: dt.date,
    reason_rows: Iterable[Mapping[str, Any]],
    event_totals: Mapping[str, int],
    max_reject_ratio: float,
) -> dict[str, Any]:
    """The quality summary (keys: ``contract.QUALITY_FIELDS``, in order).

    ``reason_rows``: transforms.row_counts rows (``reason``, ``rows``, a count per raw column);
    ``event_totals``: the event checks (``ecommerce_etl.event_checks``). Raises RowsLostError
    when the counts do not add up.
    """
    rejected_by_reason = dict.fromkeys(contract.REJECT_REASONS, 0)
    null_counts = dict.fromkeys(contract.RAW_COLUMNS, 0)
    rows_read = valid_before_dedup = 0
    for row in reason_rows:
        reason, rows = row["reason"], int(row["rows"])
        rows_read += rows
        if reason is None:
            valid_before_dedup += rows
        elif reason != NOT_UTF8:
            rejected_by_reason[reason] += rows
        for column in contract.RAW_COLUMNS:
            null_counts[column] += int(row.get(column) or 0)
    rows_rejected = sum(rejected_by_reason.values())
    rows_valid = int(event_totals[contract.QUALITY_ROWS_VALID])
    duplicates = int(event_totals[contract.QUALITY_DUPLICATES_DROPPED])
    if rows_valid + duplicates != valid_before_dedup or rows_read != (
        rows_valid + rows_rejected + duplicates
    ):
        raise RowsLostError(
            f"rows_read {rows_read} != rows_valid {rows_valid} + rows_rejected {rows_rejected} "
            f"+ duplicates_dropped {duplicates} (valid before deduplication: {valid_before_dedup})"
        )
    reject_ratio = rows_rejected / rows_read if rows_read else 0.0
    summary = {
        contract.QUALITY_PARTITION_DATE: partition_date,
        contract.QUALITY_ROWS_READ: rows_read,
        contract.QUALITY_ROWS_VALID: rows_valid,
        contract.QUALITY_ROWS_REJECTED: rows_rejected,
        contract.QUALITY_REJECTED_BY_REASON: rejected_by_reason,
        contract.QUALITY_DUPLICATES_DROPPED: duplicates,
        contract.QUALITY_REJECT_RATIO: reject_ratio,
        contract.QUALITY_MAX_REJECT_RATIO: float(max_reject_ratio),
        contract.QUALITY_PUBLISHED: reject_ratio <= max_reject_ratio,
        contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT: int(
            event_totals[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT]
        ),
        contract.QUALITY_NEGATIVE_REVENUE: int(event_totals[contract.QUALITY_NEGATIVE_REVENUE]),
        contract.QUALITY_NULL_COUNTS: null_counts,
    }
    assert tuple(summary) == contract.QUALITY_FIELDS
    return summary


def to_json(summary: Mapping[str, Any]) -> str:
    """quality.json's text: the summary with the date as ``YYYY-MM-DD``."""
    return json.dumps(summary, indent=2, default=lambda value: value.isoformat()) + "\n"


def too_many_rejects_message(summary: Mapping[str, Any]) -> str:
    """One line: the ratio, the threshold and the rows per reason (largest first)."""
    by_reason = sorted(
        ((n, reason) for reason, n in summary[contract.QUALITY_REJECTED_BY_REASON].items() if n),
        key=lambda item: (-item[0], item[1]),
    )
    reasons = ", ".join(f"{reason} {n}" for n, reason in by_reason)
    return (
        f"{summary[contract.QUALITY_ROWS_REJECTED]} of {summary[contract.QUALITY_ROWS_READ]} rows "
        f"rejected: reject_ratio {summary[contract.QUALITY_REJECT_RATIO]:.4f} > max_reject_ratio "
        f"{summary[contract.QUALITY_MAX_REJECT_RATIO]:g} ({reasons}); published only "
        f"{contract.REJECTED.name}, {contract.QUALITY.name} and {contract.QUALITY_JSON}"
    )
