"""The daily report as one self-contained HTML file that people open in a browser.

Everything is inside the file: inline CSS, charts drawn by matplotlib (``charts``) and embedded
as base64 PNG ``data:`` URIs, no script and no external URL, so it can be mailed, archived or
opened from HDFS without network access (a Content-Security-Policy says so to the browser too).

The page is the report's sections (``report.report_sections``: the same list, and the same
rows, as the text report) rendered by the Jinja2 templates in ``templates/``, with autoescaping
on: every value from a table is text. Rendering is pure (data in, text out).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pyarrow as pa

from include.ecommerce.cells import format_cell, is_number
from include.ecommerce.report import ReportData, report_sections

if TYPE_CHECKING:
    from jinja2 import Environment

    from include.ecommerce.trends import TrendPoint

HTML_REPORT_FILE_NAME = "report.html"
TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_TEMPLATE = "report.html.j2"


def anchor(name: str) -> str:
    """An ``id`` made of safe characters only, whatever a table is called."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "section"


def _unknown_block(item: object) -> NoReturn:
    raise TypeError(f"the HTML report has no template for a {type(item).__name__} block")


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = format_cell
    env.filters["anchor"] = anchor
    env.tests["numeric"] = is_number
    env.globals["unknown_block"] = _unknown_block
    return env


def render_html(data: ReportData) -> str:
    """report.html: the sections meant for HTML, through the page template."""
    sections = [section for section in report_sections(data) if section.html is not None]
    page = environment().get_template(PAGE_TEMPLATE)
    return page.render(day=data.partition_date.isoformat(), sections=sections)


def render_html_report(
    partition_date: date,
    tables: Mapping[str, pa.Table],
    quality: Mapping[str, Any] | None = None,
    extra_tables: Mapping[str, pa.Table] | None = None,
    trend: Sequence[TrendPoint] | None = None,
) -> str:
    """The whole page. ``tables``: the four core tables; the rest is optional and shown only
    when given (``extra_tables`` by name, e.g. ``product_conversion``)."""
    return render_html(
        ReportData(partition_date, tables, quality, dict(extra_tables or {}), trend or ())
    )
