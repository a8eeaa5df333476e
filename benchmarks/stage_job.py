"""The daily job cut after one of its stages: what each stage adds to the floor.

    spark-submit benchmarks/stage_job.py --stop-after pass --date 2026-02-14 \\
        --input file:///.../day/ --output file:///.../unused/

Runs the job's own functions (spark_jobs/ecommerce_etl.py: the plan, the session, the reader,
the pass, the summaries) up to ``--stop-after``, then stops the session:

- ``read``: the job's reader (every column a STRING, the corrupt-record column, the file name)
  into the ``noop`` sink;
- ``classify``: every row typed and given its reason (``transforms.classify_rows``) into the
  ``noop`` sink, no shuffle;
- ``shuffle``: the classified rows shuffled by user as the job does (``transforms.by_user``) into the
  ``noop`` sink;
- ``merge``: identical rows merged after that shuffle (``transforms.validate``) into the
  ``noop`` sink, nothing kept;
- ``pass``: the job's one pass (``ecommerce_etl.one_pass``: classify, the shuffle by user, the
  merge of identical rows, kept on disk, the rows per reason);
- ``summaries``: all of ``ecommerce_etl.measure`` (the pass, the day's categories, the sessions
  and the event checks): everything the job does before it builds and writes the tables.

Nothing is written and no lease is taken (``--output`` is accepted and unused, so the stages
take the job's own arguments). ``python -m benchmarks.experiments.stages`` runs each stage
beside the floor and the whole job.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spark_jobs import ecommerce_etl, plan, storage, transforms

STAGES = ("read", "classify", "shuffle", "merge", "pass", "summaries")
"""In the job's order; each includes the ones before it."""


def run_stage(stage: str, argv: list[str]) -> None:
    args = ecommerce_etl.parse_args(argv)
    hadoop = storage.Hadoop.from_gateway()
    files = storage.list_input_files(hadoop, args.input)
    job_plan = ecommerce_etl.choose_plan(hadoop, files, args)
    spark = ecommerce_etl.start_session(args, job_plan)
    raw = ecommerce_etl.read_raw(spark, files)
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    to_noop = {
        "read": lambda: raw,
        "classify": lambda: transforms.classify_rows(raw, args.date),
        "shuffle": lambda: transforms.by_user(transforms.classify_rows(raw, args.date), partitions),
        "merge": lambda: transforms.validate(raw, args.date, partitions),
    }
    if stage in to_noop:
        with ecommerce_etl.session_settings(spark, plan.ONE_PASS_CONF):  # as the pass runs
            to_noop[stage]().write.format("noop").mode("overwrite").save()
    elif stage == "pass":
        ecommerce_etl.one_pass(spark, raw, args, job_plan)
    else:
        ecommerce_etl.measure(spark, raw, args, job_plan)
    spark.stop()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2 or argv[0] != "--stop-after" or argv[1] not in STAGES:
        sys.exit(f"usage: stage_job.py --stop-after {{{','.join(STAGES)}}} <the job's arguments>")
    run_stage(argv[1], argv[2:])


if __name__ == "__main__":
    main()
