"""The scale-out benchmark's pure parts: its figures, its verdict, its Markdown block."""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks.markdown_block import replace_block
from benchmarks.scale_out import (
    BEGIN,
    END,
    consecutive_days,
    flatness,
    parse_args,
    render,
    slope,
    summarize,
)


def test_consecutive_days_and_a_bad_count() -> None:
    assert consecutive_days(dt.date(2026, 2, 27), 3) == [
        dt.date(2026, 2, 27),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 1),
    ]
    with pytest.raises(ValueError, match="--days must be at least 1, got 0"):
        consecutive_days(dt.date(2026, 1, 1), 0)


def test_slope_is_seconds_per_further_day() -> None:
    assert slope([10.0, 12.0, 14.0, 16.0]) == 2.0
    assert slope([30.0, 30.0, 30.0]) == 0.0
    assert slope([5.0]) is None


def test_flatness_verdict() -> None:
    flat = flatness([100.0, 104.0, 98.0, 101.0, 103.0, 99.0])
    assert flat["flat"] is True
    assert flat["earlier_half_mean_s"] == pytest.approx(100.67, abs=0.01)
    growing = flatness([100.0, 120.0, 140.0, 160.0])  # later half 150 vs earlier 110
    assert growing["flat"] is False
    assert growing["growth"] == pytest.approx(150 / 110, abs=0.001)
    assert growing["slope_s_per_day"] == 20.0
    assert flatness([100.0, None])["flat"] is None
    assert flatness([])["flat"] is None


def _run(day: str, duration: float, spark: float) -> dict:
    return {
        "day": day,
        "run_id": f"backfill__{day}",
        "state": "success",
        "duration_s": duration,
        "idle_before_s": 1.0,
        "overlap_before_s": 0.0,
        "tasks": {"spark_etl": spark},
    }


def test_summarize_extrapolates_fewer_singles_and_renders() -> None:
    days = consecutive_days(dt.date(2026, 5, 1), 4)
    backfill = {
        "max_active_runs": 2,
        "wall_s": 200.0,
        "all_succeeded": True,
        "runs": [_run(day.isoformat(), 60.0, 40.0) for day in days],
    }
    singles = [
        {"day": "2026-05-01", "wall_s": 70.0, "all_succeeded": True},
        {"day": "2026-05-02", "wall_s": 80.0, "all_succeeded": True},
    ]
    results = summarize(days, 300_000, backfill, singles)
    assert results["singles_total_s"] == 150.0
    assert results["singles_extrapolated"] is True
    assert results["singles_total_all_days_s"] == 300.0
    assert results["ratio_backfill_to_singles"] == pytest.approx(200 / 300, abs=0.001)
    assert results["backfill_s_per_day"] == 50.0
    assert results["run_duration_flatness"]["flat"] is True
    assert results["all_succeeded"] is True

    text = render(results | {"finished_at": "2026-11-30T02:00:00+00:00"})
    assert "a 4-day backfill" in text
    assert "2 single runs took 150.0 s, i.e. 300.0 s for 4 days" in text
    assert "| 2026-05-01 | 60.0 | 40.0 | 1.0 | 0.0 | success | 70.0 |" in text
    assert "| 2026-05-04 | 60.0 | 40.0 | 1.0 | 0.0 | success | – |" in text

    failed = summarize(days, 300_000, backfill | {"all_succeeded": False}, singles)
    assert failed["all_succeeded"] is False


def test_replace_block_keeps_the_rest_of_the_document() -> None:
    doc = f"# Benchmarks\n\nprose\n\n{BEGIN}\nold figures\n{END}\n\nmore prose\n"
    replaced = replace_block(doc, "new figures", BEGIN, END)
    assert replaced == f"# Benchmarks\n\nprose\n\n{BEGIN}\nnew figures\n{END}\n\nmore prose\n"
    appended = replace_block("# Benchmarks\n", "first figures", BEGIN, END)
    assert appended == f"# Benchmarks\n\n{BEGIN}\nfirst figures\n{END}\n"
    assert (
        replace_block(appended, "second", BEGIN, END) == f"# Benchmarks\n\n{BEGIN}\nsecond\n{END}\n"
    )


def test_arguments_are_checked_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--days", "4", "--rows", "300000"])
    assert (args.days, args.rows, args.singles) == (4, 300_000, 4)
    for bad, message in (
        (["--days", "0"], "--days must be at least 1"),
        (["--days", "3", "--singles", "4"], "--singles must be between 0 and --days"),
        (["--max-active-runs", "0"], "--max-active-runs must be at least 1"),
    ):
        with pytest.raises(SystemExit):
            parse_args(bad)
        assert message in capsys.readouterr().err


def test_render_reads_an_overlap_that_older_results_kept_as_a_negative_idle_time() -> None:
    days = consecutive_days(dt.date(2026, 5, 1), 2)
    runs = [_run(day.isoformat(), 60.0, 40.0) for day in days]
    del runs[1]["overlap_before_s"]
    runs[1]["idle_before_s"] = -25.0
    backfill = {"max_active_runs": 2, "wall_s": 95.0, "all_succeeded": True, "runs": runs}
    text = render(summarize(days, 300_000, backfill, []))
    assert "| 2026-05-02 | 60.0 | 40.0 | 0.0 | 25.0 | success | – |" in text
