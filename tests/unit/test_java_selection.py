"""stack/env.sh runs Hadoop and Spark on Java 17 whatever the default JDK, or says why it can't."""

from __future__ import annotations

import glob
import os
import subprocess
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "stack" / "run.sh"
OTHER_JDKS = [path for path in glob.glob("/usr/lib/jvm/*") if "17" not in Path(path).name]


def run_with(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUN), "bash", "-c", 'echo "$JAVA_HOME"'],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_jdk_17_is_chosen_even_when_java_home_names_another():
    wrong = OTHER_JDKS[0] if OTHER_JDKS else "/usr/lib/jvm/some-jdk-25"
    result = run_with({"JAVA_HOME": wrong})
    assert result.returncode == 0, result.stderr
    java = Path(result.stdout.strip()) / "bin" / "java"
    version = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=True)
    assert 'version "17.' in version.stderr


@pytest.mark.parametrize("java_home", ["", "/usr/lib/jvm/some-jdk-25"])
def test_no_jdk_17_is_one_clear_line(java_home):
    result = run_with({"JAVA_HOME": java_home, "JAVA17_CANDIDATES": "/nonexistent"})
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: Java 17 is required for Hadoop and Spark, but none was found"
    )
    assert f"JAVA_HOME='{java_home}'" in result.stderr
    assert "openjdk-17-jdk-headless" in result.stderr
    assert "Traceback" not in result.stderr and "Exception" not in result.stderr
