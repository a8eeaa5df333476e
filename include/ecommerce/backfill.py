"""``make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD``: load history and watch it happen.

Airflow 2's ``airflow dags backfill`` is gone; Airflow 3's ``airflow backfill create`` only
creates runs for the scheduler and returns. This command does what a person wants from one
line: unpause the DAG (a paused DAG's backfill runs stay queued forever), create the backfill
with ``max_active_runs=1`` (the same request ``airflow backfill create --max-active-runs 1``
sends, made through the REST API so the backfill's ID comes back), then print a line each time
a day's run changes state (state, duration, days left) until every day has ended. It exits 1
naming each failed day. Ctrl-C stops only the watching: the runs stay with the scheduler, and
the message says where to watch them and how to cancel the backfill.

Talks to the local Airflow that ``stack/airflow.sh`` runs (``AIRFLOW_API_PORT``, the admin
password in ``$AIRFLOW_HOME``); the Makefile target starts it first.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

import requests

from include.ecommerce.partitions import PartitionDateError, parse_partition_date

DAG_ID = "ecommerce_daily"
FINISHED = frozenset({"success", "failed"})
POLL_S = 5.0


@dataclass(frozen=True)
class DayState:
    """One day of the range as the display shows it."""

    day: date
    state: str  # "no run yet", "queued", "running", "success", "failed"
    duration_s: float | None = None


def days_between(first: date, last: date) -> list[date]:
    if last < first:
        raise ValueError(f"TO {last} is before FROM {first}")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def day_states(days: Sequence[date], runs: Sequence[Mapping[str, Any]]) -> list[DayState]:
    """Each day's newest run (by queue time) decides its state."""
    newest: dict[date, Mapping[str, Any]] = {}
    for run in runs:
        if not run.get("logical_date"):
            continue
        day = date.fromisoformat(run["logical_date"][:10])
        if day not in newest or (run.get("queued_at") or "") >= (
            newest[day].get("queued_at") or ""
        ):
            newest[day] = run
    return [
        DayState(day, newest[day]["state"], newest[day].get("duration"))
        if day in newest
        else DayState(day, "no run yet")
        for day in days
    ]


def progress_line(state: DayState, states: Sequence[DayState]) -> str:
    left = sum(1 for other in states if other.state not in FINISHED)
    duration = f"{state.duration_s:.0f} s" if state.duration_s is not None else "-"
    return f"{state.day.isoformat()}  {state.state:<10} {duration:>7}   {left} of {len(states)} day(s) left"


class AirflowApi:
    """The few REST calls this command needs, as the local admin."""

    def __init__(self, base_url: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = requests.Session()
        response = self.http.post(
            f"{self.base_url}/auth/token",
            json={"username": "admin", "password": password},
            timeout=30,
        )
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.base_url}/api/v2{path}", timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} /api/v2{path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def unpause(self) -> None:
        self.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})

    def create_backfill(self, first: date, last: date, reprocess: str) -> int:
        backfill = self.call(
            "POST",
            "/backfills",
            json={
                "dag_id": DAG_ID,
                "from_date": f"{first.isoformat()}T00:00:00Z",
                "to_date": f"{last.isoformat()}T00:00:00Z",
                "max_active_runs": 1,
                "reprocess_behavior": reprocess,
            },
        )
        return int(backfill["id"])

    def runs_between(self, first: date, last: date) -> list[dict[str, Any]]:
        listing = self.call(
            "GET",
            f"/dags/{DAG_ID}/dagRuns",
            params={
                "logical_date_gte": f"{first.isoformat()}T00:00:00Z",
                "logical_date_lte": f"{last.isoformat()}T00:00:00Z",
                "limit": 1000,
            },
        )
        return listing["dag_runs"]

    def cancel_backfill(self, backfill_id: int) -> None:
        self.call("PUT", f"/backfills/{backfill_id}/cancel")


def follow(
    days: Sequence[date],
    fetch_runs: Callable[[], Sequence[Mapping[str, Any]]],
    out: TextIO,
    poll_s: float = POLL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> list[DayState]:
    """Print a line whenever a day's state changes; return the states once all days ended."""
    shown: dict[date, str] = {}
    while True:
        states = day_states(days, fetch_runs())
        for state in states:
            if shown.get(state.day) != state.state:
                shown[state.day] = state.state
                print(progress_line(state, states), file=out, flush=True)
        if all(state.state in FINISHED for state in states):
            return states
        sleep(poll_s)


def local_airflow() -> tuple[str, str]:
    """Address and admin password of the Airflow that stack/airflow.sh runs."""
    home = Path(os.environ["AIRFLOW_HOME"])
    port = os.environ.get("AIRFLOW_API_PORT", "8080")
    passwords = home / "simple_auth_manager_passwords.json.generated"
    try:
        password = json.loads(passwords.read_text())["admin"]
    except (OSError, KeyError, ValueError) as error:
        message = f"error: no admin password in {passwords} ({error}): make airflow-up"
        raise SystemExit(message) from None
    return f"http://127.0.0.1:{port}", password


def _date(text: str) -> date:
    try:
        return parse_partition_date(text)
    except PartitionDateError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="make backfill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--from-date", type=_date, help="first day, YYYY-MM-DD")
    parser.add_argument("--to-date", type=_date, help="last day (inclusive)")
    parser.add_argument(
        "--reprocess-behavior",
        choices=("none", "failed", "completed"),
        default="none",
        help="days that already have a run: leave them (none), rerun failed ones, or all",
    )
    parser.add_argument("--cancel", type=int, metavar="BACKFILL_ID", help="cancel a backfill")
    args = parser.parse_args(argv)
    if args.cancel is not None:
        AirflowApi(*local_airflow()).cancel_backfill(args.cancel)
        print(f"backfill {args.cancel} cancelled: its queued runs will not start", file=out)
        return 0
    if args.from_date is None or args.to_date is None:
        parser.error("give --from-date and --to-date (make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD)")
    try:
        days = days_between(args.from_date, args.to_date)
    except ValueError as error:
        parser.error(str(error))
    base_url, password = local_airflow()
    api = AirflowApi(base_url, password)

    api.unpause()
    backfill_id = api.create_backfill(args.from_date, args.to_date, args.reprocess_behavior)
    print(
        f"backfill {backfill_id} of {DAG_ID}: {len(days)} day(s) {days[0]} .. {days[-1]}, "
        f"one run at a time ({base_url}/dags/{DAG_ID}/backfills)",
        file=out,
        flush=True,
    )
    started = time.monotonic()
    try:
        states = follow(days, lambda: api.runs_between(args.from_date, args.to_date), out)
    except KeyboardInterrupt:
        print(
            f"\nstopped watching; the runs stay with the scheduler. Watch them at "
            f"{base_url}/dags/{DAG_ID}/backfills; cancel the backfill with: "
            f"stack/run.sh python -m include.ecommerce.backfill --cancel {backfill_id}",
            file=out,
        )
        return 130
    failed = [state.day.isoformat() for state in states if state.state != "success"]
    took = time.monotonic() - started
    if failed:
        print(f"{len(failed)} day(s) failed: {', '.join(failed)} ({took:.0f} s)", file=out)
        return 1
    print(f"all {len(days)} day(s) succeeded ({took:.0f} s)", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
