"""Rebuild and query figures for SPEC §7, compared in one run.

For each size: generate a seeded synthetic register, import it (events/s) and rebuild twice untimed.
Then, in a fresh child process each (so peak RSS is the step's own), in rounds that go through
every size (so the growth compares rebuilds run side by side, not minutes apart on a drifting machine):
- the floor: a raw SQL scan of the stored events with JSON decoding of every state;
- a full rebuild of all projections (time, events/s, ratio to the floor, peak RSS);
and then for each size:
- `balance` and `network members` at random dates and known-at instants, in process,
  through the same Reader the CLI uses (median and p95).

    python -m benchmarks.projections_bench --events 100000 1000000
    python -m benchmarks.projections_bench --events 100000 --db postgresql://postgres@127.0.0.1:5432/test?schema=bench
    python -m benchmarks.projections_bench --events 100000 --later   # claims decided days after, as in a register

Bars: import ≥ 20,000 events/s; rebuild ≤ 2× the floor; 10× the events ≤ 12× the rebuild time; queries < 20 ms;
peak RSS < 500 MB at 1M.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks.figures import median, report
from benchmarks.generate import TODAY, later, lines
from benchmarks.pgschema import drop_schema, sized


def register_key() -> None:
    """An encrypted store (SPEC §9) needs a register key: a new random one for this run, unless one is
    given (STUDYLEDGER_KEY or STUDYLEDGER_KEY_FILE); the child processes inherit it. Without it a
    PostgreSQL store would write ./studyledger.key into the current folder."""
    if not os.environ.get("STUDYLEDGER_KEY") and not os.environ.get("STUDYLEDGER_KEY_FILE"):
        import base64

        os.environ["STUDYLEDGER_KEY"] = base64.b64encode(os.urandom(32)).decode()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's child processes that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(db: str, events: int, seed: int, decided_later: bool = False) -> dict:
    from ledger.app import open_ledger
    from ledger.importer import import_lines
    from storage.config import resolve
    from projections.runner import ReadModels

    ledger = open_ledger(resolve(db), create=True)
    ReadModels(ledger.event_log).ensure()
    source = later if decided_later else lines
    with tempfile.TemporaryFile("w+", encoding="utf-8") as file:  # read as `studyledger import FILE` reads it
        file.writelines(json.dumps(line) + "\n" for line in source(events, seed))
        size = file.tell()  # as the CLI gives a file's size (JSON dumps ASCII: characters are bytes)
        file.seek(0)
        started, cpu, ahead = time.perf_counter(), time.process_time(), children_cpu()
        done = import_lines(ledger, file, size)  # one import
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        ahead = children_cpu() - ahead  # the parser and writer processes (ledger.ahead, storage.writer), ended by now
    ledger.close()
    return {"events": done["events"], "commands": done["commands"], "import_s": elapsed, "import_cpu_s": cpu,
            "parser_cpu_s": ahead,
            "import_eps": done["events"] / elapsed, "import_cps": done["commands"] / elapsed}


def floor(db: str) -> dict:
    """The floor: every stored event's state read with a raw SELECT and decoded with json."""
    from storage.config import resolve

    store = resolve(db)
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    if store.engine == "sqlite":
        import sqlite3

        conn = sqlite3.connect(store.settings["SQLITE_DBNAME"])
        for _rowid, _topic, state in conn.execute("SELECT rowid, topic, state FROM stored_events ORDER BY rowid"):
            json.loads(state)
            count += 1
    else:
        import psycopg

        s = store.settings
        schema = s.get("POSTGRES_SCHEMA", "public")
        with psycopg.connect(dbname=s["POSTGRES_DBNAME"], host=s["POSTGRES_HOST"], port=s["POSTGRES_PORT"],
                             user=s["POSTGRES_USER"], password=s["POSTGRES_PASSWORD"] or None) as conn:
            with conn.cursor(name="floor") as cursor:
                cursor.itersize = 5000
                cursor.execute(f'SELECT notification_id, topic, state FROM "{schema}".studyledger_events '
                               "ORDER BY notification_id")
                for _id, _topic, state in cursor:
                    json.loads(bytes(state))
                    count += 1
    return {"floor_s": time.perf_counter() - started, "floor_cpu_s": time.process_time() - cpu, "rows": count,
            "peak_mb": peak_mb()}


def rebuild(db: str) -> dict:
    from ledger.app import open_ledger
    from storage.config import resolve
    from projections.runner import ReadModels

    models = ReadModels(open_ledger(resolve(db)).event_log)
    started, cpu = time.perf_counter(), time.process_time()
    result = models.rebuild()
    return {"rebuild_s": time.perf_counter() - started, "rebuild_cpu_s": time.process_time() - cpu, "head": result["head"],
            "peak_mb": peak_mb()}


def queries(db: str, samples: int, seed: int) -> dict:
    from ledger.app import open_ledger
    from storage.config import resolve
    from projections.reader import Reader
    from projections.runner import ReadModels

    ledger = open_ledger(resolve(db))
    reader = Reader(ReadModels(ledger.event_log), ledger)
    rng = random.Random(seed)
    professionals = [row["professional"] for row in _ids(reader, "professionals", "professional")]
    networks = [row["network"] for row in _ids(reader, "networks", "network")]
    reader.balance(professionals[0])  # warm up: connections, statement caches

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    def random_day() -> date:
        return TODAY - timedelta(days=rng.randrange(0, 4 * 365))

    def random_instant() -> datetime:
        return datetime.now(timezone.utc) - timedelta(seconds=rng.randrange(0, 3600))

    balance_ms = [timed(lambda: reader.balance(rng.choice(professionals), random_day(), random_instant()))
                  for _ in range(samples)]
    members_ms = [timed(lambda: reader.members(rng.choice(networks), random_day(), random_instant()))
                  for _ in range(samples)]

    def summary(values: list[float]) -> dict:
        values = sorted(values)
        return {"median_ms": statistics.median(values), "p95_ms": values[int(len(values) * 0.95) - 1]}

    return {"balance": summary(balance_ms), "members": summary(members_ms)}


def keystore(db: str) -> dict:
    """What reading the key store costs (SPEC §9): opening the ledger (the keyring unwrapped), reading every
    person's row, and knowing everyone (each data key unwrapped, each register id opened) as a rebuild does.
    Empty for a plain store (one made before §9, or by the code before it)."""
    from ledger.app import open_ledger
    from storage.config import resolve

    started = time.perf_counter()
    ledger = open_ledger(resolve(db))
    opened = time.perf_counter() - started
    people = getattr(ledger, "people", None)
    if people is None:
        return {}
    store = ledger.event_log.keystore()
    started = time.perf_counter()
    rows = store.everyone()
    read = time.perf_counter() - started
    people.forget()
    started = time.perf_counter()
    known = sum(1 for pseudonym, _, _ in rows if people.register_id(pseudonym) is not None)
    unwrapped = time.perf_counter() - started
    assert known == len(rows), "every person in the key store opens with the register key"
    return {"people": len(rows), "open_ms": opened * 1000, "read_ms": read * 1000, "know_all_ms": unwrapped * 1000}


def _ids(reader, projection: str, column: str) -> list[dict]:
    from sqlalchemy import select

    name = {"professionals": "balances", "networks": "memberships"}[projection]
    generation = reader.models.state()[name][0]
    table = reader.models.tables(name, generation)[projection]
    with reader.models.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table.c[column]))]


def child(step: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.projections_bench", "--step", step, *args],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="floor and rebuild runs per size (medians are compared)")
    parser.add_argument("--db", help="a PostgreSQL URL (with ?schema=S) instead of a new SQLite file per size: each size "
                        "in schema S_<size>, dropped at the end")
    parser.add_argument("--later", action="store_true",
                        help="claims decided later, as in a register (benchmarks.generate.later), not at once")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        steps = {
            "build": lambda: build(args.target, args.events[0], args.seed, args.later),
            "floor": lambda: floor(args.target),
            "rebuild": lambda: rebuild(args.target),
            "settle": lambda: [rebuild(args.target) for _ in range(2)][-1],
            "queries": lambda: queries(args.target, args.samples, args.seed),
            "keystore": lambda: keystore(args.target),
        }
        print(json.dumps(steps[args.step]()))
        return
    register_key()
    dbs: dict[int, str] = {}
    given: dict[int, list[str]] = {}  # each size's arguments to its steps
    built: dict[int, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        try:
            for size in args.events:
                dbs[size] = sized(args.db, size) if args.db else str(Path(folder) / f"bench-{size}.db")
                if args.db:
                    drop_schema(dbs[size])
                given[size] = ["--target", dbs[size], "--events", str(size), "--seed", str(args.seed)]
                built[size] = child("build", *given[size], *(["--later"] if args.later else []))
                # Two rebuilds, not timed: then each timed one drops a filled generation (the one before last),
                # as a register's nightly rebuild does, not the empty one an import leaves.
                child("settle", *given[size])
            # Floor and rebuild alternately, `--repeat` rounds, every size in each round: the machine is shared and
            # drifts, so the sizes whose rebuilds the growth compares are measured side by side, not minutes apart.
            floors: dict[int, list[dict]] = {size: [] for size in args.events}
            rebuilds: dict[int, list[dict]] = {size: [] for size in args.events}
            for _ in range(args.repeat):
                for size in args.events:
                    floors[size].append(child("floor", *given[size]))
                    rebuilds[size].append(child("rebuild", *given[size]))
            for size in args.events:
                report(size, args, built[size], floors[size], rebuilds[size],
                       child("queries", *given[size], "--samples", str(args.samples)),
                       child("keystore", *given[size]))
        finally:
            for db in dbs.values() if args.db else ():
                drop_schema(db)
    sizes = sorted(args.events)
    for small, large in zip(sizes, sizes[1:]):
        ratios = [b["rebuild_s"] / a["rebuild_s"] for a, b in zip(rebuilds[small], rebuilds[large])]
        print(f"rebuild growth {small:,} → {large:,} events: "
              f"{median(rebuilds[large], 'rebuild_s') / median(rebuilds[small], 'rebuild_s'):.2f}× the time "
              f"for {large / small:.0f}× the events (bar ≤ 1.2 × that); round by round "
              f"{' '.join(f'{r:.2f}×' for r in ratios)}")


if __name__ == "__main__":
    main()
