"""The data contract: raw columns, output tables and their column types.

One definition, loaded by the Spark job (driver side), the validation sensor and the report.
It is plain Python on purpose: importing it needs neither pyspark nor pyarrow, so DAG parsing
stays cheap and the module ships to a cluster as it is.

Types are written in Spark SQL's DDL spelling (``BIGINT``, ``DECIMAL(20,2)``,
``ARRAY<STRING>``); the Spark job builds its schemas from them and the validator maps them to
Arrow types.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- Raw input -------------------------------------------------------------------------------

RAW_COLUMNS: tuple[str, ...] = (
    "timestamp",
    "user_id",
    "session_id",
    "event_type",
    "product_id",
    "category",
    "price",
    "quantity",
)
TIMESTAMP_FORMAT = "yyyy-MM-dd HH:mm:ss"
"""Spark datetime pattern of the raw ``timestamp`` column (no zone: wall-clock time)."""

EVENT_TYPES: tuple[str, ...] = ("view", "add_to_cart", "purchase")
"""The funnel's stages, in funnel order."""
PURCHASE_EVENT = "purchase"

PRICE_TYPE = "DECIMAL(12,2)"
"""Unit price: exact, two decimals. Money is never a float."""
MONEY_TYPE = "DECIMAL(20,2)"
"""Sums of money (price * quantity over many rows)."""

RAW_FILE_GLOBS: tuple[str, ...] = ("*.csv", "*.csv.gz")
"""Which files of a raw partition are input."""


# --- Output tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL DDL type


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str
    core: bool = True
    """One of the brief's four tables: always published, validated and reported."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def ddl(self) -> str:
        """``name TYPE, ...``: usable as a Spark schema string."""
        return ", ".join(f"{column.name} {column.type}" for column in self.columns)


def _table(name: str, description: str, *columns: tuple[str, str], core: bool = True) -> Table:
    return Table(name, tuple(Column(n, t) for n, t in columns), description, core)


CATEGORY_STATS = _table(
    "category_stats",
    "Per category: all events, distinct users, purchase revenue, purchase events.",
    ("category", "STRING"),
    ("total_events", "BIGINT"),
    ("unique_users", "BIGINT"),
    ("total_revenue", MONEY_TYPE),
    ("purchases", "BIGINT"),
)
HOURLY_ACTIVITY = _table(
    "hourly_activity",
    "Per hour of day (0-23) that has events: events and distinct users.",
    ("hour", "INT"),
    ("events", "BIGINT"),
    ("active_users", "BIGINT"),
)
FUNNEL = _table(
    "funnel",
    "Events per funnel stage, every stage present (0 when it has none).",
    ("event_type", "STRING"),
    ("count", "BIGINT"),
)
USER_BEHAVIOR = _table(
    "user_behavior",
    "Per user: events, distinct sessions, purchase revenue, sorted distinct categories.",
    ("user_id", "BIGINT"),
    ("total_events", "BIGINT"),
    ("sessions", "BIGINT"),
    ("total_spent", MONEY_TYPE),
    ("categories_viewed", "ARRAY<STRING>"),
)

CORE_TABLES: tuple[Table, ...] = (CATEGORY_STATS, HOURLY_ACTIVITY, FUNNEL, USER_BEHAVIOR)
"""The brief's four tables, in report order."""

TABLES: dict[str, Table] = {table.name: table for table in CORE_TABLES}
"""Every table the job publishes, by name. Later tables register themselves here."""


def register(table: Table) -> Table:
    """Add a (non-core) table to ``TABLES``; returns it for assignment."""
    if table.name in TABLES:
        raise ValueError(f"table {table.name!r} is defined twice")
    TABLES[table.name] = table
    return table


SUCCESS_MARKER = "_SUCCESS"
"""Written last into a processed partition, after every table is in place."""


# --- Processed partition layout ----------------------------------------------------------------

STAGING_PREFIX = "_staging-"
"""A run writes into ``<parent>/_staging-<partition folder name>-<run id>`` next to the
partition, then renames it into place. The leading underscore makes Spark, Hadoop and pyarrow
readers skip it; the partition's folder name in it lets a rerun clean that date's leftovers."""


# --- The job's exit interface (read by the DAG's operator) ------------------------------------
JOB_ERROR_PREFIX = "error: "
"""The job's one-line verdict on stderr starts with this: ``error: <path>: <problem>``."""
JOB_EXIT_INPUT_ERROR = 2
"""A file-level input problem or bad arguments: retrying cannot help."""
JOB_EXIT_TOO_MANY_REJECTS = 3
"""Rejected rows above ``--max-reject-ratio``: the day is not published; retrying cannot help."""


# --- How the job reports failure (read by the DAG's operator) -----------------------------------

JOB_ERROR_PREFIX = "error: "
"""A failing job's last line on stderr: ``error: <path or partition>: <problem>``."""
JOB_EXIT_INPUT_ERROR = 2
"""The input is unusable (missing folder, no files, empty file, wrong header or delimiter, not
UTF-8, truncated gzip) or the arguments are wrong: rerunning will not help."""
JOB_EXIT_TOO_MANY_REJECTS = 3
"""reject_ratio > max_reject_ratio: rejected rows and the quality summary are published for
inspection, the four tables and _SUCCESS are not."""
