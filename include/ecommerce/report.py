"""The daily text report, in the seed course's shape (Spark ``show()``-style tables).

Rendering is a pure function of the tables read back from HDFS, so it is unit-tested on
hand-made Arrow tables; the data decides every number, never a printed sample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pyarrow as pa

from spark_jobs import contract
from spark_jobs.contract import CATEGORY_STATS, EVENT_TYPES, FUNNEL, HOURLY_ACTIVITY, USER_BEHAVIOR

RULE = "=" * 60
TOP_USERS = 5
REPORT_FILE_NAME = "report.txt"
MIN_COLUMN_WIDTH = 3  # as in Spark's showString


def format_value(value: Any) -> str:
    """As Spark's ``show()`` prints it: ``[a, b]`` for arrays, ``NULL`` for nulls."""
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)  # a Decimal read from DECIMAL(p,2) keeps its two places: 0.00


def format_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """A right-aligned ASCII grid, the way ``DataFrame.show(truncate=False)`` draws one."""
    cells = [[format_value(row[column]) for column in columns] for row in rows]
    widths = [
        max([MIN_COLUMN_WIDTH, len(column)] + [len(line[i]) for line in cells])
        for i, column in enumerate(columns)
    ]
    border = "+" + "+".join("-" * width for width in widths) + "+"

    def line(values: Sequence[str]) -> str:
        return (
            "|"
            + "|".join(value.rjust(width) for value, width in zip(values, widths, strict=True))
            + "|"
        )

    return "\n".join([border, line(columns), border, *(line(values) for values in cells), border])


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def category_section(category_stats: pa.Table) -> list[dict[str, Any]]:
    """By revenue, highest first; ties by category name so the order is stable."""
    return sorted(_rows(category_stats), key=lambda row: (-row["total_revenue"], row["category"]))


def hourly_section(hourly_activity: pa.Table) -> list[dict[str, Any]]:
    return sorted(_rows(hourly_activity), key=lambda row: row["hour"])


def funnel_section(funnel: pa.Table) -> list[dict[str, Any]]:
    stage_order = {stage: position for position, stage in enumerate(EVENT_TYPES)}
    return sorted(
        _rows(funnel), key=lambda row: stage_order.get(row["event_type"], len(stage_order))
    )


def top_users_section(user_behavior: pa.Table, limit: int = TOP_USERS) -> list[dict[str, Any]]:
    """By total_spent desc, then total_events desc, then user_id (the brief's order)."""
    ranked = sorted(
        _rows(user_behavior),
        key=lambda row: (-row["total_spent"], -row["total_events"], row["user_id"]),
    )
    return ranked[:limit]


def quality_section(quality: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input row accounted for: read = valid + rejected (by reason) + duplicates."""
    ratio = f"{quality[contract.QUALITY_REJECT_RATIO]:.2%} of rows read, limit {quality[contract.QUALITY_MAX_REJECT_RATIO]:.2%}"
    rows = [
        ("rows read", quality[contract.QUALITY_ROWS_READ]),
        ("rows valid", quality[contract.QUALITY_ROWS_VALID]),
        ("rows rejected", f"{quality[contract.QUALITY_ROWS_REJECTED]} ({ratio})"),
        *(
            (f"  rejected: {reason}", count)
            for reason, count in quality[contract.QUALITY_REJECTED_BY_REASON].items()
            if count
        ),
        ("duplicates dropped", quality[contract.QUALITY_DUPLICATES_DROPPED]),
        ("purchases without prior event", quality[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT]),
        ("negative revenue", quality[contract.QUALITY_NEGATIVE_REVENUE]),
    ]
    return [{"measure": measure, "value": value} for measure, value in rows]


def render_text_report(
    partition_date: date, tables: Mapping[str, pa.Table], quality: Mapping[str, Any] | None = None
) -> str:
    sections = [
        (
            "[1] Category Performance",
            CATEGORY_STATS.column_names,
            category_section(tables[CATEGORY_STATS.name]),
        ),
        (
            "[2] Hourly Activity",
            HOURLY_ACTIVITY.column_names,
            hourly_section(tables[HOURLY_ACTIVITY.name]),
        ),
        ("[3] Event Funnel", FUNNEL.column_names, funnel_section(tables[FUNNEL.name])),
        (
            f"[4] Top {TOP_USERS} Users by Revenue",
            USER_BEHAVIOR.column_names,
            top_users_section(tables[USER_BEHAVIOR.name]),
        ),
    ]
    if quality is not None:
        sections.append(("[5] Data Quality", ("measure", "value"), quality_section(quality)))
    lines = [RULE, f"E-COMMERCE DAILY REPORT - {partition_date.isoformat()}", RULE]
    for title, columns, rows in sections:
        lines += ["", title, format_table(columns, rows)]
    return "\n".join(lines) + "\n"
