"""A class-data-sharing archive (AppCDS) for the Spark job's driver JVM: a faster start.

Every run of the job starts a JVM that loads and verifies some 10,000 classes (Spark, Hadoop,
Parquet) before the first row is read. JDK 17 can write the classes a run loaded into an archive
at exit (``-XX:ArchiveClassesAtExit``) and map it at the next start
(``-XX:SharedArchiveFile``), which cuts the start-up's CPU time (docs/benchmarks-fixed-cost.md).

The archive belongs to one JDK build and one class path (pyspark's jars), so its file name
carries both versions, and it is made on each machine by the project's own set-up
(``make jvm-archive``, which ``make demo`` and ``make test`` run; ``python -m
include.ecommerce.jvm_archive``): it runs the job once on the sample day with the archive
option. A submission uses it only when the file for the current JDK and pyspark exists;
without it the job runs as before (and a JVM that finds an archive it cannot use ignores it with
a warning, it never fails).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from include.ecommerce import settings

ARCHIVE_DIR_VARIABLE = "ECOMMERCE_JVM_ARCHIVE_DIR"
"""Environment variable naming the folder of the archives (default ``<RUNTIME_DIR>/jvm``)."""
SAMPLE_DATE = dt.date(2026, 2, 14)
"""The day the archive's run processes: the sample day shipped in ``include/data/landing``."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def archive_dir() -> Path:
    if folder := os.environ.get(ARCHIVE_DIR_VARIABLE):
        return Path(folder)
    runtime = os.environ.get("RUNTIME_DIR") or str(settings.PROJECT_ROOT / ".runtime")
    return Path(runtime) / "jvm"


def java_runtime_version(java_home: str | None = None) -> str | None:
    """``JAVA_RUNTIME_VERSION`` of ``$JAVA_HOME/release`` (e.g. ``17.0.15+6-Debian-1deb12u1``):
    the JDK build an archive belongs to; None when JAVA_HOME is unset or has no release file."""
    home = java_home if java_home is not None else os.environ.get("JAVA_HOME")
    if not home:
        return None
    try:
        text = (Path(home) / "release").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r'^JAVA_RUNTIME_VERSION="?([^"\n]+)"?', text, re.MULTILINE)
    return match.group(1) if match else None


def archive_path(java_home: str | None = None) -> Path | None:
    """Where the archive of the current JDK build and pyspark version lives (whether or not it
    exists); None when the JDK build cannot be told."""
    java = java_runtime_version(java_home)
    if java is None:
        return None
    try:
        pyspark = importlib.metadata.version("pyspark")
    except importlib.metadata.PackageNotFoundError:
        return None
    name = f"driver-jdk{_UNSAFE.sub('_', java)}-pyspark{_UNSAFE.sub('_', pyspark)}.jsa"
    return archive_dir() / name


def driver_java_options(java_home: str | None = None) -> list[str]:
    """The JVM options that use the archive, or none when there is no archive for this JDK
    and pyspark."""
    path = archive_path(java_home)
    if path is None or not path.is_file():
        return []
    return [f"-XX:SharedArchiveFile={path}"]


def create(*, force: bool = False) -> Path:
    """Write the archive of the current JDK and pyspark by running the job once on the sample
    day (``file://`` in, a temporary folder out); returns its path. Kept when already there."""
    from include.ecommerce.spark_submit import etl_submission

    path = archive_path()
    if path is None:
        raise RuntimeError(
            "cannot tell the JDK build: JAVA_HOME is unset or has no release file "
            "(run through stack/run.sh, which selects Java 17)"
        )
    if path.is_file() and not force:
        return path
    print(
        f"jvm archive: running the job once on the sample day to record the driver's classes "
        f"in {path} (once per JDK and pyspark, about a minute)",
        flush=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    landing = settings.DEFAULT_LANDING_DIR / SAMPLE_DATE.strftime("%Y/%m/%d")
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        partial = Path(work) / path.name
        raw = Path(work) / "raw" / SAMPLE_DATE.strftime("%Y/%m/%d")  # the job leases beside it
        shutil.copytree(landing, raw)
        options = settings.SPARK_JOB_CONF.get("spark.driver.extraJavaOptions", "")
        command = (
            etl_submission(SAMPLE_DATE.isoformat(), f"file://{raw}", f"file://{work}/out")
            .with_conf(
                {
                    "spark.driver.extraJavaOptions": f"{options} "
                    f"-XX:ArchiveClassesAtExit={partial}".strip()
                }
            )
            .argv("local[2]")
        )
        completed = subprocess.run(
            command, cwd=settings.PROJECT_ROOT, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0 or not partial.is_file():
            tail = "\n".join((completed.stdout + completed.stderr).splitlines()[-20:])
            raise RuntimeError(
                f"the archive run of the job failed (exit {completed.returncode}):\n{tail}"
            )
        for stale in path.parent.glob("driver-*.jsa"):  # another JDK's or pyspark's
            stale.unlink()
        shutil.move(partial, path)  # same folder: a rename, readers never see half a file
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=create.__doc__.split("\n")[0])
    parser.add_argument("--force", action="store_true", help="make it again even if present")
    args = parser.parse_args(argv)
    try:
        path = create(force=args.force)
    except RuntimeError as error:
        print(f"error: jvm archive: {error}", file=sys.stderr)
        return 1
    print(f"jvm archive: {path} ({path.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
