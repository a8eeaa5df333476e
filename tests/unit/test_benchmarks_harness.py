"""Cheap checks of the benchmark harness (benchmarks/): not the benchmark itself.

The DuckDB SQL must compute the contract's four tables (checked on the sample day, counted by
hand in sample_day_tables.py); the comparison must catch a wrong cent and forgive a float's last
bits only when asked to; targets and docs are rendered from a results dict, never typed in; the
backfill's wall time and idle gaps come from its runs' records.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psutil
import pyarrow as pa
import pytest

from benchmarks import docs
from benchmarks import orchestration as bench
from benchmarks.compare import differences
from benchmarks.measure import run_measured, shares_parent_memory, tree_rss
from benchmarks.results import BenchResults, Orchestration, TimedRun, to_json
from tests.unit.sample_day_tables import sample_day_tables

SAMPLE_DAY = Path(__file__).resolve().parents[2] / "include/data/landing/2026/02/14"


@pytest.fixture(scope="module")
def duckdb_tables(tmp_path_factory) -> dict[str, pa.Table]:
    pytest.importorskip("duckdb")
    import pyarrow.parquet as pq

    from benchmarks import duckdb_tables

    out = tmp_path_factory.mktemp("duckdb")
    assert (
        duckdb_tables.main(
            ["--date", "2026-02-14", "--input", str(SAMPLE_DAY), "--output", str(out)]
        )
        == 0
    )
    return {name: pq.read_table(out / name / "data.parquet") for name in duckdb_tables.TABLE_SQL}


def test_duckdb_computes_the_sample_days_tables_exactly(duckdb_tables):
    assert differences(sample_day_tables(), duckdb_tables) == []


def test_duckdb_computes_every_core_table_declared():
    from benchmarks import duckdb_tables
    from spark_jobs import contract

    assert list(duckdb_tables.TABLE_SQL) == [table.name for table in contract.CORE_TABLES]


def test_duckdb_writes_the_contracts_types(duckdb_tables):
    expected = sample_day_tables()
    for name, table in duckdb_tables.items():
        assert table.schema.types == expected[name].schema.types, name


def test_duckdb_keeps_only_the_partitions_day(tmp_path, duckdb_tables):
    pytest.importorskip("duckdb")
    from benchmarks import duckdb_tables as module

    (tmp_path / "in").mkdir()
    text = (SAMPLE_DAY / "ecommerce_logs.csv").read_text()
    (tmp_path / "in" / "a.csv").write_text(text)
    (tmp_path / "in" / "b.csv").write_text(text.replace("2026-02-14", "2026-02-15"))
    module.main(
        ["--date", "2026-02-14", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]
    )
    import pyarrow.parquet as pq

    funnel = pq.read_table(tmp_path / "out" / "funnel" / "data.parquet")
    assert funnel.equals(duckdb_tables["funnel"])


def _with_revenue(tables: dict[str, pa.Table], value) -> dict[str, pa.Table]:
    stats = tables["category_stats"]
    revenue = stats.column("total_revenue").to_pylist()
    revenue[0] = value
    kind = pa.float64() if isinstance(value, float) else stats.schema.field("total_revenue").type
    index = stats.schema.get_field_index("total_revenue")
    return tables | {
        "category_stats": stats.set_column(index, "total_revenue", pa.array(revenue, kind))
    }


def test_a_wrong_cent_is_a_difference():
    reference = sample_day_tables()
    other = _with_revenue(reference, Decimal("300.00"))
    problems = differences(reference, other)
    assert problems and all(p.startswith("category_stats") for p in problems)


def test_float_money_agrees_only_when_rounded_to_cents():
    reference = sample_day_tables()
    floats = {
        name: table.set_column(
            table.schema.get_field_index(money),
            money,
            pa.array([float(v) + 1e-9 for v in table.column(money).to_pylist()], pa.float64()),
        )
        if (money := {"category_stats": "total_revenue", "user_behavior": "total_spent"}.get(name))
        else table
        for name, table in reference.items()
    }
    assert differences(reference, floats, money_in_cents=True) == []
    assert differences(reference, floats) != []
    assert differences(reference, _with_revenue(floats, 300.004), money_in_cents=True) != []


def test_integer_widths_do_not_matter_but_rows_do():
    reference = sample_day_tables()
    hourly = reference["hourly_activity"]
    narrow = hourly.cast(pa.schema([(f.name, pa.int32()) for f in hourly.schema]))
    assert differences(reference, reference | {"hourly_activity": narrow}) == []
    shuffled = reference | {"funnel": reference["funnel"].take([2, 0, 1])}
    assert differences(reference, shuffled) == []
    assert differences(reference, reference | {"funnel": reference["funnel"].slice(0, 2)}) != []


def test_measurement_of_a_process_tree(tmp_path):
    m = run_measured(
        ["bash", "-c", "python3 -c 'x = bytearray(60 * 2**20); import time; time.sleep(0.6)'"],
        log_path=tmp_path / "log",
    )
    assert m.returncode == 0
    assert m.wall_s >= 0.6
    assert m.peak_rss_bytes >= 60 * 2**20  # the grandchild's memory counts
    assert m.cpu_s >= 0


_PARENT_OF_A_CLONE_VM_CHILD = """
import ctypes, signal, time
memory = b"x" * (80 * 2**20)  # written: resident
libc = ctypes.CDLL(None, use_errno=True)
stack = ctypes.create_string_buffer(2**16)
top = ctypes.c_void_p(ctypes.addressof(stack) + 2**16 - 64)
libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
pause = ctypes.cast(libc.pause, ctypes.c_void_p).value
print(libc.clone(pause, top, 0x100 | signal.SIGCHLD, None), flush=True)  # 0x100: CLONE_VM
time.sleep(120)
"""


def test_a_child_in_its_parents_address_space_counts_once():
    """As the JVM's child between posix_spawn and exec: it reports the parent's whole RSS."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT_OF_A_CLONE_VM_CHILD], stdout=subprocess.PIPE, text=True
    )
    child_pid = None
    try:
        child_pid = int(parent.stdout.readline())
        assert child_pid > 0
        parent_process, child = psutil.Process(parent.pid), psutil.Process(child_pid)
        assert child.ppid() == parent.pid
        parent_rss = parent_process.memory_info().rss
        assert parent_rss >= 80 * 2**20
        assert child.memory_info().rss >= 80 * 2**20  # what a plain sum would count again
        assert shares_parent_memory(child)
        assert not shares_parent_memory(parent_process)  # a program of its own (fork + exec)
        assert tree_rss(parent_process) < parent_rss + 20 * 2**20
    finally:
        if child_pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_pid, signal.SIGKILL)
        parent.kill()
        parent.wait()


def _engine(median: float, failures: int = 0) -> dict:
    run = {"wall_s": median, "load_before": [1.0, 1, 1], "load_after": [1.5, 1, 1]}
    return {
        "runs": [run],
        "failures": failures,
        "median_s": median,
        "min_s": median,
        "max_s": median,
        "cpu_median_s": median,
        "peak_rss_bytes": 2**30,
        "rows_per_s": 1,
    }


def _results(
    ours: float, naive: float, floor: float, duck: float, rows: int = 5_000_000
) -> BenchResults:
    return BenchResults.from_json(_results_json(ours, naive, floor, duck, rows))


def _results_json(ours: float, naive: float, floor: float, duck: float, rows: int) -> dict:
    """A results file's JSON as ``benchmarks.run`` writes it."""
    return {
        "run_id": "t",
        "started": "s",
        "finished": "f",
        "settings": {"spark": "spark-submit", "repeats": 1, "order": "o"},
        "machine": {
            "cpu_model": "cpu",
            "nproc": 2,
            "memory_bytes": 2**34,
            "os": "linux",
            "java": "17",
            "python": "3.11",
            "pyspark": "4",
            "duckdb": "1",
            "pyarrow": "1",
            "apache-airflow": "3",
        },
        "job": {"git_head": "abc", "files_before": {"x.py": "1"}, "changed_during_run": False},
        "sizes": [
            {
                "rows": rows,
                "date": "2030-01-01",
                "input_bytes": 10**6,
                "engines": {
                    "ours": _engine(ours),
                    "naive": _engine(naive),
                    "floor": _engine(floor),
                    "duckdb": _engine(duck),
                },
                "ratios": {
                    "ours/naive": ours / naive,
                    "ours/floor": ours / floor,
                    "ours/duckdb": ours / duck,
                },
                "agreement": {"error": "not checked in this test"},
            }
        ],
        "orchestration": None,
    }


def test_targets_come_from_the_figures():
    verdicts = {t.target: t.met for t in docs.evaluate_targets(_results(20, 55, 14, 4))}
    assert verdicts["ours <= 0.4x naive at 5M rows"] is True
    assert verdicts["ours <= 1.5x floor (at 5M rows)"] is True
    assert verdicts["1 GiB driver is enough at 5M rows"] is True
    verdicts = {t.target: t.met for t in docs.evaluate_targets(_results(50, 55, 14, 4))}
    assert verdicts["ours <= 0.4x naive at 5M rows"] is False
    assert verdicts["ours <= 1.5x floor (at 5M rows)"] is False
    assert verdicts[docs.NAIVE_STEP_TARGET] is False and verdicts[docs.FLOOR_STEP_TARGET] is False
    # 0.47x naive and 1.86x the floor: the steps met, the goals not
    verdicts = {t.target: t.met for t in docs.evaluate_targets(_results(26, 55, 14, 4))}
    assert verdicts[docs.NAIVE_STEP_TARGET] is True and verdicts[docs.FLOOR_STEP_TARGET] is True
    assert verdicts["ours <= 0.4x naive at 5M rows"] is False
    assert verdicts["ours <= 1.5x floor (at 5M rows)"] is False
    small = docs.evaluate_targets(_results(20, 55, 14, 4, rows=1000))
    assert all(t.met is None for t in small)


def test_docs_keep_the_prose_and_replace_the_figures(tmp_path):
    path = tmp_path / "benchmarks.md"
    path.write_text(
        f"# Title\n\nprose before\n\n{docs.BEGIN}\nold figures\n{docs.END}\n\nprose after\n"
    )
    results = _results(20, 55, 14, 4)
    results.targets = docs.evaluate_targets(results)
    docs.write_docs(results, path, tmp_path / "results.json")
    text = path.read_text()
    assert "prose before" in text and "prose after" in text
    assert "old figures" not in text
    assert "| ours <= 0.4x naive at 5M rows | 5M: 0.36x | met |" in text


def test_event_log_profile_names_each_write_by_its_table(tmp_path):
    from benchmarks import eventlog

    plan = (
        "== Physical Plan ==\nAdaptiveSparkPlan (3)\n+- Execute InsertIntoHadoopFsRelationCommand (2)\n"
        "\n(2) Execute InsertIntoHadoopFsRelationCommand\nInput [1]: [x]\n"
        "Arguments: hdfs://nn:8020/out/_staging-x/user_behavior, false, Parquet\n"
    )
    task = {
        "Executor Run Time": 1500,
        "Executor CPU Time": 10**9,
        "Input Metrics": {"Records Read": 10, "Bytes Read": 2_000_000},
        "Shuffle Write Metrics": {"Shuffle Bytes Written": 1_000_000},
    }
    lines = [
        {"Event": "SparkListenerApplicationStart", "Timestamp": 0},
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": 0,
            "description": "collect at /x/ecommerce_etl.py:136",
            "time": 1000,
            "physicalPlanDescription": "== Physical Plan ==\nHashAggregate (1)\n",
        },
        {
            "Event": "SparkListenerJobStart",
            "Job ID": 0,
            "Stage IDs": [0],
            "Properties": {"spark.sql.execution.id": "0"},
        },
        {"Event": "SparkListenerTaskEnd", "Stage ID": 0, "Task Metrics": task},
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
            "executionId": 0,
            "time": 3000,
        },
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart",
            "executionId": 1,
            "description": "parquet at X.java:0",
            "time": 3000,
            "physicalPlanDescription": plan,
        },
        {
            "Event": "SparkListenerJobStart",
            "Job ID": 1,
            "Stage IDs": [1, 2],
            "Properties": {"spark.sql.execution.id": "1"},
        },
        {"Event": "SparkListenerTaskEnd", "Stage ID": 2, "Task Metrics": task},
        {
            "Event": "org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd",
            "executionId": 1,
            "time": 7000,
        },
        {"Event": "SparkListenerApplicationEnd", "Timestamp": 10_000},
    ]
    log = tmp_path / "events_1_local-1"
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    summary = eventlog.analyse(tmp_path)
    assert [e["label"] for e in summary["executions"]] == [
        "collect (ecommerce_etl.py:136)",
        "write user_behavior",
    ]
    assert [e["wall_ms"] for e in summary["executions"]] == [2000, 4000]
    assert summary["executions"][1]["task_run_ms"] == 1500
    assert summary["outside_executions_ms"] == 4000


# --- the 7-day backfill against seven single days -------------------------------------------------

CREATED = dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC)
BACKFILL_DAYS = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(3)]


def _after_created(seconds: float | None) -> str | None:
    """A REST API timestamp ``seconds`` after CREATED."""
    if seconds is None:
        return None
    return (CREATED + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _run_record(day: int, start_s: float, end_s: float | None, state: str = "success") -> dict:
    """A backfill run of 2026-09-0<day> as the REST API gives it."""
    return {
        "dag_run_id": f"backfill__2026-09-0{day}T00:00:00+00:00",
        "logical_date": f"2026-09-0{day}T00:00:00Z",
        "state": state,
        "start_date": _after_created(start_s),
        "end_date": _after_created(end_s),
    }


def test_backfill_wall_runs_from_the_create_to_the_end_of_the_last_run():
    records = [_run_record(3, 75, 100), _run_record(1, 10, 40), _run_record(2, 42, 70)]
    timeline = bench.backfill_timeline(CREATED, records, BACKFILL_DAYS)
    assert timeline["finished"] and timeline["all_succeeded"]
    assert timeline["wall_s"] == 100
    assert [r["day"] for r in timeline["runs"]] == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert [r["duration_s"] for r in timeline["runs"]] == [30, 28, 25]
    assert [r["idle_before_s"] for r in timeline["runs"]] == [10, 2, 5]
    assert (timeline["runs_total_s"], timeline["idle_total_s"]) == (83, 17)
    assert timeline["runs"][2]["start_after_create_s"] == 75


def test_backfill_runs_side_by_side_overlap_instead_of_idling_a_negative_time():
    # --max-active-runs 2: day 2 starts 25 s before day 1 ends; day 3 waits 5 s after both.
    records = [_run_record(1, 10, 40), _run_record(2, 15, 60), _run_record(3, 65, 90)]
    timeline = bench.backfill_timeline(CREATED, records, BACKFILL_DAYS)
    assert [r["idle_before_s"] for r in timeline["runs"]] == [10, 0, 5]
    assert [r["overlap_before_s"] for r in timeline["runs"]] == [0, 25, 0]
    assert timeline["idle_total_s"] == 15


def test_backfill_has_no_wall_time_until_every_day_has_a_final_run():
    running = [_run_record(1, 10, 40), _run_record(2, 42, None, "running")]
    timeline = bench.backfill_timeline(CREATED, running, BACKFILL_DAYS)
    assert not timeline["finished"] and timeline["wall_s"] is None
    assert timeline["missing_days"] == ["2026-09-03"]
    failed = [_run_record(1, 10, 40), _run_record(2, 42, 50, "failed"), _run_record(3, 55, 90)]
    timeline = bench.backfill_timeline(CREATED, failed, BACKFILL_DAYS)
    assert timeline["finished"] and not timeline["all_succeeded"]
    assert timeline["wall_s"] == 90
    assert bench.backfill_timeline(CREATED, [], BACKFILL_DAYS)["wall_s"] is None


def _single(wall: float, succeeded: bool = True) -> TimedRun:
    return TimedRun(wall_s=wall, succeeded=succeeded)


def _backfill(days: int, wall: float | None, dags_test_s: float = 10.0) -> dict:
    dates = [dt.date(2026, 9, 1) + dt.timedelta(days=n) for n in range(days)]
    records = [_run_record(n + 1, n * dags_test_s + 1, (n + 1) * dags_test_s) for n in range(days)]
    scheduler = {"command": "airflow backfill create ..."}
    if wall is not None:
        scheduler |= bench.backfill_timeline(CREATED, records, dates) | {"wall_s": wall}
    else:
        scheduler["error"] = "LiveAirflowError: the api-server did not start"
    return bench.summarize_backfill(
        dates, 500_000, scheduler, [_single(dags_test_s)] * days, [_single(dags_test_s / 2)] * days
    )


def test_backfill_ratio_is_against_the_sum_of_the_single_days():
    backfill = _backfill(7, wall=77)
    assert backfill.dags_test_total_s == 70 and backfill.bare_total_s == 35
    assert backfill.ratio == 1.1 and backfill.ratio_to_bare == 2.2
    assert backfill.all_succeeded
    failed = _backfill(7, wall=None)
    assert failed.ratio is None and not failed.all_succeeded


def _with_backfill(backfill) -> BenchResults:
    results = _results(20, 55, 14, 4)
    results.orchestration = Orchestration(backfill=backfill)
    results.targets = docs.evaluate_targets(results)
    return results


def _backfill_verdict(results: BenchResults):
    return next(t for t in results.targets if t.target == docs.BACKFILL_TARGET)


def test_backfill_target_is_judged_on_seven_days_only():
    assert _backfill_verdict(_with_backfill(_backfill(7, wall=77))).met is True
    assert _backfill_verdict(_with_backfill(_backfill(7, wall=90))).met is False
    three_days = _backfill_verdict(_with_backfill(_backfill(3, wall=33)))
    assert three_days.met is None and "3 days, not 7" in three_days.measured
    not_measured = _backfill_verdict(_with_backfill(_backfill(7, wall=None)))
    assert not_measured.met is None and "api-server did not start" in not_measured.measured


def test_backfill_is_rendered_with_its_ratio_and_each_day(tmp_path):
    results = _with_backfill(_backfill(3, wall=33))
    text = docs.render_orchestration(results)
    assert "Ratio backfill / 3 single days (`dags test`): **1.10x**" in text
    assert "| `airflow dags test`, one day after the other | 30.0 | 10.0 | True |" in text
    assert "| 2026-09-02 | success | 11.0-20.0 | 9.0 | 1.0 | 10.0 | 5.0 |" in text
    path = tmp_path / "benchmarks.md"
    docs.write_docs(results, path, tmp_path / "results.json")
    assert "| 7-day backfill <= 1.2x seven single days | 33.0 s vs 30.0 s = 1.10x" in (
        path.read_text()
    )
    failed = docs.render_orchestration(_with_backfill(_backfill(3, wall=None)))
    assert "Backfill **not measured**: LiveAirflowError" in failed
    assert "| 2026-09-01 | not created | n/a-n/a | n/a | n/a | 10.0 | 5.0 |" in failed


def test_time_covered_by_executions_counts_overlaps_once():
    from benchmarks.eventlog import covered_ms

    # two writes at the same time (10-30 and 20-40), a gap, then one more (50-60)
    assert covered_ms([(20, 40), (10, 30), (50, 60)]) == 40
    assert covered_ms([(0, 100), (10, 20)]) == 100
    assert covered_ms([]) == 0


def test_output_paths_of_local_writes_name_their_table_too():
    from benchmarks.eventlog import _OUTPUT_PATH

    plan = (
        "Execute InsertIntoHadoopFsRelationCommand\n"
        "Arguments: file:/tmp/out/_staging-x/funnel, false, Parquet\n"
    )
    assert _OUTPUT_PATH.search(plan).group(1) == "file:/tmp/out/_staging-x/funnel"


# --- results files: typed, and the files written before the types still render -------------------

RESULTS_V1 = Path(__file__).parent / "data" / "bench_results_v1.json"
"""A results file in the JSON of the dict-based harness (every section: sizes with a profile and
a disagreement, the single day, a 7-day backfill). ``bench_results_v1.dict-harness.md`` is what
that harness rendered from it; ``bench_results_v1.md``, what the typed one renders."""
SIZE_COLUMNS_ADDED = (6, 7)
"""Columns the size tables gained (s per M rows, spilled per run), by position."""


def _render_v1() -> str:
    return docs.render_tables(BenchResults.from_json(json.loads(RESULTS_V1.read_text()))) + "\n"


def test_a_results_file_of_the_dict_harness_still_renders():
    assert _render_v1() == RESULTS_V1.with_suffix(".md").read_text()


def _without_added_columns(line: str) -> str:
    cells = line.split(" | ")
    if len(cells) != 9:  # not a row of a size table
        return line
    return " | ".join(c for n, c in enumerate(cells) if n not in SIZE_COLUMNS_ADDED)


def test_the_typed_harness_only_adds_to_what_the_dict_harness_rendered():
    before = Path(str(RESULTS_V1).replace(".json", ".dict-harness.md")).read_text().splitlines()
    after = [_without_added_columns(line) for line in _render_v1().splitlines()]
    after = [
        line.replace("|---|---|---|---|---|---|---|---|---|", "|" + "---|" * 7) for line in after
    ]
    missing = [line for line in before if line not in after]
    assert missing == []
    assert "### Fixed cost (the sample day)" in after and len(after) > len(before)


def test_results_survive_their_json_round_trip():
    data = json.loads(RESULTS_V1.read_text())
    results = BenchResults.from_json(data)
    again = BenchResults.from_json(json.loads(json.dumps(to_json(results))))
    assert again == results
    assert again.sizes[0].engines["ours"].profile == data["sizes"][0]["engines"]["ours"]["profile"]
    assert again.orchestration.backfill.scheduler == data["orchestration"]["backfill"]["scheduler"]


def test_the_targets_of_an_old_file_are_evaluated_again_the_same_way():
    data = json.loads(RESULTS_V1.read_text())
    targets = docs.evaluate_targets(BenchResults.from_json(data))
    again = [to_json(t) for t in targets]
    assert [t for t in again if t in data["targets"]] == data["targets"]
    assert {t["target"] for t in again} - {t["target"] for t in data["targets"]} == {
        docs.FIXED_COST_TARGET,
        docs.SAMPLE_DAGS_TEST_TARGET,
        docs.BIG_DAY_TARGET,
        docs.PER_ROW_TARGET,
        docs.NAIVE_STEP_TARGET,
        docs.FLOOR_STEP_TARGET,
    }


def test_docs_from_an_old_file_show_the_targets_judged_again(tmp_path, monkeypatch):
    """--docs-from judges the targets again: a file from before a target gets its row."""
    from benchmarks import cli

    monkeypatch.setattr(cli, "DOCS_PATH", tmp_path / "benchmarks.md")
    assert docs.NAIVE_STEP_TARGET not in RESULTS_V1.read_text()
    assert cli.render_from(RESULTS_V1) == 0
    text = (tmp_path / "benchmarks.md").read_text()
    assert f"| {docs.NAIVE_STEP_TARGET} | 500k: " in text
    assert f"| {docs.FLOOR_STEP_TARGET} | 500k: " in text


# --- fixed cost, the big day, seconds per million rows, spill, the chart ----------------------------


def _engine_result(median: float, runs: int = 3, failures: int = 0, spill=None):
    from benchmarks.results import EngineResult, RunRecord

    records = [
        RunRecord(
            wall_s=median,
            cpu_s=median,
            peak_rss_bytes=900 * 2**20,
            returncode=1 if n < failures else 0,
            load_before=(1.0, 1.0, 1.0),
            load_after=(1.0, 1.0, 1.0),
            spill=spill,
        )
        for n in range(runs)
    ]
    return EngineResult.summarize(records, 15)


def _fixed(
    ours: float, trivial: float, dags_test_s: float | list[float] | None, succeeded: bool = True
):
    """A fixed-cost result; ``dags_test_s`` one run's wall seconds or each run's (the runs'
    spark_etl task takes a tenth of their wall time)."""
    from benchmarks.results import FixedCost, ratio_of

    ours_result, trivial_result = _engine_result(ours), _engine_result(trivial)
    walls = [dags_test_s] if isinstance(dags_test_s, float) else dags_test_s or []
    return FixedCost(
        date="2030-02-14",
        rows=15,
        trivial=trivial_result,
        ours=ours_result,
        ratio=ratio_of(ours_result.median_s, trivial_result.median_s),
        dags_test_runs=[
            TimedRun(wall_s=wall, succeeded=succeeded, tasks={"spark_etl": wall / 10})
            for wall in walls
        ],
    )


def _verdicts(targets) -> dict:
    return {t.target: t.met for t in targets}


def test_fixed_cost_targets_judge_the_ratio_and_the_dags_test():
    met = _verdicts(docs.fixed_cost_targets(_fixed(14.0, 10.0, 29.0)))
    assert met == {docs.FIXED_COST_TARGET: True, docs.SAMPLE_DAGS_TEST_TARGET: True}
    missed = _verdicts(docs.fixed_cost_targets(_fixed(16.0, 10.0, 31.0)))
    assert missed == {docs.FIXED_COST_TARGET: False, docs.SAMPLE_DAGS_TEST_TARGET: False}
    failed = _verdicts(docs.fixed_cost_targets(_fixed(14.0, 10.0, 20.0, succeeded=False)))
    assert failed[docs.SAMPLE_DAGS_TEST_TARGET] is False
    assert set(_verdicts(docs.fixed_cost_targets(None)).values()) == {None}


def test_the_dags_test_target_is_judged_on_the_median_of_its_runs():
    """One slow run of three does not miss the target; two do."""
    one_slow = docs.fixed_cost_targets(_fixed(14.0, 10.0, [27.0, 31.0, 28.0]))[1]
    assert one_slow.met is True
    assert one_slow.measured.startswith("28.0 s (median of 3 runs: 27.0, 31.0, 28.0 s)")
    assert "spark_etl 2.8 s" in one_slow.measured  # the tasks of the run nearest the median
    two_slow = docs.fixed_cost_targets(_fixed(14.0, 10.0, [31.0, 27.0, 30.5]))[1]
    assert two_slow.met is False and two_slow.measured.startswith("30.5 s")
    assert docs.fixed_cost_targets(_fixed(14.0, 10.0, [29.0, 32.0]))[1].met is False  # 30.5


def test_fixed_cost_is_rendered_with_its_ratio_and_the_tasks():
    results = _results(20, 55, 14, 4)
    results.fixed_cost = _fixed(14.0, 10.0, [29.0, 25.0, 33.0])
    text = docs.render_tables(results)
    assert "Ratio ours / trivial: **1.40x**." in text
    assert (
        "`airflow dags test ecommerce_daily 2030-02-14` of the same day: **29.0 s** (median of 3"
        " runs: 29.0, 25.0, 33.0 s; all succeeded: True, retries: 0); tasks: spark_etl 2.9 s"
        " (of the run nearest the median)." in text
    )
    again = BenchResults.from_json(json.loads(json.dumps(to_json(results))))
    assert again.fixed_cost == results.fixed_cost


def test_fixed_cost_of_a_results_file_from_before_the_repeats_reads_its_one_run():
    results = _results(20, 55, 14, 4)
    results.fixed_cost = _fixed(14.0, 10.0, 29.0)
    old = to_json(results)
    old["fixed_cost"]["dags_test"] = old["fixed_cost"].pop("dags_test_runs")[0]
    again = BenchResults.from_json(json.loads(json.dumps(old))).fixed_cost
    assert again.dags_test_median_s == 29.0 and again.dags_test == results.fixed_cost.dags_test
    assert "**29.0 s** (one run; all succeeded: True" in docs.render_fixed_cost(again)


def _with_sizes(seconds_by_rows: dict[int, float]) -> BenchResults:
    results = _results(20, 55, 14, 4)
    template = results.sizes[0]
    results.sizes = [
        dataclasses.replace(
            template,
            rows=rows,
            engines=template.engines | {"ours": _engine_result(seconds)},
        )
        for rows, seconds in seconds_by_rows.items()
    ]
    return results


def test_seconds_per_million_rows_may_not_grow_from_1m_rows_up():
    flat = _with_sizes({100_000: 30.0, 2_000_000: 24.0, 5_000_000: 55.0, 20_000_000: 210.0})
    verdict = next(t for t in docs.evaluate_targets(flat) if t.target == docs.PER_ROW_TARGET)
    assert verdict.met is True and "20M / 2M: 0.88x" in verdict.measured
    growing = _with_sizes({2_000_000: 20.0, 20_000_000: 250.0})
    verdict = next(t for t in docs.evaluate_targets(growing) if t.target == docs.PER_ROW_TARGET)
    assert verdict.met is False
    small = _with_sizes({100_000: 30.0, 5_000_000: 55.0})
    verdict = next(t for t in docs.evaluate_targets(small) if t.target == docs.PER_ROW_TARGET)
    assert verdict.met is None


def test_the_big_day_target_reports_peak_memory_and_spill_of_each_run():
    from benchmarks.results import Spill

    spill = Spill(memory_bytes_spilled=3 * 2**30, disk_bytes_spilled=2**29)
    results = _with_sizes({20_000_000: 210.0})
    results.sizes[0].engines["ours"] = _engine_result(210.0, spill=spill)
    verdict = next(t for t in docs.evaluate_targets(results) if t.target == docs.BIG_DAY_TARGET)
    assert verdict.met is True
    assert "3/3 runs succeeded" in verdict.measured and "900 MiB" in verdict.measured
    assert "3072/512, 3072/512, 3072/512" in verdict.measured
    results.sizes[0].engines["ours"] = _engine_result(210.0, failures=1)
    verdict = next(t for t in docs.evaluate_targets(results) if t.target == docs.BIG_DAY_TARGET)
    assert verdict.met is False
    table = docs.render_size(results.sizes[0])
    assert "| s per M rows | spilled per run (MiB memory/disk) |" in table


def test_spill_is_summed_over_the_tasks_of_the_event_log(tmp_path):
    from benchmarks.eventlog import spilled_bytes

    lines = [
        {"Event": "SparkListenerApplicationStart", "Timestamp": 0},
        {
            "Event": "SparkListenerTaskEnd",
            "Stage ID": 0,
            "Task Metrics": {"Memory Bytes Spilled": 100, "Disk Bytes Spilled": 40},
        },
        {
            "Event": "SparkListenerTaskEnd",
            "Stage ID": 1,
            "Task Metrics": {"Memory Bytes Spilled": 50, "Disk Bytes Spilled": 20},
        },
        {"Event": "SparkListenerTaskEnd", "Stage ID": 1, "Task Metrics": {}},
    ]
    log = tmp_path / "local-1"
    log.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert spilled_bytes(log) == (150, 60)


def test_the_chart_draws_every_engine_and_is_the_same_for_the_same_results(tmp_path):
    from benchmarks import chart

    results = _with_sizes({500_000: 12.0, 5_000_000: 55.0})
    first, second = tmp_path / "a.svg", tmp_path / "b.svg"
    assert chart.write_chart(results, first) and chart.write_chart(results, second)
    assert first.read_bytes() == second.read_bytes()
    svg = first.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert set(chart.series(results)) == {"ours", "naive", "floor", "duckdb"}
    assert chart.series(results)["ours"] == [(500_000, 12.0), (5_000_000, 55.0)]
    results.sizes = []
    assert not chart.write_chart(results, tmp_path / "none.svg")
    assert not (tmp_path / "none.svg").exists()


def test_the_docs_link_the_chart_they_write(tmp_path):
    results = _with_sizes({500_000: 12.0, 5_000_000: 55.0})
    path = tmp_path / "benchmarks.md"
    docs.write_docs(results, path, tmp_path / "results.json")
    assert f"![Rows vs seconds, per engine]({docs.CHART_NAME})" in path.read_text()
    assert (tmp_path / docs.CHART_NAME).stat().st_size > 1000


def test_big_day_adds_twenty_million_rows_to_the_sizes():
    from benchmarks import cli

    assert cli.parse_args(["--big-day"]).sizes == (*cli.DEFAULT_SIZES, 20_000_000)
    assert cli.parse_args(["--sizes", "100000", "--big-day"]).sizes == (100_000, 20_000_000)
    assert cli.parse_args(["--sizes", "20000000", "--big-day"]).sizes == (20_000_000,)


def test_orchestration_runs_on_the_largest_regular_size_not_the_big_day():
    from benchmarks import cli

    assert cli.parse_args(["--big-day"]).orchestration_rows == max(cli.DEFAULT_SIZES)
    assert cli.parse_args(["--sizes", "100000,200000"]).orchestration_rows == 200_000
    assert cli.parse_args(["--big-day", "--orchestration-rows", "7"]).orchestration_rows == 7


def _conf_values(command: list[str]) -> dict[str, str]:
    return dict(command[i + 1].split("=", 1) for i, arg in enumerate(command) if arg == "--conf")


def test_the_trivial_job_is_submitted_like_the_dags_spark_etl_without_the_jvm_archive(
    monkeypatch,
):
    from benchmarks import engines
    from include.ecommerce import jvm_archive, settings

    archive = "-XX:SharedArchiveFile=/archives/driver.jsa"
    monkeypatch.setattr(jvm_archive, "driver_java_options", lambda *_: [archive])
    trivial = engines.trivial_command("hdfs://nn/out")
    ours = engines.ours_command(
        dt.date(2030, 2, 14), "hdfs://nn/in", "hdfs://nn/out", master=engines.DAG_MASTER
    )

    def option(command: list[str], name: str) -> str:
        return command[command.index(name) + 1]

    for name in ("--master", "--driver-memory"):
        assert option(trivial, name) == option(ours, name)
    assert option(trivial, "--master") == "local[*]"
    # The yardstick is a plain PySpark job: the job's --conf, not its class-data archive.
    assert _conf_values(trivial) == dict(settings.SPARK_JOB_CONF)
    assert archive in _conf_values(ours)["spark.driver.extraJavaOptions"]


def test_the_baselines_get_the_jobs_jvm_settings_with_the_archive(monkeypatch, tmp_path):
    from benchmarks import engines
    from include.ecommerce import jvm_archive

    archive = "-XX:SharedArchiveFile=/archives/driver.jsa"
    monkeypatch.setattr(jvm_archive, "driver_java_options", lambda *_: [archive])
    day = dt.date(2030, 1, 1)
    commands = {
        engine: engines.engine_command(
            engine,
            day=day,
            input_uri="hdfs://nn/in",
            output_uri="hdfs://nn/out",
            local_input=tmp_path,
            local_output=tmp_path,
        )
        for engine in ("ours", "naive", "floor")
    }
    java_options = {
        engine: _conf_values(command)["spark.driver.extraJavaOptions"]
        for engine, command in commands.items()
    }
    assert java_options["naive"] == java_options["floor"] == java_options["ours"]
    assert archive in java_options["ours"]


def test_the_fixed_cost_day_is_the_sample_day_re_dated(tmp_path, monkeypatch):
    from benchmarks import fixed_cost

    monkeypatch.setattr(fixed_cost, "DATA_DIR", tmp_path)
    root = fixed_cost.sample_landing_root()
    folder = root / "2030" / "02" / "14"
    sample = (fixed_cost.SAMPLE_FILE / "ecommerce_logs.csv").read_text()
    copy = (folder / "ecommerce_logs.csv").read_text()
    assert copy == sample.replace("2026-02-14", "2030-02-14") and "2026-02-14" not in copy
    assert (folder / "_READY").exists()
    assert fixed_cost.sample_rows(root) == 15


def test_a_load_above_the_core_count_is_not_called_other_work():
    """A Spark run on every core lifts the load above the core count by itself: the note says
    so instead of calling the machine shared."""
    results = BenchResults.from_json(json.loads(RESULTS_V1.read_text()))
    quiet = docs._load_note(results)
    run = results.sizes[0].engines["ours"].runs[0]
    run.load_after = (float(results.machine["nproc"]) + 1.4, *run.load_after[1:])
    busy = docs._load_note(results)
    assert "above the core count" not in quiet
    assert "above the core count, the runs' own JIT and GC threads included" in busy
    assert "shared" not in busy


def test_the_jit_log_is_summed_per_compiler_and_origin():
    from benchmarks.jit_log import by_origin, compilations

    # Two compiler threads' logs as HotSpot writes them: a C1 task carries its level, a C2 task
    # none; an on-stack replacement has a compile_kind; a task that never finished is left out.
    log = """<compilation_log thread='1'>
<task compile_id='1' method='java.lang.String hashCode ()I' bytes='60' count='1024' level='3' stamp='0.028'>
<task_done success='1' nmsize='816' stamp='0.030'/>
<task compile_id='7' compile_kind='osr' method='org.apache.spark.sql.catalyst.expressions.GeneratedClass$GeneratedIteratorForCodegenStage1 processNext ()V' bytes='900' osr_bci='41' level='3' stamp='1.000'>
<task_done success='1' nmsize='4000' stamp='1.250'/>
</compilation_log>
<compilation_log thread='2'>
<task compile_id='19' method='org.codehaus.janino.Parser parsePrimary ()Lorg/codehaus/janino/Java$Atom;' bytes='25' count='24385' stamp='2.000'>
<task_done success='1' nmsize='9000' stamp='2.400'/>
<task compile_id='20' method='java.io.ObjectOutputStream writeObject0 (Ljava/lang/Object;Z)V' bytes='25' stamp='3.000'>
</compilation_log>
""".splitlines()
    found = compilations(log)

    assert [(c.compiler, c.origin) for c in found] == [
        ("C1", "JDK"),
        ("C1", "Spark's generated code"),
        ("C2", "Janino (compiles the generated code)"),
    ]
    totals = by_origin(found)
    assert list(totals) == [  # largest first
        ("C2", "Janino (compiles the generated code)"),
        ("C1", "Spark's generated code"),
        ("C1", "JDK"),
    ]
    assert totals[("C2", "Janino (compiles the generated code)")] == pytest.approx((0.4, 1))
    assert totals[("C1", "JDK")] == pytest.approx((0.002, 1))
