"""Pure DataFrame -> DataFrame functions: raw rows to clean events, clean events to each table.

Nothing here reads or writes storage, so every function runs on a tiny hand-made frame in the
unit tests. Only Spark built-in functions are used (no Python UDFs): executors on a cluster do not
have this package, and built-ins stay inside the JVM.

The clean ``events`` frame has one row per distinct valid raw row: ``event_time`` TIMESTAMP
(the raw wall-clock time read in the session time zone, UTC), ``user_id`` BIGINT,
``session_id``, ``event_type``, ``product_id``, ``category`` STRING, ``price`` PRICE_TYPE, ``quantity`` INT, and ``copies`` (identical raw rows it stands for). It is
summarised three times (``aggregate``: per session, per user, per category/product/hour/event
type), and every table and event check is a small aggregation of those summaries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from spark_jobs import contract, quality

SOURCE_FILE = "source_file"
"""Column added by the reader: the file a raw row comes from."""
CORRUPT_RECORD = "_corrupt_record"
"""Column the CSV reader fills (PERMISSIVE mode) with the whole line when it does not split into
exactly the schema's fields; null otherwise."""
REASON = "reason"
RAW_RECORD = "raw_record"
MISSING_MASK = "missing_mask"
"""Bit i set when raw column i (``contract.RAW_COLUMNS`` order) is absent, empty or blank."""
NOT_UTF8 = quality.NOT_UTF8
"""Internal reason, ahead of all others: the row holds U+FFFD, which is what the reader makes of
bytes that are not UTF-8. A file-level problem: the job fails naming the file, never publishes
it as a row reason."""
COPIES = "copies"
"""In the clean events: how many identical valid raw rows this event stands for (>= 1)."""

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

MAX_PRICE_CHECK_TYPE = "DECIMAL(38,18)"
"""A price is read at this precision, then cast to PRICE_TYPE: equal values mean no rounding
(more than two decimals) and no overflow (too large for PRICE_TYPE)."""


def raw_schema(*, with_corrupt_record: bool = True) -> StructType:
    """Every raw column as STRING, plus the reader's corrupt-record column.

    Typing is done by ``classify_rows``, never by the reader, so a bad value becomes a reason we
    can count instead of a null or a dropped row.
    """
    columns = [f"`{name}` STRING" for name in contract.RAW_COLUMNS]
    if with_corrupt_record:
        columns.append(f"`{CORRUPT_RECORD}` STRING")
    return StructType.fromDDL(", ".join(columns))


def conform(frame: DataFrame, table: contract.Table) -> DataFrame:
    """Exactly the contract's columns, in its order, cast to its types."""
    return frame.select(*(F.col(c.name).cast(c.type).alias(c.name) for c in table.columns))


# --- Row-level validation -------------------------------------------------------------------------


def _blank(column: str) -> Column:
    return F.col(column).isNull() | (F.trim(F.col(column)) == "")


def _csv_field(column: str) -> Column:
    """A parsed field written back as CSV: quoted (quotes doubled) when it needs to be."""
    value = F.coalesce(F.col(column), F.lit(""))
    quoted = F.concat(F.lit('"'), F.regexp_replace(value, '"', '""'), F.lit('"'))
    return F.when(value.rlike('[",\r\n]'), quoted).otherwise(value)


def classify_rows(raw: DataFrame, partition_date: dt.date) -> DataFrame:
    """Type every raw row and give each invalid one its reason (first match wins).

    ``raw``: the reader's eight STRING columns, ``CORRUPT_RECORD`` and ``SOURCE_FILE``.
    Result: ``REASON`` (null = valid), ``EVENT_COLUMNS`` typed (meaningful when valid), and for
    rejected rows ``RAW_RECORD`` (the line: as read when it was malformed, else its fields written
    back as CSV), ``SOURCE_FILE`` and ``MISSING_MASK``. Precedence: ``NOT_UTF8``, then
    ``contract.REJECT_REASONS`` in order.
    """
    # Each typed value is parsed once, in its own column: written inline, the reason's checks
    # and the output would parse the same timestamp and price up to four times per row (Spark
    # cannot share a subexpression between the branches of a CASE WHEN).
    typed = raw.select(
        "*",
        F.try_to_timestamp(F.col("timestamp"), F.lit(contract.TIMESTAMP_FORMAT)).alias(_TIME),
        F.col("user_id").try_cast("BIGINT").alias(_USER),
        F.col("price").try_cast(MAX_PRICE_CHECK_TYPE).alias(_EXACT_PRICE),
        F.col("quantity").try_cast("INT").alias(_QUANTITY),
    ).withColumn(_PRICE, F.col(_EXACT_PRICE).try_cast(contract.PRICE_TYPE))
    event_time, price, exact_price, quantity = (
        F.col(_TIME),
        F.col(_PRICE),
        F.col(_EXACT_PRICE),
        F.col(_QUANTITY),
    )
    required = [name for name in contract.RAW_COLUMNS if name != "quantity"]

    not_utf8 = F.lit(False)
    for column in (*contract.RAW_COLUMNS, CORRUPT_RECORD):
        not_utf8 = not_utf8 | F.coalesce(F.col(column).contains("\ufffd"), F.lit(False))
    checks: list[tuple[str, Column]] = [
        (NOT_UTF8, not_utf8),
        (contract.REJECT_WRONG_FIELD_COUNT, F.col(CORRUPT_RECORD).isNotNull()),
        (contract.REJECT_MISSING_FIELD, _any(_blank(name) for name in required)),
        (contract.REJECT_UNPARSEABLE_TIMESTAMP, event_time.isNull()),
        (
            contract.REJECT_TIMESTAMP_OUTSIDE_PARTITION,
            F.to_date(event_time) != F.lit(partition_date),
        ),
        (
            contract.REJECT_UNKNOWN_EVENT_TYPE,
            ~F.col("event_type").isin(*contract.EVENT_TYPES),
        ),
        (contract.REJECT_INVALID_USER_ID, F.col(_USER).isNull()),
        (
            contract.REJECT_INVALID_PRICE,
            price.isNull() | exact_price.isNull() | (exact_price < 0) | (price != exact_price),
        ),
        (contract.REJECT_INVALID_QUANTITY, quantity.isNull() | (quantity < 1)),
    ]
    reason = F.when(checks[0][1], checks[0][0])
    for name, failed in checks[1:]:
        reason = reason.when(failed, name)

    missing_mask = F.lit(0)
    for bit, name in enumerate(contract.RAW_COLUMNS):
        missing_mask = missing_mask.bitwiseOR(F.when(_blank(name), 1 << bit).otherwise(0))
    raw_record = F.coalesce(
        F.col(CORRUPT_RECORD), F.concat_ws(",", *(_csv_field(n) for n in contract.RAW_COLUMNS))
    )
    rejected = F.col(REASON).isNotNull()
    return typed.withColumn(REASON, reason).select(
        REASON,
        F.when(rejected, raw_record).alias(RAW_RECORD),
        F.when(rejected, F.col(SOURCE_FILE)).alias(SOURCE_FILE),
        F.when(rejected, missing_mask).alias(MISSING_MASK),
        event_time.alias("event_time"),
        F.col(_USER).alias("user_id"),
        "session_id",
        "event_type",
        "product_id",
        "category",
        price.alias("price"),
        quantity.alias("quantity"),
    )


_TIME, _USER, _PRICE, _EXACT_PRICE, _QUANTITY = (
    f"_typed_{name}" for name in ("time", "user", "price", "exact_price", "quantity")
)
"""classify_rows' columns of typed values, before they take the raw columns' names."""


def _any(conditions) -> Column:
    result = F.lit(False)
    for condition in conditions:
        result = result | condition
    return result


def deduplicate(classified: DataFrame, partitions: int | None = None) -> DataFrame:
    """Identical rows grouped into one, ``COPIES`` counting them: the job's one shuffle.

    Valid rows are keyed by their eight typed values only (``RAW_RECORD`` and ``SOURCE_FILE`` are
    null for them): the same event recorded twice, whatever the spelling ("9.9" and "9.90" are one
    price), is a duplicate. Rejected rows are keyed by their line and file too, and never dropped:
    ``rejected_rows`` expands them back. With ``partitions``, rows are first hash-partitioned by
    ``user_id``, which every later per-user and per-session aggregate then reuses (no shuffle).
    """
    if partitions is not None:
        classified = classified.repartition(partitions, "user_id")
    keys = (REASON, RAW_RECORD, SOURCE_FILE, MISSING_MASK, *EVENT_COLUMNS)
    return classified.groupBy(*keys).agg(F.count(F.lit(1)).alias(COPIES))


def validate(raw: DataFrame, partition_date: dt.date, partitions: int | None = None) -> DataFrame:
    """``classify_rows`` then ``deduplicate``: the frame every output is computed from."""
    return deduplicate(classify_rows(raw, partition_date), partitions)


def clean_events(validated: DataFrame) -> DataFrame:
    """The valid events (one row per distinct valid raw row, with ``COPIES``)."""
    return validated.where(F.col(REASON).isNull()).select(*EVENT_COLUMNS, COPIES)


def rejected_rows(validated: DataFrame) -> DataFrame:
    """The ``rejected`` table: every invalid raw row (repeats included) with line, file, reason."""
    rejected = validated.where(F.col(REASON).isNotNull() & (F.col(REASON) != NOT_UTF8))
    repeated = rejected.withColumn("_copy", F.explode(F.sequence(F.lit(1), F.col(COPIES))))
    return conform(repeated, contract.REJECTED)


def row_counts(validated: DataFrame) -> DataFrame:
    """Per reason (null = valid): raw rows, rows missing each raw column, and one of its files.

    Small (one row per reason seen): the driver turns it into the quality summary.
    """
    copies = F.col(COPIES)
    missing = [
        F.sum(F.when(F.col(MISSING_MASK).bitwiseAND(1 << bit) != 0, copies).otherwise(0)).alias(
            name
        )
        for bit, name in enumerate(contract.RAW_COLUMNS)
    ]
    return validated.groupBy(REASON).agg(
        F.sum(copies).alias("rows"), F.min(SOURCE_FILE).alias(SOURCE_FILE), *missing
    )


# --- The summaries every table is derived from --------------------------------------------------
#
# The events are aggregated three times, each a single hash aggregation with fixed-width buffers
# (no distinct count, no sets): per session, per user and per (category, product, hour, event
# type) "cell". Every table, the session statistics and the event checks are then small
# aggregations of those, instead of each table scanning every event again.

SESSIONS_PER_USER = "sessions"
HOURS_MASK = "hours_mask"
"""Bit h set when the user or session has an event in hour h of the day (0-23)."""
AMBIGUOUS_SESSIONS = "ambiguous_sessions"
"""In ``session_checks``: sessions whose purchases-without-prior-event count the per-session
bounds cannot decide (see ``_orphans_if_decided``); ``ambiguous_orphan_purchases`` counts them."""


@dataclass(frozen=True)
class Aggregates:
    """The clean events and their three summaries (see the section comment)."""

    events: DataFrame
    sessions: DataFrame
    """One row per (user_id, session_id): events, duplicates, purchases, negative purchases,
    revenue, first non-purchase time, first and last purchase time, ``HOURS_MASK``."""
    users: DataFrame
    """One row per user_id: user_behavior's columns plus ``HOURS_MASK``."""
    cells: DataFrame
    """One row per (category, product_id, hour, event_type): events and purchase revenue."""


def aggregate(
    events: DataFrame, keep: Callable[[DataFrame], DataFrame] = lambda frame: frame
) -> Aggregates:
    """The three summaries of ``events``; ``keep`` wraps each one (the job persists them, since
    several tables read each)."""
    sessions = keep(_per_session(events))
    return Aggregates(events, sessions, keep(_per_user(events, sessions)), keep(_cells(events)))


def _hour_bit() -> Column:
    return F.call_function("shiftleft", F.lit(1).cast("BIGINT"), F.hour("event_time"))


def _per_session(events: DataFrame) -> DataFrame:
    purchase = _is_purchase()
    purchase_time = F.when(purchase, F.col("event_time"))
    return events.groupBy("user_id", "session_id").agg(
        F.count(F.lit(1)).alias("events"),
        F.sum(F.col(COPIES) - 1).alias("duplicates"),
        F.count_if(purchase).alias("purchases"),
        F.count_if(purchase & (F.col("price") * F.col("quantity") < 0)).alias("negative"),
        _purchase_revenue_sum().alias("revenue"),
        F.min(F.when(~purchase, F.col("event_time"))).alias("first_prior"),
        F.min(purchase_time).alias("first_purchase"),
        F.max(purchase_time).alias("last_purchase"),
        F.bit_or(_hour_bit()).alias(HOURS_MASK),
    )


def _per_user(events: DataFrame, sessions: DataFrame) -> DataFrame:
    """Sums over the user's sessions, joined with the user's sorted distinct categories (from the
    distinct (user, category) pairs: a few per user, so the list stays short). Both sides keep
    the events' partitioning by user_id: the join shuffles nothing."""
    totals = sessions.groupBy("user_id").agg(
        F.sum("events").alias("total_events"),
        F.count(F.lit(1)).alias(SESSIONS_PER_USER),
        F.sum("revenue").alias("total_spent"),
        F.bit_or(HOURS_MASK).alias(HOURS_MASK),
    )
    pairs = events.select("user_id", "category").distinct()
    categories = pairs.groupBy("user_id").agg(
        F.sort_array(F.collect_list("category")).alias("categories_viewed")
    )
    return totals.join(categories, "user_id")


def _cells(events: DataFrame) -> DataFrame:
    return events.groupBy(
        "category", "product_id", F.hour("event_time").alias("hour"), "event_type"
    ).agg(F.count(F.lit(1)).alias("events"), _purchase_revenue_sum().alias("revenue"))


def _orphans_if_decided() -> Column:
    """A session's purchases with no view or add_to_cart at or before them, when its bounds
    decide it: none without purchases or when the first purchase is not before the first other
    event; all when there is no other event or the last purchase is before it. Otherwise NULL
    (some purchases before the first other event, some not): ``ambiguous_orphan_purchases``."""
    first_prior, purchases = F.col("first_prior"), F.col("purchases")
    return (
        F.when(purchases == 0, F.lit(0).cast("BIGINT"))
        .when(first_prior.isNull() | (F.col("last_purchase") < first_prior), purchases)
        .when(F.col("first_purchase") >= first_prior, F.lit(0).cast("BIGINT"))
    )


def session_checks(aggregates: Aggregates) -> DataFrame:
    """One row: rows_valid, duplicates_dropped, negative_revenue, the
    purchases_without_prior_event that the session bounds decide, and ``AMBIGUOUS_SESSIONS``.

    A purchase counts as without prior event when its session has no view or add_to_cart at or
    before it (a same-second event counts as before: timestamps have whole seconds and their
    order within a second is unknown)."""
    orphans = F.col("_orphans")
    totals = aggregates.sessions.select("*", _orphans_if_decided().alias("_orphans")).agg(
        F.sum("events").alias(contract.QUALITY_ROWS_VALID),
        F.sum("duplicates").alias(contract.QUALITY_DUPLICATES_DROPPED),
        F.sum("negative").alias(contract.QUALITY_NEGATIVE_REVENUE),
        F.sum(orphans).alias(contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT),
        F.count_if(orphans.isNull()).alias(AMBIGUOUS_SESSIONS),
    )
    return totals.select(*(F.coalesce(c, F.lit(0)).cast("BIGINT").alias(c) for c in totals.columns))


def ambiguous_orphan_purchases(aggregates: Aggregates) -> DataFrame:
    """One row, one column ``purchases_without_prior_event``: the exact count for the sessions
    ``session_checks`` leaves undecided (a join of their purchases; rare in real traffic, so the
    job runs it only when ``AMBIGUOUS_SESSIONS`` > 0: ecommerce_etl.event_checks)."""
    ambiguous = aggregates.sessions.where(_orphans_if_decided().isNull()).select(
        "user_id", "session_id", "first_prior"
    )
    purchases = aggregates.events.where(_is_purchase()).select(
        "user_id", "session_id", "event_time"
    )
    orphans = purchases.join(ambiguous, ["user_id", "session_id"]).where(
        F.col("event_time") < F.col("first_prior")
    )
    return orphans.agg(
        F.count(F.lit(1)).cast("BIGINT").alias(contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT)
    )


# --- The four tables ------------------------------------------------------------------------------


def _is_purchase() -> Column:
    return F.col("event_type") == contract.PURCHASE_EVENT


def _events_of(event_type: str) -> Column:
    """Over cells: the events of one type (0 when none)."""
    return F.sum(F.when(F.col("event_type") == event_type, F.col("events")).otherwise(0))


def _purchase_revenue_sum() -> Column:
    """Sum of price * quantity over the purchases, 0 when there are none: exact DECIMAL
    arithmetic, never a float. The other events add NULL, which a sum skips, rather than a
    DECIMAL zero: most events are not purchases, and a wide DECIMAL addition is costly."""
    revenue = F.when(_is_purchase(), F.col("price") * F.col("quantity"))
    return F.coalesce(F.sum(revenue), F.lit(0).cast(contract.PRICE_TYPE))


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
    stages = spark.createDataFrame(
        list(enumerate(contract.EVENT_TYPES)), "stage_order INT, event_type STRING"
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
