"""A scheduler killed with SIGKILL leaves its LocalExecutor workers behind; ``stack/airflow.sh
start`` ends them before it starts the next scheduler.

Why it matters (seen in the scheduler fault test, issue 16): the workers are forked with the
scheduler's PostgreSQL socket open, so after the kill the server still sees the scheduler's
connection and keeps its last transaction open, with the scheduler's critical-section advisory
lock (``pg_try_advisory_xact_lock``) and pool row locks. The next scheduler then never queues a
task ("Critical section lock held by another Scheduler", at debug level): runs stay running for
good. The end-to-end outcome (every day of a backfill published once) is the fault test's
(``tests/integration/faults/test_faults_scheduler.py``); this one checks the mechanism quickly.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from stack.live_airflow import AIRFLOW_SH, PROJECT_ROOT, running_airflow
from stack.small_cluster import alive, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


def session_members(session_id: int) -> set[int]:
    """PIDs of the processes whose session is ``session_id``."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        # after the command: state ppid pgrp session ...
        if int(fields[3]) == session_id and fields[0] != "Z":
            members.add(int(stat.parent.name))
    return members


def sockets_of(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def test_a_killed_schedulers_workers_are_ended_before_the_next_scheduler_starts(
    tmp_path: Path,
) -> None:
    with running_airflow(tmp_path) as airflow:
        pid_file = airflow.home / "run" / "airflow-scheduler.pid"
        killed = int(pid_file.read_text().strip())
        assert wait_for(lambda: session_members(killed) - {killed}, timeout_s=120, poll_s=1), (
            "the scheduler started no executor worker"
        )
        workers = session_members(killed) - {killed}
        # The cause: each worker holds a socket of the scheduler (its database connection).
        shared = {worker: sockets_of(worker) & sockets_of(killed) for worker in workers}
        assert any(shared.values()), shared

        os.kill(killed, signal.SIGKILL)
        assert wait_for(lambda: not alive(killed), timeout_s=30, poll_s=0.2)
        orphans = session_members(killed)
        assert orphans, "no worker outlived the scheduler: nothing left to end"

        restarted = subprocess.run(
            [str(AIRFLOW_SH), "start"], cwd=PROJECT_ROOT, env=airflow.env,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert f"ending what is left of the scheduler's session {killed}" in restarted.stdout
        assert session_members(killed) == set(), f"left running: {session_members(killed)}"
        successor = int(pid_file.read_text().strip())
        assert successor != killed and alive(successor)
        # The successor got as far as starting its own executor workers.
        assert wait_for(
            lambda: session_members(successor) - {successor}, timeout_s=120, poll_s=1
        ), "the new scheduler started no executor worker"
