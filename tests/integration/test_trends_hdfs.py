"""The trend reader and the HTML report's publishing, on the real local HDFS.

Days are published into a scratch root the way the Spark job leaves them: one folder of Parquet
parts per table, typed as the contract says, and ``_SUCCESS`` last.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.ecommerce.partitions import Partition
from include.ecommerce.report_html import HTML_REPORT_FILE_NAME, render_html
from include.ecommerce.tasks import read_report_data, store_report
from include.ecommerce.trends import TrendPoint, partition_folder, read_trend
from include.ecommerce.validation import arrow_type
from spark_jobs.contract import SUCCESS_MARKER, TABLES, Table

pytestmark = pytest.mark.integration

REPORT_DAY = Partition(date(2026, 2, 14))


def contract_table(table: Table, columns: dict[str, list]) -> pa.Table:
    schema = pa.schema([(column.name, arrow_type(column.type)) for column in table.columns])
    return pa.table(columns, schema=schema)


def day_tables(views: int, carts: int, purchases: int, revenue: str) -> dict[str, pa.Table]:
    """A one-category, one-user, one-hour day with the given funnel and purchase revenue."""
    events = views + carts + purchases
    return {
        "category_stats": contract_table(
            TABLES["category_stats"],
            {
                "category": ["books"],
                "total_events": [events],
                "unique_users": [1],
                "total_revenue": [Decimal(revenue)],
                "purchases": [purchases],
            },
        ),
        "hourly_activity": contract_table(
            TABLES["hourly_activity"], {"hour": [9], "events": [events], "active_users": [1]}
        ),
        "funnel": contract_table(
            TABLES["funnel"],
            {"event_type": ["view", "add_to_cart", "purchase"], "count": [views, carts, purchases]},
        ),
        "user_behavior": contract_table(
            TABLES["user_behavior"],
            {
                "user_id": [101],
                "total_events": [events],
                "sessions": [1],
                "total_spent": [Decimal(revenue)],
                "categories_viewed": [["books"]],
            },
        ),
    }


def write_day(client, root: str, partition: Partition, tables, *, published: bool = True) -> None:
    folder = partition_folder(root, partition)
    for name, table in tables.items():
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        client.write(f"{folder}/{name}/part-00000.parquet", data=buffer.getvalue(), overwrite=True)
    if published:
        client.write(f"{folder}/{SUCCESS_MARKER}", data=b"", overwrite=True)


@pytest.fixture
def published_days(hdfs, hdfs_scratch):
    """Feb 10, 12 and 14 published; Feb 13 written but not published; Feb 7 outside the week."""
    root = f"{hdfs_scratch}/processed"
    client = hdfs.client
    write_day(client, root, Partition(date(2026, 2, 7)), day_tables(50, 5, 5, "500.00"))
    write_day(client, root, Partition(date(2026, 2, 10)), day_tables(8, 2, 1, "19.99"))
    write_day(client, root, Partition(date(2026, 2, 12)), day_tables(10, 4, 2, "100.75"))
    write_day(
        client, root, Partition(date(2026, 2, 13)), day_tables(9, 9, 9, "9.99"), published=False
    )
    write_day(client, root, REPORT_DAY, day_tables(7, 5, 3, "459.94"))
    return root


def test_trend_reads_the_published_days_of_the_week(hdfs, published_days):
    trend = read_trend(hdfs.client, REPORT_DAY, processed_root=published_days)
    assert trend == [
        TrendPoint(date(2026, 2, 10), 11, Decimal("19.99"), 8, 1),
        TrendPoint(date(2026, 2, 12), 16, Decimal("100.75"), 10, 2),
        TrendPoint(date(2026, 2, 14), 15, Decimal("459.94"), 7, 3),
    ]
    assert [point.conversion for point in trend] == [1 / 8, 2 / 10, 3 / 7]


def test_a_published_day_with_a_missing_table_is_skipped(hdfs, published_days):
    hdfs.client.delete(
        f"{partition_folder(published_days, Partition(date(2026, 2, 12)))}/funnel", recursive=True
    )
    trend = read_trend(hdfs.client, REPORT_DAY, processed_root=published_days)
    assert [point.partition_date.day for point in trend] == [10, 14]


def test_publish_writes_the_same_page_to_hdfs_and_locally(
    hdfs, hdfs_scratch, published_days, tmp_path
):
    hourly_revenue = pa.table(
        {
            "hour": pa.array([9], pa.int32()),
            "purchases": pa.array([3], pa.int64()),
            "revenue": pa.array([Decimal("459.94")], pa.decimal128(20, 2)),
        }
    )
    write_day(hdfs.client, published_days, REPORT_DAY, {"hourly_revenue": hourly_revenue})
    reports_root = f"{hdfs_scratch}/reports"

    data = read_report_data(hdfs.client, REPORT_DAY, processed_root=published_days)
    page = render_html(data)
    hdfs_path, local_path = store_report(
        hdfs.client,
        partition_folder(reports_root, REPORT_DAY),
        tmp_path / "2026" / "02" / "14",
        HTML_REPORT_FILE_NAME,
        page,
    )

    assert hdfs_path == f"{reports_root}/2026/02/14/{HTML_REPORT_FILE_NAME}"
    assert local_path == tmp_path / "2026" / "02" / "14" / HTML_REPORT_FILE_NAME
    with hdfs.client.read(hdfs_path) as reader:
        stored = reader.read().decode("utf-8")
    page = local_path.read_text(encoding="utf-8")
    assert stored == page
    assert "<h1>E-commerce daily report - 2026-02-14</h1>" in page
    assert "<td>2026-02-10</td>" in page and "<td>2026-02-12</td>" in page
    assert "<td>2026-02-13</td>" not in page  # not published
    assert 'id="extra-hourly_revenue"' in page
    assert "Revenue by hour is not shown" not in page
