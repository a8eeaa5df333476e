"""How the reports print one value: the text grid, the HTML tables and the charts' labels agree."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def format_value(value: Any) -> str:
    """As Spark's ``show()`` prints it: ``[a, b]`` for arrays, ``NULL`` for nulls."""
    if value is None:
        return "NULL"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)  # a Decimal read from DECIMAL(p,2) keeps its two places: 0.00


def format_cell(value: Any) -> str:
    """As the text report prints a value; floats (rates, averages) with four decimals."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4f}"
    return format_value(value)


def is_number(value: object) -> bool:
    """Numbers are right-aligned in the HTML tables, like in the text grid."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def percent(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.1f}%" if denominator else "n/a"


def rate_percent(rate: float | None) -> str:
    """A rate (e.g. purchases per view) as a percentage; ``n/a`` when there is none."""
    return "n/a" if rate is None else f"{100 * rate:.1f}%"
