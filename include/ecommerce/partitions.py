"""Logical date -> partition date -> paths. The only module that formats ``YYYY/MM/DD``.

Which day a run processes
-------------------------
The DAG runs on ``CronDataIntervalTimetable("0 0 * * *", timezone="UTC")``. With that timetable a
scheduled run's logical date is the *start* of its data interval, so the run that starts at
midnight on 15 Feb has logical date 14 Feb 00:00 and processes 14 Feb: the day that just ended.
``airflow dags test ecommerce_daily 2026-02-14``, a UI or REST trigger with logical date
2026-02-14 and a backfill from 2026-02-14 all have logical date 2026-02-14 and process it too.
(A cron at another minute, say 00:30, would shift every logical date to 00:30, and
``airflow backfill create --to-date 2026-02-12`` -- read as 00:00 -- would silently leave out
its last day.)
So the rule is one line: **the partition date is the logical date's calendar day, in UTC.**

Airflow 3 also allows runs without a logical date. Such a run takes the day from the DAG param
``partition_date``; with neither, its first task fails with one line saying how to fix it.
A ``partition_date`` param given together with a logical date wins: it is what a person typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from include.ecommerce.settings import PROCESSED_ROOT, RAW_ROOT, REPORTS_ROOT

PARTITION_DATE_PARAM = "partition_date"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PartitionDateError(ValueError):
    """A run whose partition date cannot be decided, or a malformed date."""


def parse_partition_date(text: str) -> date:
    """Strict ``YYYY-MM-DD``; the error names the value and the expected form."""
    candidate = text.strip()
    if not _ISO_DATE.fullmatch(candidate):
        raise PartitionDateError(f"partition_date {text!r} is not a date of the form YYYY-MM-DD")
    try:
        return date.fromisoformat(candidate)
    except ValueError as error:
        raise PartitionDateError(f"partition_date {text!r} is not a valid date: {error}") from None


def resolve_partition_date(logical_date: datetime | None, requested: str | None) -> date:
    """The one rule that decides which day a run processes (see the module docstring)."""
    if requested not in (None, ""):
        return parse_partition_date(str(requested))
    if logical_date is None:
        raise PartitionDateError(
            "this run has no logical date and no 'partition_date' param: trigger it with a "
            'logical date, or with params {"partition_date": "YYYY-MM-DD"}'
        )
    if logical_date.tzinfo is None:
        raise PartitionDateError(f"logical date {logical_date!r} has no time zone")
    return logical_date.astimezone(UTC).date()


@dataclass(frozen=True)
class Partition:
    """One day of data and where each stage of the pipeline keeps it."""

    partition_date: date

    @classmethod
    def parse(cls, text: str) -> Partition:
        return cls(parse_partition_date(text))

    @property
    def iso(self) -> str:
        """``YYYY-MM-DD``: how the date is shown and passed to the Spark job."""
        return self.partition_date.isoformat()

    @property
    def subpath(self) -> str:
        """``YYYY/MM/DD``: the partition's folder below each root."""
        return self.partition_date.strftime("%Y/%m/%d")

    @property
    def raw_partition(self) -> str:
        return f"{RAW_ROOT}/{self.subpath}"

    @property
    def processed_partition(self) -> str:
        return f"{PROCESSED_ROOT}/{self.subpath}"

    @property
    def report_partition(self) -> str:
        return f"{REPORTS_ROOT}/{self.subpath}"

    def local_folder(self, root: Path) -> Path:
        """This day's folder below a local root: landing files, local report copies."""
        return root / self.subpath


def hdfs_uri(filesystem_uri: str, path: str) -> str:
    """Join ``hdfs://host:port`` and an absolute HDFS path into the URI the Spark job reads."""
    if not path.startswith("/"):
        raise ValueError(f"HDFS path {path!r} must be absolute")
    return f"{filesystem_uri.rstrip('/')}{path}"
