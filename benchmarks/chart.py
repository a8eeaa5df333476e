"""The chart of docs/benchmarks.md: rows per day against seconds, one line per engine.

Log-log: the sizes span 0.5M to 20M rows and the engines a factor of ten in time, and a line
whose slope is 1 is a cost proportional to rows (a flatter one: a fixed cost that still weighs).
Written as SVG with matplotlib (Agg), without a date in its metadata, so the same results give
the same file.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.results import BenchResults

ENGINE_STYLES = {
    "ours": ("ours", "o", "#1f77b4"),
    "naive": ("naive", "s", "#ff7f0e"),
    "floor": ("floor (parse only)", "^", "#2ca02c"),
    "duckdb": ("DuckDB", "D", "#d62728"),
}


def series(results: BenchResults) -> dict[str, list[tuple[int, float]]]:
    """(rows, median seconds) per engine, by rows; sizes where the engine had no success left out."""
    points: dict[str, list[tuple[int, float]]] = {engine: [] for engine in ENGINE_STYLES}
    for size in sorted(results.sizes, key=lambda s: s.rows):
        for engine, result in size.engines.items():
            if engine in points and result.median_s is not None:
                points[engine].append((size.rows, result.median_s))
    return {engine: values for engine, values in points.items() if values}


def write_chart(results: BenchResults, path: Path) -> bool:
    """Write the chart to ``path`` (SVG); False, and nothing written, when no size has figures."""
    points = series(results)
    if not points:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    plt.rcParams["svg.hashsalt"] = "benchmarks"
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for engine, values in points.items():
        label, marker, colour = ENGINE_STYLES[engine]
        rows, seconds = zip(*values, strict=True)
        axes.plot(rows, seconds, marker=marker, color=colour, label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    sizes = sorted({rows for values in points.values() for rows, _ in values})
    axes.set_xticks(sizes, [f"{rows / 1e6:g}M" for rows in sizes])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.set_xlabel("rows in the day")
    axes.set_ylabel("wall seconds (median)")
    axes.set_title(f"Rows vs seconds (run {results.run_id})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="svg", metadata={"Date": None})
    plt.close(figure)
    return True
