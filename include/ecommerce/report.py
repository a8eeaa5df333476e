"""The daily report: one ordered list of sections, each rendered to text and to HTML.

``report_sections`` turns the day's data (the tables read back from HDFS, quality.json, the
trend) into the sections, in page order; ``render_text_report`` prints those meant for text in
the seed course's shape (Spark ``show()``-style grids), ``report_html.render_html_report`` renders
those meant for HTML from templates. Both read the same section rows, so they always agree.
Which tables appear where, and under which title, comes from their declarations
(``contract.Table.reports`` and ``.title``); a declared table without a section of its own here
gets a plain table section. Rendering is pure (data in, text out): the ``generate_report`` task
reads the partition and stores the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from include.ecommerce import charts
from include.ecommerce.cells import format_value, is_number, percent, rate_percent
from include.ecommerce.trends import TrendPoint, trend_point
from spark_jobs import contract
from spark_jobs.contract import (
    CATEGORY_STATS,
    EVENT_TYPES,
    FUNNEL,
    HOURLY_ACTIVITY,
    HOURLY_REVENUE,
    PRODUCT_CONVERSION,
    QUALITY,
    REPORT_HTML,
    REPORT_TEXT,
    USER_BEHAVIOR,
)

__all__ = ["format_table", "format_value", "render_text", "render_text_report", "report_sections"]

RULE = "=" * 60
TOP_USERS = contract.REPORT_TOP_USERS
REPORT_FILE_NAME = "report.txt"
MIN_COLUMN_WIDTH = 3  # as in Spark's showString
CORE_TABLE_NAMES = frozenset(table.name for table in contract.CORE_TABLES)
MAX_TABLE_ROWS = 50
"""A real day has thousands of products: a plain table section shows the first rows and says so."""


# --- The day's data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, read by the caller (the ``generate_report`` task)."""

    partition_date: date
    tables: Mapping[str, pa.Table]
    """The four core tables."""
    quality: Mapping[str, Any] | None = None
    """quality.json (the ``quality`` table's values)."""
    extra_tables: Mapping[str, pa.Table] = field(default_factory=dict)
    """Optional tables by name (older days have none); an undeclared name gets a section too."""
    trend: Sequence[TrendPoint] = ()


OPTIONAL_REPORT_TABLES: tuple[contract.Table, ...] = tuple(
    table
    for table in contract.TABLES.values()
    if table.reports and table.kind != contract.EVIDENCE and table.name not in CORE_TABLE_NAMES
)
"""The declared tables the reports show besides the four (the extra analyses): read when the
partition has them."""


# --- Sections and their blocks -------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """Rows under named columns: a text grid, an HTML table."""

    columns: Sequence[str]
    rows: Sequence[Mapping[str, Any]]
    caption: str | None = None
    kind: str = "grid"


@dataclass(frozen=True)
class Figure:
    """A chart (drawn when the HTML is rendered) with its caption."""

    chart: charts.Chart
    caption: str
    kind: str = "figure"


@dataclass(frozen=True)
class Note:
    text: str
    kind: str = "note"


@dataclass(frozen=True)
class Figures:
    """Headline numbers: (label, printed value)."""

    items: Sequence[tuple[str, str]]
    kind: str = "figures"


Block = Grid | Figure | Note | Figures


@dataclass(frozen=True)
class Section:
    """One section of the report. ``text`` and ``html`` build its content from the same data
    when that format is rendered (charts are drawn only for HTML)."""

    anchor: str
    """The HTML ``id`` (made of safe characters by the renderer)."""
    title: str
    html: Callable[[], Sequence[Block]] | None
    """The HTML blocks; None: not in the HTML report."""
    text: Callable[[], Grid] | None = None
    """The text report's grid; None: not in the text report."""
    number: int | None = None
    """Shown before the HTML title ("1. Category Performance")."""
    text_title: str | None = None
    """The text heading when it differs from ``title``."""
    in_nav: bool = True
    nav_title: str | None = None
    """The navigation link's text when it differs from the heading."""

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}" if self.number else self.title

    @property
    def link(self) -> str:
        return self.nav_title or self.heading


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


# --- The four tables -----------------------------------------------------------------------------


def category_section(category_stats: pa.Table) -> list[dict[str, Any]]:
    """By revenue, highest first; ties by category name so the order is stable."""
    return sorted(_rows(category_stats), key=lambda row: (-row["total_revenue"], row["category"]))


def hourly_section(hourly_activity: pa.Table) -> list[dict[str, Any]]:
    return sorted(_rows(hourly_activity), key=lambda row: row["hour"])


def funnel_section(funnel: pa.Table) -> list[dict[str, Any]]:
    stage_order = {stage: position for position, stage in enumerate(EVENT_TYPES)}
    return sorted(
        _rows(funnel), key=lambda row: stage_order.get(row["event_type"], len(stage_order))
    )


TOP_USERS_ORDER = (
    ("total_spent", "descending"),
    ("total_events", "descending"),
    ("user_id", "ascending"),
)
"""The brief's order of the top users; user_id is unique, so the order is total."""


def top_users_section(user_behavior: pa.Table, limit: int = TOP_USERS) -> list[dict[str, Any]]:
    """By total_spent desc, then total_events desc, then user_id (the brief's order).

    The table has a row per user of the day (629k at 5M rows): Arrow picks the top ``limit``
    without turning the others into Python rows (that took 5 s per report at 5M rows)."""
    top = pc.select_k_unstable(user_behavior, k=limit, sort_keys=TOP_USERS_ORDER)
    return _rows(user_behavior.take(top).sort_by(TOP_USERS_ORDER))


def _category_blocks(data: ReportData, rows: list[dict[str, Any]]) -> list[Block]:
    chart = charts.revenue_by_category_chart(rows)
    return [
        Figure(chart, "Purchase revenue per category."),
        Grid(CATEGORY_STATS.column_names, rows),
    ]


def _hourly_blocks(data: ReportData, rows: list[dict[str, Any]]) -> list[Block]:
    revenue_table = data.extra_tables.get(HOURLY_REVENUE.name)
    hourly_revenue = hourly_section(revenue_table) if revenue_table is not None else None
    caption = (
        "Events (blue, left axis) and purchase revenue (orange, right axis) per hour of day."
        if hourly_revenue
        else "Events per hour of day. Revenue by hour is not shown: this day has no "
        f"{HOURLY_REVENUE.name} table."
    )
    return [
        Figure(charts.hourly_chart(rows, hourly_revenue), caption),
        Grid(HOURLY_ACTIVITY.column_names, rows),
    ]


def _funnel_blocks(data: ReportData, stages: list[dict[str, Any]]) -> list[Block]:
    conversions = charts.stage_conversions(stages)
    funnel_note = "; ".join(
        f"{previous['event_type']} → {stage['event_type']}: {conversion}"
        for (previous, stage), conversion in zip(pairwise(stages), conversions[1:], strict=True)
    )
    blocks: list[Block] = [
        Figure(
            charts.funnel_chart(stages), "Events per stage; each stage's share of the one before."
        ),
        Grid(FUNNEL.column_names, stages),
    ]
    if funnel_note:
        blocks.append(Note(f"Stage conversion: {funnel_note}."))
    return blocks


def _top_users_blocks(data: ReportData, rows: list[dict[str, Any]]) -> list[Block]:
    return [Grid(USER_BEHAVIOR.column_names, rows)]


TableRows = Callable[[pa.Table], list[dict[str, Any]]]
HtmlBlocks = Callable[[ReportData, list[dict[str, Any]]], list[Block]]
CORE_SECTIONS: dict[str, tuple[str, TableRows, HtmlBlocks]] = {
    CATEGORY_STATS.name: ("categories", category_section, _category_blocks),
    HOURLY_ACTIVITY.name: ("hourly", hourly_section, _hourly_blocks),
    FUNNEL.name: ("funnel", funnel_section, _funnel_blocks),
    USER_BEHAVIOR.name: ("top-users", top_users_section, _top_users_blocks),
}
"""The four tables' own sections: anchor, the rows both reports show, the HTML blocks (charts)."""


def _core_section(table: contract.Table, number: int, data: ReportData) -> Section:
    anchor, section_rows, html_blocks = CORE_SECTIONS[table.name]
    rows = section_rows(data.tables[table.name])
    return Section(
        anchor,
        table.title,
        html=(lambda: html_blocks(data, rows)) if REPORT_HTML in table.reports else None,
        text=(lambda: Grid(table.column_names, rows)) if REPORT_TEXT in table.reports else None,
        number=number,
    )


# --- Any other table (the extra analyses) -------------------------------------------------------


def _sorted_table_rows(name: str, table: pa.Table) -> list[dict[str, Any]]:
    """A stable, useful order for the tables we know; any other table as stored."""
    rows = table.to_pylist()
    columns = set(table.column_names)
    if name == PRODUCT_CONVERSION.name and {"purchases", "views", "product_id"} <= columns:
        return sorted(
            rows,
            key=lambda row: (-(row["purchases"] or 0), -(row["views"] or 0), row["product_id"]),
        )
    if "hour" in columns:
        return sorted(rows, key=lambda row: (row["hour"] is None, row["hour"]))
    return rows


def _table_section(
    name: str, title: str, table: pa.Table, formats: Sequence[str] = (REPORT_HTML,)
) -> Section:
    rows = _sorted_table_rows(name, table)
    shown = rows[:MAX_TABLE_ROWS]

    def html() -> list[Block]:
        if not rows:
            return [Note("This table has no rows for this day.")]
        blocks: list[Block] = [Grid(table.column_names, shown)]
        if len(rows) > len(shown):
            blocks.append(Note(f"First {len(shown)} of {len(rows)} rows."))
        return blocks

    return Section(
        f"extra-{name}",
        title,
        html=html if REPORT_HTML in formats else None,
        text=(lambda: Grid(table.column_names, shown)) if REPORT_TEXT in formats else None,
    )


# --- Data quality (quality.json) -----------------------------------------------------------------

QUALITY_FIGURES: dict[str, str] = {
    contract.QUALITY_ROWS_READ: "Rows read",
    contract.QUALITY_ROWS_VALID: "Valid rows",
    contract.QUALITY_ROWS_REJECTED: "Rejected rows",
    contract.QUALITY_DUPLICATES_DROPPED: "Exact duplicates dropped",
    contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT: (
        "Purchases without an earlier event in their session"
    ),
}
"""The HTML section's labelled figures, first; every other key of quality.json follows as is."""


def quality_section(quality: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every input row accounted for: read = valid + rejected (by reason) + duplicates."""
    ratio = (
        f"{quality[contract.QUALITY_REJECT_RATIO]:.2%} of rows read, "
        f"limit {quality[contract.QUALITY_MAX_REJECT_RATIO]:.2%}"
    )
    rows = [
        ("rows read", quality[contract.QUALITY_ROWS_READ]),
        ("rows valid", quality[contract.QUALITY_ROWS_VALID]),
        ("rows rejected", f"{quality[contract.QUALITY_ROWS_REJECTED]} ({ratio})"),
        *(
            (f"  rejected: {reason}", count)
            for reason, count in quality[contract.QUALITY_REJECTED_BY_REASON].items()
            if count
        ),
        ("duplicates dropped", quality[contract.QUALITY_DUPLICATES_DROPPED]),
        ("purchases without prior event", quality[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT]),
        ("negative revenue", quality[contract.QUALITY_NEGATIVE_REVENUE]),
    ]
    return [{"measure": measure, "value": value} for measure, value in rows]


def _quality_html(quality: Mapping[str, Any]) -> list[Block]:
    """Labelled figures (any missing key says so), the rejected share, the other keys, and the
    rejected rows by reason, largest first."""
    rows = [
        {"figure": label, "value": quality.get(key, "not reported")}
        for key, label in QUALITY_FIGURES.items()
    ]
    read = quality.get(contract.QUALITY_ROWS_READ)
    rejected = quality.get(contract.QUALITY_ROWS_REJECTED)
    if is_number(read) and is_number(rejected):
        rows.append({"figure": "Rejected share", "value": percent(rejected, read)})
    rows += [
        {"figure": key, "value": value}
        for key, value in sorted(quality.items())
        if key not in QUALITY_FIGURES and key != contract.QUALITY_REJECTED_BY_REASON
    ]
    blocks: list[Block] = [Grid(["figure", "value"], rows)]
    reasons = quality.get(contract.QUALITY_REJECTED_BY_REASON)
    if isinstance(reasons, Mapping) and reasons:
        reason_rows = sorted(
            ({"reason": reason, "rows": count} for reason, count in reasons.items()),
            key=lambda row: (-(row["rows"] or 0), str(row["reason"])),
        )
        blocks.append(Grid(["reason", "rows"], reason_rows, "Rejected rows by reason"))
    elif isinstance(reasons, Mapping):
        blocks.append(Note("No row was rejected."))
    return blocks


def _quality_section(quality: Mapping[str, Any]) -> Section:
    return Section(
        "quality",
        QUALITY.title,
        html=(lambda: _quality_html(quality)) if REPORT_HTML in QUALITY.reports else None,
        text=(lambda: Grid(("measure", "value"), quality_section(quality)))
        if REPORT_TEXT in QUALITY.reports
        else None,
        text_title="Data Quality",
    )


# --- Summary and trend (HTML only) --------------------------------------------------------------


def _summary_section(data: ReportData) -> Section:
    def html() -> list[Block]:
        day = trend_point(
            data.partition_date, data.tables[FUNNEL.name], data.tables[CATEGORY_STATS.name]
        )
        figures = (
            ("Events", format_value(day.events)),
            ("Revenue", format_value(day.revenue)),
            ("Purchases", format_value(day.purchases)),
            ("Conversion (purchases / views)", rate_percent(day.conversion)),
            ("Users", format_value(data.tables[USER_BEHAVIOR.name].num_rows)),
        )
        return [Figures(figures)]

    return Section("summary", "Summary", html=html, in_nav=False)


def _trend_section(trend: Sequence[TrendPoint]) -> Section:
    rows = [
        {
            "date": point.partition_date.isoformat(),
            "events": point.events,
            "revenue": point.revenue,
            "views": point.views,
            "purchases": point.purchases,
            "conversion": rate_percent(point.conversion),
        }
        for point in trend
    ]
    table = [Grid(list(rows[0]), rows)] if rows else []
    if len(trend) < 2:
        note = Note("No earlier day is published yet: the trend starts once there is one.")
        return Section("trend", "Trend", html=lambda: [note, *table])
    caption = (
        f"Published days from {rows[0]['date']} to {rows[-1]['date']} "
        "(days without data are skipped)."
    )
    return Section(
        "trend",
        "Trend: last days",
        html=lambda: [Figure(charts.trend_chart(trend), caption), *table],
        nav_title="Trend",
    )


# --- The list ----------------------------------------------------------------------------------------


def report_sections(data: ReportData) -> list[Section]:
    """The report's sections in page order: the summary, each declared table the reports show
    (the four numbered, then the others the partition has), tables given but not declared, the
    quality section, the trend."""
    sections = [_summary_section(data)]
    for table in contract.TABLES.values():
        if not table.reports or table.kind == contract.EVIDENCE:
            continue
        if table.name in CORE_SECTIONS:
            number = 1 + sum(1 for section in sections if section.number)
            sections.append(_core_section(table, number, data))
        elif table.core:  # required: a plain table section until it has its own
            sections.append(
                _table_section(table.name, table.title, data.tables[table.name], table.reports)
            )
        elif (arrow_table := data.extra_tables.get(table.name)) is not None:
            sections.append(_table_section(table.name, table.title, arrow_table, table.reports))
    for name in sorted(set(data.extra_tables) - set(contract.TABLES)):
        sections.append(_table_section(name, name, data.extra_tables[name]))
    if data.quality is not None:
        sections.append(_quality_section(data.quality))
    if data.trend:
        sections.append(_trend_section(data.trend))
    return sections


# --- Text ---------------------------------------------------------------------------------------------


def format_table(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """A right-aligned ASCII grid, the way ``DataFrame.show(truncate=False)`` draws one."""
    cells = [[format_value(row[column]) for column in columns] for row in rows]
    widths = [
        max([MIN_COLUMN_WIDTH, len(column)] + [len(line[i]) for line in cells])
        for i, column in enumerate(columns)
    ]
    border = "+" + "+".join("-" * width for width in widths) + "+"

    def line(values: Sequence[str]) -> str:
        return (
            "|"
            + "|".join(value.rjust(width) for value, width in zip(values, widths, strict=True))
            + "|"
        )

    return "\n".join([border, line(columns), border, *(line(values) for values in cells), border])


def render_text(data: ReportData) -> str:
    """report.txt: the sections meant for text, numbered ``[1]``, ``[2]``... in order."""
    lines = [RULE, f"E-COMMERCE DAILY REPORT - {data.partition_date.isoformat()}", RULE]
    text_sections = [section for section in report_sections(data) if section.text is not None]
    for number, section in enumerate(text_sections, start=1):
        grid = section.text()
        title = section.text_title or section.title
        lines += ["", f"[{number}] {title}", format_table(grid.columns, grid.rows)]
    return "\n".join(lines) + "\n"


def render_text_report(
    partition_date: date, tables: Mapping[str, pa.Table], quality: Mapping[str, Any] | None = None
) -> str:
    """report.txt from the four tables, with the data quality when ``quality`` is given."""
    return render_text(ReportData(partition_date, tables, quality))
