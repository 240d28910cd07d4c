"""Tamper-evidence check throughput (issue: audit verify at ≥ 100,000 events/s on SQLite).

Builds a seeded synthetic register, then times `verify_chain` (every stored row read in
SQL and hashed into the chain, compared with its seal) and `verify_rules` (every event decoded
and folded through the rules check of SPEC §5) — `audit verify` without the projections
check, which `projections_bench` measures as a rebuild.

    python -m benchmarks.audit_bench --events 100000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.projections_bench import build
from ledger.app import open_ledger
from ledger.audit import verify_chain, verify_rules
from storage.config import resolve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "audit.db")
        build(db, args.events, args.seed)
        ledger = open_ledger(resolve(db))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report, _ = verify_chain(ledger)
            timings.append(time.perf_counter() - started)
            assert report.ok, report.problems
        best = min(timings)
        print(f"audit verify (chain): {report.events_checked:,} events in {best:.2f} s (best of 3) "
              f"= {report.events_checked / best:,.0f} events/s (bar: 100,000)")
        started = time.perf_counter()
        broken = verify_rules(ledger)
        took = time.perf_counter() - started
        assert broken == [], broken[:3]  # the generator writes through the ledger: no rule may be broken
        print(f"audit verify (rules 1-10): {report.events_checked:,} events in {took:.2f} s "
              f"= {report.events_checked / took:,.0f} events/s ({took / best:.1f}x the chain check)")


if __name__ == "__main__":
    main()
