"""The daily ETL job: one raw partition of e-commerce logs in, the processed partition out.

    spark-submit spark_jobs/ecommerce_etl.py --date 2026-02-14 \\
        --input hdfs://127.0.0.1:8020/user/data/raw/ecommerce/2026/02/14 \\
        --output hdfs://127.0.0.1:8020/user/data/processed/ecommerce/2026/02/14

Reads every ``*.csv`` and ``*.csv.gz`` of the input folder once, with an explicit all-STRING
schema, types and validates the rows, and publishes the tables of ``contract.TABLES`` as Parquet
folders of the output partition, then ``_SUCCESS`` (atomically: see storage.publish_partition).

Every raw row ends up valid, rejected with a reason (the ``rejected`` table) or dropped as an
exact duplicate; ``quality`` and ``quality.json`` count them. Above ``--max-reject-ratio``
nothing is published: those two and ``rejected`` go to the attempt's own folder
(``handover.attempt_path``, named in the error line) and the published day stays as it was.
Both partitions change hands by the rule of ``spark_jobs/handover.py`` (leases, swap, trash).
The extra tables (``contract.EXTRA_TABLES``) come from the same cached summaries of the events
as the four.

Exit codes (contract.JOB_EXIT_*): 0 published; 2 a file-level input problem or bad arguments;
3 too many rejected rows; 4 another writer holds the day (retried); 1 anything unexpected
(e.g. rows lost: a bug). 2, 3 and 4 come with one line on stderr: ``error: <path>: <problem>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

if not __package__:
    # Run as a script (spark-submit spark_jobs/ecommerce_etl.py): Python put spark_jobs/ itself
    # on sys.path, not the project root, so `from spark_jobs import ...` needs the parent added.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spark_jobs import contract, handover, plan, quality, storage, transforms

EXIT_INPUT_ERROR = contract.JOB_EXIT_INPUT_ERROR

AIRFLOW_RUN_ID_VARIABLE = "AIRFLOW_CTX_DAG_RUN_ID"
"""Names the run in the lease (spark-submit inherits the task's environment); empty outside
Airflow."""

WRITER_THREADS = 4
"""Tables written at the same time (see run.write_partition)."""


def reject_ratio(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ecommerce_etl.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--date", required=True, type=dt.date.fromisoformat, help="partition date, YYYY-MM-DD"
    )
    parser.add_argument("--input", required=True, help="raw partition folder (any Hadoop URI)")
    parser.add_argument("--output", required=True, help="processed partition folder to replace")
    parser.add_argument(
        "--max-reject-ratio",
        type=reject_ratio,
        default=contract.DEFAULT_MAX_REJECT_RATIO,
        help="publish the tables only when rejected rows / rows read <= this "
        f"(default {contract.DEFAULT_MAX_REJECT_RATIO})",
    )
    parser.add_argument(
        "--lease-wait-seconds",
        type=float,
        default=handover.DEFAULT_LEASE_WAIT_S,
        help="how long to wait for another writer of the same day before failing "
        f"(exit {contract.JOB_EXIT_PARTITION_BUSY}, retried; default "
        f"{handover.DEFAULT_LEASE_WAIT_S:.0f})",
    )
    parser.add_argument(
        "--shuffle-partitions",
        type=int,
        default=None,
        help=f"spark.sql.shuffle.partitions (default: --conf value, else the plan's: 1 for a "
        f"small day, else {plan.DEFAULT_SHUFFLE_PARTITIONS})",
    )
    parser.add_argument(
        "--small-day-max-bytes",
        type=int,
        default=plan.SMALL_DAY_MAX_BYTES,
        help=f"input bytes up to which the small-day plan runs (default {plan.SMALL_DAY_MAX_BYTES})",
    )
    return parser.parse_args(argv)


def start_session(args: argparse.Namespace, job_plan: plan.JobPlan):  # -> SparkSession
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(f"ecommerce_etl {args.date}")
    for key, value in job_plan.session_conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    balance_input_splits(spark, job_plan)
    return spark


SPLIT_SIZE_CONF = "spark.sql.files.maxPartitionBytes"


def balance_input_splits(spark, job_plan: plan.JobPlan) -> int | None:
    """Set the plan's input split size for this session's cores (``plan.split_bytes``), unless
    spark-submit's ``--conf`` names one; returns the size set (None: Spark's own rule)."""
    parallelism = spark.sparkContext.defaultParallelism
    split = job_plan.input_split_bytes(parallelism)
    if split is None or spark.sparkContext.getConf().contains(SPLIT_SIZE_CONF):
        return None
    spark.conf.set(SPLIT_SIZE_CONF, str(split))
    log_line(
        f"input: {job_plan.splittable_bytes / 1024**2:.1f} MiB of plain CSV read in splits of "
        f"{split / 1024**2:.1f} MiB by {parallelism} cores"
    )
    return split


def choose_plan(hadoop: storage.Hadoop, files: list[str], args: argparse.Namespace) -> plan.JobPlan:
    """The plan for this day's input (its size), honouring a shuffle partition count given with
    ``--shuffle-partitions`` or spark-submit's ``--conf spark.sql.shuffle.partitions``."""
    from pyspark import SparkConf

    requested = args.shuffle_partitions or SparkConf().get("spark.sql.shuffle.partitions", None)
    sizes = [(file, storage.file_size(hadoop, file)) for file in files]
    return plan.choose(
        plan.sized_bytes(sizes),
        shuffle_partitions=int(requested) if requested else None,
        small_day_max_bytes=args.small_day_max_bytes,
        splittable_bytes=plan.splittable_bytes(sizes),
    )


def read_raw(spark, files: list[str]):  # -> DataFrame
    """All input files through Spark's CSV reader: header skipped, RFC 4180 quoting, UTF-8;
    every column a STRING, a line that does not split into eight fields kept whole in
    ``_corrupt_record`` (PERMISSIVE), and the file of each row."""
    from pyspark.sql import functions as F

    return (
        spark.read.schema(transforms.raw_schema())
        .option("header", True)
        .option("encoding", "UTF-8")
        .option("quote", '"')
        .option("escape", '"')
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", transforms.CORRUPT_RECORD)
        .csv(files)
        .select("*", F.col("_metadata.file_path").alias(transforms.SOURCE_FILE))
    )


FAILED_READ_FILE = re.compile(r"error while reading file (?P<path>\S+?)\.?\s+SQLSTATE")


CHANGED_UNDERNEATH = ("Blocklist for", "has changed", "FileNotFoundException")
"""A file replaced or removed while the job read it: a race, not a verdict on the input, so
the failure keeps its retries (the leases of spark_jobs/handover.py prevent it in the pipeline)."""


def unreadable_file_error(error: Exception) -> storage.InputError | None:
    """Spark's FAILED_READ_FILE (a truncated gzip, an unreadable file) as an InputError naming
    the file, or None when the failure is something else (e.g. a file changed underneath)."""
    text = str(error)
    match = FAILED_READ_FILE.search(text)
    if match is None or any(sign in text for sign in CHANGED_UNDERNEATH):
        return None
    if "EOFException" in text or "Unexpected end of input stream" in text:
        problem = "truncated or corrupt compressed file (unexpected end of input stream)"
    else:
        cause = next((line for line in text.splitlines() if "Caused by:" in line), "")
        problem = f"cannot be read ({cause.replace('Caused by:', '').strip() or 'see the log'})"
    return storage.InputError(match.group("path"), problem)


def measure(spark, raw, args: argparse.Namespace, job_plan: plan.JobPlan):
    """Validate the input and count: returns (summary, the events' aggregates, rejected rows).

    ``one_pass``, then the rejected rows, the counts and the three summaries every table is
    derived from (``transforms.aggregate``, kept in memory unless the plan is a small day's).
    """
    validated, reason_rows = one_pass(spark, raw, args, job_plan)
    events = transforms.clean_events(validated)
    # The bit masks need the day's categories first: one more (small) query, worth it when the
    # summaries are cached; a small day's uncached plan would scan its input again for it.
    categories_of = collect_categories if job_plan.cache_summaries else None
    aggregates = transforms.aggregate(
        events, lambda frame: kept(frame, job_plan, plan.SUMMARIES_STORAGE_LEVEL), categories_of
    )
    event_totals = event_checks(aggregates)
    summary = quality.summarize(args.date, reason_rows, event_totals, args.max_reject_ratio)
    if summary[contract.QUALITY_ROWS_REJECTED]:
        rejected = transforms.rejected_rows(validated)
    else:  # nothing to look for: an empty table instead of a scan of every row
        rejected = json_frame(spark, None, contract.REJECTED.ddl)
    return summary, aggregates, rejected


def one_pass(spark, raw, args: argparse.Namespace, job_plan: plan.JobPlan):
    """The one scan of the raw files and the one shuffle (``transforms.validate``): returns the
    validated rows and the rows per reason (dicts of ``transforms.row_counts``).

    The validated rows are kept on local disk (``plan.ROWS_STORAGE_LEVEL``, unless the plan is
    a small day's) by the query that counts them (``plan.ONE_PASS_CONF``). Fails with an
    ``InputError`` naming the file when a file cannot be read or holds bytes that are not UTF-8,
    or when the files hold no data row.
    """
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    validated = kept(
        transforms.validate(raw, args.date, partitions), job_plan, plan.ROWS_STORAGE_LEVEL
    )
    try:
        with session_settings(spark, plan.ONE_PASS_CONF):
            reason_rows = [row.asDict() for row in transforms.row_counts(validated).collect()]
    except Exception as error:  # py4j / captured Spark errors: see whether a file is to blame
        input_error = unreadable_file_error(error)
        if input_error is None:
            raise
        raise input_error from None
    for row in reason_rows:
        if row["reason"] == transforms.NOT_UTF8:
            raise storage.InputError(row[transforms.SOURCE_FILE], "bytes that are not UTF-8")
    if sum(row["rows"] for row in reason_rows) == 0:
        raise storage.InputError(args.input, "no data rows in the input files (only headers)")
    return validated, reason_rows


def kept(frame, job_plan: plan.JobPlan, level: str):  # -> DataFrame
    """``frame`` persisted at ``level`` (a ``pyspark.StorageLevel`` name) when the plan caches
    (a large day's), else ``frame`` itself."""
    from pyspark import StorageLevel

    return frame.persist(getattr(StorageLevel, level)) if job_plan.cache_summaries else frame


@contextmanager
def session_settings(spark, settings: Mapping[str, str]) -> Iterator[None]:
    """The session's runtime ``settings`` for the queries run inside the block; each one's value
    from before (or its absence) afterwards."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def collect_categories(cells) -> list[str]:
    """The day's distinct categories (an action on the small cells summary): what
    ``transforms.aggregate`` turns into the users' category bit masks."""
    return [row[0] for row in transforms.day_categories(cells).collect()]


def json_frame(spark, row_json: str | None, ddl: str):  # -> DataFrame
    """One row parsed from a JSON object (none when None) with the schema ``ddl``, built in the
    JVM: ``spark.createDataFrame`` of Python rows starts Python worker processes to read them."""
    from pyspark.sql import functions as F

    source = spark.range(0 if row_json is None else 1)
    row = F.from_json(F.lit(row_json or "{}"), ddl).alias("row")
    return source.select(row).select("row.*")


def event_checks(aggregates) -> dict[str, int]:
    """The event checks of the quality summary (an action: two small collects at most):
    rows_valid, duplicates_dropped, negative_revenue, purchases_without_prior_event."""
    totals = transforms.session_checks(aggregates).first().asDict()
    if totals.pop(transforms.AMBIGUOUS_SESSIONS):
        exact = transforms.ambiguous_orphan_purchases(aggregates).first()[0]
        totals[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT] += exact
    return totals


def log_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    """Hold the raw partition (no upload may replace it while it is read), compute, then either
    publish the processed partition by the handover rule or keep a refused attempt aside."""
    hadoop = storage.Hadoop.from_gateway()
    storage.set_log_level(hadoop)
    files_api = storage.HadoopFiles(hadoop)
    run_id = os.environ.get(AIRFLOW_RUN_ID_VARIABLE, "")  # set by Airflow for the task's process
    record = storage.job_lease_record(hadoop, handover.new_writer_id(run_id or "job"), run_id)
    if not files_api.exists(handover.split(args.input)[0]):  # no lease file in a made-up folder
        raise storage.InputError(args.input, "input folder does not exist")
    with handover.acquire(  # adopts the raw partition its run's upload handed over
        files_api,
        args.input,
        record,
        wait_s=args.lease_wait_seconds,
        log=log_line,
        adopt_run_id=run_id,
    ) as raw_hold:
        handover.recover(raw_hold, log_line)  # an upload that died mid-swap: put raw back
        return process(args, hadoop, files_api, record)


def process(
    args: argparse.Namespace,
    hadoop: storage.Hadoop,
    files_api: storage.HadoopFiles,
    record: handover.LeaseRecord,
) -> int:
    files = storage.list_input_files(hadoop, args.input)
    storage.check_headers(hadoop, files)

    job_plan = choose_plan(hadoop, files, args)
    log_line(job_plan.describe())
    spark = start_session(args, job_plan)
    summary, aggregates, rejected = measure(spark, read_raw(spark, files), args, job_plan)
    published = summary[contract.QUALITY_PUBLISHED]
    tables = {contract.REJECTED.name: rejected}
    if published:  # the core and extra tables, each built by its declared builder
        tables |= {table.name: table.load_builder()(aggregates) for table in contract.BUILT_TABLES}
    tables[contract.QUALITY.name] = json_frame(
        spark, quality.to_json(summary), contract.QUALITY.ddl
    )
    session_hadoop = storage.Hadoop.from_session(spark)

    def write_partition(staging_uri: str) -> None:
        def write(name: str) -> None:
            frame = transforms.for_writing(tables[name], contract.TABLES[name])
            writer = frame.write.mode("errorifexists")
            writer.parquet(f"{staging_uri}/{name}")

        # Concurrent Spark jobs: most tables are small, and one at a time their single-task
        # stages and per-job set-up would leave a core idle.
        with ThreadPoolExecutor(WRITER_THREADS, thread_name_prefix="write") as pool:
            for future in [pool.submit(write, name) for name in tables]:
                future.result()
        storage.write_text(
            session_hadoop, staging_uri, contract.QUALITY_JSON, quality.to_json(summary)
        )
        if published:  # last: what readers wait for
            storage.write_text(session_hadoop, staging_uri, contract.SUCCESS_MARKER, "")

    def verify(staging_uri: str) -> None:
        missing = [
            name
            for name in [*tables, contract.QUALITY_JSON, contract.SUCCESS_MARKER]
            if not files_api.exists(f"{staging_uri}/{name}")
        ]
        if missing:
            raise handover.HandoverError(f"{staging_uri}: missing {', '.join(missing)}")

    if not published:
        # Never over the published day: the evidence goes to this attempt's own folder.
        attempt = handover.attempt_path(args.output, record.writer_id)
        files_api.mkdirs(attempt)
        write_partition(attempt)
        report_error(
            f"{args.input}: {quality.too_many_rejects_message(summary)}; the published day is "
            f"unchanged; rejected rows and quality of this attempt: {attempt}"
        )
        return contract.JOB_EXIT_TOO_MANY_REJECTS
    handover.publish(
        files_api,
        args.output,
        record,
        write_partition,
        verify=verify,
        wait_s=args.lease_wait_seconds,
        log=log_line,
    )
    return 0


def report_error(message: str) -> None:
    """One line ``error: ...`` on the job's stderr.

    Under spark-submit the Python driver's stdout and stderr are both piped into spark-submit's
    *stdout*; the JVM's System.err is spark-submit's real stderr, so the line goes there when the
    gateway is up (and to Python's stderr otherwise, e.g. ``python -m spark_jobs.ecommerce_etl``).
    """
    line = f"{contract.JOB_ERROR_PREFIX}{message}"
    from pyspark import SparkContext

    if SparkContext._jvm is not None:
        SparkContext._jvm.System.err.println(line)
        SparkContext._jvm.System.err.flush()
    else:
        print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except storage.InputError as error:
        report_error(str(error))
        return EXIT_INPUT_ERROR
    except handover.LeaseHeldError as error:
        report_error(str(error))
        return contract.JOB_EXIT_PARTITION_BUSY


if __name__ == "__main__":
    sys.exit(main())
