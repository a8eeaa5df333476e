"""Deterministic generator of a day of e-commerce logs that follows the data contract.

Why it exists: tests, backfills and the benchmark need days that look like real traffic (sessions
that go view -> add_to_cart -> purchase and drop off on the way, a daily rhythm, a stable product
catalogue) at any size, and the same bytes every time for the same arguments.

    python -m include.data.generate_logs --date 2026-02-10 --rows 2000 --out include/data/landing
    python -m include.data.generate_logs --date 2026-02-10 --rows 5000000 --files 4 --gzip ...

Writes ``<out>/YYYY/MM/DD/ecommerce_logs.csv`` (one file) or ``ecommerce_logs-NN.csv`` (several),
``.csv.gz`` with ``--gzip``, then the day's ``_READY`` marker, as a collector does (see
``include/ecommerce/landing.py``). Everything random is drawn with numpy from a seed made of the date
(and ``--seed-extra``), so a day never changes; rows are built in chunks from lookup tables, which
keeps 5M rows (~400 MB) well under a minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RAW_HEADER = "timestamp,user_id,session_id,event_type,product_id,category,price,quantity"
"""The contract's header (spark_jobs.contract.RAW_COLUMNS; spelled out to keep this module free
of the job's package, and checked against it by the unit tests)."""

READY_MARKER = "_READY"
"""Says the day is complete (include.ecommerce.landing.READY_MARKER; checked by the unit tests)."""

EVENT_TYPES = ("view", "add_to_cart", "purchase")

# Category -> (products in the catalogue, cheapest and dearest price in cents, share of sessions).
CATEGORIES: dict[str, tuple[int, int, int, float]] = {
    "electronics": (120, 1_999, 199_999, 0.20),
    "clothing": (200, 999, 19_999, 0.22),
    "books": (300, 499, 5_999, 0.14),
    "home": (150, 999, 49_999, 0.14),
    "beauty": (100, 399, 9_999, 0.12),
    "sports": (120, 999, 39_999, 0.10),
    "toys": (100, 499, 14_999, 0.08),
}

# Share of sessions starting in each hour of the day (UTC wall clock): quiet nights, a
# lunchtime bump, an evening peak.
HOURLY_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 7, 8, 9, 8, 7, 7, 7, 8, 10, 12, 12, 10, 7, 4], dtype=float
)

CATALOGUE_SEED = 20260214
"""The catalogue (products, their category and price) is the same every day."""
SESSIONS_PER_USER = 3.0
FIRST_USER_ID = 1_000_000
CHUNK_ROWS = 200_000
GZIP_LEVEL = 6


@dataclass(frozen=True)
class Catalogue:
    """Products as parallel arrays; index = product number."""

    product_ids: np.ndarray  # object: "p0001"
    categories: np.ndarray  # int: index into CATEGORY_NAMES
    price_texts: np.ndarray  # object: "299.99"
    first_of_category: np.ndarray  # int per category: first product index
    size_of_category: np.ndarray  # int per category


CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)


def build_catalogue() -> Catalogue:
    """The fixed product catalogue: every category's products with a price in cents."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    sizes = np.array([spec[0] for spec in CATEGORIES.values()])
    categories = np.repeat(np.arange(len(CATEGORIES)), sizes)
    cents = np.concatenate(
        [
            # Log-uniform between the bounds, ending in 99 cents like shop prices do.
            (np.exp(rng.uniform(np.log(low), np.log(high), size)) // 100 * 100 + 99).astype(int)
            for size, low, high, _ in CATEGORIES.values()
        ]
    )
    product_ids = np.array([f"p{n:04d}" for n in range(1, len(cents) + 1)], dtype=object)
    price_texts = np.array([f"{c // 100}.{c % 100:02d}" for c in cents], dtype=object)
    first = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return Catalogue(product_ids, categories, price_texts, first, sizes)


@dataclass(frozen=True)
class DayEvents:
    """A generated day as numeric arrays, sorted by time (one entry per row)."""

    seconds: np.ndarray  # second of the day, 0..86399
    users: np.ndarray
    sessions: np.ndarray  # session number within the day
    stages: np.ndarray  # index into EVENT_TYPES
    products: np.ndarray  # index into the catalogue
    quantities: np.ndarray


def simulate_day(
    partition_date: dt.date, rows: int, seed_extra: int = 0, catalogue: Catalogue | None = None
) -> DayEvents:
    """Draw ``rows`` events of one day: sessions of product interactions that drop off.

    A session picks a favourite category and looks at a few products (mostly of that category);
    each look is a view, then maybe an add_to_cart (30%), then maybe a purchase (45% of carts).
    Events of a session are 5 s to 3 min apart and the whole session lies inside the day.
    """
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    catalogue = catalogue or build_catalogue()
    rng = np.random.default_rng([partition_date.toordinal(), seed_extra])
    # About 2.6 events per session (1.8 looks x 1.44 events): draw enough sessions, cut later.
    n_sessions = max(1, int(rows / 2.5) + 16)
    looks_per_session = np.minimum(rng.geometric(0.55, n_sessions), 12)
    n_looks = int(looks_per_session.sum())
    look_session = np.repeat(np.arange(n_sessions), looks_per_session)

    session_weights = np.array([spec[3] for spec in CATEGORIES.values()])
    favourite = rng.choice(len(CATEGORIES), n_sessions, p=session_weights / session_weights.sum())
    look_category = np.where(
        rng.random(n_looks) < 0.8,
        favourite[look_session],
        rng.integers(0, len(CATEGORIES), n_looks),
    )
    look_product = catalogue.first_of_category[look_category] + (
        rng.random(n_looks) * catalogue.size_of_category[look_category]
    ).astype(int)
    carted = rng.random(n_looks) < 0.30
    bought = carted & (rng.random(n_looks) < 0.45)
    look_depth = 1 + carted.astype(int) + bought.astype(int)  # events of this look
    look_quantity = np.where(rng.random(n_looks) < 0.8, 1, rng.integers(2, 4, n_looks))

    # Expand looks into events (view, then cart, then purchase), in session order.
    event_look = np.repeat(np.arange(n_looks), look_depth)
    look_first_event = np.cumsum(look_depth) - look_depth
    stages = np.arange(len(event_look)) - look_first_event[event_look]
    event_look, stages = event_look[:rows], stages[:rows]
    n_events = len(event_look)
    event_session = look_session[event_look]

    # Time: gaps within a session, then a start that keeps the session inside the day.
    gaps = rng.integers(5, 180, n_events)
    first_of_session = np.ones(n_events, dtype=bool)
    first_of_session[1:] = event_session[1:] != event_session[:-1]
    gaps[first_of_session] = 0
    elapsed = np.cumsum(gaps)
    session_offset = np.maximum.accumulate(np.where(first_of_session, elapsed, 0))
    within = elapsed - session_offset  # seconds since the session's first event
    last_of_session = np.ones(n_events, dtype=bool)
    last_of_session[:-1] = first_of_session[1:]
    duration = np.zeros(n_sessions, dtype=np.int64)
    duration[event_session[last_of_session]] = within[last_of_session]
    hour = rng.choice(24, n_sessions, p=HOURLY_WEIGHTS / HOURLY_WEIGHTS.sum())
    start = np.minimum(hour * 3600 + rng.integers(0, 3600, n_sessions), 86_399 - duration)
    seconds = start[event_session] + within

    n_users = max(1, int(n_sessions / SESSIONS_PER_USER))
    session_user = FIRST_USER_ID + rng.integers(0, n_users, n_sessions)
    quantities = np.where(stages == 0, 1, look_quantity[event_look])

    order = np.argsort(seconds, kind="stable")
    return DayEvents(
        seconds=seconds[order],
        users=session_user[event_session][order],
        sessions=event_session[order],
        stages=stages[order],
        products=look_product[event_look][order],
        quantities=quantities[order],
    )


def _format_lines(
    day: DayEvents, partition_date: dt.date, catalogue: Catalogue, start: int, stop: int
) -> str:
    """CSV text of rows [start, stop): lookup tables and one join, no per-field formatting."""
    date_prefix = partition_date.isoformat()
    session_day = f"{partition_date:%Y%m%d}"
    seconds = day.seconds[start:stop]
    timestamps = [
        f"{date_prefix} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in seconds.tolist()
    ]
    products = day.products[start:stop]
    categories = np.asarray(CATEGORY_NAMES, dtype=object)[catalogue.categories[products]]
    columns = (
        timestamps,
        day.users[start:stop].astype(str).tolist(),
        [f"s{session_day}-{s:07d}" for s in day.sessions[start:stop].tolist()],
        np.asarray(EVENT_TYPES, dtype=object)[day.stages[start:stop]].tolist(),
        catalogue.product_ids[products].tolist(),
        categories.tolist(),
        catalogue.price_texts[products].tolist(),
        day.quantities[start:stop].astype(str).tolist(),
    )
    return "".join(",".join(fields) + "\n" for fields in zip(*columns, strict=True))


def output_files(
    out: Path, partition_date: dt.date, files: int, gzip_files: Sequence[bool]
) -> list[Path]:
    """``<out>/YYYY/MM/DD/ecommerce_logs[-NN].csv[.gz]``, one path per file."""
    folder = out / f"{partition_date:%Y/%m/%d}"
    names = ["ecommerce_logs"] if files == 1 else [f"ecommerce_logs-{n:02d}" for n in range(files)]
    return [
        folder / (name + (".csv.gz" if zipped else ".csv"))
        for name, zipped in zip(names, gzip_files, strict=True)
    ]


def _chunks(start: int, stop: int) -> Iterator[tuple[int, int]]:
    for chunk_start in range(start, stop, CHUNK_ROWS):
        yield chunk_start, min(stop, chunk_start + CHUNK_ROWS)


def write_day(
    partition_date: dt.date,
    rows: int,
    out: Path,
    *,
    files: int = 1,
    gzip_files: bool | Sequence[bool] = False,
    seed_extra: int = 0,
    progress: bool = False,
    ready_marker: bool = True,
) -> list[Path]:
    """Write one generated day under ``out`` and return the files written.

    Rows are in time order and split into ``files`` consecutive parts (like rolled log files),
    each with the header. ``gzip_files`` is one flag for all files or one per file. Like a
    collector, it writes the day's ``_READY`` marker last (``ready_marker=False`` leaves it out,
    for a day still arriving).
    """
    if files < 1:
        raise ValueError(f"files must be >= 1, got {files}")
    flags = [gzip_files] * files if isinstance(gzip_files, bool) else list(gzip_files)
    if len(flags) != files:
        raise ValueError(f"gzip_files has {len(flags)} flags for {files} files")
    catalogue = build_catalogue()
    day = simulate_day(partition_date, rows, seed_extra, catalogue)
    paths = output_files(out, partition_date, files, flags)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(day.seconds), files + 1).astype(int)

    from tqdm import tqdm

    with tqdm(
        total=len(day.seconds), unit="rows", unit_scale=True, disable=not progress, file=sys.stderr
    ) as bar:
        for path, zipped, start, stop in zip(paths, flags, bounds[:-1], bounds[1:], strict=True):
            opener = gzip.open if zipped else open
            kwargs = {"compresslevel": GZIP_LEVEL} if zipped else {}
            # newline="" keeps "\n" line ends on every platform; the contract is UTF-8.
            with opener(path, "wt", encoding="utf-8", newline="", **kwargs) as handle:
                handle.write(RAW_HEADER + "\n")
                for chunk_start, chunk_stop in _chunks(int(start), int(stop)):
                    handle.write(
                        _format_lines(day, partition_date, catalogue, chunk_start, chunk_stop)
                    )
                    bar.update(chunk_stop - chunk_start)
    if ready_marker:
        (paths[0].parent / READY_MARKER).touch()
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.data.generate_logs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--date", required=True, type=dt.date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--rows", required=True, type=int, help="data rows in the whole day")
    parser.add_argument("--out", required=True, type=Path, help="landing root (YYYY/MM/DD below)")
    parser.add_argument("--files", type=int, default=1, help="split the day into N files")
    parser.add_argument("--gzip", action="store_true", help="write .csv.gz files")
    parser.add_argument("--seed-extra", type=int, default=0, help="another day-sized variant")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-ready-marker", action="store_true", help="leave out the day's _READY marker"
    )
    args = parser.parse_args(argv)
    paths = write_day(
        args.date,
        args.rows,
        args.out,
        files=args.files,
        gzip_files=args.gzip,
        seed_extra=args.seed_extra,
        progress=not args.quiet and sys.stderr.isatty(),
        ready_marker=not args.no_ready_marker,
    )
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
