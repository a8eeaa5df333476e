"""Where a Spark run's time went, from its event log (``--event-log-dir`` of benchmarks.run).

    python -m benchmarks.eventlog .runtime/bench/eventlogs/local-1234567890

Prints one line per SQL execution (a table write, a count, ...): its wall time, the CPU time its
tasks spent, the rows and bytes it read and shuffled, and what it wrote (the last part of the
output path: the table's name), plus the time of the application outside any execution
(start-up, driver-side work, stop).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

_OUTPUT_PATH = re.compile(
    r"Execute InsertIntoHadoopFsRelationCommand\n(?:.*\n)*?Arguments: (\w+:/[^,\s\]]+)"
)
_ACTION = re.compile(r"^(\w+) at (?:.*/)?([^/]+)$")


@dataclass
class Execution:
    id: int
    description: str
    start_ms: int
    end_ms: int = 0
    plan: str = ""
    task_run_ms: int = 0
    task_cpu_ns: int = 0
    gc_ms: int = 0
    input_records: int = 0
    input_bytes: int = 0
    shuffle_write_bytes: int = 0
    stages: set[int] = field(default_factory=set)

    @property
    def label(self) -> str:
        match = _OUTPUT_PATH.search(self.plan)
        if match:
            return "write " + match.group(1).rstrip("/").rsplit("/", 1)[-1]
        action = _ACTION.match(self.description.strip())
        if action:  # "collect at /path/ecommerce_etl.py:136" -> "collect (ecommerce_etl.py:136)"
            return f"{action.group(1)} ({action.group(2)})"
        return self.description.strip()[:60]


def events(path: Path) -> Iterator[dict]:
    """Events of a log file, or of a rolling log folder (``eventlog_v2_*``: ``events_N_*``)."""
    files = [path]
    if path.is_dir():
        files = sorted(path.glob("events_*"), key=lambda p: int(p.name.split("_")[1]))
    for file in files:
        yield from (json.loads(line) for line in _lines(file) if line.strip())


def _lines(file: Path) -> list[str]:
    """Spark 4 compresses event logs with zstd by default: read those through the zstd tool."""
    if file.suffix == ".zstd" or file.name.endswith(".zstd.inprogress"):
        completed = subprocess.run(
            ["zstd", "-dcq", str(file)], capture_output=True, text=True, check=False
        )
        return completed.stdout.splitlines()
    return file.read_text(encoding="utf-8").splitlines()


def covered_ms(intervals: Iterable[tuple[int, int]]) -> int:
    """Milliseconds covered by at least one interval: executions that run at the same time (the
    job writes several tables at once) count once."""
    covered, reach = 0, None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            covered += max(0, end - start)
            reach = end
        elif end > reach:
            covered += end - reach
            reach = end
    return covered


def analyse(path: Path) -> dict:
    executions: dict[int, Execution] = {}
    stage_execution: dict[int, int] = {}
    job_execution: dict[int, int] = {}
    app_start = app_end = 0
    for event in events(path):
        kind = event["Event"]
        if kind == "SparkListenerApplicationStart":
            app_start = event["Timestamp"]
        elif kind == "SparkListenerApplicationEnd":
            app_end = event["Timestamp"]
        elif kind.endswith("SparkListenerSQLExecutionStart"):
            executions[event["executionId"]] = Execution(
                event["executionId"],
                event.get("description", ""),
                event["time"],
                plan=event.get("physicalPlanDescription", ""),
            )
        elif kind.endswith("SparkListenerSQLExecutionEnd"):
            if event["executionId"] in executions:
                executions[event["executionId"]].end_ms = event["time"]
        elif kind == "SparkListenerJobStart":
            execution_id = (event.get("Properties") or {}).get("spark.sql.execution.id")
            if execution_id is not None:
                job_execution[event["Job ID"]] = int(execution_id)
                for stage in event.get("Stage IDs", []):
                    stage_execution[stage] = int(execution_id)
        elif kind == "SparkListenerTaskEnd":
            execution = executions.get(stage_execution.get(event["Stage ID"], -1))
            metrics = event.get("Task Metrics") or {}
            if execution is None or not metrics:
                continue
            execution.stages.add(event["Stage ID"])
            execution.task_run_ms += metrics.get("Executor Run Time", 0)
            execution.task_cpu_ns += metrics.get("Executor CPU Time", 0)
            execution.gc_ms += metrics.get("JVM GC Time", 0)
            read = metrics.get("Input Metrics") or {}
            execution.input_records += read.get("Records Read", 0)
            execution.input_bytes += read.get("Bytes Read", 0)
            shuffle = metrics.get("Shuffle Write Metrics") or {}
            execution.shuffle_write_bytes += shuffle.get("Shuffle Bytes Written", 0)
    in_executions = covered_ms((e.start_ms, e.end_ms) for e in executions.values())
    return {
        "application_start_ms": app_start,
        "application_end_ms": app_end or None,
        "last_execution_end_ms": max((e.end_ms for e in executions.values()), default=None),
        "application_ms": app_end - app_start if app_end else None,
        "outside_executions_ms": (app_end - app_start - in_executions) if app_end else None,
        "executions": [
            {
                "id": e.id,
                "label": e.label,
                "wall_ms": max(0, e.end_ms - e.start_ms),
                "task_run_ms": e.task_run_ms,
                "task_cpu_ms": e.task_cpu_ns // 1_000_000,
                "gc_ms": e.gc_ms,
                "input_records": e.input_records,
                "input_mb": round(e.input_bytes / 1e6, 1),
                "shuffle_write_mb": round(e.shuffle_write_bytes / 1e6, 1),
                "stages": len(e.stages),
            }
            for e in sorted(executions.values(), key=lambda e: e.id)
            if e.stages or e.end_ms - e.start_ms > 50
        ],
    }


def spilled_bytes(path: Path) -> tuple[int, int]:
    """Bytes the run spilled, summed over all its tasks: (``Memory Bytes Spilled``, ``Disk Bytes
    Spilled``). Memory spilled is the in-memory size of what was written out; disk spilled, its
    size on disk. Both 0 when everything fitted in memory."""
    memory = disk = 0
    for event in events(path):
        if event["Event"] == "SparkListenerTaskEnd":
            metrics = event.get("Task Metrics") or {}
            memory += metrics.get("Memory Bytes Spilled", 0)
            disk += metrics.get("Disk Bytes Spilled", 0)
    return memory, disk


def render(summary: dict) -> str:
    lines = [
        f"application: {(summary['application_ms'] or 0) / 1000:.1f} s, outside SQL executions "
        f"(driver work, start-up after the context, stop): "
        f"{(summary['outside_executions_ms'] or 0) / 1000:.1f} s",
        f"{'id':>3} {'what':<34} {'wall s':>7} {'task s':>7} {'cpu s':>6} {'gc s':>6} {'rows in':>10} "
        f"{'MB in':>7} {'shuf MB':>8} {'stages':>6}",
    ]
    totals: dict[str, float] = defaultdict(float)
    for e in summary["executions"]:
        lines.append(
            f"{e['id']:>3} {e['label'][:34]:<34} {e['wall_ms'] / 1000:7.2f} "
            f"{e['task_run_ms'] / 1000:7.2f} {e['task_cpu_ms'] / 1000:6.2f} {e['gc_ms'] / 1000:6.2f} "
            f"{e['input_records']:>10,} {e['input_mb']:7.1f} {e['shuffle_write_mb']:8.1f} "
            f"{e['stages']:>6}"
        )
        totals["wall"] += e["wall_ms"] / 1000
        totals["task"] += e["task_run_ms"] / 1000
    lines.append(f"    {'total':<34} {totals['wall']:7.2f} {totals['task']:7.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    for name in argv if argv is not None else sys.argv[1:]:
        print(f"== {name}")
        print(render(analyse(Path(name))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
