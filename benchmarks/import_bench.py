"""Bulk import throughput (SPEC §7: at least 20,000 events per second, on SQLite and PostgreSQL).

Generates a seeded synthetic register as JSON Lines and imports it into a new SQLite file
(or a fresh PostgreSQL schema) through the real `import` path (validation, rules, one
transaction), then prints events and commands per second and the process's peak RSS.

    python -m benchmarks.import_bench --events 100000
    python -m benchmarks.import_bench --events 100000 --db "postgresql://postgres@127.0.0.1:5432/test?schema=bench"
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from benchmarks.figures import two_core_bound
from benchmarks.pgschema import drop_schema
from benchmarks.projections_bench import build, peak_mb, register_key


def peak_children_mb() -> float:
    """The peak RSS of the largest of this process's child processes that have ended (the import's writer)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="a PostgreSQL URL with ?schema=… (dropped and made afresh) instead of a new SQLite file")
    args = parser.parse_args()
    register_key()
    with tempfile.TemporaryDirectory() as folder:
        if args.db:
            drop_schema(args.db)
        result = build(args.db or str(Path(folder) / "bench.db"), args.events, args.seed)
    engine = "PostgreSQL" if args.db else "SQLite"
    verdict = "met" if result["import_eps"] >= 20_000 else "NOT met"
    print(f"import ({engine}): {result['events']:,} events ({result['commands']:,} commands) in {result['import_s']:.2f} s "
          f"= {result['import_eps']:,.0f} events/s (bar ≥ 20,000: {verdict}), {result['import_cps']:,.0f} commands/s; "
          f"peak RSS {peak_mb():.0f} MB (its largest helper process {peak_children_mb():.0f} MB); {two_core_bound(result)}")


if __name__ == "__main__":
    main()
