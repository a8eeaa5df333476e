"""The sample day's ``airflow dags test``, repeated: wall and CPU seconds, seconds per task, and
the seconds outside the tasks (DAG parse, serialisation, the in-process task runner).

    stack/run.sh python -m benchmarks.experiments.dags_test --repeats 3 [--label after]

Each run is ``make bench``'s own measurement (``benchmarks.fixed_cost.sample_dags_test``: a fresh
AIRFLOW_HOME and database, the sample day re-dated to 2030-02-14, its partitions deleted
afterwards), so a before/after of a change compares like with like. One JSON line per run goes to
``.runtime/bench/experiments/dags_test/<label>.jsonl``; the medians are printed at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from benchmarks.bench_stack import BENCH_DIR, Stack
from benchmarks.fixed_cost import sample_dags_test, sample_landing_root
from benchmarks.results import TimedRun, to_json

WORK = BENCH_DIR / "experiments" / "dags_test"


def outside_tasks_s(run: TimedRun) -> float | None:
    """Wall seconds of the ``dags test`` command not spent inside any task (the tasks run one
    after the other in its process): Airflow's start, DAG parse and sync, the run loop."""
    if not run.tasks:
        return None
    return round(run.wall_s - sum(run.tasks.values()), 2)


def summary(runs: list[TimedRun]) -> dict[str, float | None]:
    """Medians over the runs: wall, CPU, outside the tasks, and each task."""

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return round(statistics.median(known), 2) if known else None

    task_ids = sorted({task for run in runs for task in run.tasks or {}})
    return {
        "wall_s": median([r.wall_s for r in runs]),
        "cpu_s": median([r.cpu_s for r in runs]),
        "outside_tasks_s": median([outside_tasks_s(r) for r in runs]),
        **{task: median([(r.tasks or {}).get(task) for r in runs]) for task in task_ids},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--label", default="run", help="names the JSON-lines file of the runs")
    args = parser.parse_args(argv)
    stack = Stack.from_env()
    root = sample_landing_root()
    WORK.mkdir(parents=True, exist_ok=True)
    out = WORK / f"{args.label}.jsonl"
    runs: list[TimedRun] = []
    for repeat in range(1, args.repeats + 1):
        logs = WORK / "logs" / f"{args.label}-{time.strftime('%Y%m%dT%H%M%S')}-{repeat}"
        run = sample_dags_test(stack, root, logs)
        runs.append(run)
        record = {"label": args.label, "repeat": repeat, "outside_tasks_s": outside_tasks_s(run)}
        with out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record | to_json(run)) + "\n")
        print(
            f"{args.label} #{repeat}: wall {run.wall_s:.1f} s, cpu {run.cpu_s:.1f} s, "
            f"succeeded={run.succeeded}, load {run.load_before} -> {run.load_after}, "
            f"outside tasks {outside_tasks_s(run)} s, tasks {run.tasks}",
            flush=True,
        )
    print(f"{args.label} medians: {json.dumps(summary(runs))}")


if __name__ == "__main__":
    main()
