"""The four tables of the 15-row sample day (2026-02-14), counted by hand from the CSV.

Shared by the validation and report tests. The seed course's printed report has mistakes
(electronics 5 events, hour 9 with 7 users, 8 views, user 105 before 104); these are the rows.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

MONEY = pa.decimal128(20, 2)

# electronics: rows 1,2,4,7,12,13 -> 6 events; users 101,104,106; one purchase 299.99*1
# clothing:    rows 3,6,8,14      -> 4 events; users 102,107; one purchase 49.99*2 = 99.98
# books:       rows 5,10,11       -> 3 events; user 103; one purchase 19.99*3 = 59.97
# home:        rows 9,15          -> 2 events; user 105; no purchase
CATEGORY_STATS = pa.table(
    {
        "category": ["electronics", "clothing", "books", "home"],
        "total_events": pa.array([6, 4, 3, 2], pa.int64()),
        "unique_users": pa.array([3, 2, 1, 1], pa.int64()),
        "total_revenue": pa.array(
            [Decimal("299.99"), Decimal("99.98"), Decimal("59.97"), Decimal("0.00")], MONEY
        ),
        "purchases": pa.array([1, 1, 1, 0], pa.int64()),
    }
)
# hour 9: rows 1-13 -> 13 events, users 101..106 -> 6; hour 10: rows 14,15 -> users 107,105
HOURLY_ACTIVITY = pa.table(
    {
        "hour": pa.array([9, 10], pa.int32()),
        "events": pa.array([13, 2], pa.int64()),
        "active_users": pa.array([6, 2], pa.int64()),
    }
)
# view: rows 1,3,5,7,9,12,14 -> 7; add_to_cart: rows 2,6,10,13,15 -> 5; purchase: 4,8,11 -> 3
FUNNEL = pa.table(
    {
        "event_type": ["view", "add_to_cart", "purchase"],
        "count": pa.array([7, 5, 3], pa.int64()),
    }
)
USER_BEHAVIOR = pa.table(
    {
        "user_id": pa.array([101, 102, 103, 104, 105, 106, 107], pa.int64()),
        "total_events": pa.array([3, 3, 3, 2, 2, 1, 1], pa.int64()),
        "sessions": pa.array([1, 1, 1, 1, 1, 1, 1], pa.int64()),
        "total_spent": pa.array(
            [Decimal(v) for v in ("299.99", "99.98", "59.97", "0", "0", "0", "0")], MONEY
        ),
        "categories_viewed": pa.array(
            [
                ["electronics"],
                ["clothing"],
                ["books"],
                ["electronics"],
                ["home"],
                ["electronics"],
                ["clothing"],
            ],
            pa.list_(pa.string()),
        ),
    }
)


def sample_day_tables() -> dict[str, pa.Table]:
    return {
        "category_stats": CATEGORY_STATS,
        "hourly_activity": HOURLY_ACTIVITY,
        "funnel": FUNNEL,
        "user_behavior": USER_BEHAVIOR,
    }


def sample_day_quality() -> dict:
    """The sample day's quality.json: 15 clean rows; every purchase follows a view and a cart
    event in its session (s1001, s1002, s1003)."""
    from spark_jobs import contract

    return {
        "partition_date": "2026-02-14",
        "rows_read": 15,
        "rows_valid": 15,
        "rows_rejected": 0,
        "rejected_by_reason": dict.fromkeys(contract.REJECT_REASONS, 0),
        "duplicates_dropped": 0,
        "reject_ratio": 0.0,
        "max_reject_ratio": 0.05,
        "published": True,
        "purchases_without_prior_event": 0,
        "negative_revenue": 0,
        "null_counts": dict.fromkeys(contract.RAW_COLUMNS, 0),
    }
