"""Do two engines' tables agree? Rows compared as sets (sorted), column by column.

Integers compare as integers whatever their width (Spark's inferred INT against BIGINT). Money
compares exactly (``Decimal``) between engines that keep it exact; against an engine that summed
floats (the naive job's inferred DOUBLE prices), both sides are rounded to cents first.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pyarrow as pa

from spark_jobs.contract import CORE_TABLES, Table

CENT = Decimal("0.01")
MAX_REPORTED_ROWS = 3


def _money_columns(table: Table) -> set[str]:
    return {column.name for column in table.columns if column.type.startswith("DECIMAL")}


def _cents(value: Any) -> Decimal | None:
    if value is None:
        return None
    # repr() of a float is its shortest exact-enough decimal spelling; round from there.
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return exact.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


def normalized_rows(data: pa.Table, table: Table, *, money_in_cents: bool) -> list[tuple]:
    """The contract's columns of ``data`` as sorted tuples of plain Python values."""
    money = _money_columns(table)
    columns = [data.column(name).to_pylist() for name in table.column_names]
    rows = []
    for values in zip(*columns, strict=True):
        rows.append(
            tuple(
                _cents(value) if money_in_cents and name in money else _plain(value)
                for name, value in zip(table.column_names, values, strict=True)
            )
        )
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def table_differences(
    reference: pa.Table, other: pa.Table, table: Table, *, money_in_cents: bool = False
) -> list[str]:
    """What differs between two versions of one table (empty when they agree)."""
    missing = [name for name in table.column_names if name not in other.column_names]
    if missing:
        return [f"{table.name}: missing columns {missing}"]
    left = normalized_rows(reference, table, money_in_cents=money_in_cents)
    right = normalized_rows(other, table, money_in_cents=money_in_cents)
    if left == right:
        return []
    problems = [f"{table.name}: {len(left)} rows against {len(right)}"]
    only_left = sorted(set(left) - set(right), key=str)[:MAX_REPORTED_ROWS]
    only_right = sorted(set(right) - set(left), key=str)[:MAX_REPORTED_ROWS]
    problems += [f"{table.name}: only in the reference: {row}" for row in only_left]
    problems += [f"{table.name}: only in the other: {row}" for row in only_right]
    return problems


def differences(
    reference: Mapping[str, pa.Table],
    other: Mapping[str, pa.Table],
    *,
    money_in_cents: bool = False,
    tables: tuple[Table, ...] = CORE_TABLES,
) -> list[str]:
    """Differences over the four tables; a table missing on either side is one."""
    problems = []
    for table in tables:
        if table.name not in reference or table.name not in other:
            problems.append(f"{table.name}: missing on one side")
            continue
        problems += table_differences(
            reference[table.name], other[table.name], table, money_in_cents=money_in_cents
        )
    return problems
