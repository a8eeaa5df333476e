"""Storage I/O of the job through Hadoop's FileSystem API: input discovery, header checks, publish.

Why Hadoop's API (reached through the py4j gateway) and not Python's: the same code then works on
every URI Spark can read (``hdfs://``, ``file://``, object stores), with the cluster's
configuration, and a directory rename is atomic on HDFS, which is what makes a publish atomic.

Why the checks run before the SparkSession: a missing folder or a file with the wrong header is
found in a couple of seconds with the gateway alone, and reported as one line naming the file,
instead of a stack trace from deep inside a Spark job.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from py4j.protocol import Py4JJavaError

from spark_jobs import contract

JavaObject = Any
"""A py4j proxy of a JVM object (no useful static type)."""

OTHER_DELIMITERS = {";": "';'", "\t": "a tab", "|": "'|'"}


class InputError(Exception):
    """A problem with one input file or folder: reported as ``error: <path>: <problem>``."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Hadoop:
    """The JVM gateway and the Hadoop configuration the job's file operations use."""

    jvm: JavaObject
    conf: JavaObject

    @classmethod
    def from_gateway(cls) -> Hadoop:
        """Before any SparkSession: the gateway spark-submit started, and the Hadoop
        configuration a SparkContext would build (site files plus ``spark.hadoop.*``)."""
        from pyspark import SparkConf, SparkContext

        SparkContext._ensure_initialized()
        jvm = SparkContext._jvm
        conf = jvm.org.apache.hadoop.conf.Configuration()
        for key, value in SparkConf().getAll():
            if key.startswith("spark.hadoop."):
                conf.set(key[len("spark.hadoop.") :], value)
        return cls(jvm, conf)

    @classmethod
    def from_session(cls, spark: Any) -> Hadoop:
        return cls(spark._jvm, spark._jsc.hadoopConfiguration())

    def path(self, uri: str, child: str | None = None) -> JavaObject:
        hadoop_fs = self.jvm.org.apache.hadoop.fs
        return hadoop_fs.Path(uri) if child is None else hadoop_fs.Path(hadoop_fs.Path(uri), child)

    def filesystem(self, path: JavaObject) -> JavaObject:
        return path.getFileSystem(self.conf)


def _java_message(error: Py4JJavaError) -> str:
    """The Java exception's own one-line message, without the stack."""
    return str(error.java_exception.toString()).splitlines()[0]


def set_log_level(hadoop: Hadoop, level: str = "WARN") -> None:
    """Quiet Spark's INFO chatter from the start (SparkContext start-up, shutdown hooks), so an
    error line stays the last word on stderr."""
    # Spark loads its default log4j profile (root at INFO) the first time one of its classes logs;
    # load it now, silently, so the level set next is not overwritten by SparkContext start-up.
    hadoop.jvm.org.apache.spark.SparkConf().initializeLogIfNecessary(False, True)
    log4j = hadoop.jvm.org.apache.logging.log4j
    log4j.core.config.Configurator.setRootLevel(log4j.Level.toLevel(level))


# --- Input ----------------------------------------------------------------------------------------


def is_input_name(name: str) -> bool:
    """Whether a file of a raw partition is input (``contract.RAW_FILE_GLOBS``, not hidden)."""
    if name.startswith((".", "_")):
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in contract.RAW_FILE_GLOBS)


def list_input_files(hadoop: Hadoop, input_uri: str) -> list[str]:
    """The input files of a raw partition, sorted; InputError when there is nothing to read."""
    folder = hadoop.path(input_uri)
    try:
        fs = hadoop.filesystem(folder)
        if not fs.exists(folder):
            raise InputError(input_uri, "input folder does not exist")
        if not fs.getFileStatus(folder).isDirectory():
            raise InputError(input_uri, "input is not a folder (expected a raw partition)")
        statuses = fs.listStatus(folder)
    except Py4JJavaError as error:
        raise InputError(
            input_uri, f"cannot list the input folder: {_java_message(error)}"
        ) from None
    files = sorted(
        str(status.getPath().toString())
        for status in statuses
        if status.isFile() and is_input_name(status.getPath().getName())
    )
    if not files:
        patterns = " or ".join(contract.RAW_FILE_GLOBS)
        raise InputError(input_uri, f"no input files ({patterns}) in the folder")
    return files


def header_problem(line: str | None) -> str | None:
    """What is wrong with a file's first line, or None when it is the contract's header.

    The reader maps fields by position, so the header must name the contract's columns in the
    contract's order; a header split by another delimiter gets its own message, being the usual
    mistake (a spreadsheet export).
    """
    if line is None:
        return "empty file (no header line)"
    header = line.removeprefix("\ufeff").rstrip("\r\n")
    fields = [field.strip().strip('"').strip() for field in header.split(",")]
    if tuple(fields) == contract.RAW_COLUMNS:
        return None
    expected = ",".join(contract.RAW_COLUMNS)
    if len(fields) == 1:
        for delimiter, name in OTHER_DELIMITERS.items():
            if header.count(delimiter) >= len(contract.RAW_COLUMNS) - 1:
                return f"fields are separated by {name}, expected ',' (header: {header[:120]!r})"
    if "\ufffd" in header:
        return "header is not valid UTF-8"
    missing = [column for column in contract.RAW_COLUMNS if column not in fields]
    if missing:
        return f"header lacks the contract column(s) {', '.join(missing)} (expected {expected!r})"
    return f"header does not match the contract: expected {expected!r}, got {header[:200]!r}"


def read_first_line(hadoop: Hadoop, file_uri: str) -> str | None:
    """The first line of a file, decompressed when its name says so (``.gz``...)."""
    path = hadoop.path(file_uri)
    fs = hadoop.filesystem(path)
    if fs.getFileStatus(path).getLen() == 0:
        return None
    codec = hadoop.jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(hadoop.conf).getCodec(
        path
    )
    stream = fs.open(path)
    try:
        if codec is not None:
            stream = codec.createInputStream(stream)
        java_io = hadoop.jvm.java.io
        reader = java_io.BufferedReader(java_io.InputStreamReader(stream, "UTF-8"))
        line = reader.readLine()
    finally:
        stream.close()
    return None if line is None else str(line)


def check_headers(hadoop: Hadoop, files: Iterable[str]) -> None:
    """InputError naming the first file whose header is not the contract's."""
    for file_uri in files:
        try:
            line = read_first_line(hadoop, file_uri)
        except Py4JJavaError as error:
            raise InputError(file_uri, f"cannot read the file: {_java_message(error)}") from None
        problem = header_problem(line)
        if problem is not None:
            raise InputError(file_uri, problem)


# --- Publish --------------------------------------------------------------------------------------


def staging_name(partition_name: str, run_id: str) -> str:
    return f"{contract.STAGING_PREFIX}{partition_name}-{run_id}"


def remove_stale_staging(hadoop: Hadoop, output_uri: str) -> list[str]:
    """Delete staging folders that crashed runs of this partition left next to it."""
    output = hadoop.path(output_uri)
    parent = output.getParent()
    fs = hadoop.filesystem(output)
    if parent is None or not fs.exists(parent):
        return []
    prefix = staging_name(str(output.getName()), "")
    removed = []
    for status in fs.listStatus(parent):
        if str(status.getPath().getName()).startswith(prefix):
            fs.delete(status.getPath(), True)
            removed.append(str(status.getPath().toString()))
    return removed


def write_text(hadoop: Hadoop, folder_uri: str, name: str, text: str) -> None:
    path = hadoop.path(folder_uri, name)
    stream = hadoop.filesystem(path).create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def publish_partition(
    hadoop: Hadoop,
    output_uri: str,
    write_contents: Callable[[str], None],
    *,
    complete: bool,
) -> None:
    """Replace the partition at ``output_uri`` with what ``write_contents(staging_uri)`` writes.

    Readers never see a half-written partition: everything goes to a staging folder next to the
    partition (skipped by readers: leading underscore), ``_SUCCESS`` is written into it last when
    ``complete``, then the old partition is deleted and the staging folder renamed into place (an
    atomic rename on HDFS). A crash leaves at worst a staging folder, removed by the next run of
    the same partition, and no partition or the previous one.
    """
    output = hadoop.path(output_uri)
    fs = hadoop.filesystem(output)
    remove_stale_staging(hadoop, output_uri)
    parent = output.getParent()
    fs.mkdirs(parent)
    staging = hadoop.path(parent.toString(), staging_name(str(output.getName()), uuid.uuid4().hex))
    staging_uri = str(staging.toString())
    write_contents(staging_uri)
    if complete:
        write_text(hadoop, staging_uri, contract.SUCCESS_MARKER, "")
    if fs.exists(output) and not fs.delete(output, True):
        raise RuntimeError(f"could not delete the previous partition {output_uri}")
    if not fs.rename(staging, output):
        raise RuntimeError(f"could not rename {staging_uri} to {output_uri}")
