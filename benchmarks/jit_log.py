"""Where a JVM's JIT time went, from HotSpot's compilation log, by compiler and by origin.

    stack/run.sh python -m benchmarks.experiments.local_ab --rows 5000000 --job base=spark_jobs \\
        --conf "base:spark.driver.extraJavaOptions=-XX:+UseSerialGC -XX:CompileThresholdScaling=4 \\
    -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=/tmp/jit.log" --repeats 1
    python -m benchmarks.jit_log /tmp/jit.log

(the option replaces the job's ``spark.driver.extraJavaOptions``: repeat its settings, from
``include/ecommerce/settings.py``). Each compilation is a ``<task>`` element and its
``<task_done>`` in the log of one compiler thread; its time is the difference of their stamps.
C2 tasks carry no ``level`` (C1's are levels 1-3). The origin is read from the compiled method's
class: Spark's generated code (``GeneratedClass``), Janino (the compiler of that code), Java
serialization (``java.io.Object*``), Spark, the JDK, Scala, Parquet, or other.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_TASK = re.compile(
    r"<task compile_id='\d+'[^>]*? method='([^']*)'(?:[^>]*? level='(\d)')?[^>]*? stamp='([\d.]+)'"
)
_DONE = re.compile(r"<task_done [^>]*?stamp='([\d.]+)'")

ORIGINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Spark's generated code", ("org.apache.spark.sql.catalyst.expressions.GeneratedClass",)),
    ("Janino (compiles the generated code)", ("org.codehaus.janino", "org.codehaus.commons")),
    (
        "Java serialization",
        ("java.io.ObjectOutputStream", "java.io.ObjectInputStream", "java.io.ObjectStreamClass"),
    ),
    ("Spark", ("org.apache.spark",)),
    ("Parquet", ("org.apache.parquet", "shaded.parquet")),
    ("Scala", ("scala.",)),
    ("JDK", ("java.", "javax.", "jdk.", "sun.")),
)
"""(origin, class-name prefixes), first match wins: generated code before the rest of Spark."""
OTHER = "other"


@dataclass(frozen=True)
class Compilation:
    method: str
    """HotSpot's spelling: ``class method (signature)``."""
    compiler: str
    """``C1`` or ``C2``."""
    seconds: float

    @property
    def origin(self) -> str:
        cls = self.method.split(" ", 1)[0]
        for origin, prefixes in ORIGINS:
            if cls.startswith(prefixes):
                return origin
        return OTHER


def compilations(lines: Iterable[str]) -> list[Compilation]:
    """Every finished compilation of the log (a task without its ``task_done`` is left out)."""
    found: list[Compilation] = []
    pending: tuple[str, str, float] | None = None
    for line in lines:
        if line.startswith("<task "):
            task = _TASK.match(line)
            pending = None
            if task:
                level = int(task.group(2) or 4)
                pending = (task.group(1), "C2" if level == 4 else "C1", float(task.group(3)))
        elif line.startswith("<task_done") and pending is not None:
            done = _DONE.match(line)
            if done:
                method, compiler, start = pending
                found.append(Compilation(method, compiler, float(done.group(1)) - start))
            pending = None
    return found


def by_origin(found: Iterable[Compilation]) -> dict[tuple[str, str], tuple[float, int]]:
    """(compiler, origin) -> (seconds, compilations), largest first."""
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0])
    for compilation in found:
        total = totals[(compilation.compiler, compilation.origin)]
        total[0] += compilation.seconds
        total[1] += 1
    ordered = sorted(totals.items(), key=lambda item: -item[1][0])
    return {key: (seconds, int(count)) for key, (seconds, count) in ordered}


def report(found: Iterable[Compilation]) -> str:
    """A Markdown table: each (compiler, origin), then each compiler's total."""
    rows = ["| compiler | origin | seconds | compilations |", "|---|---|---|---|"]
    totals = by_origin(found)
    for (compiler, origin), (seconds, count) in totals.items():
        rows.append(f"| {compiler} | {origin} | {seconds:.2f} | {count} |")
    for compiler in ("C1", "C2"):
        mine = [value for (of, _), value in totals.items() if of == compiler]
        seconds, count = sum(s for s, _ in mine), sum(n for _, n in mine)
        rows.append(f"| {compiler} | **all** | {seconds:.2f} | {count} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("log", type=Path, help="the file of -XX:LogFile")
    args = parser.parse_args(argv)
    with args.log.open(encoding="utf-8", errors="replace") as log:
        print(report(compilations(log)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
