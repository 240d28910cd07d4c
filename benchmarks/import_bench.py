"""Bulk import throughput on SQLite (SPEC §7: at least 20,000 events per second).

Generates a seeded synthetic register as JSON Lines and imports it into a new SQLite file
through the real `import` path (validation, rules, one transaction), then prints events
per second and the process's peak RSS.

    python -m benchmarks.import_bench --events 100000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.projections_bench import build, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = build(str(Path(folder) / "bench.db"), args.events, args.seed)
    print(f"import: {result['events']:,} events in {result['import_s']:.2f} s = {result['import_eps']:,.0f} events/s "
          f"(bar: 20,000); peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
