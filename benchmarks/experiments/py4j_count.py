"""Run a PySpark script and count its py4j round trips (Python -> JVM commands).

    spark-submit benchmarks/experiments/py4j_count.py spark_jobs/ecommerce_etl.py --date ...

Prints ``py4j round trips: N (X s)`` on stderr at exit: every call of a JVM method, field or
constructor from the Python driver is one synchronous message on the gateway socket.
"""

from __future__ import annotations

import atexit
import runpy
import sys
import time
from collections import Counter

from py4j import clientserver

_counts = {"calls": 0, "seconds": 0.0}
_kinds: Counter[str] = Counter()
"""Round trips by command: ``c <method>`` calls, ``r <name>`` class/member look-ups (each step
of ``jvm.org.apache...`` is one), ``m`` releases of Java objects Python dropped, ..."""


def _kind(command: str) -> str:
    parts = command.split("\n")
    if parts[0] == "c" and len(parts) > 2:
        return f"c {parts[2]}"
    if parts[0] == "r" and len(parts) > 2:
        return f"r{parts[1]} {parts[2].rsplit('.', 1)[-1]}"
    return parts[0]


_send = clientserver.ClientServerConnection.send_command


def _counted(self, command):
    started = time.perf_counter()
    try:
        return _send(self, command)
    finally:
        _counts["calls"] += 1
        _kinds[_kind(command)] += 1
        _counts["seconds"] += time.perf_counter() - started


clientserver.ClientServerConnection.send_command = _counted


def _report() -> None:
    top = ", ".join(f"{kind}: {n}" for kind, n in _kinds.most_common(25))
    print(f"py4j commands, most frequent: {top}", file=sys.stderr, flush=True)
    print(
        f"py4j round trips: {_counts['calls']} ({_counts['seconds']:.2f} s)",
        file=sys.stderr,
        flush=True,
    )


atexit.register(_report)

if __name__ == "__main__":
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")
