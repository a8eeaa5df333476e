"""``make bench``: our Spark job against a naive baseline, a parse-only floor and DuckDB.

    stack/run.sh python -m benchmarks.run [--sizes 500000,2000000,5000000] [--big-day]
                                          [--repeats 3] [--skip-fixed-cost]
                                          [--skip-orchestration] [--backfill-days 7]
    stack/run.sh python -m benchmarks.run --docs-from .runtime/bench/results-<ts>.json

First the fixed cost (``benchmarks/fixed_cost.py``): our job on the sample day against a trivial
PySpark job, interleaved, and the sample day's ``airflow dags test``. For each size (``--big-day``
adds 20M rows): generate the day (cached under ``.runtime/bench/data``), put it into the local
HDFS (``/tmp/bench/<run>/``, as the pipeline's user), then run each engine ``--repeats`` times,
interleaved (ours, naive, floor, DuckDB, ours, ...), with Spark event logs (profile, spill), and
keep the median. Check that the tables of ours, naive and DuckDB agree. Then (unless
``--skip-orchestration``) time ``airflow dags test`` against a bare ``spark-submit`` of the same
job on the same raw partition, and a real ``airflow backfill create`` of seven consecutive days
on a throwaway Airflow (scheduler, dag-processor, api-server on free ports, its own
AIRFLOW_HOME) against the same seven days run alone, one after the other (``airflow dags test``
each, and bare submits). Results go to ``.runtime/bench/results-<timestamp>.json``;
``docs/benchmarks.md`` (its generated block) and its chart are rendered from that file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks import docs, machine
from benchmarks.bench_stack import (
    BENCH_DATE,
    BENCH_DIR,
    HDFS_BENCH_ROOT,
    PROJECT_ROOT,
    Stack,
    job_fingerprint,
    log,
)
from benchmarks.engines import ENGINES, spark_submit_options
from benchmarks.fixed_cost import bench_fixed_cost
from benchmarks.orchestration import bench_orchestration
from benchmarks.results import BenchResults, to_json
from benchmarks.sizes import bench_size, refresh_profiles

DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
DEFAULT_SIZES = (500_000, 2_000_000, 5_000_000)
BIG_DAY = docs.BIG_DAY
"""``--big-day``: about 1.6 GB of CSV, run in the job's 1 GiB driver (it must spill, not fail)."""


def parse_sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive integers, got {text!r}")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", type=parse_sizes, default=DEFAULT_SIZES, help="rows per day")
    parser.add_argument(
        "--big-day", action="store_true", help=f"add a {BIG_DAY:,}-row day to the sizes"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine and size")
    parser.add_argument("--skip-orchestration", action="store_true")
    parser.add_argument("--skip-sizes", action="store_true", help="only the orchestration part")
    parser.add_argument(
        "--skip-fixed-cost",
        action="store_true",
        help="leave out the fixed cost (sample day vs a trivial job, the sample day's dags test)",
    )
    parser.add_argument(
        "--orchestration-rows",
        type=int,
        default=None,
        help="default: the largest of --sizes (never the --big-day)",
    )
    parser.add_argument("--backfill-days", type=int, default=7, help="0 skips the backfill")
    parser.add_argument("--backfill-rows", type=int, default=500_000, help="rows per backfill day")
    parser.add_argument(
        "--event-log-dir",
        type=Path,
        default=None,
        help="where the Spark runs of the sizes write their event logs (profile, spill); "
        "default .runtime/bench/logs/<run>/eventlogs",
    )
    parser.add_argument(
        "--no-event-logs", action="store_true", help="no event logs: no profile, no spill"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument(
        "--docs-from", type=Path, default=None, help="only render the docs from a results JSON"
    )
    args = parser.parse_args(argv)
    if args.orchestration_rows is None:
        # The dags test and the bare submit measure orchestration, not rows: 20M rows would add
        # minutes to both (189 s each) and show nothing the regular sizes do not.
        args.orchestration_rows = max(args.sizes)
    if args.big_day and BIG_DAY not in args.sizes:
        args.sizes = tuple(sorted((*args.sizes, BIG_DAY)))
    return args


def event_log_conf(folder: Path | None) -> tuple[str, ...]:
    """``--conf`` settings that make every Spark run write its event log into ``folder``."""
    if folder is None:
        return ()
    folder.mkdir(parents=True, exist_ok=True)
    return (
        "spark.eventLog.enabled=true",
        "spark.eventLog.compress=false",
        f"spark.eventLog.dir=file://{folder.resolve()}",
    )


def render_from(path: Path) -> int:
    """``--docs-from``: the docs' generated block from an existing results file, its profiles
    re-read and its targets judged again from its figures (both may have grown since the run;
    the file itself is left as it was)."""
    results = BenchResults.from_json(json.loads(path.read_text()))
    refresh_profiles(results)
    results.targets = docs.evaluate_targets(results)
    docs.write_docs(results, DOCS_PATH, path)
    log(f"rendered {DOCS_PATH} from {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl-C: the running engine is killed and HDFS is cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.docs_from:
        return render_from(args.docs_from)
    if not os.environ.get("JAVA_HOME"):
        log("warning: JAVA_HOME is not set; run me through stack/run.sh (make bench does)")
    now = dt.datetime.now(dt.UTC)
    run_id = now.strftime("%Y%m%dT%H%M%SZ")
    stack = Stack.from_env()
    event_log_dir = None
    if not args.no_event_logs:
        event_log_dir = args.event_log_dir or BENCH_DIR / "logs" / run_id / "eventlogs"
    spark_conf = event_log_conf(event_log_dir)
    results = BenchResults(
        run_id=run_id,
        started=now.isoformat(),
        argv=sys.argv[1:] if argv is None else list(argv),
        settings={
            "spark": shlex.join(spark_submit_options()),
            "repeats": args.repeats,
            "order": "interleaved per repeat: " + ", ".join(ENGINES),
            "event_logs": event_log_dir is not None,
        },
        machine=machine.describe(),
        job={"git_head": machine.git_head(PROJECT_ROOT), "files_before": job_fingerprint()},
    )
    out_path = BENCH_DIR / f"results-{run_id}.json"
    BENCH_DIR.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        results.job["files_after"] = job_fingerprint()
        results.job["changed_during_run"] = (
            results.job["files_after"] != results.job["files_before"]
        )
        out_path.write_text(json.dumps(to_json(results), indent=2, default=str) + "\n")

    try:
        if not args.skip_fixed_cost:
            results.fixed_cost = bench_fixed_cost(stack, run_id, args.repeats)
            save()
        for rows in () if args.skip_sizes else args.sizes:
            results.sizes.append(
                bench_size(stack, run_id, BENCH_DATE, rows, args.repeats, spark_conf, event_log_dir)
            )
            save()
        if not args.skip_orchestration:
            results.orchestration = bench_orchestration(
                stack,
                run_id,
                args.orchestration_rows,
                args.backfill_days,
                args.backfill_rows,
            )
    finally:
        results.finished = dt.datetime.now(dt.UTC).isoformat()
        results.targets = docs.evaluate_targets(results)
        save()
        stack.client().delete(f"{HDFS_BENCH_ROOT}/{run_id}", recursive=True)
    log(f"results: {out_path}")
    print(docs.render_tables(results))
    if not args.no_docs:
        docs.write_docs(results, DOCS_PATH, out_path)
        log(f"updated {DOCS_PATH}")
    return 0
