"""Print the stored report of a date: ``python -m include.ecommerce.show_report 2026-02-14``.

``make demo`` ends with this, so the report is the last thing on screen whatever Airflow logged.
It reads the local copy that ``generate_report`` writes (variable ``ecommerce_reports_dir``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from include.ecommerce.partitions import Partition, PartitionDateError
from include.ecommerce.report import REPORT_FILE_NAME
from include.ecommerce.report_html import HTML_REPORT_FILE_NAME
from include.ecommerce.settings import (
    DEFAULT_REPORTS_DIR,
    REPORTS_DIR_VARIABLE,
    variable_from_environment,
)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m include.ecommerce.show_report YYYY-MM-DD", file=sys.stderr)
        return 2
    try:
        partition = Partition.parse(argv[0])
    except PartitionDateError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    reports_dir = Path(variable_from_environment(REPORTS_DIR_VARIABLE, str(DEFAULT_REPORTS_DIR)))
    path = partition.local_folder(reports_dir) / REPORT_FILE_NAME
    if not path.is_file():
        print(
            f"error: no report at {path}: did the DAG run for {partition.iso} succeed?",
            file=sys.stderr,
        )
        return 1
    print(path.read_text(encoding="utf-8"), end="")
    print(
        f"\nReport stored at {path} and in HDFS at {partition.report_partition}/{REPORT_FILE_NAME}"
    )
    print(f"HTML report (open it in a browser): {path.with_name(HTML_REPORT_FILE_NAME)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
