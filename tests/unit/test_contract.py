"""The table declarations (spark_jobs/contract.py) are complete and agree with what reads them.

Every test iterates ``contract.TABLES``: a new declaration is checked without editing this file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from spark_jobs import contract

PROJECT_ROOT = Path(__file__).resolve().parents[2]
README = PROJECT_ROOT / "README.md"


@pytest.mark.parametrize("table", contract.BUILT_TABLES, ids=lambda table: table.name)
def test_each_built_tables_builder_resolves_to_a_function(table):
    builder = table.load_builder()
    assert callable(builder)
    assert builder.__name__ == table.builder.partition(":")[2]


def test_the_kinds_partition_the_declarations():
    assert [t.name for t in contract.CORE_TABLES] == [
        "category_stats",
        "hourly_activity",
        "funnel",
        "user_behavior",
    ]
    by_kind = {kind: contract.tables_of(kind) for kind in contract.TABLE_KINDS}
    assert sum(len(tables) for tables in by_kind.values()) == len(contract.TABLES)
    assert contract.BUILT_TABLES == contract.CORE_TABLES + contract.EXTRA_TABLES
    assert contract.tables_of(contract.EVIDENCE) == (contract.REJECTED, contract.QUALITY)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"kind": "optional"}, "kind 'optional' is not one of"),
        ({"builder": None}, "a builder is needed exactly when not evidence"),
        ({"write_order": ("nope",)}, "write_order names unknown columns ['nope']"),
        ({"reports": ("pdf",)}, "reports must be among"),
    ],
)
def test_a_malformed_declaration_fails_naming_the_table(changes, problem):
    from dataclasses import replace

    with pytest.raises(ValueError, match=re.escape(problem)) as error:
        replace(contract.HOURLY_REVENUE, **changes)
    assert "'hourly_revenue'" in str(error.value)


def test_a_table_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="'funnel' is declared twice"):
        contract.declare(
            "funnel", "again", ("x", "INT"), kind=contract.EVIDENCE, title="x", builder=None
        )


def test_importing_the_contract_does_not_import_pyspark():
    code = "import sys, spark_jobs.contract; print('pyspark' in sys.modules)"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "False"


def readme_tables() -> list[str]:
    """The first column of the README's table of published tables, in order."""
    section = README.read_text(encoding="utf-8").split("## The Spark job", 1)[1]
    return re.findall(r"^\| `(\w+)`", section.split("### ", 1)[0], flags=re.MULTILINE)


def test_the_readme_lists_every_declared_table_in_declaration_order():
    assert readme_tables() == list(contract.TABLES)
