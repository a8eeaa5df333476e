"""The local Airflow, driven from Python: for the tests and the benchmarks (one harness for both).

Two ways to run Airflow against the project, each on a PostgreSQL database of its own on the local
server (stack/postgres.sh), never the developer's:

- ``isolated_airflow_home(home)`` + ``run_airflow(...)``: a fresh, migrated AIRFLOW_HOME for CLI
  commands such as ``airflow dags test`` (no scheduler needed).
- ``running_airflow(folder, extra_env)``: a whole Airflow (api-server, scheduler, dag-processor,
  log server) started with ``stack/airflow.sh start`` on free ports, yielded as a
  :class:`LiveAirflow` (REST API v2 with a JWT, the CLI in the same environment), stopped and its
  database dropped afterwards.

``running_airflow`` works in ``<folder>/airflow-home`` and waits until ``ecommerce_daily`` is
serialized, then unpauses it. The developer's ``.runtime/airflow`` and an Airflow on port 8080
are never touched.

The scheduler's cron schedule is switched off (``[scheduler] use_job_schedule``): unpausing would
otherwise start a scheduled run for yesterday, which has no landing data. Triggered and backfill
runs are unaffected. ``test_ui_and_schedule.py`` turns it back on through ``extra_env``
(``AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE=True``) with yesterday's day in its landing folder.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POSTGRES_SH = PROJECT_ROOT / "stack" / "postgres.sh"
AIRFLOW_SH = PROJECT_ROOT / "stack" / "airflow.sh"
RUN_SH = PROJECT_ROOT / "stack" / "run.sh"
TEST_DATABASE_PREFIX = "airflow_test_"
"""Databases made here are named ``airflow_test_<pid>_<hex>``: the creating process's PID lets a
later session drop what a killed one left behind, and never what a live one still uses."""


def postgres_command(*args: str) -> str:
    """``stack/postgres.sh <args>``: its output, or an error that carries it."""
    completed = subprocess.run(
        [str(POSTGRES_SH), *args], capture_output=True, text=True, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"stack/postgres.sh {' '.join(args)} exited with {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return completed.stdout.strip()


def drop_orphaned_test_databases() -> list[str]:
    """Drop the test databases whose creating process is gone; return their names."""
    dropped = []
    for name in postgres_command("list-dbs").split():
        match = re.fullmatch(rf"{TEST_DATABASE_PREFIX}(\d+)_[0-9a-f]+", name)
        if match is None:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
            continue  # still alive (a concurrent test session)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue  # alive, another user's
        postgres_command("drop-db", name)
        dropped.append(name)
    return dropped


@contextmanager
def metadata_database(home: Path) -> Iterator[dict[str, str]]:
    """A new, empty PostgreSQL database for the Airflow whose AIRFLOW_HOME is ``home``; yields
    the environment that points that Airflow at it, drops the database afterwards.

    ``METADATA_DB_AIRFLOW_HOME`` tells stack/env.sh that this URL belongs to this AIRFLOW_HOME
    (it refuses an inherited URL of another home: the developer's database stays untouched).
    """
    drop_orphaned_test_databases()
    name = f"{TEST_DATABASE_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
    postgres_command("create-db", name)
    try:
        yield {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": postgres_command("url", name),
            "METADATA_DB_AIRFLOW_HOME": str(home),
        }
    finally:
        postgres_command("drop-db", name)


@contextmanager
def isolated_airflow_home(home: Path) -> Iterator[dict[str, str]]:
    """A fresh AIRFLOW_HOME with a migrated database of its own: tests never share the
    developer's metadata (or each other's: two `dags test` of one date in one database collide)."""
    with metadata_database(home) as env:
        result = run_airflow("db", "migrate", env=env)
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}")
        yield env


def run_airflow(
    *args: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``airflow <args>`` with stdout and stderr merged, as a person sees it in a terminal."""
    return subprocess.run(
        [str(RUN_SH), "airflow", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


DAG_ID = "ecommerce_daily"
FINISHED_RUN_STATES = frozenset({"success", "failed"})
COMPONENTS = ("api-server", "scheduler", "dag-processor", "log-server")

# env.sh keeps these when inherited (pytest itself runs under stack/run.sh, i.e. for port 8080
# and the developer's database): they must follow the test Airflow's port and database instead.
_NOT_INHERITED = (
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__API__BASE_URL",
    "AIRFLOW__API__PORT",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "METADATA_DB_AIRFLOW_HOME",
)


class LiveAirflowError(AssertionError):
    """Something the live Airflow did (or did not do); the message carries the evidence."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def airflow_env(
    database: Mapping[str, str], api_port: int, extra_env: Mapping[str, str]
) -> dict[str, str]:
    """The environment of the test Airflow's processes (and of CLI calls against it);
    ``database`` is what ``airflow_cli.metadata_database`` yields (its home and database)."""
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(database)
    env.update(
        AIRFLOW_API_PORT=str(api_port),
        # The scheduler's log server (default 8793) would collide with the developer's Airflow.
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )
    env.update(extra_env)
    return env


def tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"({error})"


@dataclass
class LiveAirflow:
    """A running test Airflow: REST calls with a JWT, CLI calls in the same environment."""

    home: Path
    api_url: str
    env: dict[str, str] = field(repr=False)
    http: requests.Session = field(default_factory=requests.Session, repr=False)

    # --- REST -------------------------------------------------------------------------------

    def admin_password(self) -> str:
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        return json.loads(passwords.read_text())["admin"]

    def login(self) -> str:
        """``POST /auth/token`` as admin; later calls send ``Authorization: Bearer <token>``."""
        response = requests.post(
            f"{self.api_url}/auth/token",
            json={"username": "admin", "password": self.admin_password()},
            timeout=30,
        )
        if response.status_code not in (200, 201):
            raise LiveAirflowError(f"POST /auth/token: {response.status_code} {response.text}")
        token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        return token

    def api(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """``<method> /api/v2<path>``; anything but an ``ok`` status fails with the body."""
        response = self.http.request(method, f"{self.api_url}/api/v2{path}", timeout=60, **kwargs)
        if response.status_code not in ok:
            raise LiveAirflowError(
                f"{method} /api/v2{path}: {response.status_code} {response.text[:2000]}"
            )
        return response.json() if response.content else None

    def trigger(self, logical_date: str | None, conf: Mapping[str, Any] | None = None) -> str:
        """``POST /dags/ecommerce_daily/dagRuns`` (``logical_date`` may be None); the run ID."""
        body: dict[str, Any] = {"logical_date": logical_date}
        if conf is not None:
            body["conf"] = dict(conf)
        run = self.api("POST", f"/dags/{DAG_ID}/dagRuns", ok=(200,), json=body)
        return run["dag_run_id"]

    def dag_run(self, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")

    def dag_runs(self, **params: Any) -> list[dict[str, Any]]:
        return self.api("GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 100, **params})[
            "dag_runs"
        ]

    def task_instances(self, run_id: str) -> dict[str, dict[str, Any]]:
        listing = self.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti for ti in listing["task_instances"]}

    def task_states(self, run_id: str) -> dict[str, str | None]:
        return {task_id: ti["state"] for task_id, ti in self.task_instances(run_id).items()}

    def set_task_state(self, run_id: str, task_id: str, state: str) -> Any:
        return self.api(
            "PATCH",
            f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}",
            json={"new_state": state},
        )

    def task_log(self, run_id: str, task_id: str, try_number: int = 1) -> str:
        """One try's log through the REST API, one event per line."""
        body = self.api(
            "GET",
            f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": "true"},
            headers={"Accept": "application/json"},
        )
        content = body.get("content", [])
        if isinstance(content, str):
            return content
        lines = []
        for entry in content:
            if isinstance(entry, dict):
                extra = {k: v for k, v in entry.items() if k not in ("event", "timestamp")}
                lines.append(f"{entry.get('event', '')} {json.dumps(extra) if extra else ''}")
            else:
                lines.append(str(entry))
        return "\n".join(lines)

    def wait_for_run(self, run_id: str, timeout_s: float, poll_s: float = 3) -> dict[str, Any]:
        """Poll until the run succeeded or failed; a timeout fails with task states and logs."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = self.dag_run(run_id)
            if run["state"] in FINISHED_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise LiveAirflowError(
                    f"run {run_id} still {run['state']} after {timeout_s:.0f} s; tasks "
                    f"{self.task_states(run_id)}\n{self.diagnostics()}"
                )
            time.sleep(poll_s)

    def wait_for_backfills_to_complete(self, timeout_s: float, poll_s: float = 2) -> None:
        """Until every backfill of the DAG is marked complete. The scheduler marks one some
        seconds after its last run ended; until then a new ``backfill create`` is refused
        ("Another backfill is running", one running backfill per DAG)."""
        deadline = time.monotonic() + timeout_s
        while True:
            backfills = self.api("GET", "/backfills", params={"dag_id": DAG_ID})["backfills"]
            running = [backfill for backfill in backfills if backfill["completed_at"] is None]
            if not running:
                return
            if time.monotonic() > deadline:
                raise LiveAirflowError(
                    f"backfills still running after {timeout_s:.0f} s: {running}\n"
                    + self.diagnostics()
                )
            time.sleep(poll_s)

    def explain_run(self, run_id: str) -> str:
        """Task states and the logs of the tasks that did not succeed: for assertion messages."""
        parts = [f"run {run_id}: {self.dag_run(run_id)['state']}"]
        for task_id, ti in self.task_instances(run_id).items():
            parts.append(f"  {task_id}: {ti['state']} (try {ti.get('try_number')})")
        for task_id, ti in self.task_instances(run_id).items():
            if ti["state"] not in ("success", "upstream_failed", None) and ti.get("try_number"):
                log = self.task_log(run_id, task_id, ti["try_number"])
                parts.append(f"--- log of {task_id} ---\n" + "\n".join(log.splitlines()[-60:]))
        return "\n".join(parts)

    # --- CLI and logs -----------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``airflow <args>`` against this Airflow (stdout and stderr merged)."""
        return subprocess.run(
            [str(RUN_SH), "airflow", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )

    def diagnostics(self, lines: int = 40) -> str:
        """The last lines of each component's log."""
        return "\n".join(
            f"--- {component} ({self.home}/run/airflow-{component}.log) ---\n"
            + tail(self.home / "run" / f"airflow-{component}.log", lines)
            for component in COMPONENTS
        )


def _stack(env: Mapping[str, str], command: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AIRFLOW_SH), command],
        cwd=PROJECT_ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _wait_for_dag(airflow: LiveAirflow, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        response = airflow.http.get(f"{airflow.api_url}/api/v2/dags/{DAG_ID}", timeout=30)
        if response.status_code == 200:
            return
        if time.monotonic() > deadline:
            errors = airflow.api("GET", "/importErrors")
            raise LiveAirflowError(
                f"{DAG_ID} not serialized after {timeout_s:.0f} s "
                f"(GET /dags/{DAG_ID}: {response.status_code}); import errors: {errors}\n"
                + airflow.diagnostics()
            )
        time.sleep(2)


@contextmanager
def running_airflow(
    folder: Path, extra_env: Mapping[str, str] | None = None, start_timeout_s: float = 300
) -> Iterator[LiveAirflow]:
    """Start a fresh Airflow in ``folder`` on a database of its own, yield it with
    ``ecommerce_daily`` unpaused, stop it and drop its database."""
    home = folder / "airflow-home"
    api_port = free_port()
    with metadata_database(home) as database:
        env = airflow_env(database, api_port, extra_env or {})
        airflow = LiveAirflow(home=home, api_url=f"http://127.0.0.1:{api_port}", env=env)
        with _started(airflow, start_timeout_s):
            yield airflow


@contextmanager
def _started(airflow: LiveAirflow, start_timeout_s: float) -> Iterator[None]:
    env = airflow.env
    try:
        started = _stack(env, "start", start_timeout_s)
        if started.returncode != 0:
            raise LiveAirflowError(
                f"stack/airflow.sh start exited with {started.returncode}:\n"
                f"{started.stdout}\n{started.stderr}\n{airflow.diagnostics()}"
            )
        airflow.login()
        _wait_for_dag(airflow, timeout_s=120)
        airflow.api("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        yield
    finally:
        stopped = _stack(env, "stop", 120)
        if stopped.returncode != 0:
            raise LiveAirflowError(f"stack/airflow.sh stop: {stopped.stdout}\n{stopped.stderr}")
