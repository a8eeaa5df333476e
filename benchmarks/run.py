"""``make bench``: ``python -m benchmarks.run`` (the options: ``benchmarks/cli.py``).

The benchmark's parts: ``bench_stack`` (HDFS staging, the generated days, cleanup), ``engines``
(each engine's command line), ``sizes`` (one size: engines interleaved per repeat, agreement),
``orchestration`` (``dags test`` against a bare submit, the backfill), ``results`` (the typed
results and their JSON), ``docs`` (targets and the generated block of docs/benchmarks.md),
``cli`` (arguments, the run, the console summary).
"""

from __future__ import annotations

import sys

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main())
