"""The repeated ``dags test`` experiment's figures: seconds outside the tasks, and medians."""

from __future__ import annotations

from benchmarks.experiments.dags_test import outside_tasks_s, summary
from benchmarks.results import TimedRun


def run(wall_s: float, cpu_s: float, tasks: dict[str, float] | None) -> TimedRun:
    return TimedRun(wall_s=wall_s, succeeded=True, cpu_s=cpu_s, tasks=tasks)


def test_outside_the_tasks_is_the_wall_minus_every_task():
    assert outside_tasks_s(run(40.0, 30.0, {"a": 3.5, "b": 20.25})) == 16.25
    assert outside_tasks_s(run(40.0, 30.0, None)) is None  # no task states: unknown, not 40


def test_summary_takes_medians_per_figure_and_per_task():
    runs = [
        run(30.0, 20.0, {"spark_etl": 18.0, "report": 4.0}),
        run(50.0, 24.0, {"spark_etl": 30.0}),
        run(40.0, 22.0, {"spark_etl": 20.0, "report": 2.0}),
    ]
    figures = summary(runs)
    assert figures["wall_s"] == 40.0
    assert figures["cpu_s"] == 22.0
    assert figures["spark_etl"] == 20.0
    assert figures["report"] == 3.0  # the median of the runs that have it
    assert figures["outside_tasks_s"] == 18.0  # of 8, 20 and 18
