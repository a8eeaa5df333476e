"""The summaries every table is derived from, and the event checks of the quality summary.

The events are aggregated three times, each a single hash aggregation with fixed-width buffers
(no distinct count, no sets): per session, per user and per (category, product, hour, event
type) "cell". Every table, the session statistics and the event checks are then small
aggregations of those, instead of each table scanning every event again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from spark_jobs import contract
from spark_jobs.transforms.rows import COPIES

SESSIONS_PER_USER = "sessions"
HOURS_MASK = "hours_mask"
"""Bit h set when the user or session has an event in hour h of the day (0-23)."""
CATEGORIES_MASK = "categories_mask"
"""Bit i set when the session or user has an event in the i-th of the day's sorted categories."""
MASK_CATEGORIES = 64
"""Most categories one BIGINT mask holds (bit 63 is the sign bit: set, the mask is negative, and
an arithmetic shift right still leaves 1 in bit 0)."""
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
    events: DataFrame,
    keep: Callable[[DataFrame], DataFrame] = lambda frame: frame,
    categories_of: Callable[[DataFrame], Sequence[str]] | None = None,
) -> Aggregates:
    """The three summaries of ``events``; ``keep`` wraps each one (the job persists them, since
    several tables read each).

    ``categories_of``: the day's distinct categories from the cells summary (the job collects
    ``day_categories``; an action, so the caller decides when it runs). Up to ``MASK_CATEGORIES`` of them, each session carries the categories it saw as bits of one
    BIGINT and the users' sorted lists are read from those bits: no per-(user, category) pass,
    no list aggregation, no join. Otherwise (not given, or more categories) the lists come from
    the distinct (user, category) pairs.
    """
    cells = keep(cells_of(events))
    mask_over = sorted(categories_of(cells)) if categories_of is not None else None
    if mask_over is not None and len(mask_over) > MASK_CATEGORIES:
        mask_over = None
    sessions = keep(_per_session(events, mask_over))
    return Aggregates(events, sessions, keep(_per_user(events, sessions, mask_over)), cells)


def day_categories(cells: DataFrame) -> DataFrame:
    """The day's distinct categories, from the cells summary (small: one row per category)."""
    return cells.select("category").distinct()


def _hour_bit() -> Column:
    return F.call_function("shiftleft", F.lit(1).cast("BIGINT"), F.hour("event_time"))


def _per_session(events: DataFrame, mask_over: list[str] | None) -> DataFrame:
    purchase = is_purchase()
    purchase_time = F.when(purchase, F.col("event_time"))
    category_bits = []
    if mask_over is not None:
        position = F.array_position(F.array(*(F.lit(c) for c in mask_over)), F.col("category"))
        bit = F.call_function("shiftleft", F.lit(1).cast("BIGINT"), (position - 1).cast("INT"))
        category_bits.append(F.bit_or(bit).alias(CATEGORIES_MASK))
    return events.groupBy("user_id", "session_id").agg(
        F.count(F.lit(1)).alias("events"),
        F.sum(F.col(COPIES) - 1).alias("duplicates"),
        F.count_if(purchase).alias("purchases"),
        F.count_if(purchase & (F.col("price") * F.col("quantity") < 0)).alias("negative"),
        purchase_revenue_sum().alias("revenue"),
        F.min(F.when(~purchase, F.col("event_time"))).alias("first_prior"),
        F.min(purchase_time).alias("first_purchase"),
        F.max(purchase_time).alias("last_purchase"),
        F.bit_or(_hour_bit()).alias(HOURS_MASK),
        *category_bits,
    )


def _per_user(events: DataFrame, sessions: DataFrame, mask_over: list[str] | None) -> DataFrame:
    """Sums over the user's sessions, and the user's sorted distinct categories: from the
    sessions' category bits when there are (``mask_over``, sorted), else joined from the
    distinct (user, category) pairs (a few per user, so the list stays short; both sides keep
    the events' partitioning by user_id: the join shuffles nothing)."""
    totals = sessions.groupBy("user_id").agg(
        F.sum("events").alias("total_events"),
        F.count(F.lit(1)).alias(SESSIONS_PER_USER),
        F.sum("revenue").alias("total_spent"),
        F.bit_or(HOURS_MASK).alias(HOURS_MASK),
        *([F.bit_or(CATEGORIES_MASK).alias(CATEGORIES_MASK)] if mask_over is not None else []),
    )
    if mask_over is not None:
        names = F.array(*(F.lit(c) for c in mask_over))
        return totals.select(
            "*", _set_bits(F.col(CATEGORIES_MASK), names).alias("categories_viewed")
        ).drop(CATEGORIES_MASK)
    pairs = events.select("user_id", "category").distinct()
    categories = pairs.groupBy("user_id").agg(
        F.sort_array(F.collect_list("category")).alias("categories_viewed")
    )
    return totals.join(categories, "user_id")


def _set_bits(mask: Column, values: Column) -> Column:
    """The elements of ``values`` whose position's bit (0 = lowest) is set in ``mask``, in the
    array's order."""
    return F.filter(values, lambda _, i: F.call_function("shiftright", mask, i).bitwiseAND(1) == 1)


def cells_of(events: DataFrame) -> DataFrame:
    """One row per (category, product_id, hour, event_type): events and purchase revenue."""
    return events.groupBy(
        "category", "product_id", F.hour("event_time").alias("hour"), "event_type"
    ).agg(F.count(F.lit(1)).alias("events"), purchase_revenue_sum().alias("revenue"))


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
    purchases = aggregates.events.where(is_purchase()).select("user_id", "session_id", "event_time")
    orphans = purchases.join(ambiguous, ["user_id", "session_id"]).where(
        F.col("event_time") < F.col("first_prior")
    )
    return orphans.agg(
        F.count(F.lit(1)).cast("BIGINT").alias(contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT)
    )


def is_purchase() -> Column:
    return F.col("event_type") == contract.PURCHASE_EVENT


def purchase_revenue_sum() -> Column:
    """Sum of price * quantity over the purchases, 0 when there are none: exact DECIMAL
    arithmetic, never a float. The other events add NULL, which a sum skips, rather than a
    DECIMAL zero: most events are not purchases, and a wide DECIMAL addition is costly."""
    revenue = F.when(is_purchase(), F.col("price") * F.col("quantity"))
    return F.coalesce(F.sum(revenue), F.lit(0).cast(contract.PRICE_TYPE))
