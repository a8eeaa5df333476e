"""What the task functions of include/ecommerce/tasks.py promise, without running the DAG
(the XCom keys the DAG reads are checked in tests/dags)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from include.ecommerce import tasks
from include.ecommerce.partitions import Partition


def context_for(logical_date: datetime | None, **params: object) -> dict[str, object]:
    return {"dag_run": SimpleNamespace(logical_date=logical_date), "params": params}


def test_a_run_without_a_day_fails_at_once_without_retries():
    for task in (tasks.upload_raw_logs, tasks.validate_outputs, tasks.generate_report):
        with pytest.raises(AirflowFailException, match="no logical date and no 'partition_date'"):
            task(**context_for(None))
    with pytest.raises(AirflowFailException, match="'2026-02-30' is not a valid date"):
        tasks.upload_raw_logs(**context_for(None, partition_date="2026-02-30"))


def test_the_partition_param_wins_over_the_logical_date():
    context = context_for(datetime(2026, 2, 14, tzinfo=UTC), partition_date="2026-02-11")
    assert tasks.partition_of(context) == Partition.parse("2026-02-11")
    assert tasks.partition_of(context_for(datetime(2026, 2, 14, 23, 59, tzinfo=UTC))) == (
        Partition.parse("2026-02-14")
    )
