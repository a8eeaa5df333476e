"""
### E-commerce daily pipeline

For one day of clickstream logs (the **partition date**):

1. `check_hdfs_health`: the NameNode is operational, not in safe mode, has enough live
   DataNodes and free space (params `min_live_datanodes`, `min_free_bytes`).
2. `wait_for_landing_day`: waits until the collector has written the day's
   `<landing>/YYYY/MM/DD/_READY` marker (after its last file), up to `landing_deadline_hours`
   (default 6) after the day ends; then it fails naming the folder. A long-past day without
   its marker fails at once. It waits in reschedule mode: no worker slot is held meanwhile.
3. `upload_raw_logs`: the day's landing files (`<landing>/YYYY/MM/DD/*.csv[.gz]`) replace
   `/user/data/raw/ecommerce/YYYY/MM/DD/` through WebHDFS (one writer per day, the old files
   to the HDFS trash); files left out are named; earlier days whose landing changed are flagged
   (param `late_data_days`).
4. `spark_etl`: `spark_jobs/ecommerce_etl.py` through `spark-submit` writes the tables to
   `/user/data/processed/ecommerce/YYYY/MM/DD/<table>/`, then `_SUCCESS`. Rows that break the
   data contract are kept in the `rejected` table; above `max_reject_ratio` the day is not
   published.
5. `validate_outputs`: waits for `_SUCCESS`, then checks every table's schema and the
   cross-table totals; a broken partition fails at once.
6. `generate_report`: the daily report, in the task log and at
   `/user/data/reports/ecommerce/YYYY/MM/DD/report.{txt,html}`. In a run, the task's
   **Details** tab has the **HTML report** link (Extra Links): the HTML report with its charts.

**Which day?** The logical date's calendar day (UTC). The scheduled run at 00:00 UTC processes
the day that just ended; a trigger or backfill for 2026-02-14 processes 2026-02-14. A run
without a logical date needs the param `partition_date` (YYYY-MM-DD).

**Several days at once**: up to 8 runs may be active, so a run waiting for its landing day
does not hold back a trigger or a backfill of another day; only one `spark_etl` runs at a time
across all runs (`max_active_tis_per_dag=1`), because each Spark job wants the machine's cores.

**Settings**: connections `webhdfs_default` (NameNode HTTP address; its login is the HDFS user)
and `spark_default` (Spark master); variables `ecommerce_hdfs_uri`, `ecommerce_landing_dir`,
`ecommerce_reports_dir`. Defaults: `include/ecommerce/settings.py`.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, Param, task

from include.ecommerce import settings, tasks
from include.ecommerce.etl_operator import EtlJobOperator
from include.ecommerce.report_link import ReportOperator
from include.ecommerce.spark_submit import etl_submission

DAG_ID = "ecommerce_daily"

with DAG(
    dag_id=DAG_ID,
    description="HDFS health -> landing day -> raw upload -> Spark ETL -> validation -> report",
    doc_md=__doc__,
    # Data-interval timetable: a run's logical date is the start of the day it covers.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    # Early on purpose: Airflow creates no task for a triggered run whose logical date is before
    # the start date, and such a run turns green having done nothing.
    start_date=settings.EARLIEST_PARTITION_DATE,
    catchup=False,  # history is loaded with `airflow backfill create`, on purpose
    # A run may wait hours for its landing day: other days' runs must still start. The cores are
    # shared by spark_etl's max_active_tis_per_dag=1 (one Spark job at a time) instead.
    max_active_runs=8,
    tags=["ecommerce", "hdfs", "spark", "daily"],
    default_args={
        "owner": "data-engineering",
        "retries": settings.TASK_RETRIES,
        "retry_delay": settings.TASK_RETRY_DELAY,
        "retry_exponential_backoff": True,
        "on_failure_callback": tasks.log_failure,
    },
    params={
        "partition_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="YYYY-MM-DD. Only for runs without a logical date, or to override it.",
        ),
        "max_reject_ratio": Param(
            settings.DEFAULT_MAX_REJECT_RATIO,
            type="number",
            minimum=0,
            maximum=1,
            description="Share of rejected raw rows above which the day is not published.",
        ),
        "late_data_days": Param(
            settings.DEFAULT_LATE_DATA_DAYS,
            type="integer",
            minimum=0,
            description="Earlier days whose landing is compared with what was uploaded.",
        ),
        "min_live_datanodes": Param(settings.DEFAULT_MIN_LIVE_DATANODES, type="integer", minimum=1),
        "min_free_bytes": Param(settings.DEFAULT_MIN_FREE_BYTES, type="integer", minimum=0),
        "landing_deadline_hours": Param(
            settings.DEFAULT_LANDING_DEADLINE_HOURS,
            type="number",
            minimum=0,
            description="How long after the day ends (midnight UTC) to wait for its _READY marker.",
        ),
    },
) as dag:
    check_hdfs_health = task(tasks.check_hdfs_health, task_id="check_hdfs_health")()

    wait_for_landing_day = task.sensor(
        tasks.wait_for_landing_day,
        task_id="wait_for_landing_day",
        mode="reschedule",
        poke_interval=settings.landing_poke_interval_s(),
        # The param's deadline decides; this only bounds a run for a day far in the future.
        timeout=timedelta(days=3).total_seconds(),
    )()

    upload_raw_logs = task(
        tasks.upload_raw_logs, task_id="upload_raw_logs", multiple_outputs=True
    )()

    spark_etl = EtlJobOperator(
        task_id="spark_etl",
        conn_id=settings.SPARK_CONN_ID,
        **etl_submission(
            upload_raw_logs["partition_date"],
            upload_raw_logs["input_uri"],
            upload_raw_logs["output_uri"],
            "{{ params.max_reject_ratio }}",
        ).operator_kwargs(),
        env_vars={"HADOOP_USER_NAME": upload_raw_logs["hdfs_user"]},
        execution_timeout=timedelta(hours=2),
        max_active_tis_per_dag=1,  # one Spark job at a time, whichever runs are active
    )

    validate_outputs = task.sensor(
        tasks.validate_outputs,
        task_id="validate_outputs",
        mode="reschedule",
        poke_interval=30,
        timeout=timedelta(hours=1).total_seconds(),
        outlets=[Asset(name=settings.PROCESSED_ASSET_NAME, uri=settings.processed_asset_uri())],
    )()

    # Its "HTML report" link (task instance page) opens the day's report, served by the api-server.
    generate_report = ReportOperator(
        task_id="generate_report", python_callable=tasks.generate_report
    )

    (
        check_hdfs_health
        >> wait_for_landing_day
        >> upload_raw_logs
        >> spark_etl
        >> validate_outputs
        >> generate_report
    )
