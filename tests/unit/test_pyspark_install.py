"""The pyspark package and its bundled jars must be one release.

Installing ``pyspark-client`` (or another pyspark) over the venv replaces the Python side but not
``pyspark/jars``; the job would then talk to jars of another version and fail in odd ways.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest


def test_pyspark_version_matches_its_bundled_spark_core_jar():
    pyspark = pytest.importorskip("pyspark")
    jars = Path(pyspark.__file__).parent / "jars"
    core_jars = sorted(jars.glob("spark-core_*.jar"))
    assert len(core_jars) == 1, f"expected one spark-core jar in {jars}, found {core_jars}"
    match = re.fullmatch(r"spark-core_2\.\d+-(.+)\.jar", core_jars[0].name)
    assert match, core_jars[0].name
    assert pyspark.__version__ == match.group(1)


@pytest.mark.parametrize("package", ["airflow", "pyspark", "matplotlib"])
def test_installed_packages_carry_their_bytecode(package):
    # `make venv` installs with --compile-bytecode: every Airflow task, CLI call and Spark driver
    # then imports from .pyc files instead of compiling the modules anew (where
    # PYTHONDONTWRITEBYTECODE is set, as on the machines we test on, nothing else writes them).
    import importlib
    import importlib.util

    module = importlib.import_module(package)
    cached = Path(importlib.util.cache_from_source(module.__file__))
    assert cached.is_file(), (
        f"{package} has no bytecode ({cached} is missing): the venv was not made by `make venv`"
        " with --compile-bytecode; run `rm .venv/.synced && make venv`"
    )
