"""The scheduler and the dag-processor killed and restarted in the middle of a 5-day backfill,
on a live Airflow pointed at the fault cluster through its connections (no DAG change)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from include.ecommerce.partitions import Partition
from stack.live_airflow import AIRFLOW_SH, PROJECT_ROOT, LiveAirflow, running_airflow
from stack.small_cluster import wait_for
from tests.integration.faults.conftest import FaultCluster

pytestmark = [pytest.mark.integration, pytest.mark.airflow, pytest.mark.faults]

FIRST_DAY = date(2026, 2, 10)
DAYS = [FIRST_DAY + timedelta(days=n) for n in range(5)]  # the project's landing days
KILLED = ("scheduler", "dag-processor")
BACKFILL_TIMEOUT_S = 1800


@pytest.fixture(scope="module")
def airflow_on_cluster(
    fault_cluster: FaultCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveAirflow]:
    extra_env = fault_cluster.airflow_env(reports_dir=tmp_path_factory.mktemp("fault-reports"))
    with running_airflow(tmp_path_factory.mktemp("fault-airflow"), extra_env) as live:
        yield live


def kill_component(airflow: LiveAirflow, component: str) -> int:
    pid = int((airflow.home / "run" / f"airflow-{component}.pid").read_text().strip())
    os.kill(pid, signal.SIGKILL)
    return pid


@pytest.mark.timeout(3 * BACKFILL_TIMEOUT_S)  # two waits of up to BACKFILL_TIMEOUT_S each
def test_scheduler_and_dag_processor_killed_mid_backfill(
    airflow_on_cluster: LiveAirflow, fault_cluster: FaultCluster, fault_results: list[dict]
) -> None:
    airflow = airflow_on_cluster
    month_folders = {Partition(day).processed_partition.rsplit("/", 1)[0] for day in DAYS}
    # Other fault tests of the session may have published days in the same months.
    client = fault_cluster.client
    present_before = {
        folder: set(client.list(folder)) if client.status(folder, strict=False) else set()
        for folder in month_folders
    }
    created = airflow.cli(
        "backfill", "create", "--dag-id", "ecommerce_daily",
        "--from-date", DAYS[0].isoformat(), "--to-date", DAYS[-1].isoformat(),
    )  # fmt: skip
    assert created.returncode == 0, created.stdout[-3000:]

    def succeeded() -> int:
        runs = airflow.dag_runs(run_type="backfill")
        return sum(run["state"] == "success" for run in runs)

    # Mid-backfill: the first day is published, the others are not.
    assert wait_for(lambda: succeeded() >= 1, timeout_s=BACKFILL_TIMEOUT_S, poll_s=3)
    published_before = succeeded()
    killed_at = time.monotonic()
    killed = {component: kill_component(airflow, component) for component in KILLED}
    time.sleep(5)
    restarted = subprocess.run(
        [str(AIRFLOW_SH), "start"], cwd=PROJECT_ROOT, env=airflow.env,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    airflow.wait_for_backfills_to_complete(timeout_s=BACKFILL_TIMEOUT_S, poll_s=5)

    runs = airflow.dag_runs(run_type="backfill")
    per_day = Counter(run["logical_date"][:10] for run in runs)
    assert per_day == Counter({day.isoformat(): 1 for day in DAYS}), per_day
    states = {run["logical_date"][:10]: run["state"] for run in runs}
    assert set(states.values()) == {"success"}, "\n".join(
        airflow.explain_run(run["dag_run_id"]) for run in runs if run["state"] != "success"
    )
    retries = 0
    for run in runs:
        for task_id, instance in airflow.task_instances(run["dag_run_id"]).items():
            assert instance["state"] == "success", (task_id, instance)
            retries += max(0, int(instance.get("try_number") or 1) - 1)
    for day in DAYS:
        partition = Partition(day)
        names = fault_cluster.client.list(partition.processed_partition)
        assert "_SUCCESS" in names, (day, names)
        assert fault_cluster.client.status(f"{partition.report_partition}/report.txt")
    # Published once: one dated partition folder per day, no leftover beside them (folders
    # that were there before the backfill, from other tests, left aside).
    for month_folder in month_folders:
        days = set(fault_cluster.client.list(month_folder)) - present_before[month_folder]
        assert sorted(d for d in days if not d.startswith(("_", "."))) == sorted(
            f"{day:%d}" for day in DAYS if month_folder in Partition(day).processed_partition
        ), days
    fault_results.append(
        {
            "fault": "scheduler and dag-processor killed (SIGKILL), restarted 5 s later",
            "injected": f"5-day backfill, after {published_before} day(s) published",
            "outcome": "every day published exactly once (one run per day, all tasks success, "
            "one partition per day with _SUCCESS and report)",
            "retries": retries,
            "rows_lost": 0,
            "recover_s": round(time.monotonic() - killed_at, 1),
            "test": "test_scheduler_and_dag_processor_killed_mid_backfill",
            "killed_pids": killed,
        }
    )
