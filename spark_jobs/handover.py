"""How a partition changes hands: one protocol for every writer (the upload and the job).

    acquire the day's lease (a file created only if absent: atomic in HDFS)
      -> write into the writer's own staging folder beside the partition
      -> verify it
      -> move the published partition aside, rename staging into place, drop the old one via trash
      -> release the lease

Written once against :class:`Files`, a handful of file operations that both sides implement:
the job through Hadoop's FileSystem (``spark_jobs.storage.HadoopFiles``), the upload through
WebHDFS (``include.ecommerce.upload.WebHdfsFiles``). Plain Python, so it ships with the job
like ``contract.py`` does.

Names beside a partition ``<parent>/<day>`` (all start with ``_``: Hadoop, Spark and pyarrow
readers skip them):

- ``_lease-<day>``: the lease file, a JSON :class:`LeaseRecord`;
- ``_staging-<day>-<writer id>``: a writer's own staging folder;
- ``_aside-<day>-<writer id>``: the previous partition during a swap;
- ``_attempts-<day>/<writer id>``: the evidence of a refused attempt (rejected rows, quality).

Why a swap is safe at every step: HDFS ``rename(src, dst)`` onto an *existing* folder moves
``src`` inside it, so staging is only ever renamed onto a path that does not exist (the old
partition is moved aside first). A crash leaves one of three states, all repaired by the next
writer under the lease (:func:`recover`): staging only (removed), an aside folder and no
partition (the aside folder is put back), an aside folder and a partition (the aside folder goes
to the trash). Nothing is deleted outright except lease files: data goes to the HDFS trash.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

LEASE_PREFIX = "_lease-"
STAGING_PREFIX = "_staging-"
ASIDE_PREFIX = "_aside-"
ATTEMPTS_PREFIX = "_attempts-"
TAKEOVER_SUFFIX = ".stale-"
MANIFEST_NAME = "_manifest.json"
"""Beside the files of a raw partition: names, sizes and checksums of what was uploaded."""

DEFAULT_LEASE_TTL_S = 3 * 3600
"""A lease whose holder cannot be checked (another host) is stale only after this long. Longer
than the job's ``execution_timeout`` (2 h), after which Airflow kills the job anyway: a live
job's lease never expires under it. A holder on this host is checked directly (its process)."""
DEFAULT_LEASE_WAIT_S = 300.0
"""How long a second writer waits for the lease before failing with the holder's name."""
LEASE_POLL_S = 2.0
HANDOFF_HOST = "(handed over)"
"""The host of a lease record that an upload left for its run's job: no process holds it, so it
is stale only when it expires (or adopted by the job of that run)."""
DEFAULT_HANDOFF_TTL_S = 3600.0
"""How long a raw partition stays held for the job of the run that uploaded it."""
UNREADABLE_LEASE_GRACE_S = 30.0
"""A lease file without a readable record (caught between its creation and its first write) is
taken over only after it stayed so for this long."""


class Files(Protocol):
    """The file operations the protocol needs (paths are absolute paths or URIs)."""

    def exists(self, path: str) -> bool: ...
    def list_names(self, folder: str) -> list[str]: ...
    def mkdirs(self, path: str) -> None: ...
    def create_exclusive(self, path: str, text: str) -> bool:
        """Create a file holding ``text`` unless ``path`` exists (atomic); False when it does."""
        ...

    def read_text(self, path: str) -> str | None:
        """A small file's text, None when it does not exist."""
        ...

    def write_text(self, path: str, text: str) -> None:
        """Create or overwrite a small file (a held lease's record)."""
        ...

    def rename(self, source: str, target: str) -> bool: ...
    def delete_file(self, path: str) -> None:
        """Delete one small file for good (lease files only: never data)."""
        ...

    def trash(self, path: str) -> str:
        """Move ``path`` into the user's HDFS trash; returns where it went."""
        ...


class LeaseHeldError(RuntimeError):
    """Another writer holds a partition's lease (the message names it)."""


class HandoverError(RuntimeError):
    """A step of a swap did not happen (the partition is left as it was, or recoverable)."""


# --- Names -----------------------------------------------------------------------------------


def split(partition: str) -> tuple[str, str]:
    parent, day = partition.rstrip("/").rsplit("/", 1)
    return parent, day


def lease_path(partition: str) -> str:
    parent, day = split(partition)
    return f"{parent}/{LEASE_PREFIX}{day}"


def staging_path(partition: str, writer_id: str) -> str:
    parent, day = split(partition)
    return f"{parent}/{STAGING_PREFIX}{day}-{writer_id}"


def aside_path(partition: str, writer_id: str) -> str:
    parent, day = split(partition)
    return f"{parent}/{ASIDE_PREFIX}{day}-{writer_id}"


def attempt_path(partition: str, writer_id: str) -> str:
    """Where a refused attempt keeps its evidence; never the published partition."""
    parent, day = split(partition)
    return f"{parent}/{ATTEMPTS_PREFIX}{day}/{writer_id}"


def new_writer_id(label: str = "") -> str:
    """Unique per attempt; a readable label (e.g. the run id) first when given."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in label)[:60]
    return f"{safe}.{uuid.uuid4().hex[:12]}" if safe else uuid.uuid4().hex[:12]


# --- The lease -------------------------------------------------------------------------------


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process (``/proc/<pid>/stat`` field 22), None when the
    process does not exist: with the pid, it tells a live holder from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None


@dataclass(frozen=True)
class LeaseRecord:
    writer_id: str
    run_id: str
    host: str
    pid: int
    pid_start: str | None
    acquired_at: float
    expires_at: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LeaseRecord | None:
        try:
            return cls(**json.loads(text))
        except (TypeError, ValueError):
            return None

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.acquired_at))
        if self.host == HANDOFF_HOST:
            until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))
            return (
                f"run {self.run_id}: its upload handed the day over to its spark_etl at {since} "
                f"(held until that job is done, at most until {until})"
            )
        return (
            f"writer {self.writer_id} (run {self.run_id or '?'}, {self.host} pid {self.pid}, "
            f"since {since})"
        )

    def is_handoff_to(self, run_id: str) -> bool:
        """Left by the upload of ``run_id`` for that run's job."""
        return bool(run_id) and self.host == HANDOFF_HOST and self.run_id == run_id

    def is_stale(self, now: float, host: str, alive: Callable[[int], str | None]) -> bool:
        """Dead holder on this host (its process is gone or is another one), or expired."""
        if self.host == host:
            return alive(self.pid) != self.pid_start
        return now >= self.expires_at


def new_record(
    writer_id: str, run_id: str, *, pid: int | None = None, ttl_s: float = DEFAULT_LEASE_TTL_S
) -> LeaseRecord:
    """A lease record for this process (or ``pid``: the job names its JVM, spark-submit)."""
    pid = os.getpid() if pid is None else pid
    now = time.time()
    return LeaseRecord(
        writer_id, run_id, socket.gethostname(), pid, process_start(pid), now, now + ttl_s
    )


@dataclass
class Lease:
    """A held lease; :meth:`release` (or ``with``) gives it back."""

    files: Files
    partition: str
    record: LeaseRecord
    handed_over: bool = False

    @property
    def path(self) -> str:
        return lease_path(self.partition)

    def check(self) -> None:
        """HandoverError unless the lease file still names this writer (before a swap)."""
        current = LeaseRecord.from_json(self.files.read_text(self.path) or "")
        if current is None or current.writer_id != self.record.writer_id:
            held_by = current.describe() if current else "nobody"
            raise HandoverError(f"{self.partition}: lost the lease (now held by {held_by})")

    def hand_over(self, run_id: str, ttl_s: float = DEFAULT_HANDOFF_TTL_S) -> None:
        """Keep the partition held for the job of ``run_id`` instead of releasing it: that job
        adopts the lease (``acquire(..., adopt_run_id=run_id)``); anybody else waits until the
        job is done or the hand-over expires."""
        self.check()
        now = time.time()
        handoff = LeaseRecord(
            f"handoff-{self.record.writer_id}", run_id, HANDOFF_HOST, 0, None, now, now + ttl_s
        )
        self.files.write_text(self.path, handoff.to_json())
        self.handed_over = True

    def release(self) -> None:
        if self.handed_over:
            return
        current = LeaseRecord.from_json(self.files.read_text(self.path) or "")
        if current is not None and current.writer_id == self.record.writer_id:
            self.files.delete_file(self.path)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire(
    files: Files,
    partition: str,
    record: LeaseRecord,
    *,
    wait_s: float = DEFAULT_LEASE_WAIT_S,
    poll_s: float = LEASE_POLL_S,
    log: Callable[[str], None] = print,
    adopt_run_id: str = "",
) -> Lease:
    """Hold the partition's lease, waiting up to ``wait_s`` for a live holder; take over a stale
    one. LeaseHeldError names the holder when the wait is over.

    Taking over is a rename of the stale lease file to a name of our own (only one of several
    waiters can succeed), then a check that what was renamed is the record judged stale; if a
    new holder slipped in between, its file is put back. A lease handed over to
    ``adopt_run_id`` (by that run's upload) is taken the same way, at once.
    """
    path = lease_path(partition)
    parent, _ = split(partition)
    files.mkdirs(parent)
    deadline = time.monotonic() + wait_s
    announced = False
    host = socket.gethostname()
    unreadable_since: dict[str, float] = {}
    while True:
        if files.create_exclusive(path, record.to_json()):
            return Lease(files, partition, record)
        text = files.read_text(path)
        holder = LeaseRecord.from_json(text) if text is not None else None
        if text is not None and holder is None:
            # Created but not yet written (or its writer died in between): stale only when it
            # stays so for a while.
            first_seen = unreadable_since.setdefault(text, time.monotonic())
            stale = time.monotonic() - first_seen >= UNREADABLE_LEASE_GRACE_S
        else:
            stale = holder is not None and (
                holder.is_handoff_to(adopt_run_id)
                or holder.is_stale(time.time(), host, process_start)
            )
        if stale:
            grave = f"{path}{TAKEOVER_SUFFIX}{record.writer_id}"
            if files.rename(path, grave):
                if files.read_text(grave) == text:
                    what = holder.describe() if holder else f"an unreadable lease {text[:80]!r}"
                    kind = (
                        "handed-over" if holder and holder.is_handoff_to(adopt_run_id) else "stale"
                    )
                    log(f"taking over the {kind} lease of {partition} from {what}")
                    files.delete_file(grave)
                    continue
                if not files.rename(grave, path):  # a live holder's lease: give it back
                    raise HandoverError(f"{path}: could not put back a live lease from {grave}")
            continue
        if holder is not None and not announced:
            log(
                f"waiting up to {wait_s:.0f} s for the lease of {partition}: held by "
                f"{holder.describe()}"
            )
            announced = True
        if time.monotonic() >= deadline:
            named = holder.describe() if holder else "another writer"
            raise LeaseHeldError(
                f"{partition} is being written by {named}; gave up after {wait_s:.0f} s "
                f"(lease file {path})"
            )
        time.sleep(poll_s)


# --- Recovery and the swap ---------------------------------------------------------------------


def recover(lease: Lease, log: Callable[[str], None] = print) -> list[str]:
    """Under the lease: finish or roll back a swap a dead writer left half-done, and move the
    staging folders of dead writers to the trash (under the lease every other writer of this
    day is dead: a writer writes staging only while it holds the lease). Returns what it did."""
    files, partition = lease.files, lease.partition
    parent, day = split(partition)
    names = files.list_names(parent) if files.exists(parent) else []
    done = []
    asides = sorted(n for n in names if n.startswith(f"{ASIDE_PREFIX}{day}-"))
    if asides and not files.exists(partition):
        restored = asides.pop()  # one swap at a time: there is at most one in practice
        if not files.rename(f"{parent}/{restored}", partition):
            raise HandoverError(f"could not restore {parent}/{restored} to {partition}")
        done.append(f"restored the previous partition from {parent}/{restored}")
    own = staging_path(partition, lease.record.writer_id).rsplit("/", 1)[1]
    stale_staging = [n for n in names if n.startswith(f"{STAGING_PREFIX}{day}-") and n != own]
    for name in [*asides, *stale_staging]:
        trashed = trash_or_keep(files, f"{parent}/{name}", log)
        if trashed:
            done.append(f"trashed {parent}/{name} -> {trashed}")
    for line in done:
        log(f"recovery of {partition}: {line}")
    return done


Step = Callable[[str], None]
"""A fault-injection hook for tests: called with the name of the step just done."""


def swap(
    lease: Lease, staging: str, *, after: Step | None = None, log: Callable[[str], None] = print
) -> str | None:
    """Put ``staging`` in place of the partition with no moment without a partition (when one
    was there); the previous one goes to the trash. Returns its trash path, if any."""
    files, partition = lease.files, lease.partition
    lease.check()
    aside = aside_path(partition, lease.record.writer_id)
    had_previous = files.exists(partition)
    if had_previous and not files.rename(partition, aside):
        raise HandoverError(f"could not move {partition} aside to {aside}")
    if after:
        after("aside")
    if files.exists(partition) or not files.rename(staging, partition):
        # Nobody else writes under our lease, so this is a failing NameNode: undo.
        if had_previous and not files.exists(partition):
            files.rename(aside, partition)
        raise HandoverError(f"could not rename {staging} to {partition}")
    if after:
        after("renamed")
    trashed = trash_or_keep(files, aside, log) if had_previous else None
    if after:
        after("trashed")
    return trashed


def trash_or_keep(files: Files, path: str, log: Callable[[str], None]) -> str | None:
    """Move ``path`` to the trash; when the trash cannot take it (no home folder, quota), keep
    it where it is with a warning: the next writer's recovery tries again. Never a delete."""
    try:
        return files.trash(path)
    except Exception as error:  # py4j or HdfsCLI errors alike
        log(f"warning: could not move {path} to the trash, kept in place: {error}")
        return None


def publish(
    files: Files,
    partition: str,
    record: LeaseRecord,
    write_contents: Callable[[str], None],
    *,
    verify: Callable[[str], None] = lambda staging: None,
    wait_s: float = DEFAULT_LEASE_WAIT_S,
    log: Callable[[str], None] = print,
    after: Step | None = None,
    hand_over_to_run: str = "",
    adopt_run_id: str = "",
) -> str | None:
    """The whole rule: lease, recover, stage, verify, swap, release. A failure before the swap
    moves this writer's staging to the trash and leaves the published partition as it was.
    With ``hand_over_to_run``, a successful swap keeps the partition held for that run's job
    (see ``Lease.hand_over``)."""
    with acquire(
        files, partition, record, wait_s=wait_s, log=log, adopt_run_id=adopt_run_id
    ) as lease:
        recover(lease, log)
        staging = staging_path(partition, record.writer_id)
        try:
            files.mkdirs(staging)
            write_contents(staging)
            verify(staging)
        except BaseException:
            if files.exists(staging):
                trash_or_keep(files, staging, log)
            raise
        if after:
            after("staged")
        trashed = swap(lease, staging, after=after, log=log)
        if hand_over_to_run:
            lease.hand_over(hand_over_to_run)
        return trashed


# --- Trash -----------------------------------------------------------------------------------


def path_part(path: str) -> str:
    """``/a/b`` of ``hdfs://host:port/a/b`` (a bare path is returned as it is)."""
    if "://" not in path:
        return path
    rest = path.split("://", 1)[1]
    return rest[rest.find("/") :] if "/" in rest else "/"


def trash_target(home: str, path: str) -> str:
    """Where ``path`` goes in ``<home>/.Trash/Current``, as Hadoop's TrashPolicyDefault puts it
    (the same absolute path below it)."""
    return f"{home.rstrip('/')}/.Trash/Current{path_part(path)}"


def move_to_trash(files: Files, home: str, path: str) -> str:
    """The WebHDFS-side trash (and the fallback when Hadoop's Trash is off): a rename into
    ``<home>/.Trash/Current/<path>``, which the NameNode's trash emptier checkpoints and
    purges after ``fs.trash.interval`` minutes."""
    target = trash_target(home, path)
    if files.exists(target):
        target = f"{target}{int(time.time() * 1000)}"
    files.mkdirs(target.rsplit("/", 1)[0])
    if not files.rename(path, target):
        raise HandoverError(f"could not move {path} to the trash ({target})")
    return target
