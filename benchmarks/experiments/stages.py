"""Where a big day's time goes, stage by stage: the floor, the job cut after each of its stages
(benchmarks/stage_job.py) and the whole job, alternating, on a generated day.

    stack/run.sh python -m benchmarks.experiments.stages --rows 5000000 --repeats 2

Every run reads the day through ``file://`` with the benchmark's ``spark-submit`` options and the
job's settings (``engines.spark_submit``; no class-data-sharing archive for any), so the figures
compare stages, not set-ups. Printed: each run's wall and CPU seconds, their medians, each
median as a multiple of the floor's, and what each stage adds to the one before it; the table is
also written to ``.runtime/bench/experiments/stages/<stamp>/stages.md``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

from benchmarks.bench_stack import BENCH_DATE, BENCH_DIR, generated_day
from benchmarks.engines import JOB_PATH, SCRIPTS, ours_args, spark_submit
from benchmarks.measure import run_measured
from benchmarks.stage_job import STAGES

WORK = BENCH_DIR / "experiments" / "stages"
FLOOR, WHOLE_JOB = "floor", "whole job"
RUNS = (FLOOR, *STAGES, WHOLE_JOB)
"""In order of the work they do: each run does what the one before it did, and more."""


@dataclass(frozen=True)
class StageRuns:
    name: str
    wall_s: list[float]
    cpu_s: list[float]

    @property
    def wall_median_s(self) -> float:
        return statistics.median(self.wall_s)

    @property
    def cpu_median_s(self) -> float:
        return statistics.median(self.cpu_s)


def render(runs: list[StageRuns], rows: int) -> str:
    """A Markdown table of ``runs`` (the floor first, then in order of work): medians, multiples
    of the floor's median wall, and each run's median wall minus the one before it."""
    floor = runs[0].wall_median_s
    lines = [
        f"{rows:,} rows, file:// input; wall s median (each); x floor; + over the row above",
        "",
        "| run | wall s | CPU s | x floor | + wall s |",
        "|---|---|---|---|---|",
    ]
    previous: float | None = None
    for run in runs:
        each = ", ".join(f"{w:.1f}" for w in run.wall_s)
        cpu_each = ", ".join(f"{c:.1f}" for c in run.cpu_s)
        added = "-" if previous is None else f"{run.wall_median_s - previous:+.1f}"
        lines.append(
            f"| {run.name} | {run.wall_median_s:.1f} ({each}) | {run.cpu_median_s:.1f} "
            f"({cpu_each}) | {run.wall_median_s / floor:.2f}x | {added} |"
        )
        previous = run.wall_median_s
    return "\n".join(lines) + "\n"


def command(run: str, input_uri: str, output_uri: str) -> list[str]:
    if run == FLOOR:
        return spark_submit(SCRIPTS["floor"], "--input", input_uri)
    job_args = ours_args(BENCH_DATE, input_uri, output_uri)
    if run == WHOLE_JOB:
        return spark_submit(JOB_PATH, *job_args)
    return spark_submit(SCRIPTS["stage"], "--stop-after", run, *job_args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    day = generated_day(BENCH_DATE, args.rows)
    work = WORK / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    walls: dict[str, list[float]] = {run: [] for run in RUNS}
    cpus: dict[str, list[float]] = {run: [] for run in RUNS}
    for repeat in range(args.repeats):
        for run in RUNS:
            slug = run.replace(" ", "-")
            output = work / f"{slug}-{repeat}"
            argv_ = command(run, f"file://{day.resolve()}", f"file://{output}")
            m = run_measured(argv_, log_path=work / f"{slug}-{repeat}.log")
            if m.returncode != 0:
                raise SystemExit(f"{run} #{repeat} failed (exit {m.returncode}): see {work}")
            walls[run].append(m.wall_s)
            cpus[run].append(m.cpu_s)
            print(f"{run} #{repeat}: wall {m.wall_s:.1f} s, cpu {m.cpu_s:.1f} s", flush=True)
    table = render([StageRuns(run, walls[run], cpus[run]) for run in RUNS], args.rows)
    (work / "stages.md").write_text(table, encoding="utf-8")
    print(f"\n{table}\n{work / 'stages.md'}")


if __name__ == "__main__":
    main()
