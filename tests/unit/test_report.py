import random
from datetime import date
from decimal import Decimal

import pyarrow as pa

from include.ecommerce.report import (
    format_table,
    format_value,
    render_text_report,
    top_users_section,
)
from tests.unit.sample_day_tables import USER_BEHAVIOR, sample_day_quality, sample_day_tables

# The sample day's report, from the hand-counted tables (not the seed's printed sample, which
# has wrong cells): electronics 6 events, hour 9 with 6 users, 7 views, user 104 before 105.
EXPECTED_SAMPLE_REPORT = """\
============================================================
E-COMMERCE DAILY REPORT - 2026-02-14
============================================================

[1] Category Performance
+-----------+------------+------------+-------------+---------+
|   category|total_events|unique_users|total_revenue|purchases|
+-----------+------------+------------+-------------+---------+
|electronics|           6|           3|       299.99|        1|
|   clothing|           4|           2|        99.98|        1|
|      books|           3|           1|        59.97|        1|
|       home|           2|           1|         0.00|        0|
+-----------+------------+------------+-------------+---------+

[2] Hourly Activity
+----+------+------------+
|hour|events|active_users|
+----+------+------------+
|   9|    13|           6|
|  10|     2|           2|
+----+------+------------+

[3] Event Funnel
+-----------+-----+
| event_type|count|
+-----------+-----+
|       view|    7|
|add_to_cart|    5|
|   purchase|    3|
+-----------+-----+

[4] Top 5 Users by Revenue
+-------+------------+--------+-----------+-----------------+
|user_id|total_events|sessions|total_spent|categories_viewed|
+-------+------------+--------+-----------+-----------------+
|    101|           3|       1|     299.99|    [electronics]|
|    102|           3|       1|      99.98|       [clothing]|
|    103|           3|       1|      59.97|          [books]|
|    104|           2|       1|       0.00|    [electronics]|
|    105|           2|       1|       0.00|           [home]|
+-------+------------+--------+-----------+-----------------+
"""


# What the pipeline stores: the same, plus the job's accounting of every input row.
EXPECTED_SAMPLE_REPORT_WITH_QUALITY = (
    EXPECTED_SAMPLE_REPORT
    + """
[5] Data Quality
+-----------------------------+-----------------------------------+
|                      measure|                              value|
+-----------------------------+-----------------------------------+
|                    rows read|                                 15|
|                   rows valid|                                 15|
|                rows rejected|0 (0.00% of rows read, limit 5.00%)|
|           duplicates dropped|                                  0|
|purchases without prior event|                                  0|
|             negative revenue|                                  0|
+-----------------------------+-----------------------------------+
"""
)


def test_sample_day_report_is_exact():
    assert render_text_report(date(2026, 2, 14), sample_day_tables()) == EXPECTED_SAMPLE_REPORT


def test_sections_are_sorted_whatever_the_stored_order():
    tables = {
        name: table.take(list(reversed(range(table.num_rows))))
        for name, table in sample_day_tables().items()
    }
    assert render_text_report(date(2026, 2, 14), tables) == EXPECTED_SAMPLE_REPORT


def test_values_print_like_spark_show():
    assert format_value(Decimal("0")) == "0"
    assert format_value(Decimal("0.00")) == "0.00"
    assert format_value(["books", "home"]) == "[books, home]"
    assert format_value(None) == "NULL"
    assert format_table(["a"], [{"a": 1}]) == "+---+\n|  a|\n+---+\n|  1|\n+---+"


def test_quality_section_lists_only_the_reasons_that_occurred():
    quality = sample_day_quality()
    assert (
        render_text_report(date(2026, 2, 14), sample_day_tables(), quality)
        == EXPECTED_SAMPLE_REPORT_WITH_QUALITY
    )
    by_reason = {**quality["rejected_by_reason"], "invalid_price": 2, "unknown_event_type": 1}
    dirty = {
        **quality,
        "rows_read": 19,
        "rows_rejected": 3,
        "duplicates_dropped": 1,
        "reject_ratio": 3 / 19,
        "rejected_by_reason": by_reason,
    }
    section = render_text_report(date(2026, 2, 14), sample_day_tables(), dirty).split(
        "[5] Data Quality"
    )[1]
    assert "|3 (15.79% of rows read, limit 5.00%)|" in section
    assert " rejected: unknown_event_type|" in section and " rejected: invalid_price|" in section
    assert "missing_field" not in section


def test_top_users_follow_the_briefs_order_through_ties():
    # Many users, few distinct amounts and event counts: ties on total_spent, then on
    # total_events, are the rule; the reference is the brief's order written as a Python sort.
    rng = random.Random(17)
    users = [
        {
            "user_id": user_id,
            "total_events": rng.randint(1, 3),
            "sessions": 1,
            "total_spent": Decimal(rng.choice(["0.00", "9.99", "10.00", "1234.50"])),
            "categories_viewed": ["books"],
        }
        for user_id in rng.sample(range(1, 10_000), 2_000)
    ]

    def briefs_order(row):
        return (-row["total_spent"], -row["total_events"], row["user_id"])

    expected = sorted(users, key=briefs_order)

    table = pa.Table.from_pylist(users, schema=USER_BEHAVIOR.schema)
    assert top_users_section(table, limit=5) == expected[:5]
    assert top_users_section(table, limit=50) == expected[:50]
    assert top_users_section(table.slice(0, 3), limit=5) == sorted(users[:3], key=briefs_order)
    assert top_users_section(table.slice(0, 0)) == []
