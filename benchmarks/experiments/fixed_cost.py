"""The fixed cost of a run: the sample day's job next to a trivial PySpark job, alternating.

    stack/run.sh python -m benchmarks.experiments.fixed_cost --repeats 3 \\
        [--job base=spark_jobs --job new=.runtime/bench/experiments/new/spark_jobs] \\
        [--conf new:spark.sql.adaptive.enabled=false] [--hdfs] [--eventlog] [--py4j]

Runs (trivial, job 1, job 2, ..., trivial, job 1, ...) so that a change of load on the shared
machine hits each alike, all as the DAG submits the job (``etl_submission``'s driver memory and
``job_conf()``, with the driver JVM's archive once ``make jvm-archive`` made it; master
``local[*]`` like the local ``spark_default``); the trivial job gets the plain settings. The input is
the sample day (``include/data/landing/2026/02/14``) through ``file://``, or, with ``--hdfs``,
uploaded to the local HDFS like the DAG's raw partition (the publish's HDFS round trips count
then). Prints wall and CPU seconds of the process tree per run, the medians, the ratio of each
job's median CPU to the trivial job's, and (``--eventlog``) where the job's time went: time
before the SparkContext (JVM and Python start), the SQL executions, time after the last one
(stop, publish), and (``--py4j``) the Python driver's py4j round trips. Every table of each
job's first output is compared with the first job's: a faster variant must agree exactly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

from benchmarks import eventlog
from benchmarks.bench_stack import BENCH_DIR, PROJECT_ROOT, Stack
from benchmarks.engines import SCRIPTS, ours_args, spark_submit
from benchmarks.experiments.local_ab import _each, compare
from benchmarks.measure import run_measured
from include.ecommerce.spark_submit import job_conf

SAMPLE_DATE = dt.date(2026, 2, 14)
SAMPLE_DAY = PROJECT_ROOT / "include" / "data" / "landing" / "2026" / "02" / "14"
MASTER = "local[*]"
"""The local stack's ``spark_default`` connection (what ``dags test`` submits to)."""
HERE = Path(__file__).resolve().parent
WORK = BENCH_DIR / "experiments" / "fixed_cost"
_PY4J = re.compile(r"py4j round trips: (\d+) \(([\d.]+) s\)")


def _event_log_file(folder: Path) -> Path | None:
    logs = [p for p in folder.iterdir() if not p.name.endswith(".inprogress")]
    return logs[0] if logs else None


def profile(log_folder: Path, started_epoch_ms: int, ended_epoch_ms: int) -> dict:
    log = _event_log_file(log_folder)
    if log is None:
        return {}
    summary = eventlog.analyse(log)
    app_start, app_end = summary["application_start_ms"], summary["application_end_ms"] or 0
    last_sql_end = summary["last_execution_end_ms"] or 0
    executions = summary["executions"]
    return {
        "before_context_s": round((app_start - started_epoch_ms) / 1000, 2),
        "application_s": round((summary["application_ms"] or 0) / 1000, 2),
        "outside_executions_s": round((summary["outside_executions_ms"] or 0) / 1000, 2),
        "after_last_execution_s": round((ended_epoch_ms - last_sql_end) / 1000, 2),
        "after_app_end_s": round((ended_epoch_ms - app_end) / 1000, 2),
        "sql_executions": len(executions),
        "sql_wall_s": round(sum(e["wall_ms"] for e in executions) / 1000, 2),
        "stages": sum(e["stages"] for e in executions),
        "executions": [f"{e['label']} {e['wall_ms'] / 1000:.2f}s" for e in executions],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--job", action="append", default=[], help="name=folder (spark_jobs copy)")
    parser.add_argument("--conf", action="append", default=[], help="name:key=value")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hdfs", action="store_true", help="input and output on the local HDFS")
    parser.add_argument("--eventlog", action="store_true", help="profile from Spark event logs")
    parser.add_argument("--py4j", action="store_true", help="count the job's py4j round trips")
    parser.add_argument("--no-trivial", action="store_true")
    args = parser.parse_args(argv)
    jobs = dict(item.split("=", 1) for item in args.job) or {"ours": "spark_jobs"}
    confs: dict[str, list[str]] = {}
    for item in args.conf:
        name, conf = item.split(":", 1)
        confs.setdefault(name, []).append(conf)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    root = WORK / stamp
    stack = Stack.from_env() if args.hdfs else None
    env = stack.env() if stack else None
    if stack:
        client = stack.client()
        hdfs_in = f"/tmp/bench/fixed_cost/{stamp}/raw"
        client.makedirs(hdfs_in)
        client.upload(hdfs_in, str(SAMPLE_DAY / "ecommerce_logs.csv"))
        input_uri = stack.uri(hdfs_in)
    else:
        local_day = root / "raw" / SAMPLE_DATE.strftime("%Y/%m/%d")  # the job leases beside it
        shutil.copytree(SAMPLE_DAY, local_day)
        input_uri = f"file://{local_day}"
    names = ([] if args.no_trivial else ["trivial"]) + list(jobs)
    results: dict[str, list[dict]] = {name: [] for name in names}
    for repeat in range(args.repeats):
        for name in names:
            out = root / f"{name}-{repeat}"
            shutil.rmtree(out, ignore_errors=True)
            out_uri = (
                stack.uri(f"/tmp/bench/fixed_cost/{stamp}/{name}-{repeat}")
                if stack
                else f"file://{out}"
            )
            # ours as the DAG submits it (job_conf: the JVM archive when made), the trivial plain
            base = [] if name == "trivial" else [f"{k}={v}" for k, v in job_conf().items()]
            conf = base + list(confs.get(name, ()))
            events = root / f"{name}-{repeat}.events"
            if args.eventlog:
                events.mkdir(parents=True, exist_ok=True)
                conf += ["spark.eventLog.enabled=true", f"spark.eventLog.dir=file://{events}"]
            if name == "trivial":
                command = spark_submit(
                    SCRIPTS["trivial"], "--output", out_uri, master=MASTER, conf=conf
                )
            else:
                script = (PROJECT_ROOT / jobs[name] / "ecommerce_etl.py").resolve()
                job_args = ours_args(SAMPLE_DATE, input_uri, out_uri)
                if args.py4j:
                    command = spark_submit(
                        HERE / "py4j_count.py", str(script), *job_args, master=MASTER, conf=conf
                    )
                else:
                    command = spark_submit(script, *job_args, master=MASTER, conf=conf)
            started = int(time.time() * 1000)
            m = run_measured(
                command, log_path=root / f"{name}-{repeat}.log", env=env, cwd=PROJECT_ROOT
            )
            ended = int(time.time() * 1000)
            record = m.to_json() | {"output": str(out)}
            if args.eventlog:
                record["profile"] = profile(events, started, ended)
            text = Path(m.log).read_text(errors="replace")
            if match := _PY4J.search(text):
                record["py4j_calls"], record["py4j_s"] = int(match[1]), float(match[2])
            if stack and name != "trivial" and repeat == 0:
                # into a new folder: into an existing one, the client would nest the copy in it
                out.parent.mkdir(parents=True, exist_ok=True)
                client.download(
                    f"/tmp/bench/fixed_cost/{stamp}/{name}-{repeat}", str(out), overwrite=True
                )
            results[name].append(record)
            extra = ""
            if "profile" in record:
                p = record["profile"]
                extra = (
                    f", before ctx {p.get('before_context_s')} s, sql {p.get('sql_executions')}"
                    f" ({p.get('sql_wall_s')} s), after last sql {p.get('after_last_execution_s')} s"
                )
            if "py4j_calls" in record:
                extra += f", py4j {record['py4j_calls']} ({record['py4j_s']} s)"
            print(
                f"{name} #{repeat}: wall {m.wall_s:.1f} s, cpu {m.cpu_s:.1f} s, exit "
                f"{m.returncode}, load {m.load_before[0]}{extra}",
                flush=True,
            )
    print(f"\nsample day, {MASTER}, {'hdfs' if stack else 'file'}, {args.repeats} repeats")
    print(
        "| job | wall s (each) | CPU s (each) | wall median | CPU median | CPU / trivial | agrees |"
    )
    print("|---|---|---|---|---|---|---|")
    trivial_cpu = (
        statistics.median(r["cpu_s"] for r in results["trivial"]) if "trivial" in results else None
    )
    reference = Path(results[next(iter(jobs))][0]["output"])
    for name in names:
        runs = results[name]
        cpu = statistics.median(r["cpu_s"] for r in runs)
        agree = "-"
        if name not in ("trivial", next(iter(jobs))):
            problems = compare(reference, Path(runs[0]["output"]))
            agree = "NO: " + "; ".join(problems) if problems else "yes"
        ratio = f"{cpu / trivial_cpu:.2f}" if trivial_cpu else "-"
        print(
            f"| {name} | {_each(runs, 'wall_s')} | "
            f"{_each(runs, 'cpu_s')} | "
            f"{statistics.median(r['wall_s'] for r in runs):.1f} | {cpu:.1f} | {ratio} | {agree} |"
        )
    (root / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results: {root / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
