"""Serves the daily reports from HDFS in the api-server, for the "HTML report" link.

Mounted at ``/ecommerce-reports``: ``/ecommerce-reports/YYYY/MM/DD/report.html`` (or
``report.txt``) for a logged-in user. Logic: ``include/ecommerce/report_link.py``.
"""

from __future__ import annotations

from airflow.api_fastapi.core_api.security import GetUserDep
from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI, HTTPException, Response

from include.ecommerce import settings
from include.ecommerce.report_link import REPORTS_URL_PREFIX, ReportNotFoundError, read_report

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


class EcommerceReportsPlugin(AirflowPlugin):
    name = "ecommerce_reports"
    fastapi_apps = [  # noqa: RUF012 (AirflowPlugin declares it a list)
        {"app": app, "url_prefix": REPORTS_URL_PREFIX, "name": "E-commerce reports"}
    ]
