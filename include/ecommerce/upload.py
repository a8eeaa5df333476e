"""Copy one day's landing files into its raw HDFS partition, by the handover rule.

The rule (``spark_jobs/handover.py``, shared with the Spark job): hold the day's lease, upload
into this writer's own staging folder, check sizes, write the manifest, swap it in place of the
partition (the previous one goes to the HDFS trash, so a replaced or removed raw file stays
recoverable), release the lease. While the job reads the raw partition it holds the same lease,
so an upload of another run waits instead of replacing files under it.

Which landing files are input is ``contract.input_file_problem`` (the job applies the same rule
to the raw partition); the others are named in the log and never uploaded.

``_manifest.json`` in the raw partition records names, sizes and SHA-256 of what was uploaded:
the next runs compare the landing folders of the last days with it (late data).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spark_jobs import handover
from spark_jobs.contract import RAW_FILE_GLOBS, input_file_problem

if TYPE_CHECKING:  # HdfsCLI's client, as returned by WebHDFSHook.get_conn()
    from hdfs import Client

log = logging.getLogger(__name__)

STAGING_PREFIX = handover.STAGING_PREFIX
MANIFEST_NAME = handover.MANIFEST_NAME
READ_ATTEMPTS = 8
READ_RETRY_DELAY_S = 5.0
"""A lease read by WebHDFS that was redirected to a DataNode that does not answer is asked
again for up to 35 s: longer than the NameNode takes to call it stale (30 s by default, 5 s in
stack/hadoop/conf/hdfs-site.xml)."""


class LandingFilesMissingError(FileNotFoundError):
    """The landing folder of a date is missing or holds no input file."""


class UploadVerificationError(RuntimeError):
    """A file arrived in HDFS with another size than it has locally."""


@dataclass(frozen=True)
class UploadedFile:
    name: str
    size_bytes: int


# --- Landing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landing:
    """A landing folder split by the input rule."""

    files: list[Path]
    left_out: dict[str, str] = field(default_factory=dict)
    """File name -> why it is not input."""


def scan_landing(landing_folder: Path) -> Landing:
    patterns = " or ".join(str(landing_folder / glob) for glob in RAW_FILE_GLOBS)
    if not landing_folder.is_dir():
        raise LandingFilesMissingError(f"no landing folder: expected {patterns}")
    files, left_out = [], {}
    for path in sorted(landing_folder.iterdir()):
        problem = input_file_problem(path.name) if path.is_file() else "not a file"
        if problem is None:
            files.append(path)
        else:
            left_out[path.name] = problem
    if not files:
        raise LandingFilesMissingError(f"no landing file: expected {patterns}")
    return Landing(files, left_out)


def landing_files(landing_folder: Path) -> list[Path]:
    """The day's input files, sorted; files the rule leaves out are named in the log (warning);
    an error names the expected path when there is none."""
    landing = scan_landing(landing_folder)
    for name, problem in landing.left_out.items():
        log.warning("not uploaded: %s: %s", landing_folder / name, problem)
    return landing.files


# --- Manifest --------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_entries(files: list[Path]) -> dict[str, dict[str, Any]]:
    """name -> {size, sha256}: what a manifest records and what late-data checks compare."""
    return {path.name: {"size": path.stat().st_size, "sha256": file_sha256(path)} for path in files}


@dataclass(frozen=True)
class Changes:
    added: dict[str, int]
    replaced: dict[str, tuple[int | None, int]]
    removed: dict[str, int | None]

    def __bool__(self) -> bool:
        return bool(self.added or self.replaced or self.removed)

    def describe(self) -> str:
        parts = [f"added {name} ({size} bytes)" for name, size in self.added.items()]
        parts += [
            f"replaced {name} ({old if old is not None else '?'} -> {new} bytes)"
            for name, (old, new) in self.replaced.items()
        ]
        parts += [
            f"removed {name} ({size if size is not None else '?'} bytes)"
            for name, size in self.removed.items()
        ]
        return "; ".join(parts) or "no change"


def compare_manifests(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> Changes:
    """What changed between two manifests (an entry without sha256 compares by size)."""

    def same(old: dict[str, Any], new: dict[str, Any]) -> bool:
        if old.get("sha256") and new.get("sha256"):
            return old["sha256"] == new["sha256"]
        return old.get("size") == new.get("size")

    return Changes(
        added={name: new["size"] for name, new in after.items() if name not in before},
        replaced={
            name: (before[name].get("size"), new["size"])
            for name, new in after.items()
            if name in before and not same(before[name], new)
        },
        removed={name: old.get("size") for name, old in before.items() if name not in after},
    )


@dataclass(frozen=True)
class UploadResult:
    """What the raw partition holds now (iterates over its files), what changed against the
    previous upload, and where the previous partition went (the trash)."""

    files: list[UploadedFile]
    changes: Changes
    restated: bool
    """A partition was already there and its files changed: the day is restated."""
    trashed: str | None

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def read_manifest(client: Client, raw_partition: str) -> dict[str, dict[str, Any]] | None:
    """The partition's manifest; without one (uploaded before manifests), its files' sizes;
    None when there is no partition."""
    if client.status(raw_partition, strict=False) is None:
        return None
    path = f"{raw_partition}/{handover.MANIFEST_NAME}"
    if client.status(path, strict=False) is not None:
        with client.read(path) as reader:
            return json.loads(reader.read())["files"]
    return {
        name: {"size": status["length"]}
        for name, status in client.list(raw_partition, status=True)
        if status["type"] == "FILE" and input_file_problem(name) is None
    }


# --- The WebHDFS side of the handover protocol ------------------------------------------------


class WebHdfsFiles:
    """``handover.Files`` through HdfsCLI (WebHDFS): the upload's side of the protocol."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def exists(self, path: str) -> bool:
        return self.client.status(path, strict=False) is not None

    def list_names(self, folder: str) -> list[str]:
        return list(self.client.list(folder))

    def mkdirs(self, path: str) -> None:
        self.client.makedirs(path)

    def create_exclusive(self, path: str, text: str) -> bool:
        from hdfs.util import HdfsError

        try:
            self.client.write(path, data=text.encode("utf-8"), overwrite=False)
        except HdfsError as error:
            if "AlreadyExists" in str(error) or "already exists" in str(error):
                return False
            raise
        return True

    def read_text(self, path: str) -> str | None:
        """The file's text, None when it does not exist. A read that the NameNode redirected to
        a DataNode that does not answer (killed a moment ago, not yet marked stale) is asked
        again: the NameNode then lists the stale DataNode last (``avoid.read.stale.datanode``).
        Without it, an upload that failed because a DataNode died could not even read its own
        lease to give it back."""
        import requests

        for attempt in range(1, READ_ATTEMPTS):
            try:
                return self._read_text_once(path)
            except requests.ConnectionError as error:
                log.warning(
                    "reading %s: a DataNode did not answer (%s); asking the NameNode again "
                    "in %.0f s (attempt %d of %d)",
                    path,
                    type(error).__name__,
                    READ_RETRY_DELAY_S,
                    attempt + 1,
                    READ_ATTEMPTS,
                )
                time.sleep(READ_RETRY_DELAY_S)
        return self._read_text_once(path)

    def _read_text_once(self, path: str) -> str | None:
        from hdfs.util import HdfsError

        try:
            with self.client.read(path) as reader:
                return reader.read().decode("utf-8")
        except HdfsError as error:
            if "FileNotFound" in str(error) or "does not exist" in str(error):
                return None
            raise

    def write_text(self, path: str, text: str) -> None:
        self.client.write(path, data=text.encode("utf-8"), overwrite=True)

    def rename(self, source: str, target: str) -> bool:
        from hdfs.util import HdfsError

        try:
            self.client.rename(source, target)
        except HdfsError:
            return False
        return True

    def delete_file(self, path: str) -> None:
        self.client.delete(path)

    def trash(self, path: str) -> str:
        """WebHDFS has no trash operation: the same move Hadoop's TrashPolicyDefault makes."""
        home = self.client._get_home_directory("/").json()["Path"]
        return handover.move_to_trash(self, home, path)


# --- Upload ----------------------------------------------------------------------------------


def replace_partition(
    client: Client,
    files: list[Path],
    raw_partition: str,
    *,
    run_id: str = "",
    wait_s: float = handover.DEFAULT_LEASE_WAIT_S,
    after: handover.Step | None = None,
    hand_over: bool = False,
) -> UploadResult:
    """Make ``raw_partition`` hold exactly ``files`` (and their manifest).

    Logs what was added, replaced and removed, with sizes; the previous partition is in the
    trash. With ``hand_over`` (and a ``run_id``), the partition stays held for the job of that
    run, which adopts the lease: no other run's upload can replace it before the job read it. LeaseHeldError when another writer (an upload, a job reading it) holds the day for
    longer than ``wait_s``.
    """
    files_api = WebHdfsFiles(client)
    record = handover.new_record(handover.new_writer_id(run_id or "upload"), run_id)
    entries = manifest_entries(files)
    uploaded: list[UploadedFile] = []
    previous: list[dict[str, dict[str, Any]] | None] = []

    def write(staging: str) -> None:
        previous.append(read_manifest(client, raw_partition))  # under the lease: stable
        for path in files:
            log.info("uploading %s (%d bytes) to %s", path, path.stat().st_size, staging)
            client.upload(f"{staging}/{path.name}", str(path), overwrite=True)
        manifest = {"files": entries, "uploaded_at": time.time(), "writer": record.writer_id}
        client.write(
            f"{staging}/{handover.MANIFEST_NAME}",
            data=json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"),
            overwrite=True,
        )

    def verify(staging: str) -> None:
        uploaded.extend(_verify(client, staging, files))

    trashed = handover.publish(
        files_api,
        raw_partition,
        record,
        write,
        verify=verify,
        wait_s=wait_s,
        log=log.warning,
        after=after,
        hand_over_to_run=run_id if hand_over else "",
        adopt_run_id=run_id,  # a retry of this run's upload before its job ran
    )
    changes = compare_manifests(previous[0] or {}, entries)
    log.info(
        "raw partition %s now holds %d file(s), %d bytes: %s",
        raw_partition,
        len(uploaded),
        sum(item.size_bytes for item in uploaded),
        changes.describe(),
    )
    if trashed:
        log.info("the previous raw partition is recoverable from the HDFS trash: %s", trashed)
    return UploadResult(uploaded, changes, previous[0] is not None and bool(changes), trashed)


def _verify(client: Client, folder: str, files: list[Path]) -> list[UploadedFile]:
    remote = {name: status["length"] for name, status in client.list(folder, status=True)}
    uploaded = []
    for path in files:
        local_size = path.stat().st_size
        if remote.get(path.name) != local_size:
            raise UploadVerificationError(
                f"{folder}/{path.name} has {remote.get(path.name)} bytes in HDFS, "
                f"{local_size} locally ({path})"
            )
        uploaded.append(UploadedFile(path.name, local_size))
    return uploaded


# --- Late data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LateDay:
    """A day whose landing folder no longer matches what was uploaded."""

    partition_date: str
    changes: Changes

    def describe(self) -> str:
        return f"{self.partition_date}: landing changed since its upload: {self.changes.describe()}"


def late_days(
    client: Client,
    days: list[tuple[str, Path, str]],
    read: Callable[[Client, str], dict[str, dict[str, Any]] | None] = read_manifest,
) -> list[LateDay]:
    """Compare each ``(date, landing folder, raw partition)`` with the raw partition's manifest.

    A day never uploaded (no raw partition) or without a landing folder is not compared: there
    is nothing to restate or nothing to compare with.
    """
    late = []
    for iso, folder, raw_partition in days:
        if not folder.is_dir():
            continue
        uploaded = read(client, raw_partition)
        if uploaded is None:
            continue
        try:
            landed = manifest_entries(scan_landing(folder).files)
        except LandingFilesMissingError:
            landed = {}
        changes = compare_manifests(uploaded, landed)
        if changes:
            late.append(LateDay(iso, changes))
    return late
