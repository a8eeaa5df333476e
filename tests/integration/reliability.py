"""The reliability scenarios' own results, and the table of docs/reliability.md made from them.

Each fault-injection test calls :func:`record` with what it injected, what happened and how many
rows were lost, as measured by its own assertions (the test fails before recording when its
claim does not hold). ``python -m tests.integration.reliability`` renders the recorded results
into the table between the markers of ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = PROJECT_ROOT / ".runtime" / "results" / "reliability"
DOC = PROJECT_ROOT / "docs" / "reliability.md"
BEGIN, END = "<!-- scenarios:begin -->", "<!-- scenarios:end -->"


def record(scenario: str, fault: str, outcome: str, rows_lost: int, test: str) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", scenario.lower()).strip("-")
    entry = {
        "scenario": scenario,
        "fault": fault,
        "outcome": outcome,
        "rows_lost": rows_lost,
        "test": test,
        "recorded_at": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
    }
    (RESULTS_DIR / f"{slug}.json").write_text(json.dumps(entry, indent=1), encoding="utf-8")


def render(results: list[dict]) -> str:
    def cell(text: object) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| scenario | fault injected | what happened | rows lost | test (recorded) |",
        "|---|---|---|---|---|",
    ]
    for entry in sorted(results, key=lambda item: item["scenario"]):
        lines.append(
            "| "
            + " | ".join(cell(entry[key]) for key in ("scenario", "fault", "outcome", "rows_lost"))
            + f" | `{cell(entry['test'])}` ({entry['recorded_at']}) |"
        )
    return "\n".join(lines)


def main() -> int:
    results = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*.json"))]
    if not results:
        print(f"no results in {RESULTS_DIR}: run tests/integration/test_partition_handover.py")
        return 1
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    DOC.write_text(text[:start] + "\n" + render(results) + "\n" + text[end:], encoding="utf-8")
    print(f"{DOC}: {len(results)} scenario(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
