from datetime import date
from decimal import Decimal

from include.ecommerce.report import format_table, format_value, render_text_report
from tests.unit.sample_day_tables import sample_day_tables

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
