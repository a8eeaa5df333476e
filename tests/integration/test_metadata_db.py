"""The local Airflow's metadata database: a real PostgreSQL server (stack/postgres.sh).

SQLite locked under a scheduler plus a backfill; these tests pin what replaced it: Airflow's
configuration names PostgreSQL, the server listens on loopback only and wants a password, every
throwaway Airflow gets a database of its own, and nothing inherits the developer's database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from stack.live_airflow import (
    TEST_DATABASE_PREFIX,
    drop_orphaned_test_databases,
    metadata_database,
    postgres_command,
    run_airflow,
)

pytestmark = [pytest.mark.integration]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_SH = PROJECT_ROOT / "stack" / "run.sh"


def databases() -> set[str]:
    return set(postgres_command("list-dbs").split())


def test_airflow_config_names_the_local_postgresql():
    result = run_airflow("config", "get-value", "database", "sql_alchemy_conn")
    assert result.returncode == 0, result.stdout
    url = make_url(result.stdout.strip().splitlines()[-1])
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg2",
        "127.0.0.1",
        int(os.environ.get("POSTGRES_PORT", "15432")),
        "airflow",
    )


def test_the_server_listens_on_loopback_only_and_wants_a_password():
    port = int(os.environ.get("POSTGRES_PORT", "15432"))
    listening = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    addresses = {line.split()[3].rsplit(":", 1)[0] for line in listening if line.strip()}
    assert addresses == {"127.0.0.1"}, listening

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="127.0.0.1", port=port, user="airflow", password="airflow", dbname="airflow"
        )


def test_an_inherited_database_url_is_refused_for_another_airflow_home(tmp_path):
    """A child process that changes AIRFLOW_HOME but keeps the developer's URL stops at once."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    assert env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"), "pytest runs under stack/run.sh"
    result = subprocess.run(
        [str(RUN_SH), "airflow", "version"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "is inherited from another Airflow" in result.stderr, result.stderr

    # Without any URL, another AIRFLOW_HOME gets no default database either (no silent SQLite).
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    env.pop("METADATA_DB_AIRFLOW_HOME", None)
    result = subprocess.run(
        [str(RUN_SH), "airflow", "version"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert f"no metadata database for AIRFLOW_HOME={tmp_path}" in result.stderr, result.stderr
    assert not (tmp_path / "airflow.db").exists()


def test_each_throwaway_airflow_gets_its_own_database_dropped_afterwards(tmp_path):
    with metadata_database(tmp_path) as env:
        name = make_url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).database
        assert name.startswith(f"{TEST_DATABASE_PREFIX}{os.getpid()}_")
        assert name in databases()
        assert env["METADATA_DB_AIRFLOW_HOME"] == env["AIRFLOW_HOME"] == str(tmp_path)
        result = run_airflow("db", "check", env=env)
        assert result.returncode == 0, result.stdout[-3000:]
    assert name not in databases()


def test_databases_left_by_a_killed_session_are_dropped_and_live_ones_kept():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = f"{TEST_DATABASE_PREFIX}{dead.pid}_0a0a0a"
    live = f"{TEST_DATABASE_PREFIX}{os.getpid()}_0b0b0b"
    postgres_command("create-db", orphan)
    postgres_command("create-db", live)
    try:
        dropped = drop_orphaned_test_databases()
        assert orphan in dropped
        assert live not in dropped
        assert live in databases()
        assert orphan not in databases()
    finally:
        postgres_command("drop-db", orphan)
        postgres_command("drop-db", live)
