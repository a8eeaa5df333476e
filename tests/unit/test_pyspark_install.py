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
