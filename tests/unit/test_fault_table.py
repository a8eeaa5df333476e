"""The fault table (docs/reliability-faults.md and its block of docs/reliability.md) from a
results file: every row, and the tests without a passing result named."""

from __future__ import annotations

from benchmarks.markdown_block import replace_block
from tests.integration.faults.fault_table import BEGIN, END, render, render_block

RESULTS = {
    "finished_at": "2026-11-30T02:00:00+00:00",
    "faults": [
        {
            "fault": "scheduler and dag-processor killed (SIGKILL)",
            "injected": "5-day backfill, after 1 day(s) published",
            "outcome": "every day published exactly once | none twice",
            "retries": 0,
            "rows_lost": 0,
            "recover_s": 321.5,
            "test": "test_scheduler_and_dag_processor_killed_mid_backfill",
        }
    ],
}


def test_the_block_and_the_page_hold_the_same_rows_and_name_what_is_missing() -> None:
    block = render_block(RESULTS)
    row = (
        "| scheduler and dag-processor killed (SIGKILL) | 5-day backfill, after 1 day(s) "
        "published | every day published exactly once \\| none twice | 0 | 0 | 321.5 |"
    )
    assert row in block
    assert row in render(RESULTS)
    assert "[reliability-faults.md](reliability-faults.md)" in block
    assert "`test_datanode_killed_while_the_upload_writes`" in block.split("No passing result")[1]
    assert (
        "test_scheduler_and_dag_processor_killed_mid_backfill`"
        not in block.split("No passing result")[1]
    )
    doc = f"# Reliability\n\nprose\n\n{BEGIN}\nold\n{END}\n\n## after\n"
    updated = replace_block(doc, block, BEGIN, END)
    assert updated.startswith("# Reliability\n\nprose\n\n") and updated.endswith("## after\n")
    assert "old" not in updated and row in updated


def test_the_table_says_how_busy_the_machine_was_when_the_run_recorded_it() -> None:
    busy = {
        **RESULTS,
        "load_average": {"start": [3.0, 2.5, 2.0], "end": [14.5, 12.0, 8.0], "cores": 2},
    }
    assert (
        "Load average (1, 5, 15 min) at its start 3.0, 2.5, 2.0, at its end 14.5, 12.0, 8.0, "
        "on 2 cores." in render_block(busy)
    )
    assert "Load average" not in render_block(RESULTS)  # results from before it was recorded
