"""The HTML report's charts: matplotlib (Agg, no pyplot: no global state between tasks) to PNG.

Each chart comes with a text alternative that states its numbers, so the page reads without the
images too. Pure functions of the section rows; matplotlib is imported only when one is drawn.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from include.ecommerce.cells import format_value, percent, rate_percent
from include.ecommerce.trends import TrendPoint

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHART_DPI = 150
"""Pixels per inch of the PNGs; shown at 100 CSS px per inch, so sharp on high-DPI screens."""
CSS_PX_PER_INCH = 100
PALETTE = {
    "primary": "#2f6fb0",
    "accent": "#e07b39",
    "muted": "#9aa5b1",
    "text": "#243b53",
    "grid": "#e4e7eb",
}
_CHART_STYLE: dict[str, Any] = {
    "text.parse_math": False,  # a "$" in a category name is text, not TeX
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": PALETTE["muted"],
    "axes.labelcolor": PALETTE["text"],
    "text.color": PALETTE["text"],
    "xtick.color": PALETTE["text"],
    "ytick.color": PALETTE["text"],
    "axes.grid": True,
    "axes.grid.axis": "y",
    "axes.axisbelow": True,
    "grid.color": PALETTE["grid"],
}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its PNG and a text alternative that states its numbers."""

    png: bytes
    alt: str
    width_px: int
    height_px: int

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def _draw(size: tuple[float, float], alt: str, draw: Callable[[Figure], None]) -> Chart:
    """Draw on a fresh Agg figure (no pyplot: no global state between tasks) into a PNG."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_CHART_STYLE):
        figure = Figure(figsize=size, dpi=CHART_DPI, layout="constrained")
        FigureCanvasAgg(figure)
        draw(figure)
        buffer = io.BytesIO()
        # No "Software" stamp: the same tables give the same bytes, whatever matplotlib's version.
        figure.savefig(buffer, format="png", facecolor="white", metadata={"Software": None})
    width, height = size
    return Chart(
        buffer.getvalue(), alt, round(width * CSS_PX_PER_INCH), round(height * CSS_PX_PER_INCH)
    )


def revenue_by_category_chart(categories: Sequence[Mapping[str, Any]]) -> Chart:
    """Bars in the report's order (revenue, highest first)."""
    names = [str(row["category"]) for row in categories]
    revenue = [row["total_revenue"] for row in categories]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        bars = axes.bar(range(len(names)), [float(value) for value in revenue])
        for bar in bars:
            bar.set_color(PALETTE["primary"])
        axes.bar_label(bars, labels=[format_value(value) for value in revenue], padding=2)
        axes.set_xticks(range(len(names)), names, rotation=30 if len(names) > 6 else 0)
        axes.set_ylabel("revenue")
        axes.set_title("Revenue by category")
        axes.margins(y=0.15)

    alt = "Bar chart of revenue by category: " + ", ".join(
        f"{name} {format_value(value)}" for name, value in zip(names, revenue, strict=True)
    )
    return _draw((7.5, 3.2), alt, draw)


def hourly_chart(
    hours: Sequence[Mapping[str, Any]], hourly_revenue: Sequence[Mapping[str, Any]] | None
) -> Chart:
    """Events per hour as bars over the whole day; revenue per hour as a line when known."""

    width = 0.4 if hourly_revenue else 0.8
    shift = width / 2 if hourly_revenue else 0.0

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        axes.bar(
            [row["hour"] - shift for row in hours],
            [row["events"] for row in hours],
            width=width,
            color=PALETTE["primary"],
            label="events (left axis)",
        )
        axes.set_xticks(range(24))
        axes.set_xlim(-0.6, 23.6)
        axes.set_xlabel("hour of day")
        axes.set_ylabel("events")
        axes.set_title("Events and revenue by hour" if hourly_revenue else "Events by hour")
        if hourly_revenue:
            revenue_axes = axes.twinx()
            revenue_axes.spines["right"].set_visible(True)
            revenue_axes.grid(False)
            revenue_axes.bar(
                [row["hour"] + shift for row in hourly_revenue],
                [float(row["revenue"]) for row in hourly_revenue],
                width=width,
                color=PALETTE["accent"],
                label="revenue (right axis)",
            )
            revenue_axes.set_ylabel("revenue")
            figure.legend(loc="outside upper right", ncols=2, frameon=False)

    alt = "Bar chart of events by hour: " + ", ".join(
        f"hour {row['hour']} {row['events']} events" for row in hours
    )
    if hourly_revenue:
        alt += "; bar chart of revenue by hour: " + ", ".join(
            f"hour {row['hour']} {format_value(row['revenue'])}" for row in hourly_revenue
        )
    return _draw((7.5, 3.2), alt, draw)


def stage_conversions(stages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each stage's share of the stage before it (``""`` for the first stage)."""
    return [""] + [
        percent(stage["count"], previous["count"]) for previous, stage in pairwise(stages)
    ]


def funnel_chart(stages: Sequence[Mapping[str, Any]]) -> Chart:
    names = [str(stage["event_type"]) for stage in stages]
    counts = [stage["count"] for stage in stages]
    conversions = stage_conversions(stages)
    labels = [
        f"{count}" if not conversion else f"{count}  ({conversion} of {previous})"
        for count, conversion, previous in zip(counts, conversions, ["", *names], strict=False)
    ]

    def draw(figure: Figure) -> None:
        axes = figure.subplots()
        bars = axes.barh(range(len(names)), counts, color=PALETTE["primary"])
        axes.bar_label(bars, labels=labels, padding=4)
        axes.set_yticks(range(len(names)), names)
        axes.invert_yaxis()
        axes.grid(axis="x")
        axes.grid(axis="y", visible=False)
        axes.set_xlabel("events")
        axes.set_title("Funnel with stage conversion")
        axes.margins(x=0.45)

    alt = "Funnel bar chart: " + ", ".join(
        f"{name} {' '.join(label.split())}" for name, label in zip(names, labels, strict=True)
    )
    return _draw((7.5, 2.4), alt, draw)


def trend_chart(trend: Sequence[TrendPoint]) -> Chart:
    """Three small panels over the days: revenue, events, conversion (purchases / views)."""
    first = trend[0].partition_date
    positions = [(point.partition_date - first).days for point in trend]
    labels = [f"{point.partition_date:%b %d}" for point in trend]
    panels = (
        ("Revenue", [float(point.revenue) for point in trend]),
        ("Events", [point.events for point in trend]),
        (
            "Conversion (purchases / views, %)",
            [math.nan if point.conversion is None else 100 * point.conversion for point in trend],
        ),
    )

    def draw(figure: Figure) -> None:
        for axes, (title, values) in zip(figure.subplots(1, 3), panels, strict=True):
            axes.plot(positions, values, marker="o", color=PALETTE["primary"], linewidth=2)
            axes.set_xticks(positions, labels, rotation=45, ha="right")
            axes.set_title(title)
            axes.set_ylim(bottom=0, top=max([v for v in values if not math.isnan(v)] + [1]) * 1.2)

    alt = "Trend over the last days: " + "; ".join(
        f"{point.partition_date.isoformat()} revenue {format_value(point.revenue)}, "
        f"{point.events} events, conversion {rate_percent(point.conversion)}"
        for point in trend
    )
    return _draw((10.0, 2.8), alt, draw)
