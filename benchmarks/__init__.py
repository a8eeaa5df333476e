"""Benchmarks of the daily ETL job (``make bench``; not part of ``make test``).

``python -m benchmarks.run`` generates days of logs, runs our Spark job, a naive baseline, a
parse-only floor and DuckDB on the same input, checks that they agree, and writes the figures to
``.runtime/bench/results-<timestamp>.json`` and ``docs/benchmarks.md``.
"""
