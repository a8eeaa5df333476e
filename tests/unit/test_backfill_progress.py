"""What `make backfill` prints while it follows a backfill, from the runs Airflow reports."""

from __future__ import annotations

import io
from datetime import date

import pytest

from include.ecommerce.backfill import DayState, day_states, days_between, follow, progress_line

DAYS = days_between(date(2026, 2, 10), date(2026, 2, 11))


def run(day: str, state: str, queued_at: str = "2026-11-29T10:00:00Z", duration=None) -> dict:
    return {"logical_date": f"{day}T00:00:00Z", "state": state, "queued_at": queued_at,
            "duration": duration}  # fmt: skip


def test_the_range_is_inclusive_and_ordered():
    assert [date(2026, 2, 10), date(2026, 2, 11)] == DAYS
    with pytest.raises(ValueError, match="TO 2026-02-09 is before FROM 2026-02-10"):
        days_between(date(2026, 2, 10), date(2026, 2, 9))


def test_each_day_takes_the_state_of_its_newest_run():
    runs = [
        run("2026-02-10", "failed", "2026-11-29T09:00:00Z", 3.0),
        run("2026-02-10", "running", "2026-11-29T10:00:00Z"),
        {"logical_date": None, "state": "success", "queued_at": "2026-11-29T11:00:00Z"},
    ]
    assert day_states(DAYS, runs) == [
        DayState(date(2026, 2, 10), "running", None),
        DayState(date(2026, 2, 11), "no run yet"),
    ]


def test_a_line_says_state_duration_and_days_left():
    states = [DayState(DAYS[0], "success", 52.4), DayState(DAYS[1], "queued")]
    assert progress_line(states[0], states) == "2026-02-10  success       52 s   1 of 2 day(s) left"
    assert progress_line(states[1], states) == "2026-02-11  queued           -   1 of 2 day(s) left"


def test_follow_prints_each_change_once_and_stops_when_every_day_ended():
    snapshots = iter(
        [
            [run("2026-02-10", "running")],
            [run("2026-02-10", "running")],
            [run("2026-02-10", "success", duration=50.0), run("2026-02-11", "queued")],
            [
                run("2026-02-10", "success", duration=50.0),
                run("2026-02-11", "failed", duration=4.0),
            ],
        ]
    )
    out = io.StringIO()
    states = follow(DAYS, lambda: next(snapshots), out, sleep=lambda _: None)
    assert [state.state for state in states] == ["success", "failed"]
    assert out.getvalue().splitlines() == [
        "2026-02-10  running          -   2 of 2 day(s) left",
        "2026-02-11  no run yet       -   2 of 2 day(s) left",
        "2026-02-10  success       50 s   1 of 2 day(s) left",
        "2026-02-11  queued           -   1 of 2 day(s) left",
        "2026-02-11  failed         4 s   0 of 2 day(s) left",
    ]
