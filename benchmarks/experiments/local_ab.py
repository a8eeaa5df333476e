"""A/B runs of job copies on a local (file://) day: wall, CPU of the process tree, load, agreement.

    stack/run.sh python -m benchmarks.experiments.local_ab --rows 2000000 \\
        --job base=spark_jobs --job fast=.runtime/bench/experiments/fast/spark_jobs --repeats 2

Each ``--job name=folder`` is a folder holding a copy of ``spark_jobs`` (``ecommerce_etl.py``
and its modules). Runs alternate (base, fast, base, fast, ...) so that a change of load hits
both alike; the input is read through ``file://`` (no HDFS in the measurement), with
``spark-submit --master local[2] --driver-memory 1g`` like the benchmark. After the runs, every
table of each job's first output is compared with the first job's (rows sorted, exact values):
a faster variant that changes a figure is not a candidate.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from benchmarks.bench_stack import BENCH_DATE, BENCH_DIR, PROJECT_ROOT, generated_day
from benchmarks.engines import spark_submit
from benchmarks.measure import run_measured

WORK = BENCH_DIR / "experiments" / "local_ab"


def read_table(folder: Path) -> list[tuple]:
    import pyarrow.parquet as pq

    table = pq.read_table(folder)
    rows = [tuple(map(_hashable, row.values())) for row in table.to_pylist()]
    return sorted(rows, key=repr)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def compare(reference: Path, other: Path) -> list[str]:
    problems = []
    names = sorted(p.name for p in reference.iterdir() if p.is_dir())
    others = sorted(p.name for p in other.iterdir() if p.is_dir())
    if names != others:
        problems.append(f"tables differ: {names} vs {others}")
    for name in names:
        if name not in others:
            continue
        a, b = read_table(reference / name), read_table(other / name)
        if a != b:
            problems.append(f"{name}: {len(a)} vs {len(b)} rows, contents differ")
    qa = json.loads((reference / "quality.json").read_text())
    qb = json.loads((other / "quality.json").read_text())
    if qa != qb:
        problems.append(f"quality.json differs: {qa} vs {qb}")
    return problems


def _each(runs: list[dict], key: str) -> str:
    return ", ".join(f"{run[key]:.1f}" for run in runs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--job", action="append", required=True, help="name=folder")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--conf", action="append", default=[], help="name:key=value")
    args = parser.parse_args()
    jobs = dict(item.split("=", 1) for item in args.job)
    confs: dict[str, list[str]] = {}
    for item in args.conf:
        name, conf = item.split(":", 1)
        confs.setdefault(name, []).append(conf)
    day = generated_day(BENCH_DATE, args.rows)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results: dict[str, list[dict]] = {name: [] for name in jobs}
    for repeat in range(args.repeats):
        for name, folder in jobs.items():
            out = WORK / stamp / f"{name}-{repeat}"
            shutil.rmtree(out, ignore_errors=True)
            script = (PROJECT_ROOT / folder / "ecommerce_etl.py").resolve()
            command = spark_submit(
                script,
                "--date",
                BENCH_DATE.isoformat(),
                "--input",
                f"file://{day.resolve()}",
                "--output",
                f"file://{out}",
                conf=confs.get(name, ()),
            )
            m = run_measured(command, log_path=out.with_suffix(".log"), cwd=PROJECT_ROOT)
            results[name].append(m.to_json() | {"output": str(out)})
            print(
                f"{name} #{repeat}: wall {m.wall_s:.1f} s, cpu {m.cpu_s:.1f} s, exit "
                f"{m.returncode}, load {m.load_before[0]}->{m.load_after[0]}",
                flush=True,
            )
    names = list(jobs)
    reference = Path(results[names[0]][0]["output"])
    print(f"\n{args.rows:,} rows, local[2], 1g driver, file:// input; {args.repeats} repeats")
    print("| job | wall s (each) | CPU s (each) | CPU median | load 1-min | agrees with first |")
    print("|---|---|---|---|---|---|")
    for name in names:
        runs = results[name]
        agree = "-" if name == names[0] else "yes"
        if name != names[0]:
            problems = compare(reference, Path(runs[0]["output"]))
            if problems:
                agree = "NO: " + "; ".join(problems)
        print(
            f"| {name} | {_each(runs, 'wall_s')} | {_each(runs, 'cpu_s')} | "
            f"{statistics.median(r['cpu_s'] for r in runs):.1f} | "
            f"{', '.join(str(r['load_before'][0]) for r in runs)} | {agree} |"
        )
    (WORK / stamp / "results.json").write_text(json.dumps(results, indent=2))
    print(f"results: {WORK / stamp / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
