"""A writer that dies hard in the middle of the handover protocol, for fault-injection tests.

    python -m tests.integration.handover_crash --side jvm|webhdfs --partition P \\
        --file NAME=TEXT ... [--die-after staged|aside|renamed|trashed]

Publishes a partition holding the given files by ``spark_jobs.handover.publish``, through the
job's side (Hadoop's FileSystem in a JVM, as in spark-submit: ``--partition`` is a URI) or the
upload's side (WebHDFS: ``--partition`` is a path; ``--webhdfs`` and ``--user`` say where and
who). With ``--die-after STEP`` the process ends with ``os._exit(137)`` right after that step,
as a ``kill -9`` would: no ``finally``, no lease release.
"""

from __future__ import annotations

import argparse
import os
import sys

from spark_jobs import handover

KILLED = 137


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", choices=("jvm", "webhdfs"), required=True)
    parser.add_argument("--partition", required=True)
    parser.add_argument("--file", action="append", default=[], help="NAME=TEXT")
    parser.add_argument("--die-after", default=None)
    parser.add_argument("--webhdfs", default=None)
    parser.add_argument("--user", default=None)
    parser.add_argument("--wait-seconds", type=float, default=60.0)
    args = parser.parse_args()
    contents = dict(item.split("=", 1) for item in args.file)

    if args.side == "jvm":
        from spark_jobs import storage

        hadoop = storage.Hadoop.from_gateway()
        files = storage.HadoopFiles(hadoop)
        record = storage.job_lease_record(hadoop, handover.new_writer_id("crash"), "crash-test")

        def write(staging: str) -> None:
            for name, text in contents.items():
                storage.write_text(hadoop, staging, name, text)
    else:
        from hdfs import InsecureClient

        from include.ecommerce.upload import WebHdfsFiles

        client = InsecureClient(args.webhdfs, user=args.user)
        files = WebHdfsFiles(client)
        record = handover.new_record(handover.new_writer_id("crash"), "crash-test")

        def write(staging: str) -> None:
            for name, text in contents.items():
                client.write(f"{staging}/{name}", data=text.encode(), overwrite=True)

    def after(step: str) -> None:
        print(f"step done: {step}", flush=True)
        if step == args.die_after:
            os._exit(KILLED)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    handover.publish(
        files, args.partition, record, write, wait_s=args.wait_seconds, log=log, after=after
    )
    print(f"published by {record.writer_id}", flush=True)


if __name__ == "__main__":
    main()
