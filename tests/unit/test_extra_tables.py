"""The extra analyses (product_conversion, hourly_revenue, session_stats) on small hand-made
frames; every expected value is counted by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spark_jobs import contract, transforms
from tests.unit.sample_day_extra_tables import SAMPLE_DAY_EXTRA_TABLES
from tests.unit.spark_frames import aggregates_of, rows_of, sample_rows
from tests.unit.test_transforms import TINY_DAY, fields_of

D = Decimal
NULL = None

# TINY_DAY (tests/unit/test_transforms.py), repeated here to count from:
#   R1 08:00:00 user 1 sA view        p1 toys  10.50 x1
#   R2 08:10:00 user 1 sA add_to_cart p1 toys  10.50 x3
#   R3 08:20:00 user 1 sA purchase    p1 toys  10.50 x3
#   R4 08:30:00 user 1 sB view        p2 books  0.10 x1
#   R5 23:59:59 user 2 sC purchase    p2 books  0.10 x3
#   R6 00:00:00 user 2 sC view        p3 toys  99.99 x1


def event(time: str, user: str, session: str, event_type: str, product: str = "p1") -> list[str]:
    """One raw row on 2026-02-14 (category toys, 2.00 x 1 unless a test says otherwise)."""
    return [f"2026-02-14 {time}", user, session, event_type, product, "toys", "2.00", "1"]


@pytest.mark.parametrize("table", contract.EXTRA_TABLES, ids=lambda table: table.name)
def test_each_extra_table_has_exactly_the_contract_columns_and_types(spark, table):
    from pyspark.sql.types import StructType

    frame = table.load_builder()(aggregates_of(spark, TINY_DAY))
    assert fields_of(frame.schema) == fields_of(StructType.fromDDL(table.ddl))


def test_extra_tables_are_declared_as_non_core_tables_built_from_the_summaries():
    assert [table.name for table in contract.EXTRA_TABLES] == [
        "product_conversion",
        "hourly_revenue",
        "session_stats",
    ]
    for table in contract.EXTRA_TABLES:
        assert contract.TABLES[table.name] is table
        assert table.core is False
        assert table in contract.BUILT_TABLES


# --- product_conversion --------------------------------------------------------------------------


def test_product_conversion_by_hand(spark):
    frame = transforms.product_conversion(aggregates_of(spark, TINY_DAY))
    assert rows_of(frame, "product_conversion") == [
        # p1 toys: view R1, cart R2, purchase R3 -> 1/1, 1/1, 1/1
        {
            "product_id": "p1",
            "category": "toys",
            "views": 1,
            "add_to_carts": 1,
            "purchases": 1,
            "view_to_cart_rate": 1.0,
            "cart_to_purchase_rate": 1.0,
            "view_to_purchase_rate": 1.0,
        },
        # p2 books: view R4, no cart, purchase R5 -> 0/1 = 0.0, 1/0 = NULL, 1/1 = 1.0
        {
            "product_id": "p2",
            "category": "books",
            "views": 1,
            "add_to_carts": 0,
            "purchases": 1,
            "view_to_cart_rate": 0.0,
            "cart_to_purchase_rate": NULL,
            "view_to_purchase_rate": 1.0,
        },
        # p3 toys: view R6 only -> 0/1 = 0.0, 0/0 = NULL, 0/1 = 0.0
        {
            "product_id": "p3",
            "category": "toys",
            "views": 1,
            "add_to_carts": 0,
            "purchases": 0,
            "view_to_cart_rate": 0.0,
            "cart_to_purchase_rate": NULL,
            "view_to_purchase_rate": 0.0,
        },
    ]


def test_product_conversion_zero_denominators_are_null_and_rates_can_exceed_one(spark):
    rows = [
        # p1: purchased without a view or a cart: views 0, carts 0 -> all three rates NULL
        event("09:00:00", "1", "s1", "purchase", "p1"),
        # p2: two carts, one purchase, no view -> x/0 = NULL, 1/2 = 0.5, x/0 = NULL
        event("09:01:00", "1", "s1", "add_to_cart", "p2"),
        event("09:02:00", "2", "s2", "add_to_cart", "p2"),
        event("09:03:00", "2", "s2", "purchase", "p2"),
        # p3: one view, three carts (different seconds), no purchase -> 3/1 = 3.0, 0/3 = 0.0, 0/1
        event("09:04:00", "3", "s3", "view", "p3"),
        event("09:05:00", "3", "s3", "add_to_cart", "p3"),
        event("09:06:00", "3", "s3", "add_to_cart", "p3"),
        event("09:07:00", "3", "s3", "add_to_cart", "p3"),
    ]
    rates = [
        (
            row["product_id"],
            row["views"],
            row["add_to_carts"],
            row["purchases"],
            row["view_to_cart_rate"],
            row["cart_to_purchase_rate"],
            row["view_to_purchase_rate"],
        )
        for row in rows_of(
            transforms.product_conversion(aggregates_of(spark, rows)), "product_conversion"
        )
    ]
    assert rates == [
        ("p1", 0, 0, 1, NULL, NULL, NULL),
        ("p2", 0, 2, 1, NULL, 0.5, NULL),
        ("p3", 1, 3, 0, 3.0, 0.0, 0.0),
    ]


def test_product_conversion_keys_a_product_by_its_category_too(spark):
    rows = [
        event("09:00:00", "1", "s1", "view", "p1"),  # p1 as toys
        ["2026-02-14 09:01:00", "1", "s1", "view", "p1", "games", "2.00", "1"],  # p1 as games
        ["2026-02-14 09:02:00", "1", "s1", "purchase", "p1", "games", "2.00", "1"],
    ]
    keys = [
        (row["product_id"], row["category"], row["views"], row["purchases"])
        for row in rows_of(
            transforms.product_conversion(aggregates_of(spark, rows)), "product_conversion"
        )
    ]
    # Two rows, not one merged p1 with 2 views: (p1, games) 1 view 1 purchase; (p1, toys) 1, 0
    assert keys == [("p1", "games", 1, 1), ("p1", "toys", 1, 0)]


def test_product_conversion_counts_an_exact_duplicate_once(spark):
    view = event("09:00:00", "1", "s1", "view", "p1")
    (row,) = rows_of(
        transforms.product_conversion(aggregates_of(spark, [view, list(view)])),
        "product_conversion",
    )
    assert row["views"] == 1  # the same raw row twice is one event, as in the four tables


# --- hourly_revenue ------------------------------------------------------------------------------


def test_hourly_revenue_by_hand(spark):
    frame = transforms.hourly_revenue(aggregates_of(spark, TINY_DAY))
    assert rows_of(frame, "hourly_revenue") == [
        {"hour": 0, "purchases": 0, "revenue": D("0.00")},  # R6 is a view: the hour is kept
        {"hour": 8, "purchases": 1, "revenue": D("31.50")},  # R3: 10.50 * 3
        {"hour": 23, "purchases": 1, "revenue": D("0.30")},  # R5: 0.10 * 3
    ]


def test_hourly_revenue_has_the_hours_of_hourly_activity(spark):
    aggregates = aggregates_of(spark, TINY_DAY)
    revenue_hours = [
        row["hour"] for row in rows_of(transforms.hourly_revenue(aggregates), "hourly_revenue")
    ]
    activity_hours = [
        row["hour"] for row in rows_of(transforms.hourly_activity(aggregates), "hourly_activity")
    ]
    assert revenue_hours == activity_hours == [0, 8, 23]


def test_hourly_revenue_is_exact_decimal(spark):
    # Ten purchases of 0.10 * 1 in hour 12: 1.00 exactly (a float sum is 0.9999999999999999)
    rows = [
        [f"2026-02-14 12:00:0{n}", str(n), f"s{n}", "purchase", "p", "books", "0.10", "1"]
        for n in range(10)
    ]
    (noon,) = rows_of(transforms.hourly_revenue(aggregates_of(spark, rows)), "hourly_revenue")
    assert noon == {"hour": 12, "purchases": 10, "revenue": D("1.00")}
    assert str(noon["revenue"]) == "1.00"


# --- session_stats -------------------------------------------------------------------------------


def test_session_stats_by_hand(spark):
    # (1, sA): R1-R3, 3 events, a purchase; (1, sB): R4, 1 event; (2, sC): R5-R6, 2, a purchase.
    # 3 sessions; mean 6 / 3 = 2.0; median of [1, 2, 3] = 2.0; purchase share 2 / 3
    assert rows_of(transforms.session_stats(aggregates_of(spark, TINY_DAY)), "session_stats") == [
        {
            "sessions": 3,
            "avg_events_per_session": 2.0,
            "median_events_per_session": 2.0,
            "purchase_session_share": 2 / 3,
        }
    ]


def test_session_stats_a_session_id_of_two_users_is_two_sessions_and_even_median(spark):
    rows = [
        # (1, s1): 1 event (a purchase)
        event("09:00:00", "1", "s1", "purchase"),
        # (2, s1): the same session id for another user, 2 events
        event("09:00:00", "2", "s1", "view"),
        event("09:01:00", "2", "s1", "add_to_cart"),
        # (2, s2): 4 events
        *(event(f"09:0{n}:00", "2", "s2", "view") for n in range(4)),
        # (3, s3): 9 events, one of them a purchase
        *(event(f"10:0{n}:00", "3", "s3", "view") for n in range(8)),
        event("10:09:00", "3", "s3", "purchase"),
    ]
    # 4 sessions (s1 counts twice); events [1, 2, 4, 9]: mean 16 / 4 = 4.0,
    # median (2 + 4) / 2 = 3.0 (exact: the mean of the two middle values); purchases in 2 of 4
    assert rows_of(transforms.session_stats(aggregates_of(spark, rows)), "session_stats") == [
        {
            "sessions": 4,
            "avg_events_per_session": 4.0,
            "median_events_per_session": 3.0,
            "purchase_session_share": 0.5,
        }
    ]


def test_session_stats_of_an_empty_day_is_zero_sessions_and_null_averages(spark):
    assert rows_of(transforms.session_stats(aggregates_of(spark, [])), "session_stats") == [
        {
            "sessions": 0,
            "avg_events_per_session": NULL,
            "median_events_per_session": NULL,
            "purchase_session_share": NULL,
        }
    ]


def test_extra_tables_of_an_empty_day_have_no_rows(spark):
    aggregates = aggregates_of(spark, [])
    assert rows_of(transforms.product_conversion(aggregates), "product_conversion") == []
    assert rows_of(transforms.hourly_revenue(aggregates), "hourly_revenue") == []


# --- The 15-row sample day (counted row by row in sample_day_extra_tables.py) ----------------


@pytest.mark.parametrize("table", contract.EXTRA_TABLES, ids=lambda table: table.name)
def test_sample_day_extra_tables(spark, table):
    frame = table.load_builder()(aggregates_of(spark, sample_rows()))
    assert rows_of(frame, table.name) == SAMPLE_DAY_EXTRA_TABLES[table.name]
