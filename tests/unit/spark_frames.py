"""Small frames for the transform tests, built the way the job builds them."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DATE = dt.date(2026, 2, 14)
SAMPLE_CSV = PROJECT_ROOT / "include/data/landing/2026/02/14/ecommerce_logs.csv"


def sample_rows() -> list[list[str]]:
    """The 15 data rows of the sample day, as strings."""
    with SAMPLE_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


SOURCE_FILE = "file:/landing/2026/02/14/test.csv"


def raw_frame(spark, rows: Sequence[Sequence[str | None]]):
    """Raw rows as the reader yields them: eight STRING fields (None = empty), the reader's
    corrupt-record column (a ninth item, when given: the row was malformed) and the file."""
    from spark_jobs import transforms

    padded = [(*row[:8], row[8] if len(row) > 8 else None, SOURCE_FILE) for row in rows]
    schema = transforms.raw_schema().add(transforms.SOURCE_FILE, "string")
    return spark.createDataFrame(padded, schema)


def classified_frame(spark, rows: Sequence[Sequence[str | None]], partition_date=SAMPLE_DATE):
    from spark_jobs import transforms

    return transforms.classify_rows(raw_frame(spark, rows), partition_date)


def validated_frame(spark, rows: Sequence[Sequence[str | None]], partition_date=SAMPLE_DATE):
    """Raw rows classified and deduplicated, as the job's outputs are computed from."""
    from spark_jobs import transforms

    return transforms.validate(raw_frame(spark, rows), partition_date, partitions=2)


def events_frame(spark, rows: Sequence[Sequence[str | None]], partition_date=SAMPLE_DATE):
    """Clean events from raw rows, through the job's own validation and deduplication."""
    from spark_jobs import transforms

    return transforms.clean_events(validated_frame(spark, rows, partition_date))


def aggregates_of(spark, rows: Sequence[Sequence[str | None]], partition_date=SAMPLE_DATE):
    """The summaries every table is built from (``transforms.aggregate``), from raw rows, with
    the day's categories collected as the job does (the users' categories as bit masks)."""
    from spark_jobs import ecommerce_etl, transforms

    events = events_frame(spark, rows, partition_date)
    return transforms.aggregate(events, categories_of=ecommerce_etl.collect_categories)


def rows_of(frame, table_name: str | None = None) -> list[dict]:
    """A frame's rows as plain dicts; in the order the job writes them when ``table_name``."""
    from spark_jobs import contract, transforms

    if table_name is not None:
        frame = transforms.for_writing(frame, contract.TABLES[table_name])
    return [row.asDict(recursive=True) for row in frame.collect()]
