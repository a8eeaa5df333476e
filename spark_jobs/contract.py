"""The data contract: raw columns, output tables and their column types.

One definition, loaded by the Spark job (driver side), the validation sensor and the report.
It is plain Python on purpose: importing it needs neither pyspark nor pyarrow, so DAG parsing
stays cheap and the module ships to a cluster as it is.

Types are written in Spark SQL's DDL spelling (``BIGINT``, ``DECIMAL(20,2)``,
``ARRAY<STRING>``); the Spark job builds its schemas from them and the validator maps them to
Arrow types.
"""

from __future__ import annotations

import fnmatch
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
"""Which files of a raw partition are input. Case matters, on purpose: Hadoop and Spark pick
the decompression codec by the exact suffix ``.gz``, so ``DAY.CSV.GZ`` would be read as bytes;
``EXTRA.CSV`` is left out and named, never renamed behind anybody's back."""


LANDING_READY_MARKER = "_READY"
"""Written last by the collector into a landing day: the day is complete (see
include/ecommerce/landing.py). Not data: the upload names it and leaves it out."""


def input_file_problem(name: str) -> str | None:
    """The one rule for input files, used by the upload (landing) and the job (raw partition):
    None when ``name`` is input, else why it is left out."""
    if name == LANDING_READY_MARKER:
        return "the collector's marker that the day is complete (not data)"
    if name.startswith("."):
        return "hidden file (leading '.')"
    if name.startswith("_"):
        return "hidden from Hadoop readers (leading '_')"
    if name.endswith((".part", ".tmp", ".crdownload")) or ".part." in name:
        return "in-progress file (.part/.tmp)"
    if any(fnmatch.fnmatchcase(name, pattern) for pattern in RAW_FILE_GLOBS):
        return None
    if any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in RAW_FILE_GLOBS):
        return "upper-case extension: input files end in lower-case .csv or .csv.gz (rename it)"
    return f"not an input file ({' or '.join(RAW_FILE_GLOBS)})"


SUCCESS_MARKER = "_SUCCESS"
"""Written last into a processed partition, after every table is in place."""


# --- Processed partition layout ----------------------------------------------------------------

# Names beside a partition (staging, lease, aside, attempts): spark_jobs/handover.py.


QUALITY_JSON = "quality.json"
"""The partition's data-quality summary as JSON (keys: the ``QUALITY_*`` names below)."""


# --- Row-level validation ------------------------------------------------------------------------
# Every raw row ends up valid, rejected with exactly one reason, or dropped as an exact duplicate
# of a valid row (same eight parsed values). The first reason that matches, in the order of
# REJECT_REASONS, wins.

REJECT_WRONG_FIELD_COUNT = "wrong_field_count"
"""The line does not split into exactly eight fields."""
REJECT_MISSING_FIELD = "missing_field"
"""A required field other than quantity is absent, empty or blank."""
REJECT_UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
"""``timestamp`` does not match ``TIMESTAMP_FORMAT`` or is not a real date and time."""
REJECT_TIMESTAMP_OUTSIDE_PARTITION = "timestamp_outside_partition"
"""``timestamp``'s date is not the partition date."""
REJECT_UNKNOWN_EVENT_TYPE = "unknown_event_type"
"""``event_type`` is not one of ``EVENT_TYPES`` (case-sensitive)."""
REJECT_INVALID_USER_ID = "invalid_user_id"
"""``user_id`` is not an integer that fits in a BIGINT."""
REJECT_INVALID_PRICE = "invalid_price"
"""``price`` is not a number, is negative, has more than two decimals or does not fit
``PRICE_TYPE``."""
REJECT_INVALID_QUANTITY = "invalid_quantity"
"""``quantity`` is missing, not an integer, or smaller than 1."""

REJECT_REASONS: tuple[str, ...] = (
    REJECT_WRONG_FIELD_COUNT,
    REJECT_MISSING_FIELD,
    REJECT_UNPARSEABLE_TIMESTAMP,
    REJECT_TIMESTAMP_OUTSIDE_PARTITION,
    REJECT_UNKNOWN_EVENT_TYPE,
    REJECT_INVALID_USER_ID,
    REJECT_INVALID_PRICE,
    REJECT_INVALID_QUANTITY,
)
"""Every reason a row can be rejected for, in precedence order (the first match wins)."""

DEFAULT_MAX_REJECT_RATIO = 0.05
"""Above this share of rejected rows the four tables and ``_SUCCESS`` are not published."""


# --- The quality summary (quality.json and the ``quality`` table share these names) ------------

QUALITY_PARTITION_DATE = "partition_date"
QUALITY_ROWS_READ = "rows_read"
"""Data rows in all input files (headers excluded): rows_valid + rows_rejected +
duplicates_dropped."""
QUALITY_ROWS_VALID = "rows_valid"
"""Distinct valid rows: the input of the four tables."""
QUALITY_ROWS_REJECTED = "rows_rejected"
QUALITY_REJECTED_BY_REASON = "rejected_by_reason"
"""``{reason: rows}`` with every reason of ``REJECT_REASONS`` present (0 when none)."""
QUALITY_DUPLICATES_DROPPED = "duplicates_dropped"
"""Valid rows dropped because an identical valid row was kept."""
QUALITY_REJECT_RATIO = "reject_ratio"
"""rows_rejected / rows_read (0.0 when nothing was read)."""
QUALITY_MAX_REJECT_RATIO = "max_reject_ratio"
QUALITY_PUBLISHED = "published"
"""Whether the four tables (with ``EXTRA_TABLES``) and ``_SUCCESS`` were published
(reject_ratio <= max_reject_ratio)."""
QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT = "purchases_without_prior_event"
"""Valid purchases with no view or add_to_cart at or before them in the same (user, session):
counted, not rejected."""
QUALITY_NEGATIVE_REVENUE = "negative_revenue"
"""Valid purchases with price * quantity < 0 (0 by construction: a guard, as the seed asks)."""
QUALITY_NULL_COUNTS = "null_counts"
"""``{raw column: rows where it is absent, empty or blank}`` over all rows read."""

QUALITY_FIELDS: tuple[str, ...] = (
    QUALITY_PARTITION_DATE,
    QUALITY_ROWS_READ,
    QUALITY_ROWS_VALID,
    QUALITY_ROWS_REJECTED,
    QUALITY_REJECTED_BY_REASON,
    QUALITY_DUPLICATES_DROPPED,
    QUALITY_REJECT_RATIO,
    QUALITY_MAX_REJECT_RATIO,
    QUALITY_PUBLISHED,
    QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT,
    QUALITY_NEGATIVE_REVENUE,
    QUALITY_NULL_COUNTS,
)
"""The keys of quality.json, in order; also the columns of the ``quality`` table."""

# --- How the job reports failure (read by the DAG's operator) -----------------------------------

JOB_ERROR_PREFIX = "error: "
"""A failing job's last line on stderr: ``error: <path or partition>: <problem>``."""
JOB_EXIT_INPUT_ERROR = 2
"""The input is unusable (missing folder, no files, empty file, wrong header or delimiter, not
UTF-8, truncated gzip) or the arguments are wrong: rerunning will not help."""
JOB_EXIT_TOO_MANY_REJECTS = 3
"""reject_ratio > max_reject_ratio: the published day is left as it was; rejected rows and the
quality summary go to the attempt's own folder (``handover.attempt_path``), named in the error
line."""
JOB_EXIT_PARTITION_BUSY = 4
"""Another writer held the day's lease for longer than the job waited: worth a retry."""


# --- Output tables: each declared once, here -----------------------------------------------------
# A table's declaration says everything the rest of the project needs: its columns and types,
# which function builds it, the order its rows are written in, and where the reports show it
# under which title. The job, the validation, both reports, the DuckDB cross-check and the tests
# iterate these declarations; docs/contributing.md says how to add one.

CORE = "core"
"""One of the brief's four tables: published only under the reject threshold, always validated
and reported."""
EXTRA = "extra"
"""An extra analysis: built from the same summaries and published with the four (never over the
threshold); validated when present (older days do not have it)."""
EVIDENCE = "evidence"
"""What the job found in the input (rejected rows, the quality summary): published on every run,
over the threshold too, for inspection."""
TABLE_KINDS: tuple[str, ...] = (CORE, EXTRA, EVIDENCE)

REPORT_TEXT = "text"
"""Shown in report.txt (and, numbered, in report.html)."""
REPORT_HTML = "html"
"""Shown in report.html."""
REPORT_FORMATS: tuple[str, ...] = (REPORT_TEXT, REPORT_HTML)

REPORT_TOP_USERS = 5
"""The reports show user_behavior as its top users by revenue, this many."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL DDL type


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    description: str
    kind: str
    """``CORE``, ``EXTRA`` or ``EVIDENCE``."""
    title: str
    """The heading the reports show it under."""
    builder: str | None
    """``"module:function"`` building it from the events' summaries (``transforms.Aggregates``),
    resolved by ``load_builder`` in the job only, so importing the contract never imports
    pyspark. None for the evidence tables, which the job builds from the validated rows and the
    quality summary itself."""
    write_order: tuple[str, ...]
    """Rows are written sorted by these columns so reruns give identical files; ``()`` keeps the
    order the builder gives (one row, or already in order)."""
    reports: tuple[str, ...]
    """Where the reports show it: ``REPORT_TEXT`` and/or ``REPORT_HTML``; ``()`` = nowhere."""

    def __post_init__(self) -> None:
        if self.kind not in TABLE_KINDS:
            raise ValueError(f"table {self.name!r}: kind {self.kind!r} is not one of {TABLE_KINDS}")
        if (self.builder is None) != (self.kind == EVIDENCE):
            raise ValueError(f"table {self.name!r}: a builder is needed exactly when not evidence")
        unknown = [column for column in self.write_order if column not in self.column_names]
        if unknown:
            raise ValueError(f"table {self.name!r}: write_order names unknown columns {unknown}")
        if not set(self.reports) <= set(REPORT_FORMATS):
            raise ValueError(f"table {self.name!r}: reports must be among {REPORT_FORMATS}")

    @property
    def core(self) -> bool:
        return self.kind == CORE

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def ddl(self) -> str:
        """``name TYPE, ...``: usable as a Spark schema string."""
        return ", ".join(f"{column.name} {column.type}" for column in self.columns)

    def load_builder(self):  # -> Callable[[transforms.Aggregates], DataFrame]
        """The builder function (imports its module, hence pyspark: call it in the job only)."""
        import importlib

        if self.builder is None:
            raise ValueError(f"table {self.name!r} has no builder: the job builds it itself")
        module, _, function = self.builder.partition(":")
        return getattr(importlib.import_module(module), function)


TABLES: dict[str, Table] = {}
"""Every table the job publishes, by name, in declaration order (the README's order)."""


def declare(
    name: str,
    description: str,
    *columns: tuple[str, str],
    kind: str,
    title: str,
    builder: str | None,
    write_order: tuple[str, ...] = (),
    reports: tuple[str, ...] = (),
) -> Table:
    """Declare a published table (added to ``TABLES``); returns it for assignment."""
    if name in TABLES:
        raise ValueError(f"table {name!r} is declared twice")
    table = Table(
        name,
        tuple(Column(n, t) for n, t in columns),
        description,
        kind,
        title,
        builder,
        write_order,
        reports,
    )
    TABLES[name] = table
    return table


_BUILDERS = "spark_jobs.transforms.tables"
_BOTH_REPORTS = (REPORT_TEXT, REPORT_HTML)

CATEGORY_STATS = declare(
    "category_stats",
    "Per category: all events, distinct users, purchase revenue, purchase events.",
    ("category", "STRING"),
    ("total_events", "BIGINT"),
    ("unique_users", "BIGINT"),
    ("total_revenue", MONEY_TYPE),
    ("purchases", "BIGINT"),
    kind=CORE,
    title="Category Performance",
    builder=f"{_BUILDERS}:category_stats",
    write_order=("category",),
    reports=_BOTH_REPORTS,
)
HOURLY_ACTIVITY = declare(
    "hourly_activity",
    "Per hour of day (0-23) that has events: events and distinct users.",
    ("hour", "INT"),
    ("events", "BIGINT"),
    ("active_users", "BIGINT"),
    kind=CORE,
    title="Hourly Activity",
    builder=f"{_BUILDERS}:hourly_activity",
    write_order=("hour",),
    reports=_BOTH_REPORTS,
)
FUNNEL = declare(
    "funnel",
    "Events per funnel stage, every stage present (0 when it has none).",
    ("event_type", "STRING"),
    ("count", "BIGINT"),
    kind=CORE,
    title="Event Funnel",
    builder=f"{_BUILDERS}:funnel",
    write_order=(),  # already in stage order, in one partition
    reports=_BOTH_REPORTS,
)
USER_BEHAVIOR = declare(
    "user_behavior",
    "Per user: events, distinct sessions, purchase revenue, sorted distinct categories.",
    ("user_id", "BIGINT"),
    ("total_events", "BIGINT"),
    ("sessions", "BIGINT"),
    ("total_spent", MONEY_TYPE),
    ("categories_viewed", "ARRAY<STRING>"),
    kind=CORE,
    title=f"Top {REPORT_TOP_USERS} Users by Revenue",
    builder=f"{_BUILDERS}:user_behavior",
    write_order=("user_id",),
    reports=_BOTH_REPORTS,
)

# Extra analyses (the seed's challenges), published beside the four. Computed from the same
# clean events as the four tables and published with them (never on a day over the reject
# threshold). Event counts are of distinct valid events, as in the four.

PRODUCT_CONVERSION = declare(
    "product_conversion",
    "Per (product_id, category) seen in the valid events: events per funnel stage and the "
    "stage-to-stage rates (NULL when the denominator is 0). Keyed by both columns: nothing "
    "stops a product from appearing under two categories, and merging them would hide it.",
    ("product_id", "STRING"),
    ("category", "STRING"),
    ("views", "BIGINT"),
    ("add_to_carts", "BIGINT"),
    ("purchases", "BIGINT"),
    ("view_to_cart_rate", "DOUBLE"),
    ("cart_to_purchase_rate", "DOUBLE"),
    ("view_to_purchase_rate", "DOUBLE"),
    kind=EXTRA,
    title="Product Conversion (view → add to cart → purchase)",
    builder=f"{_BUILDERS}:product_conversion",
    write_order=("product_id", "category"),
    reports=(REPORT_HTML,),
)
"""view_to_cart_rate = add_to_carts / views, cart_to_purchase_rate = purchases / add_to_carts,
view_to_purchase_rate = purchases / views. A rate may exceed 1 (three carts after one view)."""
HOURLY_REVENUE = declare(
    "hourly_revenue",
    "Per hour of day that has events (the hours of hourly_activity): purchase events and "
    "purchase revenue (0 and 0.00 for an hour without purchases).",
    ("hour", "INT"),
    ("purchases", "BIGINT"),
    ("revenue", MONEY_TYPE),
    kind=EXTRA,
    title="Revenue by Hour",
    builder=f"{_BUILDERS}:hourly_revenue",
    write_order=("hour",),
    reports=(REPORT_HTML,),
)
SESSION_STATS = declare(
    "session_stats",
    "One row: sessions (distinct (user_id, session_id) pairs, as user_behavior counts them "
    "per user), mean and exact median events per session, share of sessions with a purchase.",
    ("sessions", "BIGINT"),
    ("avg_events_per_session", "DOUBLE"),
    ("median_events_per_session", "DOUBLE"),
    ("purchase_session_share", "DOUBLE"),
    kind=EXTRA,
    title="Sessions",
    builder=f"{_BUILDERS}:session_stats",
    write_order=(),  # one row
    reports=(REPORT_HTML,),
)
"""A session id reused by two users counts as two sessions. The median is exact (Spark's
``median``: the middle value, or the mean of the two middle values for an even count)."""

# Evidence: published on every run, over the reject threshold too.

REJECTED = declare(
    "rejected",
    "Raw rows that failed validation: the record as read, its file and the reason.",
    ("raw_record", "STRING"),
    ("source_file", "STRING"),
    ("reason", "STRING"),
    kind=EVIDENCE,
    title="Rejected rows",
    builder=None,  # transforms.tables.rejected_rows, from the validated rows
    write_order=("source_file", "raw_record"),
)
QUALITY = declare(
    "quality",
    "One row: the partition's data-quality summary (the same values as quality.json).",
    (QUALITY_PARTITION_DATE, "DATE"),
    (QUALITY_ROWS_READ, "BIGINT"),
    (QUALITY_ROWS_VALID, "BIGINT"),
    (QUALITY_ROWS_REJECTED, "BIGINT"),
    (QUALITY_REJECTED_BY_REASON, "MAP<STRING,BIGINT>"),
    (QUALITY_DUPLICATES_DROPPED, "BIGINT"),
    (QUALITY_REJECT_RATIO, "DOUBLE"),
    (QUALITY_MAX_REJECT_RATIO, "DOUBLE"),
    (QUALITY_PUBLISHED, "BOOLEAN"),
    (QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT, "BIGINT"),
    (QUALITY_NEGATIVE_REVENUE, "BIGINT"),
    (QUALITY_NULL_COUNTS, "MAP<STRING,BIGINT>"),
    kind=EVIDENCE,
    title="Data quality",
    builder=None,  # the job's quality summary (quality.summarize), one row
    reports=_BOTH_REPORTS,  # from quality.json: the same values
)


def tables_of(kind: str) -> tuple[Table, ...]:
    """The declared tables of one kind, in declaration order."""
    if kind not in TABLE_KINDS:
        raise ValueError(f"kind {kind!r} is not one of {TABLE_KINDS}")
    return tuple(table for table in TABLES.values() if table.kind == kind)


CORE_TABLES: tuple[Table, ...] = tables_of(CORE)
"""The brief's four tables, in report order."""
EXTRA_TABLES: tuple[Table, ...] = tables_of(EXTRA)
"""Published with the four core tables, under the same rules; the HTML report shows them."""
BUILT_TABLES: tuple[Table, ...] = tuple(table for table in TABLES.values() if table.builder)
"""The tables built from the events' summaries (core and extra): published only under the
threshold."""
