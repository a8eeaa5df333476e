"""What the benchmark ran on, read at run time (never typed in)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import psutil


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _java_version() -> str:
    java = Path(os.environ.get("JAVA_HOME", "")) / "bin" / "java"
    try:
        completed = subprocess.run(
            [str(java) if java.exists() else "java", "-version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except OSError as error:
        return f"unavailable ({error})"
    return completed.stderr.strip().splitlines()[0] if completed.stderr else "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_head(root: Path) -> str:
    completed = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.stdout.strip() or "unknown"


def describe() -> dict:
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": psutil.virtual_memory().total,
        "cpu_model": _cpu_model(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "java": _java_version(),
        "pyspark": _version("pyspark"),
        "duckdb": _version("duckdb"),
        "pyarrow": _version("pyarrow"),
        "apache-airflow": _version("apache-airflow"),
    }
