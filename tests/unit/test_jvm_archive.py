"""include/ecommerce/jvm_archive.py: which archive a submission uses, and when none."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

from include.ecommerce import jvm_archive, settings
from include.ecommerce.spark_submit import etl_submission, job_conf

JAVA_OPTIONS = "spark.driver.extraJavaOptions"


@pytest.fixture
def java_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A JDK folder with the release file a JDK 17 build ships, and an empty archive folder."""
    home = tmp_path / "jdk"
    home.mkdir()
    (home / "release").write_text(
        'IMPLEMENTOR="Debian"\nJAVA_RUNTIME_VERSION="17.0.15+6-Debian-1deb12u1"\n'
        'JAVA_VERSION="17.0.15"\n'
    )
    monkeypatch.setenv("JAVA_HOME", str(home))
    monkeypatch.setenv(jvm_archive.ARCHIVE_DIR_VARIABLE, str(tmp_path / "jvm"))
    return home


def test_the_archive_name_carries_the_jdk_build_and_the_pyspark_version(java_home: Path):
    path = jvm_archive.archive_path()
    assert path is not None
    assert path.parent == java_home.parent / "jvm"
    assert "17.0.15+6-Debian-1deb12u1" in path.name
    assert importlib.metadata.version("pyspark") in path.name


def test_without_an_archive_the_job_conf_is_the_settings(java_home: Path):
    assert jvm_archive.driver_java_options() == []
    assert job_conf() == settings.SPARK_JOB_CONF


def test_with_an_archive_the_driver_maps_it(java_home: Path):
    path = jvm_archive.archive_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"archive")
    options = job_conf()[JAVA_OPTIONS].split()
    assert options[:-1] == settings.SPARK_JOB_CONF[JAVA_OPTIONS].split()  # the settings' stay
    assert options[-1] == f"-XX:SharedArchiveFile={path}"
    argv = etl_submission("2026-02-14", "file:///in", "file:///out").argv("local[2]")
    assert f"{JAVA_OPTIONS}={job_conf()[JAVA_OPTIONS]}" in argv


def test_another_jdks_archive_is_not_used(java_home: Path):
    path = jvm_archive.archive_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"archive")
    (java_home / "release").write_text('JAVA_RUNTIME_VERSION="17.0.16+8-Debian-1deb12u1"\n')
    assert jvm_archive.driver_java_options() == []


def test_no_java_home_means_no_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert jvm_archive.archive_path() is None
    assert jvm_archive.driver_java_options() == []
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # a folder without a release file
    assert jvm_archive.archive_path() is None
