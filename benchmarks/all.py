"""Every figure of SPEC §7 on both engines, each beside its bar: one command.

Runs, one after the other (never two at once: they would time each other), for SQLite and
then for PostgreSQL: `projections_bench` (import, floor, rebuild, growth, peak RSS, queries)
and `cli_bench` (a command from the shell against `--help`).

    python -m benchmarks.all --events 100000 1000000 --pg "postgresql://postgres@127.0.0.1:5432/test?schema=bench"

Without `--pg`, SQLite only. `projections_bench` keeps each size's store in a schema of its own
(`bench_100000`, …) and drops them at the end; `cli_bench` drops the schema given and makes it afresh.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def run(*args: str) -> None:
    print(f"$ python -m {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", nargs="+", default=["100000"])
    parser.add_argument("--pg", help="a PostgreSQL URL with ?schema=…")
    parser.add_argument("--runs", default="21", help="cli_bench runs of each command")
    args = parser.parse_args()
    for db in ([None, args.pg] if args.pg else [None]):
        where = ["--db", db] if db else []
        run("benchmarks.projections_bench", "--events", *args.events, *where)
        run("benchmarks.cli_bench", "--runs", args.runs, *where)


if __name__ == "__main__":
    main()
