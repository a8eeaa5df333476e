"""Serves the daily reports from HDFS in the api-server, for the "HTML report" link.

Mounted at ``/ecommerce-reports``: ``/ecommerce-reports/YYYY/MM/DD/report.html`` (or
``report.txt``) for a logged-in user. Logic: ``include/ecommerce/report_link.py``.

Every Airflow process that reads a serialized DAG loads the plugins (to find operator extra
links): ``airflow dags test``, the scheduler, the dag-processor, the task runner. Only the
api-server mounts the app, so FastAPI and the api-server's security module (about a second of
imports) are imported when the app is first asked for, not when this module is loaded.
(No ``from __future__ import annotations`` here: FastAPI reads the endpoint's annotations, which
name ``GetUserDep`` imported inside ``reports_app``.)
"""

import functools
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from include.ecommerce.report_link import REPORTS_URL_PREFIX


@functools.cache
def reports_app() -> Any:
    """The FastAPI app of the reports (one per process)."""
    from airflow.api_fastapi.core_api.security import GetUserDep
    from fastapi import FastAPI, HTTPException, Response

    from include.ecommerce import settings
    from include.ecommerce.report_link import ReportNotFoundError, read_report

    app = FastAPI(title="E-commerce daily reports")

    @app.get("/{year}/{month}/{day}/{file_name}")
    def daily_report(year: str, month: str, day: str, file_name: str, user: GetUserDep) -> Response:
        from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

        client = WebHDFSHook(webhdfs_conn_id=settings.WEBHDFS_CONN_ID).get_conn()
        try:
            body, media_type = read_report(client, f"{year}/{month}/{day}", file_name)
        except ReportNotFoundError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        return Response(content=body, media_type=media_type)

    return app


class EcommerceReportsPlugin(AirflowPlugin):
    name = "ecommerce_reports"

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """Read by the api-server when it mounts the plugins' apps."""
        return [
            {"app": reports_app(), "url_prefix": REPORTS_URL_PREFIX, "name": "E-commerce reports"}
        ]
