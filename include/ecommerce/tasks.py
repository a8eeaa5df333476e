"""What each task of ``ecommerce_daily`` does, as plain functions of the Airflow context.

The DAG file wires these together; the logic they call lives in the neighbouring modules.
Imports of anything heavy (pyarrow, HdfsCLI, the providers' hooks) happen inside the functions,
so parsing the DAG stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from include.ecommerce import settings
from include.ecommerce.partitions import (
    PARTITION_DATE_PARAM,
    Partition,
    PartitionDateError,
    hdfs_uri,
    resolve_partition_date,
)

if TYPE_CHECKING:
    from hdfs import Client

    from include.ecommerce.report import ReportData

log = logging.getLogger(__name__)

Context = Mapping[str, Any]


def partition_of(context: Context) -> Partition:
    """The day this run processes (rule: ``include.ecommerce.partitions``)."""
    dag_run = context["dag_run"]
    requested = (context.get("params") or {}).get(PARTITION_DATE_PARAM)
    return Partition(resolve_partition_date(dag_run.logical_date, requested))


def _fail(message: str) -> NoReturn:
    """Fail the task at once, no retries: retrying cannot fix a wrong input or setting."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(message) from None


def _partition_or_fail(context: Context) -> Partition:
    try:
        return partition_of(context)
    except PartitionDateError as error:
        _fail(str(error))


def _webhdfs_client():
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    return WebHDFSHook(webhdfs_conn_id=settings.WEBHDFS_CONN_ID).get_conn()


def _pipeline_hdfs_user() -> str:
    """The connection's login: WebHDFS calls and the Spark job both act as this HDFS user."""
    from airflow.sdk import BaseHook

    login = BaseHook.get_connection(settings.WEBHDFS_CONN_ID).login
    if not login:
        _fail(
            f"connection {settings.WEBHDFS_CONN_ID!r} has no login: set it to the HDFS user that "
            "owns /user/data/*/ecommerce (without one, WebHDFS acts as 'dr.who')"
        )
    return login


# --- check_hdfs_health -------------------------------------------------------------------------


def check_hdfs_health(**context: Any) -> dict[str, Any]:
    """Fail within seconds, naming each failed condition with its figures."""
    from airflow.sdk import BaseHook

    from include.ecommerce.hdfs_health import (
        HdfsUnhealthyError,
        HealthThresholds,
        NameNodeUnreachableError,
        check_hdfs_health,
        namenode_http_addresses,
    )

    partition = _partition_or_fail(context)
    params = context["params"]
    connection = BaseHook.get_connection(settings.WEBHDFS_CONN_ID)
    addresses = namenode_http_addresses(
        connection.host, connection.port, bool(connection.extra_dejson.get("use_ssl"))
    )
    thresholds = HealthThresholds(
        min_live_datanodes=int(params["min_live_datanodes"]),
        min_free_bytes=int(params["min_free_bytes"]),
    )
    log.info("checking HDFS before processing %s", partition.iso)
    try:
        state = check_hdfs_health(addresses, thresholds)
    except HdfsUnhealthyError as error:
        _fail(str(error))
    except NameNodeUnreachableError as error:
        raise RuntimeError(str(error)) from None  # may be transient: let retries handle it
    return {"namenode": state.address, "live_datanodes": state.live_datanodes}


# --- wait_for_landing_day (a sensor) -----------------------------------------------------------


def wait_for_landing_day(**context: Any) -> bool:
    """False while the day's ``_READY`` marker is missing and its deadline is ahead; past the
    deadline, fail at once naming the folder (rule: ``include.ecommerce.landing``)."""
    from datetime import UTC, datetime

    from include.ecommerce.landing import (
        LandingDay,
        LandingDeadlinePassedError,
        check_landing_day,
        landing_deadline,
    )

    partition = _partition_or_fail(context)
    day = LandingDay(partition.local_folder(settings.load_locations().landing_dir))
    deadline = landing_deadline(
        partition.partition_date, float(context["params"]["landing_deadline_hours"])
    )
    try:
        ready = check_landing_day(day, deadline, now=datetime.now(UTC))
    except LandingDeadlinePassedError as error:
        _fail(f"{partition.iso}: {error}")
        raise  # unreachable
    if ready:
        log.info("%s is ready (%s)", day.folder, day.marker.name)
    else:
        log.info("waiting for %s until %s UTC", day.marker, f"{deadline:%Y-%m-%d %H:%M}")
    return ready


# --- upload_raw_logs --------------------------------------------------------------------------------


def upload_raw_logs(**context: Any) -> dict[str, Any]:
    """Replace the raw partition with the landing files (handover rule: lease, staging, swap,
    trash); name the landing files left out; flag earlier days whose landing changed since their
    upload (late data); hand the job its arguments."""
    from include.ecommerce.upload import LandingFilesMissingError, landing_files, replace_partition
    from spark_jobs.handover import LeaseHeldError

    partition = _partition_or_fail(context)
    hdfs_user = _pipeline_hdfs_user()
    locations = settings.load_locations()
    landing_folder = partition.local_folder(locations.landing_dir)
    try:
        files = landing_files(landing_folder)
    except LandingFilesMissingError as error:
        _fail(f"{partition.iso}: {error}")
    client = _webhdfs_client()
    try:
        # Held for this run's spark_etl (which adopts the lease) until it has read the day.
        uploaded = replace_partition(
            client, files, partition.raw_partition, run_id=context["dag_run"].run_id, hand_over=True
        )
    except LeaseHeldError as error:
        raise RuntimeError(str(error)) from None  # another run of the day: retry later
    late = _late_days(client, partition, locations.landing_dir, context)
    return {
        **job_arguments(partition, locations.hdfs_uri, hdfs_user),
        "restated": uploaded.changes.describe() if uploaded.restated else "",
        "late_days": late,
    }


def job_arguments(partition: Partition, filesystem_uri: str, hdfs_user: str) -> dict[str, str]:
    """What ``spark_etl`` reads from ``upload_raw_logs``' XCom (the DAG indexes these keys)."""
    return {
        "partition_date": partition.iso,
        "input_uri": hdfs_uri(filesystem_uri, partition.raw_partition),
        "output_uri": hdfs_uri(filesystem_uri, partition.processed_partition),
        "hdfs_user": hdfs_user,
    }


def _late_days(client: Any, partition: Partition, landing_dir: Path, context: Context) -> list[str]:
    """Days before this one whose landing no longer matches their upload, logged loudly."""
    from datetime import timedelta

    from include.ecommerce.upload import late_days

    count = int(
        (context.get("params") or {}).get("late_data_days", settings.DEFAULT_LATE_DATA_DAYS)
    )
    days = [Partition(partition.partition_date - timedelta(days=n)) for n in range(1, count + 1)]
    late = late_days(
        client, [(day.iso, day.local_folder(landing_dir), day.raw_partition) for day in days]
    )
    for day in late:
        log.warning(
            "LATE DATA: %s; its published tables are incomplete: rerun it "
            '(airflow dags trigger %s --conf \'{"partition_date": "%s"}\')',
            day.describe(),
            context["dag"].dag_id if context.get("dag") else "ecommerce_daily",
            day.partition_date,
        )
    return [day.describe() for day in late]


# --- validate_outputs (a sensor) ---------------------------------------------------------------


def validate_outputs(**context: Any) -> bool:
    """False while ``_SUCCESS`` is missing (keep waiting); fails at once on a broken partition."""
    from include.ecommerce.extra_validation import extra_table_problems, read_extra_tables
    from include.ecommerce.validation import (
        OutputValidationError,
        is_published,
        partition_problems,
        read_partition,
    )

    partition = _partition_or_fail(context)
    client = _webhdfs_client()
    if not is_published(client, partition.processed_partition):
        log.info("%s is not published yet (no _SUCCESS)", partition.processed_partition)
        return False
    try:
        contents = read_partition(client, partition.processed_partition)
        problems = partition_problems(contents)
        if not problems:  # the extra tables (conversion, hourly revenue, sessions) must agree too
            extra = read_extra_tables(client, partition.processed_partition)
            problems = extra_table_problems({**contents.tables, **extra})
    except OutputValidationError as error:
        problems = [str(error)]
    if problems:
        _fail(f"{len(problems)} problem(s) in the published partition: " + "; ".join(problems))
    log.info("%s is published and valid", partition.processed_partition)
    # Consumers of the processed-partition asset learn which day just became available.
    for asset in context["task"].outlets:
        context["outlet_events"][asset].extra = {"partition_date": partition.iso}
    return True


# --- generate_report --------------------------------------------------------------------------------


def generate_report(**context: Any) -> str:
    """Render the text and HTML reports, log the text one, store both in HDFS and locally."""
    from include.ecommerce.report import REPORT_FILE_NAME, render_text
    from include.ecommerce.report_html import HTML_REPORT_FILE_NAME, render_html
    from include.ecommerce.report_link import html_report_url
    from include.ecommerce.validation import is_published

    partition = _partition_or_fail(context)
    client = _webhdfs_client()
    if not is_published(client, partition.processed_partition):  # e.g. mid-swap: retry
        raise RuntimeError(f"{partition.processed_partition} is not published (no _SUCCESS)")
    data = read_report_data(client, partition)
    report = render_text(data) + _report_notes(client, partition, context)
    log.info("report for %s:\n%s", partition.iso, report)
    page = render_html(data)
    local_folder = partition.local_folder(settings.load_locations().reports_dir)
    report_path, local_path = store_report(
        client, partition.report_partition, local_folder, REPORT_FILE_NAME, report
    )
    log.info("report stored at hdfs:%s and %s", report_path, local_path)
    html_path, local_html = store_report(
        client, partition.report_partition, local_folder, HTML_REPORT_FILE_NAME, page
    )
    log.info("HTML report stored at hdfs:%s; open it locally: %s", html_path, local_html)
    log.info('in the UI: this task\'s "HTML report" link, %s', html_report_url(report_path))
    return report_path


def _report_notes(client: Any, partition: Partition, context: Context) -> str:
    """Lines under the report: a restated day, late data of earlier days, refused attempts."""
    from spark_jobs.handover import attempt_path

    upload = context["ti"].xcom_pull(task_ids="upload_raw_logs", key="return_value") or {}
    notes = []
    if upload.get("restated"):
        notes.append(f"RESTATED: raw input changed since the previous upload: {upload['restated']}")
    notes += [f"LATE DATA: {line}" for line in upload.get("late_days") or []]
    attempts = attempt_path(partition.processed_partition, "").rstrip("/")
    for name in sorted(client.list(attempts)) if client.status(attempts, strict=False) else []:
        notes.append(f"REFUSED ATTEMPT (not published; rejected rows, quality): {attempts}/{name}")
    return "".join(f"\n[!] {note}" for note in notes) + ("\n" if notes else "")


def read_report_data(
    client: Client, partition: Partition, *, processed_root: str = settings.PROCESSED_ROOT
) -> ReportData:
    """What the reports show, read from HDFS: the four tables and quality.json, the other
    tables the reports show that the partition has, and the published days of the trend."""
    from include.ecommerce.extra_validation import read_extra_tables
    from include.ecommerce.report import OPTIONAL_REPORT_TABLES, ReportData
    from include.ecommerce.trends import partition_folder, read_trend
    from include.ecommerce.validation import read_partition

    processed_partition = partition_folder(processed_root, partition)
    contents = read_partition(client, processed_partition)
    return ReportData(
        partition.partition_date,
        contents.tables,
        contents.quality,
        read_extra_tables(client, processed_partition, OPTIONAL_REPORT_TABLES),
        read_trend(client, partition, processed_root=processed_root),
    )


def store_report(
    client: Client, report_partition: str, local_folder: Path, file_name: str, text: str
) -> tuple[str, Path]:
    """Write one report file to the report partition in HDFS and to ``local_folder``."""
    hdfs_path = f"{report_partition}/{file_name}"
    client.makedirs(report_partition)
    client.write(hdfs_path, data=text.encode("utf-8"), overwrite=True)
    local_folder.mkdir(parents=True, exist_ok=True)
    local_path = local_folder / file_name
    local_path.write_text(text, encoding="utf-8")
    return hdfs_path, local_path


# --- failure callback ---------------------------------------------------------------------------


def log_failure(context: Context) -> None:
    """Say which date failed, in which task, and why: the line an on-call person greps for."""
    task_instance = context.get("task_instance") or context.get("ti")
    try:
        day = partition_of(context).iso
    except (PartitionDateError, KeyError, AttributeError):
        day = "unknown date"
    log.error(
        "ecommerce_daily failed for %s in task %s (try %s): %s",
        day,
        getattr(task_instance, "task_id", "?"),
        getattr(task_instance, "try_number", "?"),
        context.get("exception"),
    )
