"""The published tables, each built from the summaries (``summaries.Aggregates``) by the
function its declaration names (``contract.Table.builder``), plus the ``rejected`` table and the
order rows are written in.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs import contract
from spark_jobs.transforms.rows import COPIES, NOT_UTF8, REASON
from spark_jobs.transforms.summaries import HOURS_MASK, Aggregates


def conform(frame: DataFrame, table: contract.Table) -> DataFrame:
    """Exactly the contract's columns, in its order, cast to its types."""
    return frame.select(*(F.col(c.name).cast(c.type).alias(c.name) for c in table.columns))


def rejected_rows(validated: DataFrame) -> DataFrame:
    """The ``rejected`` table: every invalid raw row (repeats included) with line, file, reason."""
    rejected = validated.where(F.col(REASON).isNotNull() & (F.col(REASON) != NOT_UTF8))
    repeated = rejected.withColumn("_copy", F.explode(F.sequence(F.lit(1), F.col(COPIES))))
    return conform(repeated, contract.REJECTED)


# --- The four tables ------------------------------------------------------------------------------


def _events_of(event_type: str) -> Column:
    """Over cells: the events of one type (0 when none)."""
    return F.sum(F.when(F.col("event_type") == event_type, F.col("events")).otherwise(0))


def _users_per(aggregates: Aggregates, name: str, values: Column) -> DataFrame:
    """Distinct users per value of ``values`` (an array column of the users table)."""
    exploded = aggregates.users.select(F.explode(values).alias(name))
    return exploded.groupBy(name).agg(F.count(F.lit(1)).alias("_users"))


def category_stats(aggregates: Aggregates) -> DataFrame:
    """Per category: all events, distinct users, purchase revenue, purchase events."""
    stats = aggregates.cells.groupBy("category").agg(
        F.sum("events").alias("total_events"),
        F.sum("revenue").alias("total_revenue"),
        _events_of(contract.PURCHASE_EVENT).alias("purchases"),
    )
    users = _users_per(aggregates, "category", F.col("categories_viewed"))
    return conform(
        stats.join(users, "category").withColumnRenamed("_users", "unique_users"),
        contract.CATEGORY_STATS,
    )


def _hours_of(mask: Column) -> Column:
    """The hours (0-23) whose bit is set in ``mask``."""
    return F.filter(
        F.sequence(F.lit(0), F.lit(23)),
        lambda hour: F.call_function("shiftright", mask, hour).bitwiseAND(1) == 1,
    )


def hourly_activity(aggregates: Aggregates) -> DataFrame:
    """Per hour of the day that has events: events and distinct users."""
    hourly = aggregates.cells.groupBy("hour").agg(F.sum("events").alias("events"))
    users = _users_per(aggregates, "hour", _hours_of(F.col(HOURS_MASK)))
    return conform(
        hourly.join(users, "hour").withColumnRenamed("_users", "active_users"),
        contract.HOURLY_ACTIVITY,
    )


def funnel(aggregates: Aggregates) -> DataFrame:
    """Events per stage, every stage of ``EVENT_TYPES`` present and in funnel order."""
    spark = aggregates.cells.sparkSession
    stages = spark.range(len(contract.EVENT_TYPES)).select(
        F.col("id").cast("INT").alias("stage_order"),
        F.element_at(F.array(*map(F.lit, contract.EVENT_TYPES)), F.col("id").cast("INT") + 1).alias(
            "event_type"
        ),
    )
    counts = aggregates.cells.groupBy("event_type").agg(F.sum("events").alias("count"))
    joined = stages.join(counts, "event_type", "left")
    with_zeros = joined.select(
        "stage_order", "event_type", F.coalesce("count", F.lit(0)).alias("count")
    )
    # Three rows: one partition sorted locally keeps the stage order through the write, without
    # the sampling pass (a second run of the aggregation) that a global orderBy costs.
    return conform(with_zeros.repartition(1).sortWithinPartitions("stage_order"), contract.FUNNEL)


def user_behavior(aggregates: Aggregates) -> DataFrame:
    """Per user: events, distinct sessions, purchase revenue, sorted distinct categories."""
    return conform(aggregates.users, contract.USER_BEHAVIOR)


# --- The extra analyses (contract.EXTRA) -------------------------------------------------------


def product_conversion(aggregates: Aggregates) -> DataFrame:
    """Per (product_id, category): events per funnel stage and the rates between stages.

    Keyed by both columns (a product listed under two categories gives two rows). A rate whose
    denominator is 0 is NULL: ``try_divide`` instead of ``/``, which under ANSI mode fails.
    """
    stages = aggregates.cells.groupBy("product_id", "category").agg(
        _events_of("view").alias("views"),
        _events_of("add_to_cart").alias("add_to_carts"),
        _events_of(contract.PURCHASE_EVENT).alias("purchases"),
    )
    rates = stages.select(
        "*",
        _rate("add_to_carts", "views").alias("view_to_cart_rate"),
        _rate("purchases", "add_to_carts").alias("cart_to_purchase_rate"),
        _rate("purchases", "views").alias("view_to_purchase_rate"),
    )
    return conform(rates, contract.PRODUCT_CONVERSION)


def _rate(numerator: str, denominator: str) -> Column:
    """numerator / denominator as a DOUBLE; NULL when the denominator is 0."""
    return F.try_divide(F.col(numerator).cast("DOUBLE"), F.col(denominator).cast("DOUBLE"))


def hourly_revenue(aggregates: Aggregates) -> DataFrame:
    """Per hour of the day that has events (hourly_activity's hours): purchases and revenue."""
    hourly = aggregates.cells.groupBy("hour").agg(
        _events_of(contract.PURCHASE_EVENT).alias("purchases"),
        F.sum("revenue").alias("revenue"),
    )
    return conform(hourly, contract.HOURLY_REVENUE)


def session_stats(aggregates: Aggregates) -> DataFrame:
    """One row over the sessions, each a (user_id, session_id) pair: how many, mean and exact
    median events per session, share with a purchase."""
    stats = aggregates.sessions.agg(
        F.count(F.lit(1)).alias("sessions"),
        F.avg("events").alias("avg_events_per_session"),
        # Exact (Percentile over the value counts), unlike percentile_approx; the aggregation
        # buffer holds one entry per distinct events-per-session value, so it stays small.
        F.median("events").alias("median_events_per_session"),
        F.avg((F.col("purchases") > 0).cast("INT")).alias("purchase_session_share"),
    )
    return conform(stats, contract.SESSION_STATS)


def for_writing(frame: DataFrame, table: contract.Table) -> DataFrame:
    """One partition (the tables are small), sorted by the table's declared ``write_order``: one
    shuffle of the table's own rows, no sampling pass like a global orderBy. Reruns give
    identical files."""
    keys = table.write_order
    return frame.repartition(1).sortWithinPartitions(*keys) if keys else frame.coalesce(1)
