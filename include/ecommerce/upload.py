"""Copy one day's landing files into its raw HDFS partition, replacing what was there.

Rerunnable by construction: the files go to a hidden staging folder beside the partition,
their sizes are checked, and only then does the staging folder replace the partition (a rename,
atomic in HDFS). A rerun therefore leaves exactly the landing files in the partition, and a
crash mid-upload leaves the previous partition untouched. Names starting with ``_`` are hidden
from Hadoop and Spark readers.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spark_jobs.contract import RAW_FILE_GLOBS

if TYPE_CHECKING:  # HdfsCLI's client, as returned by WebHDFSHook.get_conn()
    from hdfs import Client

log = logging.getLogger(__name__)

STAGING_PREFIX = "_uploading-"


class LandingFilesMissingError(FileNotFoundError):
    """The landing folder of a date is missing or holds no input file."""


class UploadVerificationError(RuntimeError):
    """A file arrived in HDFS with another size than it has locally."""


@dataclass(frozen=True)
class UploadedFile:
    name: str
    size_bytes: int


def landing_files(landing_folder: Path) -> list[Path]:
    """The day's input files (``*.csv``, ``*.csv.gz``), sorted; an error names the expected path."""
    patterns = " or ".join(str(landing_folder / glob) for glob in RAW_FILE_GLOBS)
    if not landing_folder.is_dir():
        raise LandingFilesMissingError(f"no landing folder: expected {patterns}")
    files = sorted(
        {path for glob in RAW_FILE_GLOBS for path in landing_folder.glob(glob) if path.is_file()}
    )
    if not files:
        raise LandingFilesMissingError(f"no landing file: expected {patterns}")
    return files


def replace_partition(client: Client, files: list[Path], raw_partition: str) -> list[UploadedFile]:
    """Make ``raw_partition`` hold exactly ``files``; returns what it now holds."""
    parent, day = raw_partition.rstrip("/").rsplit("/", 1)
    client.makedirs(parent)
    _remove_stale_staging(client, parent, day)
    staging = f"{parent}/{STAGING_PREFIX}{day}-{uuid.uuid4().hex[:12]}"
    try:
        client.makedirs(staging)
        for path in files:
            log.info("uploading %s (%d bytes) to %s", path, path.stat().st_size, staging)
            client.upload(f"{staging}/{path.name}", str(path), overwrite=True)
        uploaded = _verify(client, staging, files)
        if client.status(raw_partition, strict=False) is not None:
            client.delete(raw_partition, recursive=True)
        client.rename(staging, raw_partition)
    except BaseException:
        client.delete(staging, recursive=True)
        raise
    log.info("raw partition %s now holds %d file(s)", raw_partition, len(uploaded))
    return uploaded


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


def _remove_stale_staging(client: Client, parent: str, day: str) -> None:
    """Staging folders left by a crashed attempt for the same day."""
    for name in client.list(parent):
        if name.startswith(f"{STAGING_PREFIX}{day}-"):
            log.warning("removing staging folder %s/%s left by an earlier attempt", parent, name)
            client.delete(f"{parent}/{name}", recursive=True)
