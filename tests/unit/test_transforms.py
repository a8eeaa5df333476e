"""The four table transforms on small hand-made frames; expected values counted by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from spark_jobs import contract, transforms
from tests.unit.sample_day_tables import sample_day_tables
from tests.unit.spark_frames import aggregates_of, rows_of, sample_rows

D = Decimal

# A hand-made day (2026-02-14): two users, three sessions, two categories, three hours.
TINY_DAY = [
    # timestamp,           user, session, event_type,   product, category, price,  quantity
    ["2026-02-14 08:00:00", "1", "sA", "view", "p1", "toys", "10.50", "1"],  # R1
    ["2026-02-14 08:10:00", "1", "sA", "add_to_cart", "p1", "toys", "10.50", "3"],  # R2
    ["2026-02-14 08:20:00", "1", "sA", "purchase", "p1", "toys", "10.50", "3"],  # R3
    ["2026-02-14 08:30:00", "1", "sB", "view", "p2", "books", "0.10", "1"],  # R4
    ["2026-02-14 23:59:59", "2", "sC", "purchase", "p2", "books", "0.10", "3"],  # R5
    ["2026-02-14 00:00:00", "2", "sC", "view", "p3", "toys", "99.99", "1"],  # R6
]


def fields_of(struct) -> list[tuple[str, str]]:
    """(name, type) pairs: nullability aside, what a Parquet reader will see."""
    return [(field.name, field.dataType.simpleString()) for field in struct.fields]


@pytest.mark.parametrize("table", contract.CORE_TABLES, ids=lambda table: table.name)
def test_each_table_has_exactly_the_contract_columns_and_types(spark, table):
    from pyspark.sql.types import StructType

    frame = table.load_builder()(aggregates_of(spark, TINY_DAY))
    assert fields_of(frame.schema) == fields_of(StructType.fromDDL(table.ddl))


def test_category_stats_by_hand(spark):
    assert rows_of(transforms.category_stats(aggregates_of(spark, TINY_DAY)), "category_stats") == [
        # books: R4, R5 -> 2 events; users {1, 2}; one purchase R5: 0.10 * 3 = 0.30 (exactly)
        {
            "category": "books",
            "total_events": 2,
            "unique_users": 2,
            "total_revenue": D("0.30"),
            "purchases": 1,
        },
        # toys: R1, R2, R3, R6 -> 4 events; users {1, 2}; one purchase R3: 10.50 * 3 = 31.50
        {
            "category": "toys",
            "total_events": 4,
            "unique_users": 2,
            "total_revenue": D("31.50"),
            "purchases": 1,
        },
    ]


def test_revenue_is_exact_decimal_not_float(spark):
    # Ten purchases of 0.10 * 1 by ten users: 10 * 0.10 = 1.00; a float sum gives 0.9999999999999999
    rows = [
        [f"2026-02-14 12:00:0{n}", str(n), f"s{n}", "purchase", "p", "books", "0.10", "1"]
        for n in range(10)
    ]
    (books,) = rows_of(transforms.category_stats(aggregates_of(spark, rows)), "category_stats")
    assert books["total_revenue"] == D("1.00")
    assert str(books["total_revenue"]) == "1.00"


def test_hourly_activity_by_hand(spark):
    assert rows_of(
        transforms.hourly_activity(aggregates_of(spark, TINY_DAY)), "hourly_activity"
    ) == [
        {"hour": 0, "events": 1, "active_users": 1},  # R6 (user 2)
        {"hour": 8, "events": 4, "active_users": 1},  # R1-R4, all user 1
        {"hour": 23, "events": 1, "active_users": 1},  # R5 (user 2)
    ]


def test_funnel_by_hand_in_stage_order(spark):
    assert rows_of(transforms.funnel(aggregates_of(spark, TINY_DAY)), "funnel") == [
        {"event_type": "view", "count": 3},  # R1, R4, R6
        {"event_type": "add_to_cart", "count": 1},  # R2
        {"event_type": "purchase", "count": 2},  # R3, R5
    ]


def test_funnel_keeps_empty_stages_with_zero(spark):
    views_only = [row for row in TINY_DAY if row[3] == "view"]  # R1, R4, R6
    assert rows_of(transforms.funnel(aggregates_of(spark, views_only)), "funnel") == [
        {"event_type": "view", "count": 3},
        {"event_type": "add_to_cart", "count": 0},
        {"event_type": "purchase", "count": 0},
    ]


def test_funnel_of_an_empty_day_is_three_zeros(spark):
    assert [
        row["count"] for row in rows_of(transforms.funnel(aggregates_of(spark, [])), "funnel")
    ] == [0] * 3


def test_user_behavior_by_hand(spark):
    assert rows_of(transforms.user_behavior(aggregates_of(spark, TINY_DAY)), "user_behavior") == [
        # user 1: R1-R4 -> 4 events; sessions {sA, sB}; spent R3 10.50 * 3 = 31.50;
        # categories toys (R1-R3), books (R4) -> sorted [books, toys]
        {
            "user_id": 1,
            "total_events": 4,
            "sessions": 2,
            "total_spent": D("31.50"),
            "categories_viewed": ["books", "toys"],
        },
        # user 2: R5, R6 -> 2 events; session {sC}; spent R5 0.10 * 3 = 0.30; books, toys
        {
            "user_id": 2,
            "total_events": 2,
            "sessions": 1,
            "total_spent": D("0.30"),
            "categories_viewed": ["books", "toys"],
        },
    ]


def test_user_without_purchase_spent_zero_not_null(spark):
    (user,) = rows_of(
        transforms.user_behavior(aggregates_of(spark, [TINY_DAY[0]])), "user_behavior"
    )
    assert user["total_spent"] == D("0.00")


def _users_and_categories(aggregates) -> tuple[list[dict], list[dict]]:
    return (
        rows_of(transforms.user_behavior(aggregates), "user_behavior"),
        rows_of(transforms.category_stats(aggregates), "category_stats"),
    )


def test_categories_as_bit_masks_give_the_tables_of_the_category_lists(spark):
    """aggregates_of collects the day's categories (bit masks); without them (or with more than
    one BIGINT holds) the lists come from the (user, category) pairs: the same tables."""
    from tests.unit.spark_frames import events_frame

    # 64 categories (one BIGINT: the last one is bit 63, the sign bit) and 70 (more than one
    # BIGINT holds: the pairs), spread over three users.
    names = [f"c{i:02d}" for i in range(70)]
    assert len(names[:64]) == transforms.MASK_CATEGORIES < len(names)
    wide_days = [
        [
            ["2026-02-14 08:00:00", str(1 + i % 3), "s", "view", "p", name, "1.00", "1"]
            for i, name in enumerate(day_names)
        ]
        for day_names in (names[:64], names)
    ]
    for day in (TINY_DAY, *wide_days):
        by_mask = _users_and_categories(aggregates_of(spark, day))
        by_pairs = _users_and_categories(transforms.aggregate(events_frame(spark, day)))
        assert by_mask == by_pairs
    users, categories = _users_and_categories(aggregates_of(spark, wide_days[0]))
    # user 1 sees c00, c03, ..., c63 (i % 3 == 0): 22 categories, in order, the sign bit's last
    assert users[0]["categories_viewed"] == [f"c{i:02d}" for i in range(0, 64, 3)]
    assert [len(u["categories_viewed"]) for u in users] == [22, 21, 21]
    assert {c["category"]: c["unique_users"] for c in categories}["c63"] == 1


# The 15-row sample day: the expected tables are counted row by row in sample_day_tables.py
# (electronics 6 events / 3 users / 299.99; clothing 4 / 2 / 49.99 * 2 = 99.98; books 3 / 1 /
# 19.99 * 3 = 59.97; home 2 / 1 / 0; hour 9: 13 events, 6 users; hour 10: 2, 2; funnel 7, 5, 3).
SORT_KEYS = {
    "category_stats": "category",
    "hourly_activity": "hour",
    "funnel": None,  # stage order is part of the contract
    "user_behavior": "user_id",
}


@pytest.mark.parametrize("table", contract.CORE_TABLES, ids=lambda table: table.name)
def test_sample_day_tables(spark, table):
    frame = table.load_builder()(aggregates_of(spark, sample_rows()))
    expected = sample_day_tables()[table.name].to_pylist()
    key = SORT_KEYS[table.name]
    if key is not None:
        expected = sorted(expected, key=lambda row: row[key])
    assert rows_of(frame, table.name) == expected
