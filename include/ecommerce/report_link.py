"""From a run to its report in the Airflow UI: an extra link on ``generate_report``.

Airflow 3 computes an operator's extra links on the worker when the task ends (the Task SDK's
``finalize`` calls ``get_link`` and stores the URL as an XCom) and the UI shows them as buttons
on the task instance. The link points at the api-server itself: the plugin
``plugins/ecommerce_reports.py`` mounts a small FastAPI app at ``/ecommerce-reports`` that
serves a day's ``report.html`` / ``report.txt`` from the report partition in HDFS to logged-in
users (the UI's session cookie authenticates the click). So the report is one click away
wherever the api-server runs, with no local files and no HDFS address in the browser.

Nothing heavy is imported at module level: the DAG file imports :class:`ReportOperator`.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import BaseOperatorLink

from include.ecommerce.settings import REPORTS_ROOT

if TYPE_CHECKING:
    from hdfs import Client

REPORTS_URL_PREFIX = "/ecommerce-reports"
"""Where the plugin's app is mounted in the api-server."""
_DAY_SUBPATH = re.compile(r"\d{4}/\d{2}/\d{2}")


class ReportNotFoundError(LookupError):
    """No such report (unknown file name, malformed day, or not published)."""


def report_url(base_url: str, report_path: str, file_name: str) -> str:
    """URL of ``file_name`` beside ``report_path`` (an HDFS path below ``REPORTS_ROOT``)."""
    folder = posixpath.dirname(report_path)
    subpath = posixpath.relpath(folder, REPORTS_ROOT)
    if not folder.startswith(REPORTS_ROOT + "/") or not _DAY_SUBPATH.fullmatch(subpath):
        raise ValueError(f"{report_path!r} is not a report below {REPORTS_ROOT}/YYYY/MM/DD")
    return f"{base_url.rstrip('/')}{REPORTS_URL_PREFIX}/{subpath}/{file_name}"


def report_files() -> dict[str, str]:
    """The files a day's report partition holds, with their media type."""
    from include.ecommerce.report import REPORT_FILE_NAME
    from include.ecommerce.report_html import HTML_REPORT_FILE_NAME

    return {
        HTML_REPORT_FILE_NAME: "text/html; charset=utf-8",
        REPORT_FILE_NAME: "text/plain; charset=utf-8",
    }


def read_report(client: Client, subpath: str, file_name: str) -> tuple[bytes, str]:
    """The bytes and media type of ``<REPORTS_ROOT>/<subpath>/<file_name>``."""
    media_type = report_files().get(file_name)
    if media_type is None or not _DAY_SUBPATH.fullmatch(subpath):
        raise ReportNotFoundError(f"no report {subpath}/{file_name}")
    path = f"{REPORTS_ROOT}/{subpath}/{file_name}"
    if client.status(path, strict=False) is None:
        raise ReportNotFoundError(f"no report at hdfs:{path} (has that day's run succeeded?)")
    with client.read(path) as reader:
        return reader.read(), media_type


def _api_base_url() -> str:
    """The api-server's public address (``[api] base_url``); empty: a link relative to the UI."""
    from airflow.configuration import conf

    return conf.get("api", "base_url", fallback="") or ""


def html_report_url(report_path: str) -> str:
    """Where the UI serves the HTML report beside the text report at ``report_path``."""
    from include.ecommerce.report_html import HTML_REPORT_FILE_NAME

    return report_url(_api_base_url(), report_path, HTML_REPORT_FILE_NAME)


class HtmlReportLink(BaseOperatorLink):
    """The button "HTML report" on ``generate_report``, once it has written the report."""

    name = "HTML report"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        # On the worker ``ti_key`` is the running task instance: the task returned the path of
        # its text report; the HTML one lies beside it.
        report_path = ti_key.xcom_pull(task_ids=ti_key.task_id)
        return html_report_url(str(report_path)) if report_path else ""


class ReportOperator(PythonOperator):
    """A Python task with the "HTML report" link (the callable returns the report's HDFS path)."""

    operator_extra_links: ClassVar = (HtmlReportLink(),)
