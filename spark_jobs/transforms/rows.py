"""Row-level validation: raw CSV rows (all STRING) to typed rows, each valid or rejected with
one reason, identical rows counted once; then the clean events and the per-reason counts.

Pure DataFrame -> DataFrame functions on Spark built-ins (see the package docstring).
"""

from __future__ import annotations

import datetime as dt
import re

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

EVENT_COLUMNS: tuple[str, ...] = tuple(
    "event_time" if name == "timestamp" else name for name in contract.RAW_COLUMNS
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


def _blank(column: str) -> Column:
    return F.col(column).isNull() | (F.trim(F.col(column)) == "")


def _csv_field(column: str) -> Column:
    """A parsed field written back as CSV: quoted (quotes doubled) when it needs to be."""
    value = F.coalesce(F.col(column), F.lit(""))
    quoted = F.concat(F.lit('"'), F.regexp_replace(value, '"', '""'), F.lit('"'))
    return F.when(value.rlike('[",\r\n]'), quoted).otherwise(value)


TIMESTAMP_SHAPE = re.sub("[A-Za-z]", "0", contract.TIMESTAMP_FORMAT)
"""``contract.TIMESTAMP_FORMAT`` with every pattern letter written as 0: the shape of a timestamp
whose digits are all 0, ``0000-00-00 00:00:00``."""
_DIGITS = "0123456789"


def parse_timestamp(text: Column) -> Column:
    """``text`` read as ``contract.TIMESTAMP_FORMAT``, NULL when it is not one or not a real
    date and time: the same reading as ``try_to_timestamp(text, TIMESTAMP_FORMAT)``
    (tests/unit/test_validation_transform.py compares them on awkward spellings), about 1 CPU s per 2M
    rows cheaper. The exact shape is checked first (every digit mapped to 0 by one
    ``translate``: length, separators and digits in one pass, no regular expression), then
    Spark's own cast parser reads it; for this shape the cast's ISO reading is the format's.
    """
    shaped = F.translate(text, _DIGITS, "0" * len(_DIGITS)) == F.lit(TIMESTAMP_SHAPE)
    return F.when(shaped, text.try_cast("TIMESTAMP"))


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
        parse_timestamp(F.col("timestamp")).alias(_TIME),
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
        classified = by_user(classified, partitions)
    keys = (REASON, RAW_RECORD, SOURCE_FILE, MISSING_MASK, *EVENT_COLUMNS)
    return classified.groupBy(*keys).agg(F.count(F.lit(1)).alias(COPIES))


def by_user(classified: DataFrame, partitions: int) -> DataFrame:
    """``classified`` hash-partitioned by ``user_id`` into ``partitions``: the job's one shuffle."""
    return classified.repartition(partitions, "user_id")


def validate(raw: DataFrame, partition_date: dt.date, partitions: int | None = None) -> DataFrame:
    """``classify_rows`` then ``deduplicate``: the frame every output is computed from."""
    return deduplicate(classify_rows(raw, partition_date), partitions)


def clean_events(validated: DataFrame) -> DataFrame:
    """The valid events (one row per distinct valid raw row, with ``COPIES``)."""
    return validated.where(F.col(REASON).isNull()).select(*EVENT_COLUMNS, COPIES)


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
