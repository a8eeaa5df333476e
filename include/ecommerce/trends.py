"""The last days' revenue, events and conversion, for the report's trend chart.

Old days are never recomputed from raw logs: each published day already holds two small tables
that carry its totals (``funnel``: events and views/purchases; ``category_stats``: revenue), so a
trend point costs two tiny Parquet reads. ``compute_trend`` is pure (unit-tested on hand-made
tables); ``read_trend`` is the HDFS side and skips days that are not published (no ``_SUCCESS``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from include.ecommerce.partitions import Partition
from include.ecommerce.settings import PROCESSED_ROOT
from include.ecommerce.validation import funnel_counts
from spark_jobs.contract import CATEGORY_STATS, FUNNEL, PURCHASE_EVENT

if TYPE_CHECKING:
    from hdfs import Client

log = logging.getLogger(__name__)

TREND_DAYS = 7
"""How many days a trend covers, the report's own day included."""
VIEW_EVENT = "view"
TREND_TABLES = (FUNNEL, CATEGORY_STATS)
"""The published tables a trend point is computed from."""


@dataclass(frozen=True)
class TrendPoint:
    """One published day's totals."""

    partition_date: date
    events: int
    revenue: Decimal
    views: int
    purchases: int

    @property
    def conversion(self) -> float | None:
        """Purchases per view; ``None`` on a day without views (no rate to speak of)."""
        return self.purchases / self.views if self.views else None


def trend_point(partition_date: date, funnel: pa.Table, category_stats: pa.Table) -> TrendPoint:
    """A day's totals from its ``funnel`` (events, views, purchases) and ``category_stats``
    (revenue); the validation sensor has checked that the tables agree with each other."""
    stage_counts = funnel_counts(funnel)
    revenue = pc.sum(category_stats["total_revenue"]).as_py()
    return TrendPoint(
        partition_date=partition_date,
        events=sum(count or 0 for count in stage_counts.values()),
        revenue=Decimal("0.00") if revenue is None else revenue,
        views=stage_counts.get(VIEW_EVENT) or 0,
        purchases=stage_counts.get(PURCHASE_EVENT) or 0,
    )


def compute_trend(days: Mapping[date, Mapping[str, pa.Table]]) -> list[TrendPoint]:
    """One point per day, oldest first; ``days`` maps a date to its ``funnel`` and
    ``category_stats`` tables."""
    return [
        trend_point(day, tables[FUNNEL.name], tables[CATEGORY_STATS.name])
        for day, tables in sorted(days.items())
    ]


def trend_partitions(partition: Partition, days: int = TREND_DAYS) -> list[Partition]:
    """The ``days`` partitions ending with ``partition`` itself, oldest first."""
    return [
        Partition(partition.partition_date - timedelta(days=offset))
        for offset in range(days - 1, -1, -1)
    ]


def partition_folder(root: str, partition: Partition) -> str:
    """A partition's folder below any root: the pipeline's own (then it equals
    ``partition.processed_partition`` or ``.report_partition``) or a test's scratch root."""
    return f"{root.rstrip('/')}/{partition.subpath}"


def read_trend(
    client: Client,
    partition: Partition,
    *,
    days: int = TREND_DAYS,
    processed_root: str = PROCESSED_ROOT,
) -> list[TrendPoint]:
    """Trend points of the published days among the last ``days`` ending with ``partition``.

    A day without ``_SUCCESS`` is skipped (not run, or not finished); so is a published day whose
    tables cannot be read, with a warning: an old day must not stop today's report.
    """
    from include.ecommerce.validation import OutputValidationError, is_published, read_partition

    published: dict[date, Mapping[str, pa.Table]] = {}
    for day in trend_partitions(partition, days):
        folder = partition_folder(processed_root, day)
        if not is_published(client, folder):
            continue
        try:
            published[day.partition_date] = read_partition(client, folder, TREND_TABLES).tables
        except OutputValidationError as error:
            log.warning("trend: skipping %s: %s", day.iso, error)
    return compute_trend(published)
