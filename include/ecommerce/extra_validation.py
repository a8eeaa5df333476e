"""Checks of the extra tables (``contract.EXTRA_TABLES``) against the four core tables.

The job publishes product_conversion, hourly_revenue and session_stats with the four tables,
from the same events, so their totals must agree with them. Partitions published before these
tables existed do not have them: every check runs only for the extra tables present, and a
partition without any has no extra problem. Pure functions over Arrow tables, like
``validation.invariant_problems``; each problem states the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from include.ecommerce.validation import (
    column_total,
    funnel_counts,
    read_table,
    schema_problems,
)
from spark_jobs.contract import (
    CATEGORY_STATS,
    EXTRA_TABLES,
    FUNNEL,
    HOURLY_ACTIVITY,
    HOURLY_REVENUE,
    PRODUCT_CONVERSION,
    SESSION_STATS,
    USER_BEHAVIOR,
    Table,
)

if TYPE_CHECKING:
    from hdfs import Client

RATE_TOLERANCE = 1e-9
"""Relative tolerance when a DOUBLE (a mean) is compared with an exact count."""


def read_extra_tables(
    client: Client, processed_partition: str, tables: Iterable[Table] = EXTRA_TABLES
) -> dict[str, pa.Table]:
    """The optional tables the partition has (none for days published before they existed)."""
    return {
        table.name: read_table(client, f"{processed_partition}/{table.name}")
        for table in tables
        if client.status(f"{processed_partition}/{table.name}", strict=False) is not None
    }


def extra_table_problems(tables: Mapping[str, pa.Table]) -> list[str]:
    """Schema and cross-table problems of the extra tables present in ``tables`` (which must
    also hold the four core tables)."""
    present = [table for table in EXTRA_TABLES if table.name in tables]
    problems = [
        problem
        for table in present
        for problem in schema_problems(table, tables[table.name].schema)
    ]
    if problems:
        return problems
    funnel = funnel_counts(tables[FUNNEL.name])
    if PRODUCT_CONVERSION.name in tables:
        problems += _product_conversion_problems(tables[PRODUCT_CONVERSION.name], funnel)
    if HOURLY_REVENUE.name in tables:
        problems += _hourly_revenue_problems(tables, funnel)
    if SESSION_STATS.name in tables:
        problems += _session_stats_problems(tables, funnel)
    return problems


def _product_conversion_problems(table: pa.Table, funnel: Mapping[str, int]) -> list[str]:
    problems = []
    for column, stage in (
        ("views", "view"),
        ("add_to_carts", "add_to_cart"),
        ("purchases", "purchase"),
    ):
        total = column_total(table, column)
        if total != funnel.get(stage, 0):
            problems.append(
                f"product_conversion {column} sum to {total}, the funnel counts "
                f"{funnel.get(stage, 0)} {stage} events"
            )
    keys = list(zip(table["product_id"].to_pylist(), table["category"].to_pylist(), strict=True))
    if duplicates := len(keys) - len(set(keys)):
        problems.append(f"product_conversion: {duplicates} duplicate (product_id, category) key(s)")
    return problems


def _hourly_revenue_problems(
    tables: Mapping[str, pa.Table], funnel: Mapping[str, int]
) -> list[str]:
    hourly_revenue = tables[HOURLY_REVENUE.name]
    problems = []
    revenue = column_total(hourly_revenue, "revenue")
    category_revenue = column_total(tables[CATEGORY_STATS.name], "total_revenue")
    if revenue != category_revenue:
        problems.append(
            f"hourly_revenue revenue sums to {revenue}, category_stats total_revenue to "
            f"{category_revenue}"
        )
    purchases = column_total(hourly_revenue, "purchases")
    if purchases != funnel.get("purchase", 0):
        problems.append(
            f"hourly_revenue purchases sum to {purchases}, the funnel counts "
            f"{funnel.get('purchase', 0)} purchase events"
        )
    hours = sorted(hourly_revenue["hour"].to_pylist(), key=_none_first)
    activity_hours = sorted(tables[HOURLY_ACTIVITY.name]["hour"].to_pylist(), key=_none_first)
    if hours != activity_hours:
        problems.append(
            f"hourly_revenue hours {hours} differ from hourly_activity's {activity_hours}"
        )
    lowest = pc.min(hourly_revenue["revenue"]).as_py()
    if lowest is not None and lowest < 0:
        problems.append(f"hourly_revenue.revenue: negative revenue ({lowest})")
    return problems


def _session_stats_problems(tables: Mapping[str, pa.Table], funnel: Mapping[str, int]) -> list[str]:
    session_stats = tables[SESSION_STATS.name]
    if session_stats.num_rows != 1:
        return [f"session_stats: {session_stats.num_rows} rows, expected exactly 1"]
    (row,) = session_stats.to_pylist()
    problems = []
    user_sessions = column_total(tables[USER_BEHAVIOR.name], "sessions")
    if row["sessions"] != user_sessions:
        problems.append(
            f"session_stats sessions={row['sessions']}, user_behavior sessions sum to "
            f"{user_sessions}"
        )
    events = sum(funnel.values())
    average = row["avg_events_per_session"]
    if row["sessions"] and (
        average is None
        or not math.isclose(average * row["sessions"], events, rel_tol=RATE_TOLERANCE)
    ):
        problems.append(
            f"session_stats avg_events_per_session={average} x sessions={row['sessions']} "
            f"is not the funnel's {events} events"
        )
    share = row["purchase_session_share"]
    if share is not None and not 0.0 <= share <= 1.0:
        problems.append(f"session_stats purchase_session_share={share}, expected 0-1")
    return problems


def _none_first(value: int | None) -> tuple[bool, int]:
    return (value is not None, value or 0)
