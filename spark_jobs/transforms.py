"""Pure DataFrame -> DataFrame functions: raw rows to clean events, clean events to each table.

Nothing here reads or writes storage, so every function runs on a tiny hand-made frame in the
unit tests. Only Spark built-in functions are used (no Python UDFs): executors on a cluster do not
have this package, and built-ins stay inside the JVM.

The clean ``events`` frame, input of the four tables, has one row per distinct valid raw row:
``event_time`` TIMESTAMP (the raw wall-clock time read in the session time zone, UTC),
``user_id`` BIGINT, ``session_id``, ``event_type``, ``product_id``, ``category`` STRING,
``price`` PRICE_TYPE, ``quantity`` INT.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from spark_jobs import contract

SOURCE_FILE = "source_file"
"""Column added by the reader: the file a raw row comes from."""

EVENT_COLUMNS: tuple[str, ...] = (
    "event_time",
    "user_id",
    "session_id",
    "event_type",
    "product_id",
    "category",
    "price",
    "quantity",
)
"""Columns of the clean events frame (see the module docstring)."""


def raw_schema() -> StructType:
    """Every raw column as STRING: typing is done by ``parse_events``, never by the reader, so a
    bad value becomes a null we can see instead of a row the reader silently drops."""
    return StructType.fromDDL(", ".join(f"`{name}` STRING" for name in contract.RAW_COLUMNS))


def conform(frame: DataFrame, table: contract.Table) -> DataFrame:
    """Exactly the contract's columns, in its order, cast to its types."""
    return frame.select(*(F.col(c.name).cast(c.type).alias(c.name) for c in table.columns))


def parse_events(raw: DataFrame, partition_date: dt.date) -> DataFrame:
    """Type the raw strings; keep the rows that type cleanly and belong to ``partition_date``."""
    typed = raw.select(
        F.try_to_timestamp("timestamp", F.lit(contract.TIMESTAMP_FORMAT)).alias("event_time"),
        F.col("user_id").try_cast("BIGINT").alias("user_id"),
        "session_id",
        "event_type",
        "product_id",
        "category",
        F.col("price").try_cast(contract.PRICE_TYPE).alias("price"),
        F.col("quantity").try_cast("INT").alias("quantity"),
    )
    return typed.where(
        (F.to_date("event_time") == F.lit(partition_date))
        & F.col("event_type").isin(*contract.EVENT_TYPES)
        & (F.col("price") >= 0)
        & (F.col("quantity") >= 1)
    ).dropna()


# --- The four tables ------------------------------------------------------------------------------


def _is_purchase() -> Column:
    return F.col("event_type") == contract.PURCHASE_EVENT


def _purchase_revenue() -> Column:
    """price * quantity for purchases, 0 otherwise: exact DECIMAL arithmetic, never a float."""
    revenue = F.col("price") * F.col("quantity")
    return F.when(_is_purchase(), revenue).otherwise(F.lit(0).cast(contract.PRICE_TYPE))


def category_stats(events: DataFrame) -> DataFrame:
    """Per category: all events, distinct users, purchase revenue, purchase events."""
    stats = events.groupBy("category").agg(
        F.count(F.lit(1)).alias("total_events"),
        F.count_distinct("user_id").alias("unique_users"),
        F.sum(_purchase_revenue()).alias("total_revenue"),
        F.count_if(_is_purchase()).alias("purchases"),
    )
    return conform(stats, contract.CATEGORY_STATS).orderBy("category")


def hourly_activity(events: DataFrame) -> DataFrame:
    """Per hour of the day that has events: events and distinct users."""
    hourly = events.groupBy(F.hour("event_time").alias("hour")).agg(
        F.count(F.lit(1)).alias("events"),
        F.count_distinct("user_id").alias("active_users"),
    )
    return conform(hourly, contract.HOURLY_ACTIVITY).orderBy("hour")


def funnel(events: DataFrame) -> DataFrame:
    """Events per stage, every stage of ``EVENT_TYPES`` present and in funnel order."""
    spark = events.sparkSession
    stages = spark.createDataFrame(
        list(enumerate(contract.EVENT_TYPES)), "stage_order INT, event_type STRING"
    )
    counts = events.groupBy("event_type").agg(F.count(F.lit(1)).alias("count"))
    joined = stages.join(counts, "event_type", "left")
    with_zeros = joined.select(
        "stage_order", "event_type", F.coalesce("count", F.lit(0)).alias("count")
    )
    return conform(with_zeros.orderBy("stage_order"), contract.FUNNEL)


def user_behavior(events: DataFrame) -> DataFrame:
    """Per user: events, distinct sessions, purchase revenue, sorted distinct categories."""
    users = events.groupBy("user_id").agg(
        F.count(F.lit(1)).alias("total_events"),
        F.count_distinct("session_id").alias("sessions"),
        F.sum(_purchase_revenue()).alias("total_spent"),
        F.sort_array(F.collect_set("category")).alias("categories_viewed"),
    )
    return conform(users, contract.USER_BEHAVIOR).orderBy("user_id")


CORE_TRANSFORMS = {
    contract.CATEGORY_STATS.name: category_stats,
    contract.HOURLY_ACTIVITY.name: hourly_activity,
    contract.FUNNEL.name: funnel,
    contract.USER_BEHAVIOR.name: user_behavior,
}
"""Table name -> the function that builds it from the clean events."""
