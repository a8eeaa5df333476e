"""Running the real Airflow CLI from tests, in the project's environment (stack/env.sh)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def isolated_airflow_home(tmp_path: Path) -> dict[str, str]:
    """A fresh AIRFLOW_HOME with a migrated SQLite database: tests never share the developer's
    metadata (or each other's: two `dags test` of one date in one database collide)."""
    home = {"AIRFLOW_HOME": str(tmp_path)}
    result = run_airflow("db", "migrate", env=home)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{result.stdout[-3000:]}")
    return home


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
