"""Row-level validation (transforms.classify_rows and friends) on hand-made raw rows.

A property test adds generated mixes of good and bad rows: nothing is lost, and each bad row
gets the reason of the one rule it breaks.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spark_jobs import contract, ecommerce_etl, plan, quality, transforms
from tests.unit.spark_frames import (
    SOURCE_FILE,
    aggregates_of,
    classified_frame,
    events_frame,
    rows_of,
    validated_frame,
)

SPARK_PROPERTY = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Hypothesis settings of the property tests: each example runs Spark jobs (no deadline) on the
session-wide ``spark`` fixture."""

GOOD = ["2026-02-14 10:00:00", "7", "s1", "view", "p1", "books", "10.00", "1"]


def with_field(column: str, value: str | None) -> list[str | None]:
    row: list[str | None] = list(GOOD)
    row[contract.RAW_COLUMNS.index(column)] = value
    return row


# (row, expected reason); each breaks exactly one rule unless its comment says otherwise.
CASES = [
    (GOOD, None),
    ([*GOOD[:7], None, "2026-02-14 10:00:00,7,s1,view,p1,books,10.00"], "wrong_field_count"),
    (with_field("session_id", None), "missing_field"),
    (with_field("category", "   "), "missing_field"),
    (with_field("price", ""), "missing_field"),  # a missing price is a missing field...
    (with_field("quantity", None), "invalid_quantity"),  # ...a missing quantity its own reason
    (with_field("timestamp", "2026-02-14 10:00"), "unparseable_timestamp"),
    (with_field("timestamp", "2026-02-30 10:00:00"), "unparseable_timestamp"),
    (with_field("timestamp", "2026-02-14 9:00:00"), "unparseable_timestamp"),
    (with_field("timestamp", "2026-02-15 00:00:00"), "timestamp_outside_partition"),
    (with_field("event_type", "View"), "unknown_event_type"),
    (with_field("user_id", "7.5"), "invalid_user_id"),
    (with_field("user_id", "99999999999999999999"), "invalid_user_id"),
    (with_field("price", "-0.01"), "invalid_price"),
    (with_field("price", "1.005"), "invalid_price"),  # would round: not exact
    (with_field("price", "12345678901.00"), "invalid_price"),  # does not fit DECIMAL(12,2)
    (with_field("price", "NaN"), "invalid_price"),
    (with_field("quantity", "0"), "invalid_quantity"),
    (with_field("quantity", "2.0"), "invalid_quantity"),
    # Two broken rules: the earlier reason in contract.REJECT_REASONS wins.
    ([*with_field("timestamp", "nope")[:6], "abc", "0"], "unparseable_timestamp"),
    ([*with_field("user_id", "")[:7], "x"], "missing_field"),
]


def test_reasons_cover_every_contract_reason():
    assert {reason for _, reason in CASES} - {None} == set(contract.REJECT_REASONS)


def test_each_row_gets_its_reason(spark):
    classified = rows_of(classified_frame(spark, [row for row, _ in CASES]))
    assert [row[transforms.REASON] for row in classified] == [reason for _, reason in CASES]


def test_rejected_rows_keep_line_and_file_valid_rows_keep_types(spark):
    good, short, missing = rows_of(classified_frame(spark, [row for row, _ in CASES[:3]]))
    assert good[transforms.RAW_RECORD] is None and good[transforms.SOURCE_FILE] is None
    assert good["event_time"] == dt.datetime(2026, 2, 14, 10, 0)
    assert short[transforms.RAW_RECORD] == "2026-02-14 10:00:00,7,s1,view,p1,books,10.00"
    assert short[transforms.SOURCE_FILE] == SOURCE_FILE
    assert missing[transforms.RAW_RECORD] == "2026-02-14 10:00:00,7,,view,p1,books,10.00,1"
    # bit 2 = session_id (contract.RAW_COLUMNS order)
    assert missing[transforms.MISSING_MASK] == 1 << 2


def test_fields_that_need_quotes_are_quoted_back(spark):
    row = with_field("session_id", 's,"1"')
    row[7] = "0"  # invalid quantity, so the row is rejected and its line rebuilt
    (rejected,) = rows_of(transforms.rejected_rows(validated_frame(spark, [row])))
    assert rejected["raw_record"] == '2026-02-14 10:00:00,7,"s,""1""",view,p1,books,10.00,0'


def test_replacement_character_marks_the_row_not_utf8(spark):
    (row,) = rows_of(classified_frame(spark, [with_field("category", "bo\ufffdks")]))
    assert row[transforms.REASON] == transforms.NOT_UTF8


def test_duplicates_merge_into_one_event_with_copies(spark):
    rows = [GOOD, GOOD, with_field("price", "10.0"), with_field("quantity", "2")]
    events = rows_of(events_frame(spark, rows).orderBy("quantity"))
    # GOOD x 2 and its "10.0" spelling are one event (3 copies); quantity 2 is another event
    assert [(e["quantity"], e[transforms.COPIES]) for e in events] == [(1, 3), (2, 1)]


def test_event_checks_count_orphan_purchases(spark):
    rows = [
        # user 1, s1: view 10:00, purchase 10:05 -> has a prior event
        ["2026-02-14 10:00:00", "1", "s1", "view", "p1", "books", "1.00", "1"],
        ["2026-02-14 10:05:00", "1", "s1", "purchase", "p1", "books", "1.00", "1"],
        # user 1, s2: purchase 11:00, then a view at 11:01 -> no prior: 1
        ["2026-02-14 11:00:00", "1", "s2", "purchase", "p1", "books", "1.00", "1"],
        ["2026-02-14 11:01:00", "1", "s2", "view", "p1", "books", "1.00", "1"],
        # user 2, s1 (same session id, other user): purchase alone -> 1; twice in the file -> 1 dup
        ["2026-02-14 12:00:00", "2", "s1", "purchase", "p2", "toys", "3.00", "2"],
        ["2026-02-14 12:00:00", "2", "s1", "purchase", "p2", "toys", "3.00", "2"],
        # user 3: cart and purchase in the same second -> the cart counts as prior
        ["2026-02-14 13:00:00", "3", "s3", "add_to_cart", "p3", "home", "5.00", "1"],
        ["2026-02-14 13:00:00", "3", "s3", "purchase", "p3", "home", "5.00", "1"],
        # user 4: purchase 14:00, view 14:05, purchase 14:10 -> 1 (the session bounds cannot
        # tell: counted exactly by transforms.ambiguous_orphan_purchases)
        ["2026-02-14 14:00:00", "4", "s4", "purchase", "p4", "home", "5.00", "1"],
        ["2026-02-14 14:05:00", "4", "s4", "view", "p4", "home", "5.00", "1"],
        ["2026-02-14 14:10:00", "4", "s4", "purchase", "p4", "home", "5.00", "1"],
    ]
    aggregates = aggregates_of(spark, rows)
    (checks,) = rows_of(transforms.session_checks(aggregates))
    assert checks[transforms.AMBIGUOUS_SESSIONS] == 1
    assert ecommerce_etl.event_checks(aggregates) == {
        contract.QUALITY_ROWS_VALID: 10,
        contract.QUALITY_DUPLICATES_DROPPED: 1,
        contract.QUALITY_NEGATIVE_REVENUE: 0,
        contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT: 3,
    }


def orphan_purchases(rows: list[list[str]]) -> int:
    """Plain Python: purchases with no other event of the same (user, session) at or before."""
    distinct = {tuple(row) for row in rows}
    first_other: dict[tuple[str, str], str] = {}
    for time, user, session, event_type, *_ in distinct:
        if event_type != "purchase":
            key = (user, session)
            first_other[key] = min(first_other.get(key, time), time)
    return sum(
        1
        for time, user, session, event_type, *_ in distinct
        if event_type == "purchase" and not (first_other.get((user, session), "~") <= time)
    )


@st.composite
def session_days(draw) -> list[list[str]]:
    """Events of a few users and sessions at a few distinct seconds, any order of types."""
    events = st.tuples(
        st.integers(0, 5),  # second
        st.sampled_from(["1", "2"]),  # user
        st.sampled_from(["s1", "s2"]),  # session
        st.sampled_from(contract.EVENT_TYPES),
        st.sampled_from(["p1", "p2"]),
    )
    return [
        [f"2026-02-14 10:00:0{second}", user, session, event_type, product, "books", "1.00", "1"]
        for second, user, session, event_type, product in draw(st.lists(events, max_size=14))
    ]


@settings(SPARK_PROPERTY, max_examples=30)
@given(session_days())
def test_property_orphan_purchases_match_a_plain_count(spark, rows):
    assert ecommerce_etl.event_checks(aggregates_of(spark, rows))[
        contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT
    ] == orphan_purchases(rows)


def test_row_counts_and_summary_of_the_cases(spark):
    validated = validated_frame(spark, [row for row, _ in CASES])
    reason_rows = [row.asDict() for row in transforms.row_counts(validated).collect()]
    totals = ecommerce_etl.event_checks(transforms.aggregate(transforms.clean_events(validated)))
    summary = quality.summarize(dt.date(2026, 2, 14), reason_rows, totals, 0.05)
    assert summary["rows_read"] == len(CASES) == 21
    assert summary["rows_valid"] == 1
    assert summary["rows_rejected"] == 20
    assert summary["rejected_by_reason"]["invalid_price"] == 4
    # session_id None, category blank, price "", quantity None, user_id "" (and the short line's
    # missing quantity): one each, quantity twice
    assert summary["null_counts"] == {
        "timestamp": 0,
        "user_id": 1,
        "session_id": 1,
        "event_type": 0,
        "product_id": 0,
        "category": 1,
        "price": 1,
        "quantity": 2,
    }


# --- Property: generated mixes of good and bad rows ------------------------------------------------

BAD_VALUES: dict[str, tuple[str, list[str | None]]] = {
    # reason: (column to break, values that break only that rule)
    "missing_field": ("product_id", [None, "", " "]),
    "unparseable_timestamp": ("timestamp", ["2026/02/14 10:00:00", "yesterday", "2026-02-14"]),
    "timestamp_outside_partition": ("timestamp", ["2026-02-13 23:59:59", "2027-02-14 10:00:00"]),
    "unknown_event_type": ("event_type", ["click", "PURCHASE", "view "]),
    "invalid_user_id": ("user_id", ["u7", "1e3", "0x10"]),
    "invalid_price": ("price", ["-1", "ten", "0.001"]),
    "invalid_quantity": ("quantity", ["0", "-1", "one", ""]),
}

good_rows = st.builds(
    lambda second, user, session, event, product, category, cents, quantity: [
        f"2026-02-14 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}",
        str(user),
        f"s{session}",
        event,
        f"p{product}",
        category,
        f"{cents // 100}.{cents % 100:02d}",
        str(quantity),
    ],
    st.integers(0, 86_399),
    st.integers(1, 50),
    st.integers(1, 5),
    st.sampled_from(contract.EVENT_TYPES),
    st.integers(1, 9),
    st.sampled_from(["books", "toys", "home"]),
    st.integers(0, 10**6),
    st.integers(1, 5),
)


@st.composite
def bad_rows(draw) -> tuple[list[str | None], str]:
    row = list(draw(good_rows))
    reason = draw(st.sampled_from([*BAD_VALUES, "wrong_field_count"]))
    if reason == "wrong_field_count":
        line = ",".join(value or "" for value in row)
        return [*row[:7], None, line[: line.rindex(",")]], reason
    column, values = BAD_VALUES[reason]
    row[contract.RAW_COLUMNS.index(column)] = draw(st.sampled_from(values))
    return row, reason


@st.composite
def mixed_days(draw) -> tuple[list[list[str | None]], list[str | None], int]:
    """(rows, expected reason per row, expected duplicates dropped)."""
    good = draw(st.lists(good_rows, max_size=12, unique_by=lambda row: tuple(row[:6])))
    repeats = draw(st.lists(st.sampled_from(good), max_size=4)) if good else []
    bad = draw(st.lists(bad_rows(), max_size=12))
    rows = [(row, None) for row in good + repeats] + bad
    order = draw(st.permutations(range(len(rows))))
    shuffled = [rows[i] for i in order]
    return [row for row, _ in shuffled], [reason for _, reason in shuffled], len(repeats)


@settings(SPARK_PROPERTY, max_examples=25)
@given(mixed_days())
def test_property_nothing_lost_and_each_bad_row_gets_its_reason(spark, day):
    rows, reasons, duplicates = day
    classified = classified_frame(spark, rows).cache()
    try:
        assert [row[transforms.REASON] for row in rows_of(classified)] == reasons
        validated = transforms.deduplicate(classified, partitions=2)
        reason_rows = [row.asDict() for row in transforms.row_counts(validated).collect()]
        aggregates = transforms.aggregate(transforms.clean_events(validated))
        totals = ecommerce_etl.event_checks(aggregates)
        summary = quality.summarize(dt.date(2026, 2, 14), reason_rows, totals, 0.05)
    finally:
        classified.unpersist()
    assert summary["rows_read"] == len(rows)
    assert summary["rows_read"] == (
        summary["rows_valid"] + summary["rows_rejected"] + summary["duplicates_dropped"]
    )
    assert summary["duplicates_dropped"] == duplicates
    for reason in contract.REJECT_REASONS:
        assert summary["rejected_by_reason"][reason] == reasons.count(reason)


@pytest.mark.parametrize("column", contract.RAW_COLUMNS)
def test_raw_schema_is_all_strings_plus_the_corrupt_record(spark, column):
    # StructType.fromDDL parses through the JVM: it needs a session, which only the tests
    # before this one used to provide (alone, e.g. with -k, it failed).
    schema = transforms.raw_schema()
    assert schema[column].dataType.simpleString() == "string"
    assert schema.names[-1] == transforms.CORRUPT_RECORD


AWKWARD_TIMESTAMPS = [
    "2026-02-14 10:00:00",
    "0000-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "2024-02-29 12:00:00",
    "2026-02-29 12:00:00",
    "2026-02-14 24:00:00",
    "2026-02-14 23:60:00",
    "2026-02-14 23:59:60",
    "+026-02-14 10:00:00",
    "-026-02-14 10:00:00",
    " 2026-02-14 10:00:00",
    "2026-02-14 10:00:00 ",
    "2026-02-14T10:00:00",
    "2026-02-14 10:00:00Z",
    "2026-02-14 10:00:0Z",
    "2026-02-14 10:0Z:00",
    "2026-02-14 10:00:00.5",
    "12026-02-14 10:00:00",
    "２０２６-02-14 10:00:00",
    "2026-02-14\t10:00:00",
    "2026-2-14 10:00:000",
    "2026-02-1410:00:00 ",
    "",
    None,
]


def test_timestamp_reading_is_the_formats_reading(spark):
    """transforms.parse_timestamp (shape check, then Spark's cast) reads every spelling as
    try_to_timestamp with contract.TIMESTAMP_FORMAT does: the same instant or NULL alike."""
    from pyspark.sql import functions as F

    frame = spark.createDataFrame([(t,) for t in AWKWARD_TIMESTAMPS], "text STRING")
    rows = frame.select(
        "text",
        # as text: Python's datetime has no year 0
        transforms.parse_timestamp(F.col("text")).cast("STRING").alias("ours"),
        F.try_to_timestamp("text", F.lit(contract.TIMESTAMP_FORMAT)).cast("STRING").alias("format"),
    ).collect()
    assert len(rows) == len(AWKWARD_TIMESTAMPS)
    assert [(r.text, r.ours) for r in rows] == [(r.text, r.format) for r in rows]
    assert sum(r.ours is not None for r in rows) >= 4  # the valid ones are read, not all NULL


JIT_HUGE_METHOD_BYTES = 8000
"""HotSpot compiles no method of more than 8000 bytes of bytecode (``DontCompileHugeMethods``,
on by default): such a method runs interpreted, however hot."""


def test_the_one_pass_code_stays_small_enough_to_be_compiled(spark):
    """Spark generates one Java method for the reading and classifying of every row (the stage
    before the merge's shuffle): at 7389 bytes of bytecode it sits just under the JIT's limit.
    A blank-field check that avoided trim's copy grew it to 9664 bytes, and a 5M-row day then
    took 25 % more CPU (docs/benchmarks-per-row.md, "Fifth pass"): a change to
    classify_rows must keep this method compiled."""
    import re

    from tests.unit.spark_frames import SAMPLE_CSV, SAMPLE_DATE

    raw = ecommerce_etl.read_raw(spark, [SAMPLE_CSV.resolve().as_uri()])
    validated = transforms.validate(raw, SAMPLE_DATE, partitions=2)
    # As the job runs the pass: without adaptive execution, so the stages are planned up front.
    with ecommerce_etl.session_settings(spark, plan.ONE_PASS_CONF):
        explained = spark._jvm.PythonSQLUtils.explainString(
            validated._jdf.queryExecution(), "codegen"
        )
    sizes = [int(size) for size in re.findall(r"maxMethodCodeSize:(\d+)", explained)]
    assert sizes, explained[:2000]
    assert max(sizes) < JIT_HUGE_METHOD_BYTES
