"""The extra tables' checks on the hand-counted sample day, then on one broken figure at a time."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from include.ecommerce.extra_validation import extra_table_problems, read_extra_tables
from tests.unit.sample_day_extra_tables import sample_day_extra_tables
from tests.unit.sample_day_tables import sample_day_tables


def sample_tables(**replaced: pa.Table) -> dict[str, pa.Table]:
    return {**sample_day_tables(), **sample_day_extra_tables(), **replaced}


def with_column(table: pa.Table, name: str, values: list) -> pa.Table:
    index = table.schema.get_field_index(name)
    return table.set_column(index, name, pa.array(values, table.schema.field(name).type))


def test_the_sample_day_has_no_problem():
    assert extra_table_problems(sample_tables()) == []


def test_a_partition_without_extra_tables_has_no_problem():
    assert extra_table_problems(sample_day_tables()) == []


def test_each_extra_table_is_checked_on_its_own():
    extra = sample_day_extra_tables()
    for name, table in extra.items():
        assert extra_table_problems({**sample_day_tables(), name: table}) == []


def test_hourly_revenue_must_add_up_to_category_revenue_and_purchases():
    hourly = sample_day_extra_tables()["hourly_revenue"]
    # hour 10 given 1.00 and 1 purchase: 459.94 + 1.00 = 460.94 != 459.94; 4 purchases != 3
    broken = with_column(
        with_column(hourly, "revenue", [Decimal("459.94"), Decimal("1.00")]), "purchases", [3, 1]
    )
    assert extra_table_problems(sample_tables(hourly_revenue=broken)) == [
        "hourly_revenue revenue sums to 460.94, category_stats total_revenue to 459.94",
        "hourly_revenue purchases sum to 4, the funnel counts 3 purchase events",
    ]


def test_hourly_revenue_must_have_the_hours_of_hourly_activity():
    hourly = sample_day_extra_tables()["hourly_revenue"].slice(0, 1)  # hour 9 only
    assert extra_table_problems(sample_tables(hourly_revenue=hourly)) == [
        "hourly_revenue hours [9] differ from hourly_activity's [9, 10]"
    ]


def test_product_conversion_must_add_up_to_the_funnel_and_have_unique_keys():
    products = sample_day_extra_tables()["product_conversion"]
    doubled = pa.concat_tables([products, products.slice(0, 1)])  # p001 twice: 9, 7, 4
    assert extra_table_problems(sample_tables(product_conversion=doubled)) == [
        "product_conversion views sum to 9, the funnel counts 7 view events",
        "product_conversion add_to_carts sum to 7, the funnel counts 5 add_to_cart events",
        "product_conversion purchases sum to 4, the funnel counts 3 purchase events",
        "product_conversion: 1 duplicate (product_id, category) key(s)",
    ]


def test_session_stats_must_match_user_behavior_sessions_and_the_event_count():
    sessions = sample_day_extra_tables()["session_stats"]
    # 8 sessions but user_behavior has 7; 8 * 15/7 = 17.14... is not 15 events
    broken = with_column(sessions, "sessions", [8])
    problems = extra_table_problems(sample_tables(session_stats=broken))
    assert problems[0] == "session_stats sessions=8, user_behavior sessions sum to 7"
    assert problems[1].startswith("session_stats avg_events_per_session=2.142857")
    assert problems[1].endswith("x sessions=8 is not the funnel's 15 events")
    assert len(problems) == 2


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_session_stats_share_must_be_between_0_and_1(share):
    sessions = with_column(
        sample_day_extra_tables()["session_stats"], "purchase_session_share", [share]
    )
    assert extra_table_problems(sample_tables(session_stats=sessions)) == [
        f"session_stats purchase_session_share={share}, expected 0-1"
    ]


def test_session_stats_must_have_one_row():
    sessions = sample_day_extra_tables()["session_stats"]
    assert extra_table_problems(
        sample_tables(session_stats=pa.concat_tables([sessions, sessions]))
    ) == ["session_stats: 2 rows, expected exactly 1"]


def test_schema_problems_come_first_and_alone():
    hourly = sample_day_extra_tables()["hourly_revenue"]
    as_float = hourly.set_column(2, "revenue", pa.array([459.94, 0.0]))
    assert extra_table_problems(sample_tables(hourly_revenue=as_float)) == [
        "hourly_revenue.revenue: type double, expected decimal128(20, 2)"
    ]


class FakeClient:
    """status() and read() of an HdfsCLI client over a dict of folder -> Parquet bytes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def status(self, path: str, strict: bool = True):
        known = any(name == path or name.startswith(f"{path}/") for name in self.files)
        return {"type": "DIRECTORY"} if known else None

    def list(self, folder: str) -> list[str]:
        return [name.rsplit("/", 1)[1] for name in self.files if name.startswith(f"{folder}/")]

    def read(self, path: str):
        import contextlib
        import io

        return contextlib.nullcontext(io.BytesIO(self.files[path]))


def test_read_extra_tables_reads_only_those_present():
    import io

    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(sample_day_extra_tables()["session_stats"], buffer)
    client = FakeClient({"/p/session_stats/part-0.parquet": buffer.getvalue()})
    tables = read_extra_tables(client, "/p")
    assert list(tables) == ["session_stats"]
    assert (
        tables["session_stats"].to_pylist()
        == sample_day_extra_tables()["session_stats"].to_pylist()
    )
