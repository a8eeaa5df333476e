"""Experiments on COPIES of the job (never the job itself): one change per variant, same input.

    stack/run.sh python -m benchmarks.experiments.variants --rows 2000000 [--variants a,b]

Each variant is spark_jobs/ copied to .runtime/bench/experiments/<variant>/spark_jobs with one
text substitution applied (it fails loudly when the job no longer contains the text). Runs are
sequential, one per variant, with Spark event logs; prints wall, CPU and the per-execution
profile so a change is judged by the task time it saves, not only by a noisy wall time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks import eventlog
from benchmarks.bench_stack import (
    BENCH_DATE,
    BENCH_DIR,
    PROJECT_ROOT,
    Stack,
    entries,
    generated_day,
    upload_day,
)
from benchmarks.engines import ours_args, spark_submit
from benchmarks.measure import run_measured

WORK = BENCH_DIR / "experiments"

VARIANTS: dict[str, list[tuple[str, str, str]]] = {
    "baseline": [],
    # the cost of the exact-duplicate merge (changes semantics: for measurement only).
    "no_dedup_measurement_only": [
        (
            "transforms/rows.py",
            "return classified.groupBy(*keys).agg(F.count(F.lit(1)).alias(COPIES))",
            "return classified.withColumn(COPIES, F.lit(1).cast('BIGINT'))",
        )
    ],
    # no explicit repartition by user before the dedup (the dedup's own shuffle remains).
    "no_repartition": [
        (
            "transforms/rows.py",
            'classified = classified.repartition(partitions, "user_id")',
            "pass",
        )
    ],
}


def prepare(name: str) -> Path:
    target = WORK / name / "spark_jobs"
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.copytree(
        PROJECT_ROOT / "spark_jobs", target, ignore=shutil.ignore_patterns("__pycache__")
    )
    for file, old, new in VARIANTS[name]:
        path = target / file
        text = path.read_text()
        if old not in text:
            raise SystemExit(f"{name}: {file} no longer contains {old[:60]!r}")
        path.write_text(text.replace(old, new))
    return target / "ecommerce_etl.py"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    stack = Stack.from_env()
    folder = f"/tmp/bench/experiments-{int(time.time())}"
    client = stack.client()
    upload_day(client, generated_day(BENCH_DATE, args.rows), f"{folder}/input")
    logs = WORK / "eventlogs"
    logs.mkdir(parents=True, exist_ok=True)
    conf = (
        "spark.eventLog.enabled=true",
        "spark.eventLog.compress=false",
        f"spark.eventLog.dir=file://{logs}",
    )
    results = {}
    try:
        for name in args.variants.split(","):
            job = prepare(name)
            stack.wait_for_datanode()
            before = entries(logs)
            m = run_measured(
                spark_submit(
                    job,
                    *ours_args(
                        BENCH_DATE, stack.uri(f"{folder}/input"), stack.uri(f"{folder}/{name}")
                    ),
                    conf=conf,
                ),
                log_path=WORK / name / "run.log",
                env=stack.env(),
                cwd=PROJECT_ROOT,
            )
            new = sorted(entries(logs) - before)
            profile = eventlog.analyse(Path(new[0])) if len(new) == 1 else None
            results[name] = m.to_json() | {"profile": profile}
            print(
                f"== {name}: wall {m.wall_s} s, cpu {m.cpu_s} s, exit {m.returncode}, "
                f"load {m.load_before[0]}->{m.load_after[0]}",
                flush=True,
            )
            if profile:
                print(eventlog.render(profile), flush=True)
    finally:
        client.delete(folder, recursive=True)
        out = WORK / f"results-{int(time.time())}.json"
        out.write_text(json.dumps(results, indent=2))
        print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
