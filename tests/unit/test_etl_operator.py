"""EtlJobOperator on the Spark provider's real hook: the job's own verdicts fail the task at once.

The operator needs two private members of ``SparkSubmitHook`` (the submitted process and the
hook's log reader: there is no public way to the exit code or the printed lines). These tests run
the provider's real ``SparkSubmitHook.submit`` against a stand-in ``spark-submit`` on ``PATH``
that prints what the job prints and exits as it does; the day a provider upgrade renames either
member, the verdict would quietly turn back into a retried failure, and these tests fail.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from include.ecommerce.etl_operator import FINAL_EXIT_CODES, EtlJobOperator
from spark_jobs.contract import (
    JOB_ERROR_PREFIX,
    JOB_EXIT_INPUT_ERROR,
    JOB_EXIT_PARTITION_BUSY,
    JOB_EXIT_TOO_MANY_REJECTS,
)

CONN_ID = "spark_etl_operator_test"


def stand_in_spark_submit(folder: Path, exit_code: int, error_line: str) -> Path:
    """An executable ``spark-submit`` that logs like the job, then exits with ``exit_code``."""
    folder.mkdir()
    script = folder / "spark-submit"
    script.write_text(
        "#!/bin/sh\n"
        'echo "26/02/14 00:00:01 INFO SparkContext: Running Spark version 4.3.0"\n'
        f"echo {json.dumps(error_line)}\n"
        f"exit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.fixture
def operator_with_exit(tmp_path, monkeypatch):
    def make(exit_code: int, error_line: str) -> EtlJobOperator:
        bin_dir = stand_in_spark_submit(tmp_path / f"bin-{exit_code}", exit_code, error_line)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{CONN_ID.upper()}",
            json.dumps({"conn_type": "spark", "host": "local[1]"}),
        )
        return EtlJobOperator(
            task_id="spark_etl",
            conn_id=CONN_ID,
            driver_memory="512m",
            application=str(tmp_path / "job.py"),
        )

    return make


@pytest.mark.parametrize("exit_code", sorted(FINAL_EXIT_CODES))
def test_the_jobs_own_verdict_fails_at_once_with_its_error_line(operator_with_exit, exit_code):
    error_line = f"{JOB_ERROR_PREFIX} verdict {exit_code} about hdfs:///raw/2026/02/14"
    operator = operator_with_exit(exit_code, error_line)

    with pytest.raises(AirflowFailException) as failure:
        operator.execute(context={})

    assert f"the ETL job exited {exit_code}: {FINAL_EXIT_CODES[exit_code]}" in str(failure.value)
    assert error_line in str(failure.value)
    assert operator.job_error == error_line


@pytest.mark.parametrize("exit_code", [1, JOB_EXIT_PARTITION_BUSY])
def test_other_failures_keep_their_retries(operator_with_exit, exit_code):
    operator = operator_with_exit(exit_code, f"{JOB_ERROR_PREFIX} something transient")

    with pytest.raises(AirflowException) as failure:
        operator.execute(context={})

    assert not isinstance(failure.value, AirflowFailException)


def test_final_verdicts_are_the_contracts_input_and_reject_exits():
    assert set(FINAL_EXIT_CODES) == {JOB_EXIT_INPUT_ERROR, JOB_EXIT_TOO_MANY_REJECTS}
