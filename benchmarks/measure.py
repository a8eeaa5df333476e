"""Run one command as a timed, memory-sampled process: wall time, CPU time, peak RSS of its tree.

Wall time runs from just before the process is started to its exit, so for Spark it includes the
JVM's start-up and the SparkSession's stop. Peak memory is the largest sum of the resident set
sizes of the process and all its descendants (bash wrapper, JVM, Python driver), sampled every
``SAMPLE_INTERVAL_S`` in a thread: a spike shorter than that can be missed. Each address space
counts once: a child the JVM starts shares the JVM's memory (``posix_spawn``, ``CLONE_VM``) until
it runs its own program, and reports the JVM's whole RSS meanwhile (``tree_rss``). The 1-minute
load average before and after is kept, so a reader can tell a quiet machine from a busy one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

SAMPLE_INTERVAL_S = 0.1


@dataclass(frozen=True)
class Measurement:
    wall_s: float
    cpu_s: float
    """User + system CPU seconds of the whole tree (from the kernel's accounting of reaped
    children): unlike wall time, barely changed by other load on the machine."""
    peak_rss_bytes: int
    returncode: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    log: str | None = None
    """File holding the command's stdout and stderr."""

    def to_json(self) -> dict:
        return asdict(self)


_SYS_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())
"""Linux's kcmp(2) system call number on this architecture (None: not known here)."""
_KCMP_VM = 1
_LIBC = ctypes.CDLL(None, use_errno=True)


def shares_parent_memory(process: psutil.Process) -> bool:
    """Whether ``process`` runs in its parent's address space (kcmp(2) ``KCMP_VM``).

    A child started with ``vfork`` or glibc's ``posix_spawn`` (how the JVM starts a program) does
    until it executes its own program; its RSS is then the parent's, not memory of its own. A
    child made by ``fork`` has an address space of its own (its copy-on-write pages count in
    full). False when the kernel cannot tell (no kcmp, not permitted).
    """
    if _SYS_KCMP is None:
        return False
    return _LIBC.syscall(_SYS_KCMP, process.ppid(), process.pid, _KCMP_VM, 0, 0) == 0


def tree_rss(process: psutil.Process) -> int:
    """RSS of ``process`` and every descendant alive right now (0 for vanished ones), each
    address space once: a descendant still in its parent's (``shares_parent_memory``) adds
    nothing. Without that, a run sampled while its JVM started a helper program counted the JVM
    twice (a 5M-row day's peak read 2.4 GiB instead of 1.3)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            if member is not process and shares_parent_memory(member):
                continue
            total += member.memory_info().rss
    return total


class _PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss(self.process))
            self.done.wait(SAMPLE_INTERVAL_S)


def run_measured(
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 3600,
) -> Measurement:
    """Run ``command`` to completion (its output into ``log_path``) and measure it."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        # Own session: on a timeout the whole tree (JVM included) is killed, nothing else.
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        sampler = _PeakSampler(process.pid)
        sampler.start()
        try:
            returncode = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            returncode = process.wait()
        except BaseException:  # Ctrl-C or SIGTERM of the harness: take the run down with it
            os.killpg(process.pid, 9)
            process.wait()
            raise
        wall = time.perf_counter() - started
        sampler.done.set()
        sampler.join()
    usage_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage_after.ru_utime - usage_before.ru_utime) + (
        usage_after.ru_stime - usage_before.ru_stime
    )
    return Measurement(
        wall_s=round(wall, 3),
        cpu_s=round(cpu, 2),
        peak_rss_bytes=sampler.peak,
        returncode=returncode,
        load_before=tuple(round(x, 2) for x in load_before),
        load_after=tuple(round(x, 2) for x in os.getloadavg()),
        log=str(log_path),
    )
