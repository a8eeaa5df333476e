"""When is a landing day complete? The collector says so with a marker file, written last.

A collector drops a day's files into ``<landing>/YYYY/MM/DD/`` (``*.csv``, ``*.csv.gz``) and,
once the last one is complete, an empty file ``_READY`` beside them. Until the marker is there
the day is still arriving: the DAG's ``wait_for_landing_day`` sensor waits (in reschedule mode,
holding no worker slot) and the upload never sees half a day.

The wait has a deadline: the end of the day's data interval (midnight UTC after the partition
date) plus the ``landing_deadline_hours`` param (default 6). Past it, a day without its marker
fails at once, with one line naming the folder and saying what is there. This is deliberate
also for a day whose files are all present but unmarked: a file still being copied looks the
same as a finished one, so only the collector (or a person who checked, with ``touch _READY``)
can say a day is complete. A run for a long-past day without data therefore fails at once, as
it did before the sensor existed.

The marker starts with ``_`` like Hadoop's ``_SUCCESS``: the upload's input globs and Spark's
readers never take it for data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from include.ecommerce.upload import LandingFilesMissingError, landing_files
from spark_jobs import contract

READY_MARKER = contract.LANDING_READY_MARKER
"""Written by the collector after the day's last file; its content is not read."""


class LandingDeadlinePassedError(RuntimeError):
    """The landing day has no ready marker and its deadline has passed."""


def landing_deadline(partition_date: date, deadline_hours: float) -> datetime:
    """End of the day's data interval (next midnight, UTC) plus ``deadline_hours``."""
    if deadline_hours < 0:
        raise ValueError(f"landing_deadline_hours must be >= 0, got {deadline_hours}")
    interval_end = datetime.combine(partition_date + timedelta(days=1), time(0), tzinfo=UTC)
    return interval_end + timedelta(hours=deadline_hours)


@dataclass(frozen=True)
class LandingDay:
    """One day's landing folder and what it holds right now."""

    folder: Path

    @property
    def marker(self) -> Path:
        return self.folder / READY_MARKER

    def is_ready(self) -> bool:
        return self.marker.is_file()

    def describe(self) -> str:
        """What is there, for the message of a day that did not become ready."""
        if not self.folder.is_dir():
            return f"no landing folder {self.folder}"
        try:
            count = len(landing_files(self.folder))
        except LandingFilesMissingError:
            count = 0
        return (
            f"{self.folder} holds {count} input file(s) but no {READY_MARKER} marker "
            f"(create {self.marker} once the day is complete)"
        )


def check_landing_day(day: LandingDay, deadline: datetime, now: datetime) -> bool:
    """True when the day is ready; False while it may still arrive; past the deadline, raise."""
    if now.tzinfo is None or deadline.tzinfo is None:
        raise ValueError("now and deadline must carry a time zone")
    if day.is_ready():
        return True
    if now >= deadline:
        raise LandingDeadlinePassedError(
            f"landing day not ready by its deadline {deadline.astimezone(UTC):%Y-%m-%d %H:%M} "
            f"UTC: {day.describe()}"
        )
    return False
