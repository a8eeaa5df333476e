"""The daily report as one self-contained HTML file that people open in a browser.

Everything is inside the file: inline CSS, charts drawn by matplotlib (Agg) and embedded as
base64 PNG ``data:`` URIs, no script and no external URL, so it can be mailed, archived or
opened from HDFS without network access (a Content-Security-Policy says so to the browser too).

The four sections are the text report's (``include.ecommerce.report``): the same section
functions sort them and the same ``format_value`` prints their cells, so both reports always
agree. Rendering is a pure function of Arrow tables and plain values; ``publish_html_report``
is the HDFS / local-file side that ``generate_report`` calls.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from include.ecommerce.report import (
    TOP_USERS,
    category_section,
    format_value,
    funnel_section,
    hourly_section,
    top_users_section,
)
from include.ecommerce.settings import PROCESSED_ROOT, REPORTS_ROOT
from include.ecommerce.trends import TrendPoint, partition_folder, read_trend, trend_point
from spark_jobs import contract
from spark_jobs.contract import CATEGORY_STATS, FUNNEL, HOURLY_ACTIVITY, USER_BEHAVIOR

if TYPE_CHECKING:
    from hdfs import Client
    from matplotlib.figure import Figure

    from include.ecommerce.partitions import Partition

log = logging.getLogger(__name__)

HTML_REPORT_FILE_NAME = "report.html"

PRODUCT_CONVERSION = contract.PRODUCT_CONVERSION.name
HOURLY_REVENUE = contract.HOURLY_REVENUE.name
EXTRA_TABLE_TITLES: dict[str, str] = {table.name: table.title for table in contract.EXTRA_TABLES}
"""Optional tables of the processed partition that the HTML report shows, in this order."""
MAX_EXTRA_ROWS = 50
"""A real day has thousands of products: the report shows the first rows and says so."""

QUALITY_FIGURES: dict[str, str] = {
    "rows_read": "Rows read",
    "rows_valid": "Valid rows",
    "rows_rejected": "Rejected rows",
    "duplicates_dropped": "Exact duplicates dropped",
    "purchases_without_prior_event": "Purchases without an earlier event in their session",
}
REJECTED_BY_REASON = "rejected_by_reason"

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


# --- Cells and tables ----------------------------------------------------------------------------


def _escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def format_cell(value: Any) -> str:
    """As the text report prints a value; floats (rates, averages) with four decimals."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4f}"
    return format_value(value)


def _percent(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.1f}%" if denominator else "n/a"


def html_table(
    columns: Sequence[str], rows: Sequence[Mapping[str, Any]], caption: str | None = None
) -> str:
    """A table with a header row; numbers right-aligned like the text report's grid."""
    head = "".join(f'<th scope="col">{_escape(column)}</th>' for column in columns)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_escape(format_cell(row[column]))}</td>'
            if _is_number(row[column])
            else f"<td>{_escape(format_cell(row[column]))}</td>"
            for column in columns
        )
        body.append(f"<tr>{cells}</tr>")
    caption_html = f"<caption>{_escape(caption)}</caption>" if caption else ""
    return (
        f"<table>{caption_html}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _anchor(name: str) -> str:
    """An ``id`` made of safe characters only, whatever a table is called."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "section"


def _section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{_anchor(anchor)}"><h2>{_escape(title)}</h2>{"".join(parts)}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_escape(text)}</p>'


# --- Charts ----------------------------------------------------------------------------------------


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

    def html(self, caption: str) -> str:
        return (
            f'<figure><img src="{self.data_uri}" alt="{_escape(self.alt)}" '
            f'width="{self.width_px}" height="{self.height_px}">'
            f"<figcaption>{_escape(caption)}</figcaption></figure>"
        )


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
        _percent(stage["count"], previous["count"]) for previous, stage in pairwise(stages)
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
        f"{point.events} events, conversion {_conversion_text(point)}"
        for point in trend
    )
    return _draw((10.0, 2.8), alt, draw)


def _conversion_text(point: TrendPoint) -> str:
    return "n/a" if point.conversion is None else f"{100 * point.conversion:.1f}%"


# --- Sections --------------------------------------------------------------------------------------


def _summary(partition_date: date, tables: Mapping[str, pa.Table]) -> str:
    day = trend_point(partition_date, tables[FUNNEL.name], tables[CATEGORY_STATS.name])
    figures = (
        ("Events", format_value(day.events)),
        ("Revenue", format_value(day.revenue)),
        ("Purchases", format_value(day.purchases)),
        ("Conversion (purchases / views)", _conversion_text(day)),
        ("Users", format_value(tables[USER_BEHAVIOR.name].num_rows)),
    )
    items = "".join(
        f'<div class="kpi"><dt>{_escape(label)}</dt><dd>{_escape(value)}</dd></div>'
        for label, value in figures
    )
    return f'<dl class="summary">{items}</dl>'


def _sorted_extra_rows(name: str, table: pa.Table) -> list[dict[str, Any]]:
    """A stable, useful order for the tables we know; any other table as stored."""
    rows = table.to_pylist()
    columns = set(table.column_names)
    if name == PRODUCT_CONVERSION and {"purchases", "views", "product_id"} <= columns:
        return sorted(
            rows,
            key=lambda row: (-(row["purchases"] or 0), -(row["views"] or 0), row["product_id"]),
        )
    if "hour" in columns:
        return sorted(rows, key=lambda row: (row["hour"] is None, row["hour"]))
    return rows


def _extra_section(name: str, table: pa.Table) -> str:
    rows = _sorted_extra_rows(name, table)
    shown = rows[:MAX_EXTRA_ROWS]
    parts = [html_table(table.column_names, shown)]
    if len(rows) > len(shown):
        parts.append(_note(f"First {len(shown)} of {len(rows)} rows."))
    if not rows:
        parts = [_note("This table has no rows for this day.")]
    return _section(f"extra-{name}", EXTRA_TABLE_TITLES.get(name, name), *parts)


def _quality_section(quality: Mapping[str, Any]) -> str:
    rows = [
        {"figure": label, "value": quality.get(key, "not reported")}
        for key, label in QUALITY_FIGURES.items()
    ]
    read, rejected = quality.get("rows_read"), quality.get("rows_rejected")
    if _is_number(read) and _is_number(rejected):
        rows.append({"figure": "Rejected share", "value": _percent(rejected, read)})
    rows += [
        {"figure": key, "value": value}
        for key, value in sorted(quality.items())
        if key not in QUALITY_FIGURES and key != REJECTED_BY_REASON
    ]
    parts = [html_table(["figure", "value"], rows)]
    reasons = quality.get(REJECTED_BY_REASON)
    if isinstance(reasons, Mapping) and reasons:
        reason_rows = sorted(
            ({"reason": reason, "rows": count} for reason, count in reasons.items()),
            key=lambda row: (-(row["rows"] or 0), str(row["reason"])),
        )
        parts.append(html_table(["reason", "rows"], reason_rows, "Rejected rows by reason"))
    elif isinstance(reasons, Mapping):
        parts.append(_note("No row was rejected."))
    return _section("quality", "Data quality", *parts)


def _trend_section(trend: Sequence[TrendPoint]) -> str:
    rows = [
        {
            "date": point.partition_date.isoformat(),
            "events": point.events,
            "revenue": point.revenue,
            "views": point.views,
            "purchases": point.purchases,
            "conversion": _conversion_text(point),
        }
        for point in trend
    ]
    table = html_table(list(rows[0]), rows) if rows else ""
    if len(trend) < 2:
        return _section(
            "trend",
            "Trend",
            _note("No earlier day is published yet: the trend starts once there is one."),
            table,
        )
    chart = trend_chart(trend)
    caption = f"Published days from {rows[0]['date']} to {rows[-1]['date']} (days without data are skipped)."
    return _section("trend", "Trend: last days", chart.html(caption), table)


# --- The page ----------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f7fa; color: #243b53;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", "DejaVu Sans", sans-serif; }
header { background: #1f4e79; color: #fff; padding: 24px 32px; }
header h1 { margin: 0; font-size: 26px; font-weight: 600; }
header p { margin: 4px 0 0; opacity: .85; }
nav { padding: 8px 32px; background: #e4ecf5; font-size: 14px; }
nav a { color: #1f4e79; margin-right: 16px; text-decoration: none; }
nav a:hover, nav a:focus { text-decoration: underline; }
main { max-width: 1080px; margin: 0 auto; padding: 16px 24px 48px; }
section { background: #fff; border: 1px solid #dde3ea; border-radius: 8px;
  padding: 16px 24px; margin: 20px 0; }
h2 { font-size: 19px; margin: 0 0 12px; color: #1f4e79; }
table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; min-width: 40%; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 6px 12px; border-bottom: 1px solid #e4e7eb; text-align: left; }
th { background: #f0f4f8; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 8px 0 16px; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption, .note { color: #52606d; font-size: 13px; }
dl.summary { display: flex; flex-wrap: wrap; gap: 12px; margin: 0; }
.kpi { flex: 1 1 160px; background: #fff; border: 1px solid #dde3ea; border-radius: 8px;
  padding: 12px 16px; }
.kpi dt { font-size: 13px; color: #52606d; }
.kpi dd { margin: 0; font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
"""

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render_html_report(
    partition_date: date,
    tables: Mapping[str, pa.Table],
    quality: Mapping[str, Any] | None = None,
    extra_tables: Mapping[str, pa.Table] | None = None,
    trend: Sequence[TrendPoint] | None = None,
) -> str:
    """The whole page. ``tables``: the four core tables; the rest is optional and shown only
    when given (``extra_tables`` by name, e.g. ``product_conversion``)."""
    extra_tables = dict(extra_tables or {})
    categories = category_section(tables[CATEGORY_STATS.name])
    hours = hourly_section(tables[HOURLY_ACTIVITY.name])
    stages = funnel_section(tables[FUNNEL.name])
    top_users = top_users_section(tables[USER_BEHAVIOR.name])
    hourly_revenue = (
        hourly_section(extra_tables[HOURLY_REVENUE]) if HOURLY_REVENUE in extra_tables else None
    )

    hourly_caption = (
        "Events (blue, left axis) and purchase revenue (orange, right axis) per hour of day."
        if hourly_revenue
        else "Events per hour of day. Revenue by hour is not shown: this day has no "
        f"{HOURLY_REVENUE} table."
    )
    conversions = stage_conversions(stages)
    funnel_note = "; ".join(
        f"{previous['event_type']} → {stage['event_type']}: {conversion}"
        for (previous, stage), conversion in zip(pairwise(stages), conversions[1:], strict=True)
    )
    sections = [
        ("summary", "Summary", _summary(partition_date, tables)),
        (
            "categories",
            "1. Category Performance",
            revenue_by_category_chart(categories).html("Purchase revenue per category.")
            + html_table(CATEGORY_STATS.column_names, categories),
        ),
        (
            "hourly",
            "2. Hourly Activity",
            hourly_chart(hours, hourly_revenue).html(hourly_caption)
            + html_table(HOURLY_ACTIVITY.column_names, hours),
        ),
        (
            "funnel",
            "3. Event Funnel",
            funnel_chart(stages).html("Events per stage; each stage's share of the one before.")
            + html_table(FUNNEL.column_names, stages)
            + (_note(f"Stage conversion: {funnel_note}.") if funnel_note else ""),
        ),
        (
            "top-users",
            f"4. Top {TOP_USERS} Users by Revenue",
            html_table(USER_BEHAVIOR.column_names, top_users),
        ),
    ]
    body = [_section(anchor, title, content) for anchor, title, content in sections]
    links = [(anchor, title) for anchor, title, _ in sections[1:]]

    known_first = [name for name in EXTRA_TABLE_TITLES if name in extra_tables]
    others = sorted(name for name in extra_tables if name not in EXTRA_TABLE_TITLES)
    for name in known_first + others:
        body.append(_extra_section(name, extra_tables[name]))
        links.append((f"extra-{name}", EXTRA_TABLE_TITLES.get(name, name)))
    if quality is not None:
        body.append(_quality_section(quality))
        links.append(("quality", "Data quality"))
    if trend:
        body.append(_trend_section(trend))
        links.append(("trend", "Trend"))

    day = _escape(partition_date.isoformat())
    nav = "".join(f'<a href="#{_anchor(anchor)}">{_escape(title)}</a>' for anchor, title in links)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>E-commerce daily report - {day}</title>"
        f"<style>{_CSS}</style></head><body>"
        f"<header><h1>E-commerce daily report - {day}</h1>"
        f"<p>Partition date {day}</p></header>"
        f'<nav aria-label="Sections">{nav}</nav>'
        f"<main>{''.join(body)}</main></body></html>\n"
    )


# --- Publishing (HDFS and local copy) ------------------------------------------------------------


def publish_html_report(
    client: Client,
    partition: Partition,
    tables: Mapping[str, pa.Table],
    local_folder: Path,
    *,
    quality: Mapping[str, Any] | None = None,
    processed_root: str = PROCESSED_ROOT,
    reports_root: str = REPORTS_ROOT,
) -> tuple[str, Path]:
    """Render the day's HTML report (with its extra tables and trend, read from HDFS) and store
    it in the report partition and in ``local_folder``; returns both paths.

    The roots default to the pipeline's (then the folders are ``partition.processed_partition``
    and ``partition.report_partition``); tests pass scratch roots.
    """
    from include.ecommerce.extra_validation import read_extra_tables

    processed_partition = partition_folder(processed_root, partition)
    report_partition = partition_folder(reports_root, partition)
    page = render_html_report(
        partition.partition_date,
        tables,
        quality=quality,
        extra_tables=read_extra_tables(client, processed_partition),
        trend=read_trend(client, partition, processed_root=processed_root),
    )
    hdfs_path = f"{report_partition}/{HTML_REPORT_FILE_NAME}"
    client.makedirs(report_partition)
    client.write(hdfs_path, data=page.encode("utf-8"), overwrite=True)
    local_folder.mkdir(parents=True, exist_ok=True)
    local_path = local_folder / HTML_REPORT_FILE_NAME
    local_path.write_text(page, encoding="utf-8")
    log.info("HTML report stored at hdfs:%s; open it locally: %s", hdfs_path, local_path)
    return hdfs_path, local_path
