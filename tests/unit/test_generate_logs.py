"""The landing-data generator: contract-shaped, deterministic, realistic enough."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
from decimal import Decimal

from include.data import generate_logs
from spark_jobs import contract

DAY = dt.date(2026, 2, 10)


def read_rows(path) -> list[list[str]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(csv.reader(io.StringIO(raw.decode("utf-8"))))


def test_header_is_the_contract():
    assert ",".join(contract.RAW_COLUMNS) == generate_logs.RAW_HEADER
    assert generate_logs.EVENT_TYPES == contract.EVENT_TYPES


def test_a_day_follows_the_contract(tmp_path):
    (path,) = generate_logs.write_day(DAY, 3000, tmp_path)
    assert path == tmp_path / "2026/02/10/ecommerce_logs.csv"
    header, *rows = read_rows(path)
    assert header == list(contract.RAW_COLUMNS)
    assert len(rows) == 3000
    for timestamp, user_id, session_id, event_type, product, category, price, qty in rows:
        assert dt.datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S").date() == DAY
        assert int(user_id) > 0 and session_id and product and category
        assert event_type in contract.EVENT_TYPES
        assert re.fullmatch(r"\d+\.\d\d", price) and Decimal(price) > 0
        assert int(qty) >= 1
    assert len({row[5] for row in rows}) == len(generate_logs.CATEGORIES) == 7
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)  # time order


def test_sessions_drop_off_along_the_funnel(tmp_path):
    (path,) = generate_logs.write_day(DAY, 5000, tmp_path)
    counts = {stage: 0 for stage in contract.EVENT_TYPES}
    for row in read_rows(path)[1:]:
        counts[row[3]] += 1
    assert counts["view"] > counts["add_to_cart"] > counts["purchase"] > 0


def test_every_purchase_follows_a_view_and_a_cart_of_its_session(tmp_path):
    (path,) = generate_logs.write_day(DAY, 2000, tmp_path)
    seen: dict[tuple[str, str], list[str]] = {}
    for timestamp, _user, session, event_type, product, *_ in read_rows(path)[1:]:
        stages = seen.setdefault((session, product), [])
        if event_type == "purchase":
            assert {"view", "add_to_cart"} <= set(stages), (timestamp, session, product)
        stages.append(event_type)


def test_same_arguments_same_bytes_other_date_other_bytes(tmp_path):
    first = generate_logs.write_day(DAY, 500, tmp_path / "a")[0].read_bytes()
    again = generate_logs.write_day(DAY, 500, tmp_path / "b")[0].read_bytes()
    other = generate_logs.write_day(DAY, 500, tmp_path / "c", seed_extra=1)[0].read_bytes()
    assert first == again != other


def test_several_files_some_gzipped(tmp_path):
    paths = generate_logs.write_day(DAY, 1000, tmp_path, files=3, gzip_files=[False, True, False])
    assert [path.name for path in paths] == [
        "ecommerce_logs-00.csv",
        "ecommerce_logs-01.csv.gz",
        "ecommerce_logs-02.csv",
    ]
    parts = [read_rows(path) for path in paths]
    assert all(part[0] == list(contract.RAW_COLUMNS) for part in parts)
    assert sum(len(part) - 1 for part in parts) == 1000


def test_cli_writes_the_files_and_prints_them(tmp_path, capsys):
    assert generate_logs.main(["--date", "2026-02-11", "--rows", "10", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "2026/02/11/ecommerce_logs.csv")


def test_committed_landing_days_are_what_the_generator_writes(tmp_path):
    landing = generate_logs.Path(__file__).resolve().parents[2] / "include/data/landing"
    for day in (10, 11, 12, 13, 15, 16):
        date = dt.date(2026, 2, day)
        (path,) = generate_logs.write_day(date, 2000, tmp_path)
        committed = landing / f"{date:%Y/%m/%d}/ecommerce_logs.csv"
        assert committed.read_bytes() == path.read_bytes(), committed
