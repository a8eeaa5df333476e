"""Pure DataFrame -> DataFrame functions: raw rows to clean events, clean events to each table.

Nothing here reads or writes storage, so every function runs on a tiny hand-made frame in the
unit tests. Only Spark built-in functions are used (no Python UDFs): executors on a cluster do not
have this package, and built-ins stay inside the JVM.

- ``rows``: row-level validation (type, reject with a reason, count identical rows once), the
  clean events and the per-reason counts;
- ``summaries``: the three summaries of the events every table and event check is derived from;
- ``tables``: one builder per published table (named by its declaration in ``contract``), the
  ``rejected`` table and the order rows are written in.

The clean ``events`` frame has one row per distinct valid raw row: ``event_time`` TIMESTAMP
(the raw wall-clock time read in the session time zone, UTC), ``user_id`` BIGINT,
``session_id``, ``event_type``, ``product_id``, ``category`` STRING, ``price`` PRICE_TYPE,
``quantity`` INT, and ``copies`` (identical raw rows it stands for). It is summarised three
times (``aggregate``: per session, per user, per category/product/hour/event type), and every
table and event check is a small aggregation of those summaries.

The names below are the package's public surface, used by the job and the tests.
"""

from spark_jobs.transforms.rows import (
    COPIES,
    CORRUPT_RECORD,
    EVENT_COLUMNS,
    MISSING_MASK,
    NOT_UTF8,
    RAW_RECORD,
    REASON,
    SOURCE_FILE,
    by_user,
    classify_rows,
    clean_events,
    deduplicate,
    parse_timestamp,
    raw_schema,
    row_counts,
    validate,
)
from spark_jobs.transforms.summaries import (
    AMBIGUOUS_SESSIONS,
    HOURS_MASK,
    MASK_CATEGORIES,
    SESSIONS_PER_USER,
    Aggregates,
    aggregate,
    ambiguous_orphan_purchases,
    day_categories,
    session_checks,
)
from spark_jobs.transforms.tables import (
    category_stats,
    conform,
    for_writing,
    funnel,
    hourly_activity,
    hourly_revenue,
    product_conversion,
    rejected_rows,
    session_stats,
    user_behavior,
)

__all__ = [
    "AMBIGUOUS_SESSIONS",
    "COPIES",
    "CORRUPT_RECORD",
    "EVENT_COLUMNS",
    "HOURS_MASK",
    "MASK_CATEGORIES",
    "MISSING_MASK",
    "NOT_UTF8",
    "RAW_RECORD",
    "REASON",
    "SESSIONS_PER_USER",
    "SOURCE_FILE",
    "Aggregates",
    "aggregate",
    "ambiguous_orphan_purchases",
    "by_user",
    "category_stats",
    "classify_rows",
    "clean_events",
    "conform",
    "day_categories",
    "deduplicate",
    "for_writing",
    "funnel",
    "hourly_activity",
    "hourly_revenue",
    "parse_timestamp",
    "product_conversion",
    "raw_schema",
    "rejected_rows",
    "row_counts",
    "session_checks",
    "session_stats",
    "user_behavior",
    "validate",
]
