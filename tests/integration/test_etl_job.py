"""The real ETL job, run by spark-submit on file:// folders (and on the local HDFS).

Each spark-submit costs ~10 s of start-up, so runs are shared through module fixtures and the
file-level error cases exit before any SparkSession (a few seconds each).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.data import generate_logs
from spark_jobs import contract, handover
from tests.unit.sample_day_extra_tables import sample_day_extra_tables
from tests.unit.sample_day_tables import sample_day_tables

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]
JOB = PROJECT_ROOT / "spark_jobs" / "ecommerce_etl.py"
SAMPLE_DAY = PROJECT_ROOT / "include/data/landing/2026/02/14"
SAMPLE_DATE = dt.date(2026, 2, 14)
JOB_TIMEOUT_S = 600


@dataclass(frozen=True)
class JobRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def job_command(
    partition_date: dt.date, input_uri: str, output_uri: str, *extra_args: str
) -> list[str]:
    """``spark-submit --master local[2] spark_jobs/ecommerce_etl.py ...``."""
    spark_submit = Path(sys.executable).parent / "spark-submit"
    return [
        str(spark_submit),
        "--master",
        "local[2]",
        "--driver-memory",
        "1g",
        "--conf",
        "spark.ui.enabled=false",
        str(JOB),
        "--date",
        partition_date.isoformat(),
        "--input",
        input_uri,
        "--output",
        output_uri,
        *extra_args,
    ]


def job_env(env: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYSPARK_PYTHON": sys.executable, **(env or {})}


def run_job(
    partition_date: dt.date,
    input_uri: str,
    output_uri: str,
    *extra_args: str,
    env: dict[str, str] | None = None,
) -> JobRun:
    """The job as a subprocess (see job_command)."""
    completed = subprocess.run(
        job_command(partition_date, input_uri, output_uri, *extra_args),
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT_S,
        check=False,
        env=job_env(env),
    )
    return JobRun(completed.returncode, completed.stdout, completed.stderr)


def assert_succeeded(run: JobRun) -> None:
    assert run.returncode == 0, f"job failed ({run.returncode}):\n{run.stderr[-4000:]}"


def read_table(partition: Path, name: str) -> pa.Table:
    return pq.read_table(partition / name)


def read_core_tables(partition: Path) -> dict[str, list[dict]]:
    return {
        table.name: read_table(partition, table.name).to_pylist() for table in contract.CORE_TABLES
    }


def expected_sample_tables() -> dict[str, list[dict]]:
    """Hand-counted sample tables (tests/unit/sample_day_tables.py), in the job's row order."""
    expected = {}
    for name, table in sample_day_tables().items():
        keys = contract.TABLES[name].write_order
        expected[name] = sorted(table.to_pylist(), key=lambda row: [row[key] for key in keys])
    return expected


def copy_day(source: Path, raw_partition: Path) -> Path:
    raw_partition.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        shutil.copy(file, raw_partition / file.name)
    return raw_partition


# --- The sample day -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[JobRun, Path]:
    root = tmp_path_factory.mktemp("sample")
    raw = copy_day(SAMPLE_DAY, root / "raw/2026/02/14")
    processed = root / "processed/2026/02/14"
    return run_job(SAMPLE_DATE, raw.as_uri(), processed.as_uri()), processed


def test_sample_day_every_value_of_the_four_tables(sample_run):
    run, processed = sample_run
    assert_succeeded(run)
    assert read_core_tables(processed) == expected_sample_tables()


def test_sample_day_extra_tables_every_value_and_type(sample_run):
    run, processed = sample_run
    assert_succeeded(run)
    expected = sample_day_extra_tables()  # hand-counted, in the job's row order
    for table in contract.EXTRA_TABLES:
        read = read_table(processed, table.name)
        assert read.schema.names == list(table.column_names)
        assert read.schema.types == expected[table.name].schema.types, table.name
        assert read.to_pylist() == expected[table.name].to_pylist(), table.name
        assert len(list((processed / table.name).glob("part-*.parquet"))) == 1


def test_sample_day_has_no_rejects_and_its_quality_summary(sample_run):
    _, processed = sample_run
    summary = json.loads((processed / contract.QUALITY_JSON).read_text())
    assert summary[contract.QUALITY_ROWS_READ] == summary[contract.QUALITY_ROWS_VALID] == 15
    assert summary[contract.QUALITY_ROWS_REJECTED] == 0
    assert summary[contract.QUALITY_DUPLICATES_DROPPED] == 0
    # 101 viewed p001 before buying it, 102 and 103 likewise: no orphan purchase
    assert summary[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT] == 0
    assert summary[contract.QUALITY_PUBLISHED] is True
    assert read_table(processed, contract.REJECTED.name).num_rows == 0


def test_sample_day_tables_have_the_contract_types(sample_run):
    _, processed = sample_run
    for table in contract.CORE_TABLES:
        assert read_table(processed, table.name).schema.names == list(table.column_names)
    types = {table.name: read_table(processed, table.name).schema for table in contract.CORE_TABLES}
    assert types["category_stats"].field("total_revenue").type == pa.decimal128(20, 2)
    assert types["user_behavior"].field("total_spent").type == pa.decimal128(20, 2)
    assert types["user_behavior"].field("user_id").type == pa.int64()
    assert types["hourly_activity"].field("hour").type == pa.int32()
    assert pa.types.is_list(types["user_behavior"].field("categories_viewed").type)


def test_sample_day_partition_is_published_with_success_last_and_no_staging(sample_run):
    _, processed = sample_run
    assert (processed / contract.SUCCESS_MARKER).is_file()
    assert [p.name for p in processed.parent.iterdir()] == ["14"]  # no staging, aside, lease
    for table in contract.CORE_TABLES:
        data_files = list((processed / table.name).glob("part-*.parquet"))
        assert len(data_files) == 1, (table.name, data_files)  # coalesce(1): tiny tables


def test_rerun_replaces_only_its_partition_and_gives_identical_tables(sample_run, tmp_path):
    first_run, first = sample_run
    assert_succeeded(first_run)
    processed_root = tmp_path / "processed"
    partition = processed_root / "2026/02/14"
    shutil.copytree(first, partition)
    # What a crashed run and a stale table would leave behind, and another day's partition.
    stale_staging = processed_root / "2026/02" / f"{handover.STAGING_PREFIX}14-0123abcd"
    (stale_staging / "funnel").mkdir(parents=True)
    (partition / "old_table").mkdir()
    neighbour = processed_root / "2026/02/13"
    neighbour.mkdir(parents=True)
    (neighbour / "keep.txt").write_text("another day")

    run = run_job(SAMPLE_DATE, SAMPLE_DAY.as_uri(), partition.as_uri())

    assert_succeeded(run)
    assert read_core_tables(partition) == read_core_tables(first) == expected_sample_tables()
    assert not (partition / "old_table").exists()
    assert not stale_staging.exists()
    assert (neighbour / "keep.txt").read_text() == "another day"
    assert sorted(p.name for p in (processed_root / "2026/02").iterdir()) == ["13", "14"]


def read_all_tables(partition: Path) -> dict[str, list[dict]]:
    tables = {name: read_table(partition, name).to_pylist() for name in contract.TABLES}
    return tables | {"quality.json": json.loads((partition / contract.QUALITY_JSON).read_text())}


def test_the_large_day_plan_gives_the_small_day_plans_tables(sample_run, tmp_path):
    """spark_jobs/plan.py: the sample day runs the small-day plan (one shuffle partition, no
    cache); forced into the large-day plan (eight partitions, cached summaries, input splits set for
    the cores) it publishes the same rows in every table, in the same order."""
    small_run, small = sample_run
    assert_succeeded(small_run)
    assert "plan: small-day" in small_run.stdout + small_run.stderr
    raw = copy_day(SAMPLE_DAY, tmp_path / "raw/2026/02/14")
    large = tmp_path / "processed/2026/02/14"

    run = run_job(SAMPLE_DATE, raw.as_uri(), large.as_uri(), "--small-day-max-bytes", "0")

    assert_succeeded(run)
    assert "plan: large-day" in run.stdout + run.stderr
    # plan.split_bytes: the 984-byte file read as two splits (local[2]), one per core
    assert "read in splits of 0.0 MiB by 2 cores" in run.stdout + run.stderr
    assert read_all_tables(large) == read_all_tables(small)


# --- File-level errors: one line naming the path, exit 2, before any SparkSession -----------------

HEADER = ",".join(contract.RAW_COLUMNS) + "\n"
ROW = "2026-02-14 09:00:15,101,s1001,view,p001,electronics,299.99,1\n"


def make_case(root: Path, case: str) -> tuple[str, str, str]:
    """(input URI, path the message must name, problem text) for one broken raw partition."""
    folder = root / case
    if case == "missing_folder":
        return folder.as_uri(), folder.as_uri(), "input folder does not exist"
    folder.mkdir(parents=True)
    if case == "no_matching_files":
        (folder / "notes.txt").write_text(HEADER + ROW)
        return folder.as_uri(), folder.as_uri(), "no input files (*.csv or *.csv.gz)"
    bad = folder / "b.csv"
    (folder / "a.csv").write_text(HEADER + ROW)
    if case == "empty_file":
        bad.write_bytes(b"")
        return folder.as_uri(), str(bad), "empty file"
    if case == "header_without_contract_columns":
        bad.write_text(HEADER.replace("price", "amount") + ROW)
        return folder.as_uri(), str(bad), "header lacks the contract column(s) price"
    raise ValueError(case)


@pytest.mark.parametrize(
    "case",
    ["missing_folder", "no_matching_files", "empty_file", "header_without_contract_columns"],
)
def test_file_level_errors_exit_2_with_one_line_naming_the_path(case, tmp_path):
    input_uri, named_path, problem = make_case(tmp_path / "raw", case)
    output = tmp_path / "processed/2026/02/14"

    run = run_job(SAMPLE_DATE, input_uri, output.as_uri())

    assert run.returncode == 2, run.stderr[-3000:]
    (line,) = run.error_lines
    assert line == run.last_line
    assert named_path.removeprefix("file://") in line
    assert problem in line
    assert "Traceback" not in run.stderr and "Exception" not in run.stderr
    assert not output.exists()


# --- A generated day, several files (one gzipped), against DuckDB ---------------------------------

DUCKDB_QUERIES = {
    "category_stats": """
        SELECT category, count(*) AS total_events, count(DISTINCT user_id) AS unique_users,
               CAST(sum(CASE WHEN event_type = 'purchase' THEN price * quantity ELSE 0 END)
                    AS DECIMAL(20, 2)) AS total_revenue,
               count(*) FILTER (WHERE event_type = 'purchase') AS purchases
        FROM events GROUP BY category ORDER BY category""",
    "hourly_activity": """
        SELECT CAST(hour(event_time) AS INTEGER) AS hour, count(*) AS events,
               count(DISTINCT user_id) AS active_users
        FROM events GROUP BY 1 ORDER BY 1""",
    "funnel": """
        SELECT stage AS event_type, count(events.event_type) AS count
        FROM unnest(['view', 'add_to_cart', 'purchase']) WITH ORDINALITY AS s(stage, position)
        LEFT JOIN events ON events.event_type = stage
        GROUP BY stage, position ORDER BY position""",
    "user_behavior": """
        SELECT user_id, count(*) AS total_events, count(DISTINCT session_id) AS sessions,
               CAST(sum(CASE WHEN event_type = 'purchase' THEN price * quantity ELSE 0 END)
                    AS DECIMAL(20, 2)) AS total_spent,
               list_sort(list(DISTINCT category)) AS categories_viewed
        FROM events GROUP BY user_id ORDER BY user_id""",
    "product_conversion": """
        WITH stages AS (
            SELECT product_id, category,
                   count(*) FILTER (WHERE event_type = 'view') AS views,
                   count(*) FILTER (WHERE event_type = 'add_to_cart') AS add_to_carts,
                   count(*) FILTER (WHERE event_type = 'purchase') AS purchases
            FROM events GROUP BY product_id, category)
        SELECT *, CAST(add_to_carts AS DOUBLE) / nullif(views, 0) AS view_to_cart_rate,
               CAST(purchases AS DOUBLE) / nullif(add_to_carts, 0) AS cart_to_purchase_rate,
               CAST(purchases AS DOUBLE) / nullif(views, 0) AS view_to_purchase_rate
        FROM stages ORDER BY product_id, category""",
    "hourly_revenue": """
        SELECT CAST(hour(event_time) AS INTEGER) AS hour,
               count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
               CAST(sum(CASE WHEN event_type = 'purchase' THEN price * quantity ELSE 0 END)
                    AS DECIMAL(20, 2)) AS revenue
        FROM events GROUP BY 1 ORDER BY 1""",
    "session_stats": """
        WITH sessions AS (
            SELECT user_id, session_id, count(*) AS events,
                   max(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS has_purchase
            FROM events GROUP BY user_id, session_id)
        SELECT count(*) AS sessions, avg(events) AS avg_events_per_session,
               quantile_cont(events, 0.5) AS median_events_per_session,
               avg(has_purchase) AS purchase_session_share
        FROM sessions""",
}
"""Every table built from the events (``contract.BUILT_TABLES``), by another engine; doubles are
compared with a tolerance (sum orders differ)."""


def duckdb_tables(files: list[Path]) -> dict[str, list[dict]]:
    """Every built table computed by another engine from the same CSV files (a declared table
    without a query here fails the test: each table is cross-checked)."""
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    file_list = ", ".join(f"'{file}'" for file in files)  # tmp paths: no quotes inside
    connection.execute(
        f"""
        CREATE VIEW events AS SELECT DISTINCT
            strptime("timestamp", '%Y-%m-%d %H:%M:%S') AS event_time,
            CAST(user_id AS BIGINT) AS user_id, session_id, event_type, product_id, category,
            CAST(price AS DECIMAL(12, 2)) AS price, CAST(quantity AS INTEGER) AS quantity
        FROM read_csv([{file_list}], header = true, all_varchar = true)"""
    )
    tables = {}
    for table in contract.BUILT_TABLES:
        cursor = connection.execute(DUCKDB_QUERIES[table.name])
        columns = [description[0] for description in cursor.description]
        tables[table.name] = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return tables


def test_generated_day_in_three_files_matches_duckdb(tmp_path):
    date = dt.date(2026, 2, 20)
    files = generate_logs.write_day(
        date, 20_000, tmp_path / "raw", files=3, gzip_files=[False, True, False]
    )
    processed = tmp_path / "processed" / f"{date:%Y/%m/%d}"

    run = run_job(date, files[0].parent.as_uri(), processed.as_uri())

    assert_succeeded(run)
    expected = duckdb_tables(files)
    assert sum(row["count"] for row in expected["funnel"]) == 20_000
    assert read_core_tables(processed) == {t.name: expected[t.name] for t in contract.CORE_TABLES}
    for table in contract.BUILT_TABLES:
        rows = read_table(processed, table.name).to_pylist()
        assert len(rows) == len(expected[table.name]), table.name
        for row, expected_row in zip(rows, expected[table.name], strict=True):
            assert row.keys() == expected_row.keys()
            for column, value in row.items():
                if isinstance(value, float):  # means and ratios: summed in another order
                    assert math.isclose(value, expected_row[column], rel_tol=1e-12), (row, column)
                else:
                    assert value == expected_row[column], (row, column)


# --- On the local HDFS ----------------------------------------------------------------------------


def read_hdfs_table(client, folder: str) -> list[dict]:
    parts = sorted(name for name in client.list(folder) if name.endswith(".parquet"))
    tables = []
    for name in parts:
        with client.read(f"{folder}/{name}") as reader:
            tables.append(pq.read_table(io.BytesIO(reader.read())))
    return pa.concat_tables(tables).to_pylist()


def test_sample_day_on_hdfs_and_rerun_identical(hdfs, hdfs_scratch):
    raw = f"{hdfs_scratch}/raw/ecommerce/2026/02/14"
    processed = f"{hdfs_scratch}/processed/ecommerce/2026/02/14"
    hdfs.client.makedirs(raw)
    hdfs.client.upload(f"{raw}/ecommerce_logs.csv", str(SAMPLE_DAY / "ecommerce_logs.csv"))
    env = {"HADOOP_USER_NAME": hdfs.user}

    tables_per_run = []
    for _ in range(2):
        run = run_job(SAMPLE_DATE, hdfs.uri + raw, hdfs.uri + processed, env=env)
        assert_succeeded(run)
        assert contract.SUCCESS_MARKER in hdfs.client.list(processed)
        tables_per_run.append(
            {
                t.name: read_hdfs_table(hdfs.client, f"{processed}/{t.name}")
                for t in contract.CORE_TABLES
            }
        )
        parent = hdfs.client.list(f"{hdfs_scratch}/processed/ecommerce/2026/02")
        assert parent == ["14"]  # no staging folder left next to it
    assert tables_per_run[0] == tables_per_run[1] == expected_sample_tables()
    assert hdfs.client.status(processed)["owner"] == hdfs.user
