from datetime import date
from decimal import Decimal

import pyarrow as pa

from include.ecommerce.partitions import Partition
from include.ecommerce.settings import PROCESSED_ROOT, REPORTS_ROOT
from include.ecommerce.trends import (
    TrendPoint,
    compute_trend,
    partition_folder,
    trend_partitions,
    trend_point,
)
from tests.unit.sample_day_tables import CATEGORY_STATS, FUNNEL, MONEY


def day_tables(views: int, carts: int, purchases: int, revenues: list[str]) -> dict[str, pa.Table]:
    return {
        "funnel": pa.table(
            {
                "event_type": ["view", "add_to_cart", "purchase"],
                "count": pa.array([views, carts, purchases], pa.int64()),
            }
        ),
        "category_stats": pa.table(
            {
                "category": [f"c{i}" for i in range(len(revenues))],
                "total_events": pa.array([1] * len(revenues), pa.int64()),
                "unique_users": pa.array([1] * len(revenues), pa.int64()),
                "total_revenue": pa.array([Decimal(r) for r in revenues], MONEY),
                "purchases": pa.array([0] * len(revenues), pa.int64()),
            }
        ),
    }


def test_sample_day_point():
    # 7 views + 5 carts + 3 purchases = 15 events; 299.99 + 99.98 + 59.97 + 0.00 = 459.94
    point = trend_point(date(2026, 2, 14), FUNNEL, CATEGORY_STATS)
    assert point == TrendPoint(date(2026, 2, 14), 15, Decimal("459.94"), 7, 3)
    assert point.conversion == 3 / 7


def test_points_are_oldest_first_with_hand_computed_values():
    days = {
        date(2026, 2, 14): day_tables(10, 4, 2, ["100.50", "0.25"]),
        date(2026, 2, 12): day_tables(8, 2, 1, ["19.99"]),
        date(2026, 2, 13): day_tables(0, 0, 0, ["0.00"]),
    }
    trend = compute_trend(days)
    assert trend == [
        TrendPoint(date(2026, 2, 12), 11, Decimal("19.99"), 8, 1),
        TrendPoint(date(2026, 2, 13), 0, Decimal("0.00"), 0, 0),
        TrendPoint(date(2026, 2, 14), 16, Decimal("100.75"), 10, 2),
    ]
    assert [point.conversion for point in trend] == [0.125, None, 0.2]


def test_a_missing_stage_counts_zero_and_empty_revenue_is_zero():
    funnel = pa.table({"event_type": ["view"], "count": pa.array([4], pa.int64())})
    empty_stats = day_tables(0, 0, 0, [])["category_stats"]
    point = trend_point(date(2026, 2, 14), funnel, empty_stats)
    assert (point.events, point.views, point.purchases, point.revenue) == (4, 4, 0, Decimal("0.00"))
    assert point.conversion == 0.0


def test_trend_window_is_the_last_seven_days_ending_with_the_day():
    window = trend_partitions(Partition(date(2026, 3, 2)))
    assert [p.iso for p in window] == [
        "2026-02-24",
        "2026-02-25",
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
    ]


def test_partition_folder_below_the_pipeline_roots_is_the_partitions_own():
    partition = Partition(date(2026, 2, 14))
    assert partition_folder(PROCESSED_ROOT, partition) == partition.processed_partition
    assert partition_folder(REPORTS_ROOT, partition) == partition.report_partition
    assert partition_folder("/tmp/tests/x/", partition) == "/tmp/tests/x/2026/02/14"
