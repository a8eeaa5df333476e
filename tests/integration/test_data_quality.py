"""Bad data never gets lost: every bad-input class through the real job, on real files.

Row-level classes share one input (a file per class would cost a spark-submit each), and each
class is asserted on its own: its rows in ``rejected`` with their reason, its count in
quality.json. File-level classes need a run each, since the first bad file stops the job.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from spark_jobs import contract, handover
from tests.integration.test_etl_job import assert_succeeded, read_table, run_job

pytestmark = pytest.mark.integration

DATE = dt.date(2026, 2, 14)
HEADER = ",".join(contract.RAW_COLUMNS)

VALID = [
    "2026-02-14 10:00:00,1,s1,view,p1,books,10.00,1",  # g1
    "2026-02-14 10:01:00,1,s1,add_to_cart,p1,books,10.00,2",  # g2
    "2026-02-14 10:02:00,1,s1,purchase,p1,books,10.00,2",  # g3: after g1, g2 -> has a prior
    '2026-02-14 11:00:00,2,s2,purchase,p2,toys,"5.50",1',  # g6: no prior event -> counted
    "2026-02-14 11:05:00,2,s2,view,p2,toys,5.50,1",  # g7: a view after the purchase
    '2026-02-14 12:00:00,3,"s,3",view,p3,home,1.00,1',  # g8: quoted comma
]
DUPLICATES = [
    "2026-02-14 10:00:00,1,s1,view,p1,books,10.00,1",  # g1 again, byte for byte
    "2026-02-14 10:00:00,1,s1,view,p1,books,10.0,1",  # g1 again, price spelled differently
]
# (line, reason): each line breaks one rule; the last one breaks two (precedence).
REJECTED = [
    ("2026-02-14 10:00:00,1,s1,view,p1,books,10.00", contract.REJECT_WRONG_FIELD_COUNT),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,10.00,1,x", contract.REJECT_WRONG_FIELD_COUNT),
    ("2026-02-14 10:00:00,,s1,view,p1,books,10.00,1", contract.REJECT_MISSING_FIELD),
    ("2026-02-14 10:00:00,1,s1,view,p1,  ,10.00,1", contract.REJECT_MISSING_FIELD),
    ("2026-02-14T10:00:00,1,s1,view,p1,books,10.00,1", contract.REJECT_UNPARSEABLE_TIMESTAMP),
    ("2026-02-13 23:59:59,1,s1,view,p1,books,10.00,1", contract.REJECT_TIMESTAMP_OUTSIDE_PARTITION),
    ("2026-02-14 10:00:00,1,s1,click,p1,books,10.00,1", contract.REJECT_UNKNOWN_EVENT_TYPE),
    ("2026-02-14 10:00:00,abc,s1,view,p1,books,10.00,1", contract.REJECT_INVALID_USER_ID),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,-5.00,1", contract.REJECT_INVALID_PRICE),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,abc,1", contract.REJECT_INVALID_PRICE),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,9.999,1", contract.REJECT_INVALID_PRICE),
]
REJECTED_GZIPPED = [
    ("2026-02-14 10:00:00,1,s1,view,p1,books,10.00,0", contract.REJECT_INVALID_QUANTITY),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,10.00,", contract.REJECT_INVALID_QUANTITY),
    ("2026-02-14 10:00:00,1,s1,view,p1,books,10.00,1.5", contract.REJECT_INVALID_QUANTITY),
    ("14/02/2026 10:00,1,s1,view,p1,books,-1,1", contract.REJECT_UNPARSEABLE_TIMESTAMP),
]


def write_mixed_day(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, *VALID[:3], *DUPLICATES, *(line for line, _ in REJECTED), *VALID[3:]]
    (folder / "mixed.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    gzipped = "\n".join([HEADER, *(line for line, _ in REJECTED_GZIPPED)]) + "\n"
    (folder / "more.csv.gz").write_bytes(gzip.compress(gzipped.encode("utf-8")))


def read_quality_json(partition: Path) -> dict:
    return json.loads((partition / contract.QUALITY_JSON).read_text())


@pytest.fixture(scope="module")
def mixed_day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed day, published (threshold 1.0) so every table can be checked."""
    root = tmp_path_factory.mktemp("mixed")
    write_mixed_day(root / "raw")
    partition = root / "processed/2026/02/14"
    run = run_job(DATE, (root / "raw").as_uri(), partition.as_uri(), "--max-reject-ratio", "1")
    assert_succeeded(run)
    return partition


def test_every_row_is_valid_rejected_or_a_dropped_duplicate(mixed_day):
    quality = read_quality_json(mixed_day)
    # 6 valid + 2 duplicates + 11 + 4 rejected = 23 data rows in the two files.
    assert quality[contract.QUALITY_ROWS_READ] == 23
    assert quality[contract.QUALITY_ROWS_VALID] == len(VALID) == 6
    assert quality[contract.QUALITY_DUPLICATES_DROPPED] == len(DUPLICATES) == 2
    assert quality[contract.QUALITY_ROWS_REJECTED] == 15
    assert quality[contract.QUALITY_REJECT_RATIO] == pytest.approx(15 / 23)
    assert quality[contract.QUALITY_PUBLISHED] is True
    assert quality[contract.QUALITY_MAX_REJECT_RATIO] == 1.0


@pytest.mark.parametrize("reason", contract.REJECT_REASONS)
def test_each_reason_rejects_its_rows_with_the_original_line(mixed_day, reason):
    expected = sorted(line for line, why in REJECTED + REJECTED_GZIPPED if why == reason)
    rejected = read_table(mixed_day, contract.REJECTED.name).to_pylist()
    assert sorted(row["raw_record"] for row in rejected if row["reason"] == reason) == expected
    assert read_quality_json(mixed_day)[contract.QUALITY_REJECTED_BY_REASON][reason] == len(
        expected
    )


def test_rejected_rows_name_their_file(mixed_day):
    rejected = read_table(mixed_day, contract.REJECTED.name).to_pylist()
    files = {row["raw_record"]: row["source_file"] for row in rejected}
    assert files[REJECTED[0][0]].endswith("/raw/mixed.csv")
    assert files[REJECTED_GZIPPED[0][0]].endswith("/raw/more.csv.gz")
    assert read_table(mixed_day, contract.REJECTED.name).schema.names == list(
        contract.REJECTED.column_names
    )


def test_quality_counts_nulls_orphan_purchases_and_negative_revenue(mixed_day):
    quality = read_quality_json(mixed_day)
    # user_id: the empty one; category: the blank one; quantity: the short line and the empty one
    assert quality[contract.QUALITY_NULL_COUNTS] == {
        **dict.fromkeys(contract.RAW_COLUMNS, 0),
        "user_id": 1,
        "category": 1,
        "quantity": 2,
    }
    assert quality[contract.QUALITY_PURCHASES_WITHOUT_PRIOR_EVENT] == 1  # g6
    assert quality[contract.QUALITY_NEGATIVE_REVENUE] == 0


def test_quality_table_holds_the_json_values(mixed_day):
    (row,) = read_table(mixed_day, contract.QUALITY.name).to_pylist()
    quality = read_quality_json(mixed_day)
    assert list(row) == list(quality) == list(contract.QUALITY_FIELDS)
    assert row[contract.QUALITY_PARTITION_DATE] == DATE
    assert dict(row[contract.QUALITY_REJECTED_BY_REASON]) == quality["rejected_by_reason"]
    assert dict(row[contract.QUALITY_NULL_COUNTS]) == quality["null_counts"]
    for field in ("rows_read", "rows_valid", "rows_rejected", "duplicates_dropped"):
        assert row[field] == quality[field]


def test_tables_count_only_valid_rows_once(mixed_day):
    funnel = read_table(mixed_day, contract.FUNNEL.name).to_pylist()
    # views g1, g7, g8 (g1's two duplicates dropped); cart g2; purchases g3, g6
    assert [row["count"] for row in funnel] == [3, 1, 2]
    assert (mixed_day / contract.SUCCESS_MARKER).exists()


def test_above_the_threshold_nothing_is_published_and_the_attempt_keeps_the_rejects(tmp_path):
    write_mixed_day(tmp_path / "raw")
    partition = tmp_path / "processed/2026/02/14"

    run = run_job(DATE, (tmp_path / "raw").as_uri(), partition.as_uri())  # default 0.05

    assert run.returncode == contract.JOB_EXIT_TOO_MANY_REJECTS, run.stderr[-3000:]
    (line,) = run.error_lines
    assert line == run.last_line
    assert "15 of 23 rows rejected: reject_ratio 0.6522 > max_reject_ratio 0.05" in line
    assert "invalid_price 3, invalid_quantity 3, missing_field 2" in line
    assert not partition.exists()  # a refused attempt never takes the partition's place
    attempt = Path(
        line.rsplit("rejected rows and quality of this attempt: ", 1)[1].removeprefix("file://")
    )
    assert attempt.parent == partition.parent / f"{handover.ATTEMPTS_PREFIX}14"
    assert sorted(p.name for p in attempt.iterdir() if not p.name.startswith(".")) == [
        contract.QUALITY.name,
        contract.QUALITY_JSON,
        contract.REJECTED.name,
    ]
    quality = read_quality_json(attempt)
    assert quality[contract.QUALITY_PUBLISHED] is False
    assert quality[contract.QUALITY_ROWS_REJECTED] == 15
    assert len(read_table(attempt, contract.REJECTED.name)) == 15


# --- File-level problems: exit 2, one line naming the file -----------------------------------------

GOOD_ROW = "2026-02-14 09:00:15,101,s1001,view,p001,electronics,299.99,1"


def big_gzip(rows: int) -> bytes:
    """Varied rows, so the compressed stream is long enough to cut in the middle."""
    lines = [HEADER] + [
        f"2026-02-14 09:{n // 60 % 60:02d}:{n % 60:02d},{n},s{n},view,p{n % 997},books,{n}.99,1"
        for n in range(rows)
    ]
    return gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))


def make_bad_file(folder: Path, case: str) -> tuple[Path, str]:
    """A raw partition with one good file and one bad file; (bad file, expected problem)."""
    folder.mkdir(parents=True)
    (folder / "a_good.csv").write_text(f"{HEADER}\n{GOOD_ROW}\n")
    if case == "semicolon_delimiter":
        bad = folder / "b.csv"
        bad.write_text(f"{HEADER.replace(',', ';')}\n{GOOD_ROW.replace(',', ';')}\n")
        return bad, "fields are separated by ';', expected ','"
    if case == "tab_delimiter":
        bad = folder / "b.csv"
        bad.write_text(f"{HEADER.replace(',', chr(9))}\n{GOOD_ROW.replace(',', chr(9))}\n")
        return bad, "fields are separated by a tab, expected ','"
    if case == "not_utf8":
        bad = folder / "b.csv"
        latin1 = GOOD_ROW.replace("electronics", "électronique").encode("latin-1")
        bad.write_bytes(f"{HEADER}\n{GOOD_ROW}\n".encode() + latin1 + b"\n")
        return bad, "bytes that are not UTF-8"
    if case == "truncated_gzip":
        bad = folder / "b.csv.gz"
        data = big_gzip(50_000)
        bad.write_bytes(data[: len(data) // 2])
        return bad, "truncated or corrupt compressed file"
    raise ValueError(case)


@pytest.mark.parametrize(
    "case", ["semicolon_delimiter", "tab_delimiter", "not_utf8", "truncated_gzip"]
)
def test_file_level_problems_exit_2_naming_the_file(case, tmp_path):
    bad_file, problem = make_bad_file(tmp_path / "raw", case)
    partition = tmp_path / "processed/2026/02/14"

    run = run_job(DATE, (tmp_path / "raw").as_uri(), partition.as_uri())

    assert run.returncode == contract.JOB_EXIT_INPUT_ERROR, run.stderr[-3000:]
    (line,) = run.error_lines
    assert line == run.last_line
    assert str(bad_file) in line
    assert problem in line
    assert not partition.exists()  # nothing published, not even quality
