"""Storage I/O of the job through Hadoop's FileSystem API: input discovery, header checks, publish.

Why Hadoop's API (reached through the py4j gateway) and not Python's: the same code then works on
every URI Spark can read (``hdfs://``, ``file://``, object stores), with the cluster's
configuration, and a directory rename is atomic on HDFS, which is what makes a publish atomic.

Why the checks run before the SparkSession: a missing folder or a file with the wrong header is
found in a couple of seconds with the gateway alone, and reported as one line naming the file,
instead of a stack trace from deep inside a Spark job.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from py4j.protocol import Py4JJavaError

from spark_jobs import contract, handover

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
    """Whether a file of a raw partition is input: ``contract.input_file_problem``, the rule
    the upload applies to landing files too."""
    return contract.input_file_problem(name) is None


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
    for status in statuses:  # the upload never puts such files here; say so if someone did
        name = str(status.getPath().getName())
        problem = contract.input_file_problem(name)
        if status.isFile() and problem and name != handover.MANIFEST_NAME:
            print(f"warning: {input_uri}/{name} is not read: {problem}", file=sys.stderr)
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


def file_size(hadoop: Hadoop, file_uri: str) -> int:
    """Bytes of one file, as stored (compressed for ``.gz``)."""
    path = hadoop.path(file_uri)
    return int(hadoop.filesystem(path).getFileStatus(path).getLen())


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


# --- Publish (the protocol: spark_jobs/handover.py) ---------------------------------------------


class HadoopFiles:
    """``handover.Files`` through Hadoop's FileSystem: the job's side of the protocol."""

    def __init__(self, hadoop: Hadoop) -> None:
        self.hadoop = hadoop

    def _fs(self, path: JavaObject) -> JavaObject:
        return self.hadoop.filesystem(path)

    def exists(self, path: str) -> bool:
        p = self.hadoop.path(path)
        return bool(self._fs(p).exists(p))

    def list_names(self, folder: str) -> list[str]:
        p = self.hadoop.path(folder)
        return [str(status.getPath().getName()) for status in self._fs(p).listStatus(p)]

    def mkdirs(self, path: str) -> None:
        p = self.hadoop.path(path)
        self._fs(p).mkdirs(p)

    def create_exclusive(self, path: str, text: str) -> bool:
        p = self.hadoop.path(path)
        try:
            stream = self._fs(p).create(p, False)
        except Py4JJavaError as error:
            if "FileAlreadyExistsException" in _java_message(error):
                return False
            raise
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        return True

    def read_text(self, path: str) -> str | None:
        p = self.hadoop.path(path)
        fs = self._fs(p)
        try:
            stream = fs.open(p)
        except Py4JJavaError as error:
            if "FileNotFoundException" in _java_message(error):
                return None
            raise
        try:
            data = stream.readAllBytes()
        finally:
            stream.close()
        return bytes(data).decode("utf-8")

    def write_text(self, path: str, text: str) -> None:
        folder, name = path.rsplit("/", 1)
        write_text(self.hadoop, folder, name, text)

    def rename(self, source: str, target: str) -> bool:
        src = self.hadoop.path(source)
        return bool(self._fs(src).rename(src, self.hadoop.path(target)))

    def delete_file(self, path: str) -> None:
        p = self.hadoop.path(path)
        self._fs(p).delete(p, False)

    def trash(self, path: str) -> str:
        """Hadoop's own Trash (honours the NameNode's ``fs.trash.interval``); with the trash off,
        the same move into ``<home>/.Trash/Current`` by hand: never a plain delete."""
        p = self.hadoop.path(path)
        fs = self._fs(p)
        home = str(fs.getHomeDirectory().toString())
        if self.hadoop.jvm.org.apache.hadoop.fs.Trash.moveToAppropriateTrash(
            fs, p, self.hadoop.conf
        ):
            return handover.trash_target(home, path)
        return handover.move_to_trash(self, home, path)


def job_lease_record(hadoop: Hadoop, writer_id: str, run_id: str) -> handover.LeaseRecord:
    """The job's lease names spark-submit's JVM (the driver): killing spark-submit kills the
    holder, so a rerun on this host takes the lease over at once."""
    jvm_pid = int(hadoop.jvm.java.lang.ProcessHandle.current().pid())
    return handover.new_record(writer_id, run_id, pid=jvm_pid)


def write_text(hadoop: Hadoop, folder_uri: str, name: str, text: str) -> None:
    path = hadoop.path(folder_uri, name)
    stream = hadoop.filesystem(path).create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()
