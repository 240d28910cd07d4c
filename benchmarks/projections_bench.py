"""Rebuild and query figures for SPEC §7, compared in one run.

For each size: generate a seeded synthetic register, import it (events/s), then in a
fresh child process each (so peak RSS is the step's own):
- the floor: a raw SQL scan of the stored events with JSON decoding of every state;
- a full rebuild of all projections (time, events/s, ratio to the floor, peak RSS);
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

from benchmarks.generate import TODAY, later, lines


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


def two_core_bound(built: dict) -> str:
    """The import's CPU, here and in its parser and writer processes, and the most events/s that CPU allows
    on two cores however the work were shared between them: the events over half of it. (PostgreSQL's
    server runs on the same two cores here, and is not counted: its bound is higher than could be had.)"""
    total = built["import_cpu_s"] + built["parser_cpu_s"]
    return (f"CPU {built['import_cpu_s']:.2f} s + {built['parser_cpu_s']:.2f} s parsing and writing = "
            f"{total * 1e6 / built['events']:.0f} µs an event: at most {built['events'] * 2 / total:,.0f} events/s "
            f"on two cores")


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
    parser.add_argument("--db", help="a PostgreSQL URL (with ?schema=…) instead of a new SQLite file per size")
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
            "queries": lambda: queries(args.target, args.samples, args.seed),
            "keystore": lambda: keystore(args.target),
        }
        print(json.dumps(steps[args.step]()))
        return
    register_key()
    rebuild_times = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.events:
            db = args.db or str(Path(folder) / f"bench-{size}.db")
            if args.db:
                _reset_schema(args.db)
            common = ["--target", db, "--events", str(size), "--seed", str(args.seed)]
            built = child("build", *common, *(["--later"] if args.later else []))
            # Floor and rebuild alternately, `--repeat` times each, medians compared: the machine is shared.
            floors, rebuilds = [], []
            for _ in range(args.repeat):
                floors.append(child("floor", *common))
                rebuilds.append(child("rebuild", *common))
            # Medians (of an even number of runs, the mean of the middle two): not the slower of two.
            floor_ = {"rows": floors[0]["rows"], **{k: statistics.median(r[k] for r in floors)
                                                    for k in ("floor_s", "floor_cpu_s")}}
            rebuilt = {"head": rebuilds[0]["head"], "peak_mb": max(r["peak_mb"] for r in rebuilds),
                       **{k: statistics.median(r[k] for r in rebuilds) for k in ("rebuild_s", "rebuild_cpu_s")}}
            timings = child("queries", *common, "--samples", str(args.samples))
            keys = child("keystore", *common)
            rebuild_times[size] = rebuilt["rebuild_s"]
            ratio = rebuilt["rebuild_s"] / floor_["floor_s"]
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"{size:>9,} requested, {built['events']:,} events stored ({'PostgreSQL' if args.db else 'SQLite'}"
                  f"{', claims decided later' if args.later else ''}); "
                  f"load average {load}; floor and rebuild: medians of {args.repeat}, run alternately")
            print(f"  import   {built['import_s']:8.2f} s  {built['import_eps']:10,.0f} events/s   (bar ≥ 20,000: "
                  f"{'met' if built['import_eps'] >= 20_000 else 'NOT met'}), {built['import_cps']:,.0f} commands/s; "
                  f"{two_core_bound(built)}")
            print(f"  floor    {floor_['floor_s']:8.2f} s  {floor_['rows'] / floor_['floor_s']:10,.0f} rows/s   "
                  f"(raw SELECT + json.loads); CPU {floor_['floor_cpu_s']:.2f} s")
            print(f"  rebuild  {rebuilt['rebuild_s']:8.2f} s  {rebuilt['head'] / rebuilt['rebuild_s']:10,.0f} events/s"
                  f"   {ratio:.2f}× the floor (bar ≤ 2×: {'met' if ratio <= 2 else 'NOT met'}), "
                  f"peak RSS {rebuilt['peak_mb']:.0f} MB (bar < 500 MB at 1M); CPU {rebuilt['rebuild_cpu_s']:.2f} s, "
                  f"{rebuilt['rebuild_cpu_s'] / max(floor_['floor_cpu_s'], 1e-9):.2f}× the floor's")
            rounds = {k: " ".join(f"{r[k]:.2f}" for r in runs) for k, runs in (("floor_s", floors), ("rebuild_s", rebuilds))}
            print(f"  rounds   floor {rounds['floor_s']} s; rebuild {rounds['rebuild_s']} s (in the order run)")
            for name in ("balance", "members"):
                t = timings[name]
                print(f"  {name:<8} median {t['median_ms']:6.2f} ms, p95 {t['p95_ms']:6.2f} ms   (bar < 20 ms)")
            if keys:
                print(f"  keys     {keys['people']:,} people: opening the ledger {keys['open_ms']:.1f} ms, reading their rows "
                      f"{keys['read_ms']:.1f} ms, unwrapping every key and id {keys['know_all_ms']:.1f} ms "
                      f"({keys['know_all_ms'] * 1000 / max(keys['people'], 1):.0f} µs a person)")
    sizes = sorted(rebuild_times)
    for small, large in zip(sizes, sizes[1:]):
        print(f"rebuild growth {small:,} → {large:,} events: {rebuild_times[large] / rebuild_times[small]:.2f}× the time "
              f"for {large / small:.0f}× the events (bar ≤ 1.2 × that)")


def _reset_schema(url: str) -> None:
    import psycopg
    from psycopg import sql

    from storage.config import resolve

    s = resolve(url).settings
    with psycopg.connect(dbname=s["POSTGRES_DBNAME"], host=s["POSTGRES_HOST"], port=s["POSTGRES_PORT"],
                         user=s["POSTGRES_USER"], password=s["POSTGRES_PASSWORD"] or None, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s["POSTGRES_SCHEMA"])))


if __name__ == "__main__":
    main()
