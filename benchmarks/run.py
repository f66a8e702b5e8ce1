"""`make bench`: run every benchmark on PostgreSQL + Redis and print one table (optionally into docs/operations.md).

Each module in BENCHMARKS has `run() -> list[Row]`; each figure stands beside a baseline measured
in the same run, so the ratios hold on any machine.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import traceback

from benchmarks.common import ROOT, machine, reset_database, table

BENCHMARKS = [
    "benchmarks.webhook_ingest",
    "benchmarks.webhook_delivery",
    "benchmarks.analytics_sync",
    "benchmarks.publishing_throughput",
    "benchmarks.api_reads",
    "benchmarks.token_refresh_scan",
    "benchmarks.worker_memory",
    "benchmarks.workspace_migration",
    "benchmarks.csv_import",
]
SCALE = ["benchmarks.due_queries_scale"]  # minutes of data generation: only with --scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", "--readme", dest="docs", action="store_true",
                        help="write the table into docs/operations.md (--readme: its old name)")
    parser.add_argument("--scale", action="store_true",
                        help="also run the due queries on 100,000 accounts and 5,000,000 tracked posts (minutes)")
    parser.add_argument("only", nargs="*", help="module names to run (default: all)")
    args = parser.parse_args()
    reset_database()
    rows, failed = [], []
    for name in BENCHMARKS + (SCALE if args.scale else []):
        if args.only and not any(o in name for o in args.only):
            continue
        print(f"running {name} ...", file=sys.stderr)
        try:
            rows.extend(importlib.import_module(name).run())
        except Exception:  # noqa: BLE001 - report and keep going
            traceback.print_exc()
            failed.append(name)
    text = f"Measured on {machine()}.\n\n{table(rows)}\n"
    print(text)
    if args.docs and not failed:
        doc = ROOT / "docs" / "operations.md"
        content = doc.read_text()
        block = f"<!-- bench:start -->\n{text}<!-- bench:end -->"
        content = re.sub(r"<!-- bench:start -->.*?<!-- bench:end -->", lambda _m: block, content, flags=re.S)
        doc.write_text(content)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
