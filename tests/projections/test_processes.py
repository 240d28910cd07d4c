"""Projections under real processes (SPEC §4): killed rebuilds and catch-ups, readers during
a rebuild, overlapping runs, writes during a rebuild, and `projections status`.

Every test runs the installed `studyledger` console script in child processes, on a store
of about 20,000 events (several pages of `projections.runner.PAGE_SIZE`), on SQLite and on
PostgreSQL. The store is built once per session and engine with `init` and `import` of the
seeded generator's lines (`benchmarks.generate.lines`); each test gets a copy (a file copy
on SQLite; on PostgreSQL a schema of its own, set up as `init` does, into which the
template schema's events and seals are copied).

A process "holds the lock" of a projection when /proc/locks lists its flock on the lock
file beside the SQLite file, or when pg_locks lists the advisory lock (observed without
taking it, so the observation never makes the observed process fail).

Every child is bounded by a timeout and killed at the end of its test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import lines as generated_lines
from ledger.app import Ledger, open_ledger
from storage.config import Store, resolve
from projections.reader import Reader
from projections.runner import ReadModels
from projections.registry import PROJECTIONS
from tests.support.children import EXE, NO_EXE, Children, child_env
from tests.support.harness import POSTGRES_URL
from tests.support.readmodels import Models


pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(EXE is None, reason=NO_EXE),
    pytest.mark.skipif(not Path("/proc/locks").exists(), reason="observing file locks needs Linux /proc/locks"),
]

EVENTS = 20_000          # about 16,000 of them feed the projections: four pages of at most 5,000
DATA_SEED = 20260615
KILL_SEEDS = list(range(1, 11))  # ten random kill points for a rebuild, ten for a catch-up
TIMEOUT = 120            # seconds: no child may run longer
QUICK = 15               # seconds: "exits quickly" (a Python start-up is well under a second)

TODAY = datetime.now(timezone.utc).date()  # the children run on the real clock


# --- children ----------------------------------------------------------------------


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"{result.args[3:]} exited {result.returncode}: {result.stderr}"
    return result


def assert_busy(result: subprocess.CompletedProcess) -> None:
    """Exit 3, stdout empty, one line on stderr saying another run is going on."""
    assert result.returncode == 3, f"{result.args[3:]} exited {result.returncode}, not 3: {result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"not one line on stderr: {result.stderr!r}"
    assert "already running" in lines[0], lines[0]
    assert result.stdout == ""


# --- the store ---------------------------------------------------------------------


class Template:
    """A store of EVENTS generated events on SQLite, and facts about its data."""

    def __init__(self, path: Path, source: Path, data: list[dict[str, Any]]):
        self.path = path
        self.source = source  # the import file
        self.members: dict[str, list[str]] = {}
        for line in data:
            if line["command"] == "network join" and line["professional"] not in self.members.get(line["network"], []):
                self.members.setdefault(line["network"], []).append(line["professional"])
        conn = sqlite3.connect(path)
        try:
            self.events = conn.execute("SELECT count(*) FROM stored_events").fetchone()[0]
        finally:
            conn.close()
        approved = {line["claim"] for line in data if line["command"] == "review approve"}
        submitted = [line for line in data if line["command"] == "claim submit"]
        # professionals with approved claims: their balance is not zero
        self.earners = sorted({s["professional"] for s in submitted if s["request_id"] in approved})


def _write_lines(path: Path, data: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in data), encoding="utf-8")


def _build(db: str, source: Path) -> None:
    """`init`, then `import` of the generated lines: the store as a user makes it."""
    for args in (("init",), ("import", str(source))):
        done = subprocess.run([str(EXE), "--db", db, *args], capture_output=True, text=True, timeout=TIMEOUT,
                              env=child_env(), stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{args}: {done.stderr}"


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    if EXE is None:
        pytest.skip("no studyledger executable")
    folder = tmp_path_factory.mktemp("projection-template")
    data = list(generated_lines(EVENTS, DATA_SEED))
    _write_lines(folder / "register.jsonl", data)
    _build(str(folder / "template.db"), folder / "register.jsonl")
    made = Template(folder / "template.db", folder / "register.jsonl", data)
    assert made.events >= EVENTS
    return made


@pytest.fixture(scope="session")
def pg_template(template: Template) -> Iterator[str]:
    """A PostgreSQL schema made with `init` and `import` of the same lines; tests copy it."""
    assert POSTGRES_URL
    schema = "t_tmpl_" + uuid.uuid4().hex[:8]
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        _build(f"{POSTGRES_URL}{separator}schema={schema}", template.source)
        yield schema
    finally:
        import psycopg
        from psycopg import sql

        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def populated(db_url: str, template: Template, children: Children, request: pytest.FixtureRequest) -> Store:
    """The test's own store holding the template's events; read models set up, all behind."""
    store = resolve(db_url)
    if store.path is not None:
        source = sqlite3.connect(template.path)
        target = sqlite3.connect(store.path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        os.chmod(store.path, 0o600)
    else:
        from_schema = request.getfixturevalue("pg_template")
        ledger = open_ledger(store, create=True)  # what `studyledger init` does, without a process
        try:
            made = ReadModels(ledger.event_log)
            made.ensure()
            made.close()
        finally:
            ledger.close()
        import psycopg
        from psycopg import sql

        schema = store.settings["POSTGRES_SCHEMA"]
        with psycopg.connect(POSTGRES_URL) as conn, conn.cursor() as cur:
            for table in ("studyledger_events", "studyledger_seals"):
                cur.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(schema, table), sql.Identifier(from_schema, table)))
            # the key store too (SPEC §9): the events name people by the template's pseudonyms, and its
            # keys (wrapped with the tests' one register key) open them; init made this store keys of its own
            for table in ("studyledger_keyring", "studyledger_people", "studyledger_erased"):
                cur.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(schema, table)))
                cur.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(
                    sql.Identifier(schema, table), sql.Identifier(from_schema, table)))
            cur.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                        "(SELECT max(notification_id) FROM {}))").format(sql.Identifier(schema, "studyledger_events")),
                (f'"{schema}".studyledger_events',),
            )
    ledger = Ledger(store)
    try:
        assert ledger.recorder.max_notification_id() == template.events
    finally:
        ledger.close()
    return store


# --- looking at the read models from the test ----------------------------------------


@pytest.fixture
def models(populated: Store) -> Iterator[Models]:
    m = Models(populated)
    try:
        yield m
    finally:
        m.close()


def status_of(children: Children, db: str) -> dict[str, Any]:
    return json.loads(ok(children.run(db, "--json", "projections", "status")).stdout)


def clean_reference(children: Children, db: str, models: Models) -> dict[str, Any]:
    """A rebuild and a verify with nothing else running: the reference snapshot."""
    ok(children.run(db, "projections", "rebuild"))
    ok(children.run(db, "projections", "verify"))
    return reference_snapshot(models)


def reference_snapshot(models: Models) -> dict[str, Any]:
    reference = models.snapshot()
    head = models.head()
    assert set(reference["positions"].values()) == {head}
    assert reference["rows"]["balances.postings"], "the store has approved claims"
    return reference


def timed_run(children: Children, models: Models, db: str, *args: str, lock: str = "claims") -> float:
    """Run a command to its end; how long it held the lock (seconds)."""
    proc = children.start(db, *args)
    assert models.wait_locked(proc, lock), f"{args} ended before it was seen holding the lock"
    locked_at = time.monotonic()
    ok(children.finish(proc))
    return proc.ended - locked_at  # type: ignore[attr-defined]


# --- 1. killed rebuilds and catch-ups ---------------------------------------------------


def _engine(db_url: str) -> str:
    return "postgresql" if db_url.startswith("postgres") else "sqlite"


def test_rebuild_killed_at_random_points_recovers_cleanly(
    db_url: str, populated: Store, models: Models, children: Children
) -> None:
    """SIGKILL a rebuild at a random moment of its work (10 seeds). Right after the kill the
    current read models are complete and unchanged; the next command — a rebuild after even
    seeds, a catch-up after odd ones (so the next kill also meets a killed rebuild's
    leftovers) — exits 0, and the read models equal those of a clean rebuild, row for row."""
    work = timed_run(children, models, db_url, "projections", "rebuild")
    ok(children.run(db_url, "projections", "verify"))
    reference = reference_snapshot(models)
    landed = {"mid-rebuild": 0, "after the switch": 0, "before any table was made": 0, "after the end": 0}
    for seed in KILL_SEEDS:
        rng = random.Random(seed)
        before = models.state()
        proc = children.start(db_url, "projections", "rebuild")
        assert models.wait_locked(proc), "the rebuild ended before it was seen holding the lock"
        time.sleep(rng.uniform(0, work))
        running = proc.poll() is None
        children.kill(proc)
        after = models.state()
        if not running:
            landed["after the end"] += 1
        elif after["balances"][0] == before["balances"][0] + 1:
            landed["after the switch"] += 1
        elif any(before[n][0] + 1 in models.generations(n) for n in PROJECTIONS):
            landed["mid-rebuild"] += 1
        else:
            landed["before any table was made"] += 1
        # The switch is one transaction: every projection on the old generation or every one on the new.
        assert len({after[n][0] - before[n][0] for n in PROJECTIONS}) == 1, (seed, before, after)
        assert models.snapshot() == reference, f"seed {seed}: the current read models changed with the kill"

        command = "rebuild" if seed % 2 == 0 else "catch-up"
        ok(children.run(db_url, "projections", command))
        assert models.snapshot() == reference, f"seed {seed}: read models differ after the {command}"
        if command == "rebuild":
            state = models.state()
            for name in PROJECTIONS:
                current = state[name][0]
                assert models.generations(name) <= {current - 1, current}, (
                    f"seed {seed}: {name} keeps generations {models.generations(name)} (current {current})"
                )
    print(f"\nrebuild kills on {_engine(db_url)}: work {work:.2f}s, seeds {KILL_SEEDS}, landed {landed}")
    assert landed["mid-rebuild"] >= 1, landed


def test_catch_up_killed_at_random_points_recovers_cleanly(
    db_url: str, populated: Store, models: Models, children: Children
) -> None:
    """SIGKILL a catch-up of the whole log (read models far behind) at a random moment
    (10 seeds): the positions committed are one for all projections; the next command — a
    catch-up after even seeds, a rebuild after odd ones — exits 0 and the read models equal
    those of a clean rebuild: no event applied twice, none skipped."""
    reference = clean_reference(children, db_url, models)
    models.reset()
    work = timed_run(children, models, db_url, "projections", "catch-up")
    assert models.snapshot() == reference, "a catch-up from the first event differs from a rebuild"
    head = models.head()
    partial = 0
    for seed in KILL_SEEDS:
        rng = random.Random(1000 + seed)
        models.reset()
        proc = children.start(db_url, "projections", "catch-up")
        assert models.wait_locked(proc), "the catch-up ended before it was seen holding the lock"
        time.sleep(rng.uniform(0, work))
        children.kill(proc)
        state = models.state()
        positions = {state.get(n, (0, 0))[1] for n in PROJECTIONS}
        # A page is committed for every projection at once, with its position.
        assert len(positions) == 1, f"seed {seed}: positions {state}"
        position = positions.pop()
        partial += 0 < position < head
        command = "catch-up" if seed % 2 == 0 else "rebuild"
        ok(children.run(db_url, "projections", command))
        assert models.snapshot() == reference, f"seed {seed}: killed at position {position}; differs after {command}"
    print(f"\ncatch-up kills on {_engine(db_url)}: work {work:.2f}s, {partial} of {len(KILL_SEEDS)} between pages")
    assert partial >= 1, "no kill landed between the first and the last page"


# --- 2. readers during a rebuild ---------------------------------------------------------


def _stable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without the parts that depend on the moment of asking."""
    return {k: v for k, v in json.loads(json.dumps(answer)).items() if k not in ("known_at", "at")}


def test_readers_during_rebuilds_always_see_a_complete_read_model(
    db_url: str, populated: Store, models: Models, children: Children, template: Template
) -> None:
    """While rebuilds run (three, back to back), an in-process Reader (own engine) and the
    CLI keep asking for balances and the review queue, and the CLI is asked again while a
    rebuild is stopped (SIGSTOP) half-way: every answer equals the answer before the
    rebuilds; no error, no partial total, never "behind"."""
    models.models.catch_up()
    professionals = template.earners[:2]
    reader = Reader(models.models, models.ledger)
    expected = {("balance", p): _stable(reader.balance(p)) for p in professionals}
    expected[("queue", "")] = _stable(reader.review_queue())
    assert all(expected[("balance", p)]["total"] != "0" for p in professionals)
    assert expected[("queue", "")]["claims"], "some claims wait for review"
    for (kind, p), answer in expected.items():
        assert "behind" not in answer
    before = models.snapshot()
    assert set(before["positions"].values()) == {models.head()}

    stop = threading.Event()
    rebuilding = threading.Event()
    problems: list[str] = []
    counts = {"in-process": 0, "in-process during a rebuild": 0, "cli": 0, "cli during a rebuild": 0}

    def in_process() -> None:
        own = Models(populated)  # its own ledger and engine
        try:
            own_reader = Reader(own.models, own.ledger)
            i = 0
            while not stop.is_set():
                kind, p = list(expected)[i % len(expected)]
                i += 1
                during = rebuilding.is_set()
                try:
                    answer = own_reader.review_queue() if kind == "queue" else own_reader.balance(p)
                except Exception as error:  # noqa: BLE001 - any error is a finding
                    problems.append(f"in-process {kind} {p}: {type(error).__name__}: {error}")
                    continue
                if _stable(answer) != expected[(kind, p)]:
                    problems.append(f"in-process {kind} {p}: {_stable(answer)} != {expected[(kind, p)]}")
                counts["in-process"] += 1
                counts["in-process during a rebuild"] += during and rebuilding.is_set()
                time.sleep(0.04)  # leave the lock free most of the time between rebuilds
        finally:
            own.close()

    def by_cli() -> None:
        i = 0
        while not stop.is_set():
            kind, p = list(expected)[i % len(expected)]
            i += 1
            args = ("--json", "review", "queue") if kind == "queue" else ("--json", "balance", p)
            during = rebuilding.is_set()
            try:
                done = subprocess.run([str(EXE), "--db", db_url, *args], capture_output=True, text=True,
                                      timeout=60, env=child_env(), stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                problems.append(f"cli {args} timed out")
                continue
            if done.returncode != 0 or done.stderr:
                problems.append(f"cli {args} exited {done.returncode}: {done.stderr}")
                continue
            answer = json.loads(done.stdout)
            if _stable(answer) != expected[(kind, p)]:
                problems.append(f"cli {kind} {p}: {_stable(answer)} != {expected[(kind, p)]}")
            counts["cli"] += 1
            counts["cli during a rebuild"] += during and rebuilding.is_set()
            stop.wait(0.5)

    threads = [threading.Thread(target=in_process, daemon=True), threading.Thread(target=by_cli, daemon=True)]
    for thread in threads:
        thread.start()
    generation = models.state()["balances"][0]
    rebuilt = attempts = paused = 0
    try:
        # At least 3 rebuilds, and more while too few reads fell inside one (a fast machine rebuilds quickly).
        while (rebuilt < 3 or counts["in-process during a rebuild"] < 10) and attempts < 24:
            attempts += 1
            proc = children.start(db_url, "projections", "rebuild")
            if models.wait_locked(proc):
                rebuilding.set()
                if not paused:
                    # Certainly mid-rebuild: stop it and ask the CLI, then let it go on.
                    time.sleep(0.05)
                    if proc.poll() is None:
                        os.kill(proc.pid, signal.SIGSTOP)
                        try:
                            for kind, p in list(expected)[-2:]:  # a balance and the queue
                                args = ("--json", "review", "queue") if kind == "queue" else ("--json", "balance", p)
                                answer = ok(children.run(db_url, *args, timeout=60))
                                assert answer.stderr == "", answer.stderr
                                assert _stable(json.loads(answer.stdout)) == expected[(kind, p)], (kind, p)
                                paused += 1
                        finally:
                            os.kill(proc.pid, signal.SIGCONT)
            result = children.finish(proc)
            rebuilding.clear()
            if result.returncode == 3:
                assert_busy(result)  # a reader was catching up at that instant: allowed, retried
                continue
            ok(result)
            rebuilt += 1
            time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads), "a reader hung"
    assert not problems, problems[:5]
    assert rebuilt >= 3, f"only {rebuilt} of {attempts} rebuilds ran (the others met a reader's catch-up)"
    assert models.state()["balances"][0] == generation + rebuilt
    assert counts["in-process during a rebuild"] >= 10, counts
    assert counts["cli"] >= 2, counts
    assert paused == 2, "the CLI never answered while a rebuild was stopped mid-way"
    print(f"\nanswers on {_engine(db_url)}: {counts}; {rebuilt} rebuilds in {attempts} attempts")
    assert models.snapshot() == before, "three rebuilds of the same events gave other read models"


# --- 3. one catch-up or rebuild at a time --------------------------------------------------


OVERLAPS = [
    # (first, second): the first is stopped while it holds the locks; the second must exit 3
    (("rebuild",), ("rebuild",)),
    (("catch-up",), ("catch-up",)),
    (("catch-up",), ("rebuild",)),
    (("rebuild", "claims"), ("catch-up",)),
]


def test_a_second_run_exits_3_while_one_holds_the_lock(
    db_url: str, populated: Store, models: Models, children: Children
) -> None:
    """A catch-up or rebuild is stopped (SIGSTOP) while it holds its projection's lock: a
    second catch-up or rebuild of that projection exits 3 quickly with one line saying so,
    and changes nothing; the first, continued, finishes with exit 0; verify passes."""
    for first, second in OVERLAPS:
        if first[0] == "catch-up":
            models.reset()  # so that the catch-up has the whole log to apply
        lock = first[1] if len(first) > 1 else "claims"
        proc = children.start(db_url, "projections", *first)
        assert models.wait_locked(proc, lock), f"{first} ended before it was seen holding the lock"
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            before = models.state()
            began = time.monotonic()
            result = children.run(db_url, "projections", *second, timeout=60)
            took = time.monotonic() - began
            assert_busy(result)
            assert took < QUICK, f"{second} took {took:.1f}s to give up"
            assert proc.poll() is None, "the first run was still there (stopped)"
            assert models.state() == before, f"{second} changed the read models while exiting 3"
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        ok(children.finish(proc))
    ok(children.run(db_url, "projections", "verify"))


def test_runs_of_different_projections_do_not_exclude_each_other(
    db_url: str, populated: Store, models: Models, children: Children
) -> None:
    """A rebuild of one projection while a rebuild of another runs: both exit 0."""
    for _attempt in range(5):  # a rebuild of the balances may end before it is seen holding its lock
        first = children.start(db_url, "projections", "rebuild", "balances")
        if models.wait_locked(first, "balances"):
            break
        ok(children.finish(first))
    else:
        pytest.fail("five rebuilds of the balances ended before one was seen holding its lock")
    second = children.run(db_url, "projections", "rebuild", "claims")
    ok(second)
    ok(children.finish(first))
    ok(children.run(db_url, "projections", "verify"))


PAIRS = [("catch-up", "catch-up"), ("rebuild", "catch-up"), ("rebuild", "rebuild")]


def test_runs_started_together(db_url: str, populated: Store, models: Models, children: Children) -> None:
    """Two runs started at the same moment on read models far behind: each exits 0 or 3
    (3 with one line saying another is running), at least one does the work, and the read
    models are the same whoever won, and pass verify."""
    reference = None
    for pair in PAIRS:
        models.reset()
        procs = [children.start(db_url, "projections", command) for command in pair]
        results = [children.finish(proc) for proc in procs]
        codes = sorted(r.returncode for r in results)
        assert codes in ([0, 0], [0, 3]), (pair, [(r.returncode, r.stderr) for r in results])
        for result in results:
            if result.returncode == 3:
                assert_busy(result)
        # what the winner (or both, one after the other) left: complete, up to the head
        snapshot = models.snapshot()
        assert set(snapshot["positions"].values()) == {models.head()}, pair
        reference = reference or snapshot
        assert snapshot == reference, pair
    ok(children.run(db_url, "projections", "verify"))


# --- 4. writes during a rebuild --------------------------------------------------------------


def test_writes_during_a_rebuild_are_applied_by_the_next_catch_up(
    db_url: str, populated: Store, models: Models, children: Children, template: Template
) -> None:
    """While a rebuild runs, other processes submit, endorse and approve claims: all exit 0;
    then catch-up and verify exit 0 and the approvals show in the balance."""
    network, members = next((n, m) for n, m in template.members.items() if len(m) >= 3)
    claimant, peer = members[0], members[1]
    before = json.loads(ok(children.run(db_url, "--json", "balance", claimant)).stdout)
    on = str(TODAY - timedelta(days=7))

    def cycle(n: int, approve: bool = True) -> tuple[str, str | None]:
        submitted = json.loads(ok(children.run(
            db_url, "--json", "claim", "submit", "--professional", claimant, "--network", network,
            "--kind", "answer", "--on", on, "--hours", "1.5", "--description", f"Written during a rebuild {n}",
            "--outcome", "A note for the team.",
        )).stdout)
        claim = submitted["claim"]
        ok(children.run(db_url, "claim", "endorse", claim, "--by", peer, "--statement", "I was there."))
        if not approve:
            return claim, None
        approved = json.loads(ok(children.run(
            db_url, "--json", "review", "approve", claim, "--reviewer", "REV-2", "--rationale", "Clear.",
        )).stdout)
        return claim, approved["points"]

    rebuild = children.start(db_url, "projections", "rebuild")
    assert models.wait_locked(rebuild)
    written: list[tuple[str, str | None]] = []
    overlapped = 0
    while rebuild.poll() is None or not written:
        overlapped += rebuild.poll() is None
        written.append(cycle(len(written)))
    ok(children.finish(rebuild))
    waiting, _ = cycle(len(written), approve=False)
    assert overlapped >= 1

    status = status_of(children, db_url)
    assert all(p["lag"] > 0 for p in status["projections"]), status
    ok(children.run(db_url, "projections", "catch-up"))
    status = status_of(children, db_url)
    assert all(p["lag"] == 0 and p["position"] == status["head"] for p in status["projections"]), status
    ok(children.run(db_url, "projections", "verify"))

    from decimal import Decimal

    after = json.loads(ok(children.run(db_url, "--json", "balance", claimant)).stdout)
    awarded = sum(Decimal(points) for _, points in written if points)
    assert awarded > 0
    assert Decimal(after["total"]) == Decimal(before["total"]) + awarded, (before["total"], after["total"], awarded)
    queue = json.loads(ok(children.run(db_url, "--json", "review", "queue")).stdout)
    assert waiting in {c["claim"] for c in queue["claims"]}
    shown = json.loads(ok(children.run(db_url, "--json", "claim", "show", written[-1][0])).stdout)
    assert shown["status"] == "approved" and shown["points"] == written[-1][1]


# --- 5. status ----------------------------------------------------------------------------


def test_status_reports_head_positions_and_lag(
    db_url: str, populated: Store, models: Models, children: Children, template: Template
) -> None:
    status = status_of(children, db_url)
    assert set(status) >= {"head", "projections"}
    assert status["head"] == template.events
    assert sorted(p["name"] for p in status["projections"]) == sorted(PROJECTIONS)
    for p in status["projections"]:
        assert set(p) >= {"name", "position", "lag"}
        assert isinstance(p["position"], int) and isinstance(p["lag"], int)
        assert p["position"] == 0 and p["lag"] == status["head"]

    ok(children.run(db_url, "projections", "catch-up"))
    status = status_of(children, db_url)
    assert all(p["lag"] == 0 and p["position"] == status["head"] for p in status["projections"]), status

    network, members = next((n, m) for n, m in template.members.items() if len(m) >= 2)
    ok(children.run(db_url, "claim", "submit", "--professional", members[0], "--network", network,
                    "--kind", "question", "--on", str(TODAY - timedelta(days=3)), "--hours", "1",
                    "--description", "A question.", "--outcome", "An answer."))
    later = status_of(children, db_url)
    assert later["head"] > status["head"]
    for p in later["projections"]:
        assert p["position"] == status["head"]
        assert p["lag"] == later["head"] - status["head"] > 0

    ok(children.run(db_url, "projections", "catch-up"))
    caught = status_of(children, db_url)
    assert caught["head"] == later["head"]
    assert all(p["lag"] == 0 and p["position"] == caught["head"] for p in caught["projections"]), caught
