import base64
import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import pyarrow as pa
import pytest
from PIL import Image

from include.ecommerce.report import ReportData, render_text, render_text_report
from include.ecommerce.report_html import render_html, render_html_report
from include.ecommerce.trends import TrendPoint
from spark_jobs import contract
from tests.unit.sample_day_extra_tables import sample_day_extra_tables
from tests.unit.sample_day_tables import MONEY, sample_day_quality, sample_day_tables

DAY = date(2026, 2, 14)
MALICIOUS = '<script>alert("x")</script><img src=//evil.example/x onerror=alert(1)>'

HOURLY_REVENUE = pa.table(
    {
        "hour": pa.array([10, 9], pa.int32()),
        "purchases": pa.array([0, 3], pa.int64()),
        "revenue": pa.array([Decimal("0.00"), Decimal("459.94")], MONEY),
    }
)
SESSION_STATS = pa.table(
    {
        "sessions": pa.array([7], pa.int64()),
        "avg_events_per_session": [15 / 7],
        "median_events_per_session": [2.0],
        "purchase_session_share": [3 / 7],
    }
)
PRODUCT_CONVERSION = pa.table(
    {
        "product_id": ["P002", "P001"],
        "category": ["clothing", "electronics"],
        "views": pa.array([1, 2], pa.int64()),
        "add_to_carts": pa.array([1, 1], pa.int64()),
        "purchases": pa.array([1, 1], pa.int64()),
        "view_to_cart_rate": [1.0, 0.5],
        "cart_to_purchase_rate": [1.0, 1.0],
        "view_to_purchase_rate": [1.0, 0.5],
    }
)


class PageParser(HTMLParser):
    """Collects tables (as lists of rows of cell texts) and images (their attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "action")]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(attributes)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def sample_page() -> str:
    return render_html_report(DAY, sample_day_tables())


def test_page_is_self_contained(sample_page):
    parsed = parse(sample_page)
    assert "http://" not in sample_page
    assert "https://" not in sample_page
    assert not re.search(r"""(src|href)\s*=\s*["']?//""", sample_page)
    assert "<script" not in sample_page
    assert "<link" not in sample_page
    assert "@import" not in sample_page and "url(" not in sample_page
    assert all(url.startswith(("data:image/png;base64,", "#")) for url in parsed.urls)
    assert parsed.images, "the page has charts"


def test_sample_day_tables_hold_the_text_reports_rows(sample_page):
    category, hourly, funnel, top_users = parse(sample_page).tables
    assert category == [
        ["category", "total_events", "unique_users", "total_revenue", "purchases"],
        ["electronics", "6", "3", "299.99", "1"],
        ["clothing", "4", "2", "99.98", "1"],
        ["books", "3", "1", "59.97", "1"],
        ["home", "2", "1", "0.00", "0"],
    ]
    assert hourly == [["hour", "events", "active_users"], ["9", "13", "6"], ["10", "2", "2"]]
    assert funnel == [
        ["event_type", "count"],
        ["view", "7"],
        ["add_to_cart", "5"],
        ["purchase", "3"],
    ]
    assert top_users == [
        ["user_id", "total_events", "sessions", "total_spent", "categories_viewed"],
        ["101", "3", "1", "299.99", "[electronics]"],
        ["102", "3", "1", "99.98", "[clothing]"],
        ["103", "3", "1", "59.97", "[books]"],
        ["104", "2", "1", "0.00", "[electronics]"],
        ["105", "2", "1", "0.00", "[home]"],
    ]


def test_header_summary_and_conversions(sample_page):
    assert "<h1>E-commerce daily report - 2026-02-14</h1>" in sample_page
    # 15 events, 459.94 revenue, 3 purchases of 7 views = 42.9%, 7 users
    for figure in ("<dd>15</dd>", "<dd>459.94</dd>", "<dd>3</dd>", "<dd>42.9%</dd>", "<dd>7</dd>"):
        assert figure in sample_page
    # stage conversion: 5 / 7 = 71.4%, 3 / 5 = 60.0%
    assert "view → add_to_cart: 71.4%; add_to_cart → purchase: 60.0%" in sample_page


def test_charts_have_alt_text_with_their_numbers_and_decode_to_non_blank_images(sample_page):
    images = parse(sample_page).images
    alts = [image["alt"] for image in images]
    assert alts[0] == (
        "Bar chart of revenue by category: electronics 299.99, clothing 99.98, books 59.97, home 0.00"
    )
    assert alts[1] == "Bar chart of events by hour: hour 9 13 events, hour 10 2 events"
    assert alts[2] == (
        "Funnel bar chart: view 7, add_to_cart 5 (71.4% of view), purchase 3 (60.0% of add_to_cart)"
    )
    for image in images:
        png = base64.b64decode(image["src"].removeprefix("data:image/png;base64,"))
        picture = Image.open(io.BytesIO(png)).convert("RGB")
        assert picture.width > 500 and picture.height > 200
        assert len(set(picture.get_flattened_data())) > 20, (
            "a chart has more than a background colour"
        )


def test_without_hourly_revenue_the_series_is_left_out_with_a_note(sample_page):
    assert "Revenue by hour is not shown: this day has no hourly_revenue table." in sample_page


def test_extra_tables_are_rendered_sorted_with_their_own_columns():
    page = render_html_report(
        DAY,
        sample_day_tables(),
        extra_tables={
            "session_stats": SESSION_STATS,
            "product_conversion": PRODUCT_CONVERSION,
            "hourly_revenue": HOURLY_REVENUE,
        },
    )
    parsed = parse(page)
    products, hourly_revenue, sessions = parsed.tables[4:]
    assert products == [
        list(PRODUCT_CONVERSION.column_names),
        ["P001", "electronics", "2", "1", "1", "0.5000", "1.0000", "0.5000"],
        ["P002", "clothing", "1", "1", "1", "1.0000", "1.0000", "1.0000"],
    ]
    assert hourly_revenue == [
        ["hour", "purchases", "revenue"],
        ["9", "3", "459.94"],
        ["10", "0", "0.00"],
    ]
    assert sessions == [list(SESSION_STATS.column_names), ["7", "2.1429", "2.0000", "0.4286"]]
    assert parsed.images[1]["alt"].endswith(
        "; bar chart of revenue by hour: hour 9 459.94, hour 10 0.00"
    )
    assert "Revenue by hour is not shown" not in page


def test_quality_section_with_missing_keys():
    quality = {
        "rows_read": 20,
        "rows_valid": 15,
        "rows_rejected": 3,
        "rejected_by_reason": {"bad_price": 1, "unknown_event_type": 2},
    }
    page = render_html_report(DAY, sample_day_tables(), quality=quality)
    figures, reasons = parse(page).tables[4:]
    assert figures == [
        ["figure", "value"],
        ["Rows read", "20"],
        ["Valid rows", "15"],
        ["Rejected rows", "3"],
        ["Exact duplicates dropped", "not reported"],
        ["Purchases without an earlier event in their session", "not reported"],
        ["Rejected share", "15.0%"],
    ]
    assert reasons == [["reason", "rows"], ["unknown_event_type", "2"], ["bad_price", "1"]]
    assert "Data quality" in render_html_report(DAY, sample_day_tables(), quality={})


def test_trend_section_with_chart_and_values():
    trend = [
        TrendPoint(date(2026, 2, 12), 11, Decimal("19.99"), 8, 1),
        TrendPoint(date(2026, 2, 14), 15, Decimal("459.94"), 7, 3),
    ]
    parsed = parse(render_html_report(DAY, sample_day_tables(), trend=trend))
    assert parsed.tables[-1] == [
        ["date", "events", "revenue", "views", "purchases", "conversion"],
        ["2026-02-12", "11", "19.99", "8", "1", "12.5%"],
        ["2026-02-14", "15", "459.94", "7", "3", "42.9%"],
    ]
    assert parsed.images[-1]["alt"] == (
        "Trend over the last days: 2026-02-12 revenue 19.99, 11 events, conversion 12.5%; "
        "2026-02-14 revenue 459.94, 15 events, conversion 42.9%"
    )


def test_a_single_day_trend_has_no_chart_but_says_why():
    trend = [TrendPoint(DAY, 15, Decimal("459.94"), 7, 3)]
    page = render_html_report(DAY, sample_day_tables(), trend=trend)
    assert "No earlier day is published yet" in page
    assert len(parse(page).images) == 3


def test_data_is_html_escaped():
    tables = sample_day_tables()
    category_stats = tables["category_stats"]
    names = category_stats["category"].to_pylist()
    names[1] = MALICIOUS
    tables["category_stats"] = category_stats.set_column(0, "category", pa.array(names))
    page = render_html_report(
        DAY,
        tables,
        quality={"rejected_by_reason": {MALICIOUS: 1}, MALICIOUS: "<b>"},
        extra_tables={"<i>odd</i>": pa.table({"<u>col</u>": [MALICIOUS]})},
    )
    assert "<script" not in page and "<img src=//" not in page and "<b>" not in page
    assert "<i>" not in page and "<u>" not in page
    assert 'id="extra--i-odd-i"' in page and 'href="#extra--i-odd-i"' in page
    # Jinja2's autoescape (markupsafe) spells a double quote &#34;, the same character as &quot;
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=//evil.example/x"
    assert page.count(escaped) >= 4  # category table, chart alt text, quality reason and key
    parsed = parse(page)
    assert parsed.tables[0][2][0] == MALICIOUS  # the browser shows the name as text
    assert MALICIOUS in parsed.images[0]["alt"]
    assert set(parsed.tags) <= {
        "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "nav", "a",
        "main", "section", "h2", "dl", "div", "dt", "dd", "figure", "img", "figcaption",
        "table", "caption", "thead", "tbody", "tr", "th", "td",
    }  # fmt: skip


def test_rendering_is_deterministic():
    assert render_html_report(DAY, sample_day_tables()) == render_html_report(
        DAY, sample_day_tables()
    )


class Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h2: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._inside = True
            self.h2.append("")

    def handle_endtag(self, tag):
        self._inside = self._inside and tag != "h2"

    def handle_data(self, data):
        if self._inside:
            self.h2[-1] += data


def html_headings(page: str) -> list[str]:
    parser = Headings()
    parser.feed(page)
    return parser.h2


def text_headings(report: str) -> list[str]:
    return [line.split("] ", 1)[1] for line in report.splitlines() if re.match(r"\[\d+\] ", line)]


def shown_in(headings: list[str], title: str) -> bool:
    return any(heading.lower().endswith(title.lower()) for heading in headings)


@pytest.mark.parametrize("table", contract.TABLES.values(), ids=lambda table: table.name)
def test_each_declared_table_is_in_the_reports_its_declaration_names(table):
    quality = sample_day_quality()
    extra = sample_day_extra_tables()
    html_titles = html_headings(render_html_report(DAY, sample_day_tables(), quality, extra))
    text_titles = text_headings(render_text_report(DAY, sample_day_tables(), quality))
    assert shown_in(html_titles, table.title) == (contract.REPORT_HTML in table.reports)
    assert shown_in(text_titles, table.title) == (contract.REPORT_TEXT in table.reports)


def test_a_newly_declared_table_appears_without_touching_the_report(monkeypatch):
    new_table = replace(
        contract.SESSION_STATS,
        name="weekday_stats",
        title="Weekday Stats",
        reports=(contract.REPORT_TEXT, contract.REPORT_HTML),
    )
    monkeypatch.setitem(contract.TABLES, new_table.name, new_table)
    data = ReportData(DAY, sample_day_tables(), extra_tables={"weekday_stats": SESSION_STATS})
    assert "[5] Weekday Stats" in render_text(data)
    page = render_html(data)
    assert html_headings(page)[5] == "Weekday Stats"
    assert parse(page).tables[4] == [
        list(SESSION_STATS.column_names),
        ["7", "2.1429", "2.0000", "0.4286"],
    ]
