"""The spark-submit command line of the ETL job, built in one place.

Three callers submit ``spark_jobs/ecommerce_etl.py``: the DAG's ``spark_etl`` task
(``SparkSubmitOperator``, whose hook writes the command line from its keyword arguments),
``make bench`` and the compose ``etl`` one-shot (``docker/etl_submit.py``), which run
``spark-submit`` themselves. All three take the job's options from ``etl_submission``; the DAG
passes them on with ``SparkSubmission.operator_kwargs``, the other two render them with
``SparkSubmission.argv``, which writes the options in the order of the Spark provider's hook, so
the same submission gives the same argv either way (tests/compose compares the three for one
day). What differs between deployments (master, deploy mode, a driver address the executors can
reach, shipped files) is a parameter, never a second copy of the job's settings.

Imports only ``include.ecommerce.settings``: the DAG file, the benchmarks and the one-shot (which
has the project on ``PYTHONPATH`` in the Airflow image) all load it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from include.ecommerce import settings

ETL_APP_NAME = "ecommerce_etl"
"""The Spark application name of the job (Spark UI, event logs)."""


@dataclass(frozen=True)
class SparkSubmission:
    """One ``spark-submit``, in ``SparkSubmitOperator``'s terms.

    ``application_args`` are strings, or in the DAG templates and XCom references that Airflow
    renders before the hook builds the command line.
    """

    application: str
    application_args: tuple[Any, ...] = ()
    name: str | None = ETL_APP_NAME
    driver_memory: str = settings.SPARK_DRIVER_MEMORY
    conf: Mapping[str, str] = field(default_factory=lambda: dict(settings.SPARK_JOB_CONF))
    py_files: str | None = None

    def with_conf(self, extra: Mapping[str, str]) -> SparkSubmission:
        """The same submission with more ``--conf`` settings (``extra`` wins on a clash)."""
        return replace(self, conf={**self.conf, **extra})

    def operator_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``SparkSubmitOperator`` that say what to submit, and how."""
        return {
            "application": self.application,
            "application_args": list(self.application_args),
            "name": self.name,
            "driver_memory": self.driver_memory,
            "conf": dict(self.conf),
            "py_files": self.py_files,
        }

    def argv(
        self, master: str, deploy_mode: str | None = None, spark_binary: str = "spark-submit"
    ) -> list[str]:
        """The command line, options in the order ``SparkSubmitHook`` writes them (master,
        ``--conf``, ``--py-files``, ``--driver-memory``, ``--name``, ``--deploy-mode``)."""
        command = [spark_binary, "--master", master]
        for key, value in self.conf.items():
            command += ["--conf", f"{key}={value}"]
        if self.py_files:
            command += ["--py-files", self.py_files]
        command += ["--driver-memory", self.driver_memory]
        if self.name:
            command += ["--name", self.name]
        if deploy_mode:
            command += ["--deploy-mode", deploy_mode]
        return [*command, self.application, *(str(arg) for arg in self.application_args)]


def etl_job_args(
    partition_date: Any,
    input_uri: Any,
    output_uri: Any,
    max_reject_ratio: Any = settings.DEFAULT_MAX_REJECT_RATIO,
) -> tuple[Any, ...]:
    """The job's own arguments (its argparse in spark_jobs/ecommerce_etl.py). Numbers become
    text here, so a bare submit passes ``0.05`` exactly as the DAG's rendered param does."""
    ratio = str(max_reject_ratio) if isinstance(max_reject_ratio, int | float) else max_reject_ratio
    return (
        "--date",
        partition_date,
        "--input",
        input_uri,
        "--output",
        output_uri,
        "--max-reject-ratio",
        ratio,
    )


def job_conf() -> dict[str, str]:
    """``settings.SPARK_JOB_CONF``, with the driver JVM's class-data-sharing archive
    (``include.ecommerce.jvm_archive``) in its Java options when this machine has one."""
    from include.ecommerce import jvm_archive

    conf = dict(settings.SPARK_JOB_CONF)
    if archive := jvm_archive.driver_java_options():
        key = "spark.driver.extraJavaOptions"
        conf[key] = " ".join([conf.get(key, ""), *archive]).strip()
    return conf


def etl_submission(
    partition_date: Any,
    input_uri: Any,
    output_uri: Any,
    max_reject_ratio: Any = settings.DEFAULT_MAX_REJECT_RATIO,
    *,
    extra_conf: Mapping[str, str] | None = None,
    py_files: str | None = None,
) -> SparkSubmission:
    """The ETL job's submission for one day: the job, its arguments, the job's settings
    (``settings.SPARK_DRIVER_MEMORY``, ``job_conf()``), plus a deployment's
    ``extra_conf`` and ``py_files``."""
    submission = SparkSubmission(
        application=str(settings.SPARK_JOB_PATH),
        application_args=etl_job_args(partition_date, input_uri, output_uri, max_reject_ratio),
        conf=job_conf(),
        py_files=py_files,
    )
    return submission.with_conf(extra_conf) if extra_conf else submission


def script_submission(
    application: str, application_args: Sequence[str], *, name: str | None = None
) -> SparkSubmission:
    """Another script (the benchmark's baselines) with the ETL job's driver settings."""
    return SparkSubmission(
        application=application, application_args=tuple(application_args), name=name
    )
