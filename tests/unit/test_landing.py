"""When a landing day counts as complete, and when waiting for it stops."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from include.data import generate_logs
from include.ecommerce import settings
from include.ecommerce.landing import (
    READY_MARKER,
    LandingDay,
    LandingDeadlinePassedError,
    check_landing_day,
    landing_deadline,
)

DAY = date(2026, 2, 14)
DEADLINE = datetime(2026, 2, 15, 6, 0, tzinfo=UTC)
BEFORE = datetime(2026, 2, 15, 5, 59, tzinfo=UTC)


def test_the_deadline_is_hours_after_the_day_ends_in_utc():
    assert landing_deadline(DAY, 6) == DEADLINE
    assert landing_deadline(DAY, 0) == datetime(2026, 2, 15, tzinfo=UTC)
    assert landing_deadline(DAY, 1.5) == datetime(2026, 2, 15, 1, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="landing_deadline_hours must be >= 0, got -1"):
        landing_deadline(DAY, -1)


def test_a_day_with_its_marker_is_ready_even_after_the_deadline(tmp_path):
    (tmp_path / "ecommerce_logs.csv").write_text("x\n")
    (tmp_path / READY_MARKER).touch()
    day = LandingDay(tmp_path)
    assert check_landing_day(day, DEADLINE, BEFORE) is True
    assert check_landing_day(day, DEADLINE, datetime(2027, 1, 1, tzinfo=UTC)) is True


def test_before_the_deadline_a_missing_or_unmarked_day_is_waited_for(tmp_path):
    missing = LandingDay(tmp_path / "2026/02/14")
    assert check_landing_day(missing, DEADLINE, BEFORE) is False
    missing.folder.mkdir(parents=True)
    (missing.folder / "ecommerce_logs.csv").write_text("x\n")  # files still arriving
    assert check_landing_day(missing, DEADLINE, BEFORE) is False


def test_past_the_deadline_a_missing_day_fails_naming_the_folder(tmp_path):
    day = LandingDay(tmp_path / "2026/02/14")
    with pytest.raises(LandingDeadlinePassedError) as raised:
        check_landing_day(day, DEADLINE, DEADLINE)
    assert str(raised.value) == (
        f"landing day not ready by its deadline 2026-02-15 06:00 UTC: "
        f"no landing folder {tmp_path}/2026/02/14"
    )


def test_past_the_deadline_unmarked_files_fail_and_say_how_to_mark_the_day(tmp_path):
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "b.csv.gz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not input")
    with pytest.raises(LandingDeadlinePassedError, match="holds 2 input file") as raised:
        check_landing_day(LandingDay(tmp_path), DEADLINE, datetime(2026, 3, 1, tzinfo=UTC))
    assert f"no _READY marker (create {tmp_path}/_READY once the day is complete)" in str(
        raised.value
    )


def test_times_without_a_zone_are_refused(tmp_path):
    with pytest.raises(ValueError, match="time zone"):
        check_landing_day(LandingDay(tmp_path), DEADLINE, datetime(2026, 2, 15))


def test_the_generator_writes_the_marker_last_like_a_collector(tmp_path):
    assert generate_logs.READY_MARKER == READY_MARKER
    (path,) = generate_logs.write_day(DAY, 10, tmp_path)
    marker = path.parent / READY_MARKER
    assert marker.is_file()
    assert marker.stat().st_mtime_ns >= path.stat().st_mtime_ns
    (unmarked,) = generate_logs.write_day(date(2026, 2, 13), 10, tmp_path, ready_marker=False)
    assert not (unmarked.parent / READY_MARKER).exists()


def test_every_committed_landing_day_is_marked_ready():
    days = sorted(p for p in settings.DEFAULT_LANDING_DIR.glob("*/*/*") if p.is_dir())
    assert len(days) >= 7
    assert [day for day in days if not LandingDay(day).is_ready()] == []


def test_the_poke_interval_comes_from_the_variables_environment_form(monkeypatch):
    name = "AIRFLOW_VAR_ECOMMERCE_LANDING_POKE_SECONDS"
    monkeypatch.delenv(name, raising=False)
    assert settings.landing_poke_interval_s() == settings.DEFAULT_LANDING_POKE_INTERVAL_S
    monkeypatch.setenv(name, "5")
    assert settings.landing_poke_interval_s() == 5
    for bad in ("0", "soon"):
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError, match=f"{name}='{bad}': expected a whole number"):
            settings.landing_poke_interval_s()
