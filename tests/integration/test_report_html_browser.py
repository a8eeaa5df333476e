"""The sample day's HTML report as a person sees it: rendered by headless Chromium.

Needs the Debian package ``chromium`` (``apt-get install -y chromium``; it pulls
``chromium-common`` and ``fonts-liberation``). The page is opened with every network feature
off, so a chart that needed the network would be missing from the screenshot.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from PIL import Image

from include.ecommerce.charts import PALETTE
from include.ecommerce.report_html import render_html_report
from include.ecommerce.trends import TrendPoint
from tests.unit.sample_day_tables import sample_day_tables

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WINDOW = (1200, 2400)
SCREENSHOT_TIMEOUT_S = 120

SAMPLE_DAY = date(2026, 2, 14)
HOURLY_REVENUE = pa.table(
    {
        "hour": pa.array([9, 10], pa.int32()),
        "purchases": pa.array([3, 0], pa.int64()),
        "revenue": pa.array([Decimal("459.94"), Decimal("0.00")], pa.decimal128(20, 2)),
    }
)
TREND = [
    TrendPoint(date(2026, 2, 12), 11, Decimal("19.99"), 8, 1),
    TrendPoint(date(2026, 2, 13), 16, Decimal("100.75"), 10, 2),
    TrendPoint(SAMPLE_DAY, 15, Decimal("459.94"), 7, 3),
]


def screenshot(page: Path, png: Path, profile: Path) -> None:
    completed = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=SCREENSHOT_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0 and png.is_file(), (
        f"chromium exited with {completed.returncode}:\n{completed.stderr[-2000:]}"
    )


def near(colour: tuple[int, int, int], hex_colour: str, tolerance: int = 12) -> bool:
    target = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(colour, target, strict=True))


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed: apt-get install -y chromium (Debian package)",
)
def test_sample_day_report_renders_with_its_charts(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(
        render_html_report(
            SAMPLE_DAY,
            sample_day_tables(),
            quality={"rows_read": 15, "rows_valid": 15, "rows_rejected": 0},
            extra_tables={"hourly_revenue": HOURLY_REVENUE},
            trend=TREND,
        ),
        encoding="utf-8",
    )
    png = tmp_path / "report.png"
    screenshot(page, png, tmp_path / "chromium-profile")
    print(f"screenshot: {png}")

    picture = Image.open(png).convert("RGB")
    assert picture.size == WINDOW
    counts = picture.getcolors(maxcolors=WINDOW[0] * WINDOW[1])
    assert len(counts) > 200, "a blank or nearly blank page"
    not_background = sum(
        n for n, colour in counts if colour not in {(255, 255, 255), (245, 247, 250)}
    )
    assert not_background > 0.05 * WINDOW[0] * WINDOW[1]

    # The charts' bars were drawn by the browser: the data: images loaded (a broken or blocked
    # image would leave no bar colour), including revenue by hour in the accent colour.
    primary = sum(n for n, colour in counts if near(colour, PALETTE["primary"]))
    accent = sum(n for n, colour in counts if near(colour, PALETTE["accent"]))
    assert primary > 20_000, f"only {primary} pixels of the bars' colour"
    assert accent > 300, f"only {accent} pixels of the revenue-by-hour bars' colour"

    # The category chart sits in the upper part of the page, below the summary: its region is
    # not plain white.
    chart_region = picture.crop((100, 400, 900, 750))
    assert len(chart_region.getcolors(maxcolors=800 * 350)) > 50
