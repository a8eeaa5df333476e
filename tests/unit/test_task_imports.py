"""What the DAG's processes import, and when: the plugin and the Parquet reader stay cheap.

Every Airflow process that reads a serialized DAG loads ``plugins/`` (``airflow dags test``, the
scheduler, the dag-processor); ``validate_outputs`` and ``generate_report`` read Parquet. Each
check runs in a fresh interpreter, since this test session has imported everything already.
"""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from include.ecommerce.report_link import REPORTS_URL_PREFIX
from include.ecommerce.validation import read_table
from tests.unit.sample_day_tables import sample_day_tables
from tests.unit.test_extra_validation import FakeClient

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def modules_after(code: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter (project and plugins on its path) after ``code``."""
    script = (
        f"import sys, json; sys.path[:0] = [{str(PROJECT_ROOT)!r}, "
        f"{str(PROJECT_ROOT / 'plugins')!r}]\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    return set(json.loads(completed.stdout.strip().splitlines()[-1]))


def test_loading_the_plugin_imports_neither_fastapi_nor_the_api_servers_security():
    loaded = modules_after("import ecommerce_reports")
    assert "airflow.api_fastapi.core_api.security" not in loaded
    assert "fastapi" not in loaded


def test_the_plugin_mounts_the_reports_app_when_asked():
    spec = importlib.util.spec_from_file_location(
        "ecommerce_reports", PROJECT_ROOT / "plugins" / "ecommerce_reports.py"
    )
    ecommerce_reports = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ecommerce_reports)
    plugin = ecommerce_reports.EcommerceReportsPlugin()
    (mounted,) = plugin.fastapi_apps
    assert mounted["url_prefix"] == REPORTS_URL_PREFIX
    assert mounted["app"] is ecommerce_reports.reports_app()  # one app per process
    paths = {route.path for route in mounted["app"].routes}
    assert "/{year}/{month}/{day}/{file_name}" in paths


def parquet_bytes(table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_read_table_joins_the_parts_in_name_order_and_skips_hidden_files():
    users = sample_day_tables()["user_behavior"]
    first, second = users.slice(0, 2), users.slice(2)
    client = FakeClient(
        {
            "/p/user_behavior/part-1.parquet": parquet_bytes(second),
            "/p/user_behavior/part-0.parquet": parquet_bytes(first),
            "/p/user_behavior/_hidden.parquet": b"not parquet",
        }
    )
    read = read_table(client, "/p/user_behavior")
    assert read.schema == users.schema
    assert read.to_pylist() == users.to_pylist()


def test_reading_a_table_does_not_import_pandas_or_pyarrow_dataset(tmp_path):
    part = tmp_path / "part-0.parquet"
    part.write_bytes(parquet_bytes(sample_day_tables()["funnel"]))
    loaded = modules_after(
        "import contextlib, io, pathlib\n"
        "from include.ecommerce.validation import read_table\n"
        "class Client:\n"
        "    def list(self, folder): return ['part-0.parquet']\n"
        "    def read(self, path):\n"
        f"        return contextlib.nullcontext(io.BytesIO(pathlib.Path({str(part)!r}).read_bytes()))\n"
        "assert read_table(Client(), '/t').num_rows == 3"
    )
    assert "pyarrow.dataset" not in loaded
    assert "pandas" not in loaded
