"""Does a processed partition hold what the contract promises? Read it back and check.

Reading and checking are separate: ``read_partition`` fetches the Parquet files of each table
through WebHDFS (HdfsCLI, the client of Airflow's WebHDFSHook) into Arrow tables, and
``partition_problems`` checks those in memory, so the checks are unit-tested on hand-made
tables. The tables are small aggregates (thousands of rows at most), so reading them whole is
fine; raw rows never come here.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spark_jobs import contract
from spark_jobs.contract import (
    CATEGORY_STATS,
    CORE_TABLES,
    EVENT_TYPES,
    FUNNEL,
    HOURLY_ACTIVITY,
    PURCHASE_EVENT,
    SUCCESS_MARKER,
    USER_BEHAVIOR,
    Table,
)

if TYPE_CHECKING:
    from hdfs import Client


class OutputValidationError(RuntimeError):
    """A published partition breaks the contract; the message lists every problem found."""


@dataclass(frozen=True)
class PartitionContents:
    """The tables of one processed partition, read back."""

    processed_partition: str
    tables: Mapping[str, pa.Table]
    quality: Mapping[str, Any] | None = None
    """The job's ``quality.json``: rows read, valid, rejected by reason, duplicates..."""


# --- Reading ---------------------------------------------------------------------------------


def is_published(client: Client, processed_partition: str) -> bool:
    """``_SUCCESS`` is written last: before it exists, the partition is not ready to read."""
    return client.status(f"{processed_partition}/{SUCCESS_MARKER}", strict=False) is not None


def read_table(client: Client, folder: str) -> pa.Table:
    """All Parquet parts of one table folder (hidden ``_``/``.`` files skipped)."""
    parts = sorted(
        name
        for name in client.list(folder)
        if name.endswith(".parquet") and not name.startswith(("_", "."))
    )
    if not parts:
        raise OutputValidationError(f"{folder}: no Parquet file")
    pieces = []
    for name in parts:
        with client.read(f"{folder}/{name}") as reader:
            # One file, read as one: ``pq.read_table`` would go through ``pyarrow.dataset``,
            # whose import (pandas with it) cost a second of the sample day's validate_outputs.
            pieces.append(pq.ParquetFile(io.BytesIO(reader.read())).read())
    return pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]


def read_quality(client: Client, processed_partition: str) -> dict[str, Any] | None:
    path = f"{processed_partition}/{contract.QUALITY_JSON}"
    if client.status(path, strict=False) is None:
        return None
    with client.read(path) as reader:
        return json.loads(reader.read())


def read_partition(
    client: Client, processed_partition: str, tables: Iterable[Table] = CORE_TABLES
) -> PartitionContents:
    read = {}
    for table in tables:
        folder = f"{processed_partition}/{table.name}"
        if client.status(folder, strict=False) is None:
            raise OutputValidationError(f"{folder}: table folder is missing")
        read[table.name] = read_table(client, folder)
    return PartitionContents(processed_partition, read, read_quality(client, processed_partition))


# --- Checking ----------------------------------------------------------------------------------

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
_ARRAY = re.compile(r"ARRAY<(.+)>")
_SCALARS: dict[str, pa.DataType] = {
    "STRING": pa.string(),
    "BIGINT": pa.int64(),
    "INT": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "DATE": pa.date32(),
}


def arrow_type(ddl_type: str) -> pa.DataType:
    """The Arrow type Spark writes to Parquet for a contract (Spark DDL) type."""
    spelled = ddl_type.strip().upper()
    if spelled in _SCALARS:
        return _SCALARS[spelled]
    if decimal := _DECIMAL.fullmatch(spelled):
        return pa.decimal128(int(decimal[1]), int(decimal[2]))
    if array := _ARRAY.fullmatch(spelled):
        return pa.list_(arrow_type(array[1]))
    if spelled == "TIMESTAMP":
        return pa.timestamp("us", tz="UTC")
    raise ValueError(f"no Arrow type known for contract type {ddl_type!r}")


def _same_type(actual: pa.DataType, expected: pa.DataType) -> bool:
    if pa.types.is_list(expected) or pa.types.is_large_list(expected):
        return (pa.types.is_list(actual) or pa.types.is_large_list(actual)) and _same_type(
            actual.value_type, expected.value_type
        )
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual)
    return actual.equals(expected)


def schema_problems(table: Table, schema: pa.Schema) -> list[str]:
    """Columns missing, extra, out of order or of another type than the contract's."""
    expected = [(column.name, arrow_type(column.type)) for column in table.columns]
    if list(schema.names) != [name for name, _ in expected]:
        return [
            f"{table.name}: columns are {list(schema.names)}, expected {list(table.column_names)}"
        ]
    return [
        f"{table.name}.{name}: type {schema.field(name).type}, expected {expected_type}"
        for name, expected_type in expected
        if not _same_type(schema.field(name).type, expected_type)
    ]


def column_total(table: pa.Table, column: str) -> int | Decimal:
    """The sum of a numeric column (0 for an empty table)."""
    value = pc.sum(table[column]).as_py()
    return 0 if value is None else value


def funnel_counts(funnel: pa.Table) -> dict[str, int]:
    """The ``funnel`` table as ``{event_type: count}``."""
    return dict(zip(funnel["event_type"].to_pylist(), funnel["count"].to_pylist(), strict=True))


def _duplicates(table: pa.Table, column: str) -> int:
    return table.num_rows - len(pc.unique(table[column]))


def invariant_problems(tables: Mapping[str, pa.Table]) -> list[str]:
    """Cross-table totals and per-table rules; each problem states the numbers."""
    category_stats = tables[CATEGORY_STATS.name]
    hourly_activity = tables[HOURLY_ACTIVITY.name]
    funnel = tables[FUNNEL.name]
    user_behavior = tables[USER_BEHAVIOR.name]
    problems = []

    stages = funnel["event_type"].to_pylist()
    if stages != list(EVENT_TYPES):
        problems.append(f"funnel: stages are {stages}, expected {list(EVENT_TYPES)} in that order")

    hours = hourly_activity["hour"].to_pylist()
    if any(hour is None or not 0 <= hour <= 23 for hour in hours) or len(set(hours)) != len(hours):
        problems.append(f"hourly_activity: hours must be distinct values in 0-23, got {hours}")
    for table, key in ((category_stats, "category"), (user_behavior, "user_id")):
        if duplicates := _duplicates(table, key):
            problems.append(f"{key}: {duplicates} duplicate key(s)")

    event_totals = {
        "funnel count": column_total(funnel, "count"),
        "category_stats total_events": column_total(category_stats, "total_events"),
        "hourly_activity events": column_total(hourly_activity, "events"),
        "user_behavior total_events": column_total(user_behavior, "total_events"),
    }
    if len(set(event_totals.values())) != 1:
        problems.append(f"event totals disagree: {_describe(event_totals)}")

    revenue_totals = {
        "category_stats total_revenue": column_total(category_stats, "total_revenue"),
        "user_behavior total_spent": column_total(user_behavior, "total_spent"),
    }
    if len(set(revenue_totals.values())) != 1:
        problems.append(f"revenue totals disagree: {_describe(revenue_totals)}")

    purchases = {
        "funnel purchase": funnel_counts(funnel).get(PURCHASE_EVENT, 0),
        "category_stats purchases": column_total(category_stats, "purchases"),
    }
    if len(set(purchases.values())) != 1:
        problems.append(f"purchase counts disagree: {_describe(purchases)}")

    for table_name, column in (
        (CATEGORY_STATS.name, "total_revenue"),
        (USER_BEHAVIOR.name, "total_spent"),
    ):
        lowest = pc.min(tables[table_name][column]).as_py()
        if lowest is not None and lowest < 0:
            problems.append(f"{table_name}.{column}: negative revenue ({lowest})")
    return problems


def quality_problems(
    quality: Mapping[str, Any] | None, tables: Mapping[str, pa.Table]
) -> list[str]:
    """The job's own accounting must add up, and agree with the tables it published."""
    if quality is None:
        return [f"{contract.QUALITY_JSON} is missing"]
    missing = [field for field in contract.QUALITY_FIELDS if field not in quality]
    if missing:
        return [f"{contract.QUALITY_JSON} lacks {missing}"]
    read, valid = quality[contract.QUALITY_ROWS_READ], quality[contract.QUALITY_ROWS_VALID]
    rejected = quality[contract.QUALITY_ROWS_REJECTED]
    duplicates = quality[contract.QUALITY_DUPLICATES_DROPPED]
    problems = []
    if read != valid + rejected + duplicates:
        problems.append(
            f"rows do not add up: rows_read={read} != rows_valid={valid} + "
            f"rows_rejected={rejected} + duplicates_dropped={duplicates}"
        )
    by_reason = sum(quality[contract.QUALITY_REJECTED_BY_REASON].values())
    if by_reason != rejected:
        problems.append(f"rejected_by_reason sums to {by_reason}, rows_rejected={rejected}")
    events = column_total(tables[FUNNEL.name], "count")
    if events != valid:
        problems.append(f"rows_valid={valid} but the funnel counts {events} events")
    if not quality[contract.QUALITY_PUBLISHED]:
        problems.append("quality.json says the day was not published, yet _SUCCESS exists")
    if quality[contract.QUALITY_NEGATIVE_REVENUE]:
        problems.append(
            f"{quality[contract.QUALITY_NEGATIVE_REVENUE]} purchase(s) with negative revenue"
        )
    return problems


def partition_problems(
    contents: PartitionContents, tables: Iterable[Table] = CORE_TABLES
) -> list[str]:
    """Everything wrong with a partition: schemas, emptiness, then (if schemas hold) totals."""
    problems = []
    for table in tables:
        arrow_table = contents.tables[table.name]
        problems += schema_problems(table, arrow_table.schema)
        if arrow_table.num_rows == 0:
            problems.append(f"{table.name}: no rows")
    if not problems:
        problems += invariant_problems(contents.tables)
        problems += quality_problems(contents.quality, contents.tables)
    return [f"{contents.processed_partition}: {problem}" for problem in problems]


def _describe(figures: Mapping[str, object]) -> str:
    return ", ".join(f"{name}={value}" for name, value in figures.items())
