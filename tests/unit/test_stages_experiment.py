"""The stage-by-stage experiment's table: medians, multiples of the floor, what each stage adds."""

from __future__ import annotations

import pytest

from benchmarks.experiments.stages import RUNS, StageRuns, command, render
from benchmarks.stage_job import STAGES, main


def test_the_table_gives_each_run_as_a_multiple_of_the_floor_and_its_increment():
    runs = [
        StageRuns("floor", [14.0, 12.0, 13.0], [20.0, 19.0, 21.0]),
        StageRuns("pass", [26.0, 30.0], [44.0, 40.0]),
        StageRuns("whole job", [43.0, 45.0, 41.0], [72.0, 74.0, 73.0]),
    ]
    table = render(runs, 5_000_000).splitlines()
    assert table[0].startswith("5,000,000 rows")
    assert table[4] == "| floor | 13.0 (14.0, 12.0, 13.0) | 20.0 (20.0, 19.0, 21.0) | 1.00x | - |"
    assert table[5] == "| pass | 28.0 (26.0, 30.0) | 42.0 (44.0, 40.0) | 2.15x | +15.0 |"
    assert (
        table[6]
        == "| whole job | 43.0 (43.0, 45.0, 41.0) | 73.0 (72.0, 74.0, 73.0) | 3.31x | +15.0 |"
    )


def test_the_runs_go_from_the_floor_through_every_stage_to_the_whole_job():
    assert RUNS == (
        "floor",
        "read",
        "classify",
        "shuffle",
        "merge",
        "pass",
        "summaries",
        "whole job",
    )
    floor = command("floor", "file:///day", "file:///out")
    assert floor[-3:] == [floor[-3], "--input", "file:///day"]
    assert floor[-3].endswith("benchmarks/floor_job.py")
    stage = command("pass", "file:///day", "file:///out")
    script = stage.index(next(a for a in stage if a.endswith("benchmarks/stage_job.py")))
    assert stage[script + 1 : script + 3] == ["--stop-after", "pass"]
    assert "--date" in stage[script:] and "file:///out" in stage[script:]
    whole = command("whole job", "file:///day", "file:///out")
    assert any(a.endswith("spark_jobs/ecommerce_etl.py") for a in whole)
    assert not any(a.endswith("stage_job.py") for a in whole)


@pytest.mark.parametrize("argv", [[], ["--stop-after"], ["--stop-after", "writes", "--date", "x"]])
def test_the_stage_job_names_its_stages_when_called_wrong(argv):
    with pytest.raises(SystemExit) as failure:
        main(argv)
    assert f"--stop-after {{{','.join(STAGES)}}}" in str(failure.value)
