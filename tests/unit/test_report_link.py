"""The "HTML report" link: which URL a day's report gets, and which names are refused."""

from __future__ import annotations

import pytest

from include.ecommerce.report_link import (
    REPORTS_URL_PREFIX,
    ReportNotFoundError,
    ReportOperator,
    read_report,
    report_files,
    report_url,
)
from include.ecommerce.settings import REPORTS_ROOT

REPORT_TXT = f"{REPORTS_ROOT}/2026/02/14/report.txt"


def test_the_link_points_at_the_api_servers_report_app():
    assert (
        report_url("http://127.0.0.1:8080/", REPORT_TXT, "report.html")
        == f"http://127.0.0.1:8080{REPORTS_URL_PREFIX}/2026/02/14/report.html"
    )
    assert report_url("", REPORT_TXT, "report.html") == "/ecommerce-reports/2026/02/14/report.html"


@pytest.mark.parametrize(
    "path",
    [
        "/user/data/processed/ecommerce/2026/02/14/report.txt",
        f"{REPORTS_ROOT}/2026/02/report.txt",
        f"{REPORTS_ROOT}/../../etc/report.txt",
    ],
)
def test_a_path_outside_a_days_report_partition_gets_no_link(path):
    with pytest.raises(ValueError, match="is not a report below"):
        report_url("", path, "report.html")


def test_only_the_reports_are_served_and_as_what_they_are():
    assert report_files() == {
        "report.html": "text/html; charset=utf-8",
        "report.txt": "text/plain; charset=utf-8",
    }


@pytest.mark.parametrize(
    ("subpath", "name"),
    [("2026/02/14", "quality.json"), ("2026/02/..", "report.html"), ("../../x/y", "report.txt")],
)
def test_other_files_or_folders_are_refused_before_hdfs_is_asked(subpath, name):
    with pytest.raises(ReportNotFoundError, match=f"no report {subpath}/{name}"):
        read_report(None, subpath, name)  # type: ignore[arg-type]  # never reached


def test_the_report_task_carries_the_link():
    assert [link.name for link in ReportOperator.operator_extra_links] == ["HTML report"]
