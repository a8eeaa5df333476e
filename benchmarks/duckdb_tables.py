"""The four tables with DuckDB, from the same CSV (a local copy), to Parquet: the yardstick of
what one machine can do without a JVM or a cluster.

    python -m benchmarks.duckdb_tables --date 2026-02-14 --input DIR --output DIR

Reads every ``*.csv`` / ``*.csv.gz`` of ``--input`` with the contract's types, keeps the rows
the job keeps (the partition's date, a known event type, price >= 0, quantity >= 1, no nulls),
and writes ``<output>/<table>/data.parquet`` with the contract's column names and types.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spark_jobs import contract

RAW_TYPES = {
    "timestamp": "TIMESTAMP",
    "user_id": "BIGINT",
    "session_id": "VARCHAR",
    "event_type": "VARCHAR",
    "product_id": "VARCHAR",
    "category": "VARCHAR",
    "price": contract.PRICE_TYPE,
    "quantity": "INTEGER",
}

REVENUE = f"CASE WHEN event_type = '{contract.PURCHASE_EVENT}' THEN price * quantity ELSE 0 END"

TABLE_SQL: dict[str, str] = {
    contract.CATEGORY_STATS.name: f"""
        SELECT category,
               count(*)::BIGINT AS total_events,
               count(DISTINCT user_id)::BIGINT AS unique_users,
               sum({REVENUE})::{contract.MONEY_TYPE} AS total_revenue,
               count(*) FILTER (WHERE event_type = '{contract.PURCHASE_EVENT}')::BIGINT
                   AS purchases
        FROM events GROUP BY category ORDER BY category""",
    contract.HOURLY_ACTIVITY.name: """
        SELECT hour(event_time)::INTEGER AS hour,
               count(*)::BIGINT AS events,
               count(DISTINCT user_id)::BIGINT AS active_users
        FROM events GROUP BY 1 ORDER BY 1""",
    contract.FUNNEL.name: """
        SELECT s.event_type, count(e.event_type)::BIGINT AS count
        FROM stages s LEFT JOIN events e USING (event_type)
        GROUP BY s.event_type, s.stage_order ORDER BY s.stage_order""",
    contract.USER_BEHAVIOR.name: f"""
        SELECT user_id,
               count(*)::BIGINT AS total_events,
               count(DISTINCT session_id)::BIGINT AS sessions,
               sum({REVENUE})::{contract.MONEY_TYPE} AS total_spent,
               list_sort(list(DISTINCT category)) AS categories_viewed
        FROM events GROUP BY user_id ORDER BY user_id""",
}
"""One query per core table (``contract.CORE_TABLES``: what the benchmark compares); a unit
test checks the keys against the declarations."""


def input_files(folder: Path) -> list[str]:
    files = sorted(
        str(path)
        for pattern in contract.RAW_FILE_GLOBS
        for path in folder.glob(pattern)
        if not path.name.startswith((".", "_"))
    )
    if not files:
        raise SystemExit(f"error: {folder}: no input files")
    return files


def load_events(connection, files: list[str], partition_date: dt.date) -> None:
    """Parse the CSV once into an in-memory table ``events`` (and the ``stages`` lookup)."""
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in RAW_TYPES.items())
    events_in_order = ", ".join(f"({n}, '{stage}')" for n, stage in enumerate(contract.EVENT_TYPES))
    connection.execute(
        f"""
        CREATE TABLE events AS
        SELECT "timestamp" AS event_time, user_id, session_id, event_type, product_id, category,
               price, quantity
        FROM read_csv(?, header = true, columns = {{{columns}}},
                      timestampformat = '%Y-%m-%d %H:%M:%S')
        WHERE "timestamp"::DATE = ?::DATE
          AND event_type IN (SELECT unnest(?))
          AND price >= 0 AND quantity >= 1
          AND user_id IS NOT NULL AND session_id IS NOT NULL AND product_id IS NOT NULL
          AND category IS NOT NULL
        """,
        [files, partition_date.isoformat(), list(contract.EVENT_TYPES)],
    )
    connection.execute(
        f"CREATE TABLE stages AS SELECT * FROM (VALUES {events_in_order}) t(stage_order, event_type)"
    )


def write_tables(connection, output: Path) -> None:
    for name, sql in TABLE_SQL.items():
        folder = output / name
        folder.mkdir(parents=True, exist_ok=True)
        target = str(folder / "data.parquet").replace("'", "''")
        connection.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet)")


def main(argv: Sequence[str] | None = None) -> int:
    import duckdb

    parser = argparse.ArgumentParser(prog="python -m benchmarks.duckdb_tables")
    parser.add_argument("--date", required=True, type=dt.date.fromisoformat)
    parser.add_argument("--input", required=True, type=Path, help="local raw partition folder")
    parser.add_argument("--output", required=True, type=Path, help="local folder for the tables")
    args = parser.parse_args(argv)
    connection = duckdb.connect()
    load_events(connection, input_files(args.input), args.date)
    write_tables(connection, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
