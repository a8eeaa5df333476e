"""Running the real Airflow CLI from tests, in the project's environment (stack/env.sh), each
test Airflow on a PostgreSQL database of its own on the local server (stack/postgres.sh)."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_SH = PROJECT_ROOT / "stack" / "postgres.sh"
TEST_DATABASE_PREFIX = "airflow_test_"
"""Databases made here are named ``airflow_test_<pid>_<hex>``: the creating process's PID lets a
later session drop what a killed one left behind, and never what a live one still uses."""


def postgres_command(*args: str) -> str:
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
        [str(PROJECT_ROOT / "stack" / "run.sh"), "airflow", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
