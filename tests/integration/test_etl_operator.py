"""EtlJobOperator with a real spark-submit: the job's own verdicts fail at once, others retry."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from include.ecommerce.etl_operator import EtlJobOperator

pytestmark = pytest.mark.integration

SCRIPT = """
import sys
print("error: hdfs://nn/raw/2026/02/14/bad.csv: header lacks columns ['price']", file=sys.stderr)
sys.exit({code})
"""


def submit(tmp_path, exit_code: int) -> EtlJobOperator:
    application = tmp_path / f"exit_{exit_code}.py"
    application.write_text(SCRIPT.format(code=exit_code))
    operator = EtlJobOperator(
        task_id="spark_etl", application=str(application), conn_id="spark_default"
    )
    operator.execute(context={})
    return operator


@pytest.mark.parametrize(
    ("exit_code", "meaning"), [(2, "its input is unusable"), (3, "too many rows")]
)
def test_job_verdicts_fail_without_retry_and_carry_the_job_line(tmp_path, exit_code, meaning):
    with pytest.raises(AirflowFailException) as failure:
        submit(tmp_path, exit_code)
    message = str(failure.value)
    assert message.startswith(f"the ETL job exited {exit_code}: {meaning}")
    assert message.endswith(
        "error: hdfs://nn/raw/2026/02/14/bad.csv: header lacks columns ['price']"
    )


def test_other_failures_keep_their_retries(tmp_path):
    with pytest.raises(AirflowException) as failure:
        submit(tmp_path, 1)
    assert not isinstance(failure.value, AirflowFailException)
    assert "Error code is: 1" in str(failure.value)
