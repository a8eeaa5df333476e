from decimal import Decimal

import pyarrow as pa
import pytest

from include.ecommerce.validation import (
    PartitionContents,
    arrow_type,
    invariant_problems,
    partition_problems,
    quality_problems,
    schema_problems,
)
from spark_jobs.contract import CATEGORY_STATS, USER_BEHAVIOR
from tests.unit.sample_day_tables import sample_day_quality, sample_day_tables

PARTITION = "/user/data/processed/ecommerce/2026/02/14"


def contents(quality: dict | None = None, **replaced: pa.Table) -> PartitionContents:
    tables = sample_day_tables()
    tables.update(replaced)
    return PartitionContents(PARTITION, tables, quality or sample_day_quality())


def test_sample_day_passes():
    assert partition_problems(contents()) == []


@pytest.mark.parametrize(
    ("ddl", "expected"),
    [
        ("STRING", pa.string()),
        ("BIGINT", pa.int64()),
        ("INT", pa.int32()),
        ("DECIMAL(20,2)", pa.decimal128(20, 2)),
        ("ARRAY<STRING>", pa.list_(pa.string())),
    ],
)
def test_contract_types_map_to_arrow(ddl, expected):
    assert arrow_type(ddl) == expected


def test_unknown_contract_type_is_named():
    with pytest.raises(ValueError, match="MAP<STRING,INT>"):
        arrow_type("MAP<STRING,INT>")


def test_money_as_float_is_a_schema_problem():
    as_float = sample_day_tables()["category_stats"].set_column(
        3, "total_revenue", pa.array([299.99, 99.98, 59.97, 0.0])
    )
    assert schema_problems(CATEGORY_STATS, as_float.schema) == [
        "category_stats.total_revenue: type double, expected decimal128(20, 2)"
    ]


def test_missing_column_is_a_schema_problem():
    without = sample_day_tables()["user_behavior"].drop_columns(["sessions"])
    (problem,) = schema_problems(USER_BEHAVIOR, without.schema)
    assert "columns are ['user_id', 'total_events', 'total_spent', 'categories_viewed']" in problem


def test_empty_table_is_a_problem():
    empty = sample_day_tables()["hourly_activity"].slice(0, 0)
    assert partition_problems(contents(hourly_activity=empty)) == [
        f"{PARTITION}: hourly_activity: no rows"
    ]


def test_totals_that_disagree_are_reported_with_numbers():
    hourly = sample_day_tables()["hourly_activity"].set_column(
        1, "events", pa.array([12, 2], pa.int64())
    )
    (problem,) = invariant_problems(contents(hourly_activity=hourly).tables)
    assert problem == (
        "event totals disagree: funnel count=15, category_stats total_events=15, "
        "hourly_activity events=14, user_behavior total_events=15"
    )


def test_funnel_stage_missing_or_out_of_order():
    funnel = pa.table(
        {
            "event_type": ["add_to_cart", "view", "purchase"],
            "count": pa.array([5, 7, 3], pa.int64()),
        }
    )
    problems = invariant_problems(contents(funnel=funnel).tables)
    assert problems == [
        "funnel: stages are ['add_to_cart', 'view', 'purchase'], expected ['view', 'add_to_cart', 'purchase'] in that order"
    ]


def test_revenue_mismatch_and_duplicate_keys():
    users = sample_day_tables()["user_behavior"]
    doubled = pa.concat_tables([users, users.slice(6, 1)])  # user 107 twice, 1 more event
    problems = invariant_problems(contents(user_behavior=doubled).tables)
    assert "user_id: 1 duplicate key(s)" in problems
    assert any(problem.startswith("event totals disagree") for problem in problems)
    category = sample_day_tables()["category_stats"].set_column(
        3,
        "total_revenue",
        pa.array(
            [Decimal("299.99"), Decimal("99.98"), Decimal("59.97"), Decimal("1.00")],
            pa.decimal128(20, 2),
        ),
    )
    assert invariant_problems(contents(category_stats=category).tables) == [
        "revenue totals disagree: category_stats total_revenue=460.94, user_behavior total_spent=459.94"
    ]


def test_hours_outside_the_day():
    hourly = pa.table(
        {
            "hour": pa.array([9, 24], pa.int32()),
            "events": pa.array([13, 2], pa.int64()),
            "active_users": pa.array([6, 2], pa.int64()),
        }
    )
    assert invariant_problems(contents(hourly_activity=hourly).tables) == [
        "hourly_activity: hours must be distinct values in 0-23, got [9, 24]"
    ]


def test_quality_rows_must_add_up():
    quality = {**sample_day_quality(), "rows_read": 17, "duplicates_dropped": 1}
    assert partition_problems(contents(quality)) == [
        f"{PARTITION}: rows do not add up: rows_read=17 != rows_valid=15 + rows_rejected=0 + duplicates_dropped=1"
    ]


def test_quality_must_agree_with_the_tables_and_its_reasons():
    by_reason = {**sample_day_quality()["rejected_by_reason"], "invalid_price": 2}
    quality = {
        **sample_day_quality(),
        "rows_valid": 14,
        "rows_read": 15,
        "rows_rejected": 1,
        "rejected_by_reason": by_reason,
    }
    assert partition_problems(contents(quality)) == [
        f"{PARTITION}: rejected_by_reason sums to 2, rows_rejected=1",
        f"{PARTITION}: rows_valid=14 but the funnel counts 15 events",
    ]


def test_missing_or_incomplete_quality_summary():
    assert quality_problems(None, sample_day_tables()) == ["quality.json is missing"]
    incomplete = {k: v for k, v in sample_day_quality().items() if k != "published"}
    assert quality_problems(incomplete, sample_day_tables()) == ["quality.json lacks ['published']"]
