"""Storage faults (SPEC §3 exit codes, §7 "nothing lost … under a full or read-only disk").

Each fault is injected for real where this machine allows it, under the installed
`studyledger` command run as a child process:

- a read-only database file, a read-only folder, and both: the file modes, enforced by the
  kernel on a child started through setpriv(1) without CAP_DAC_OVERRIDE (root ignores file
  modes otherwise);
- a read-only file system: a tmpfs holding the store, remounted read-only (EROFS);
- a full disk: a small tmpfs holding the store, filled up (ENOSPC) — nearly (SQLite says
  SQLITE_FULL while writing) and entirely (SQLite cannot even size its -shm file);
- a store locked by another process past the busy/lock timeout: an SQLite connection holding
  BEGIN EXCLUSIVE; a PostgreSQL session holding the events table's EXCLUSIVE lock (the lock
  the library's own writers take);
- a PostgreSQL server that goes away in the middle of a command: a TCP proxy between the
  command and the server is cut (every connection shut, the port no longer listening) at a
  chosen moment of the command's transaction or at a random moment of an import, or the
  command's server process is ended with pg_terminate_backend.

Every faulted command must exit 4 (3 for a lock) with one plain sentence on stderr, no
result on stdout and no traceback, and leave the stored events and their seals unchanged;
once the fault is gone the same command succeeds, the events are there exactly once, and
`audit verify` passes. Mounting needs root (CAP_SYS_ADMIN): without it those tests skip.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from storage.config import resolve
from tests.support.children import EXE, NO_EXE, bound_by_file_modes, child_env
from tests.support.faults import (
    Proxy,
    argv,
    assert_fails,
    audit_all,
    audit_ok,
    import_file,
    make_store,
    pg_url,
    run_all,
    sl,
    stored,
    submit,
)
from tests.support.harness import POSTGRES_URL, drop_schema

pytestmark = [pytest.mark.processes, pytest.mark.skipif(EXE is None, reason=NO_EXE)]

IMPORT_PEOPLE = 200  # 600 lines, 1,800 events: far more than the room left on a nearly full disk


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store with the setup register; tests copy it."""
    path = tmp_path_factory.mktemp("fault-template") / "template.db"
    make_store(str(path))
    return path


def copy_store(template: Path, path: Path) -> str:
    source, target = sqlite3.connect(template), sqlite3.connect(path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    os.chmod(path, 0o600)
    return str(path)


def files(folder: Path) -> dict[str, bytes]:
    """The store's files as they matter: the database file's bytes, and any write-ahead log's.

    (Opening a WAL store makes its -shm index and an empty -wal beside it, where the folder
    allows: no write to the store.)"""
    found = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
    return {name: data for name, data in found.items() if name.endswith(".db") or (name.endswith("-wal") and data)}


def succeed(jobs: dict[str, list[str]], env: dict[str, dict[str, str]] | None = None) -> None:
    """Run the jobs once the fault is gone: each must exit 0. The writes first, then the imports
    (side by side across stores, never on one store at once: an import that has read is refused
    at once, exit 3, when another command commits first — SQLite's snapshot rule)."""
    for kind in ("write", "import"):
        batch = {name: command for name, command in jobs.items() if name.endswith(kind)}
        for job, done in run_all(batch, env=env).items():
            assert done.returncode == 0, f"{job} after the fault: exit {done.returncode}: {done.stderr}"


# --- read-only: file modes --------------------------------------------------------------------------

# Root has CAP_DAC_OVERRIDE and ignores file modes; a child started through setpriv without it
# (and without CAP_DAC_READ_SEARCH) is still uid 0, the files' owner, but held to their modes.
READ_ONLY = {"file": (0o444, 0o755), "folder": (0o600, 0o555), "file-and-folder": (0o444, 0o555)}


def test_a_read_only_sqlite_file_or_folder_is_exit_4_and_writes_nothing(template: Path, tmp_path: Path) -> None:
    prefix = bound_by_file_modes(tmp_path)
    source = tmp_path / "import.jsonl"
    imported = import_file(source, IMPORT_PEOPLE, "imp")
    stores = {}
    for case in READ_ONLY:
        (tmp_path / case).mkdir()
        stores[case] = copy_store(template, tmp_path / case / "ledger.db")
    before = {case: stored(resolve(db)) for case, db in stores.items()}
    contents = {case: files(tmp_path / case) for case in READ_ONLY}
    jobs = {}
    for case, db in stores.items():
        jobs[f"{case} write"] = [*prefix, *argv(db, *submit("w-1"))]
        jobs[f"{case} import"] = [*prefix, *argv(db, "import", str(source))]
    try:
        for case, (file_mode, folder_mode) in READ_ONLY.items():
            os.chmod(stores[case], file_mode)
            os.chmod(tmp_path / case, folder_mode)
        faulted = run_all(jobs)
    finally:
        for case in READ_ONLY:
            os.chmod(tmp_path / case, 0o755)
            os.chmod(stores[case], 0o600)
    for job, done in faulted.items():
        sentence = assert_fails(done, 4, "read-only")
        print(f"{job}: exit 4: {sentence}")
    for case, db in stores.items():
        assert files(tmp_path / case) == contents[case], f"{case}: a refused command changed the store's files"
        assert stored(resolve(db)) == before[case]
    # The fault gone (the modes back), the same commands, under the same prefix, succeed.
    succeed(jobs)
    for case, db in stores.items():
        after = stored(resolve(db))
        assert after.events == after.seals == before[case].events + 3 + imported, (case, before[case], after)
    audit_all(list(stores.values()))


def test_a_read_of_a_read_only_store_whose_read_models_are_behind_says_so(template: Path, tmp_path: Path) -> None:
    """SPEC §4: read commands never show silently stale data. The store cannot be caught up
    (read-only), so the answer must come with how far behind it is, or be exit 4 — not a refusal
    that the professional exists."""
    prefix = bound_by_file_modes(tmp_path)
    db = copy_store(template, tmp_path / "ledger.db")  # the template's read models are at position 0
    os.chmod(db, 0o444)
    try:
        done = sl(db, "balance", "nurse-1", prefix=prefix)
    finally:
        os.chmod(db, 0o600)
    assert done.returncode in (0, 4), f"exit {done.returncode}: {done.stderr!r}"
    assert "Traceback" not in done.stderr
    assert "behind" in done.stderr, done.stderr
    if done.returncode == 4:
        assert "read-only" in done.stderr, done.stderr


# --- read-only and full: a file system of its own -------------------------------------------------------


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Any]:
    """mount(size) → a fresh tmpfs folder, unmounted at the end; skips where mounting is not allowed."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN) and mount(8)")
        folder = tmp_path / f"tmpfs-{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    try:
        yield mount
    finally:
        for folder in reversed(mounted):
            if subprocess.run(["umount", str(folder)], capture_output=True, timeout=30).returncode != 0:
                subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True, capture_output=True, timeout=30)


def test_a_store_on_a_read_only_file_system_is_exit_4_and_writes_nothing(template: Path, tmp_path: Path,
                                                                        tmpfs: Any) -> None:
    folder = tmpfs("32m")
    db = copy_store(template, folder / "ledger.db")
    source = tmp_path / "import.jsonl"
    imported = import_file(source, IMPORT_PEOPLE, "imp")
    before, contents = stored(resolve(db)), files(folder)
    jobs = {"write": argv(db, *submit("w-1")), "import": argv(db, "import", str(source)), "init": argv(db, "init")}
    remount(folder, "ro")
    try:
        faulted = run_all(jobs)
    finally:
        remount(folder, "rw")
    for job, done in faulted.items():
        print(f"{job}: exit {done.returncode}: {assert_fails(done, 4, 'read-only')}")
    assert files(folder) == contents
    assert stored(resolve(db)) == before
    succeed({"write": jobs["write"], "import": jobs["import"]})
    after = stored(resolve(db))
    assert after.events == after.seals == before.events + 3 + imported
    audit_ok(db)


def fill(folder: Path, name: str, leave: int = 0) -> None:
    """Write zeros into folder/name until only `leave` bytes are free (or none: until ENOSPC)."""
    block = b"\0" * 65536
    with (folder / name).open("wb") as out:
        while True:
            found = os.statvfs(folder)
            room = found.f_bavail * found.f_frsize - leave
            if room <= 0:
                return
            try:
                out.write(block[: min(room, len(block))])
                out.flush()
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                return


def test_a_store_on_a_full_disk_is_exit_4_and_writes_nothing(template: Path, tmp_path: Path, tmpfs: Any) -> None:
    folder = tmpfs("16m")
    db = copy_store(template, folder / "ledger.db")
    source = tmp_path / "import.jsonl"
    imported = import_file(source, IMPORT_PEOPLE, "imp")
    write, load = argv(db, *submit("w-1")), argv(db, "import", str(source))
    before = stored(resolve(db))

    # Nearly full: 48 KiB left, room for SQLite's -shm file but not for an import's pages.
    fill(folder, "filler-1", leave=48 * 1024)
    done = run_all({"import": load})["import"]
    print(f"nearly full, import: exit {done.returncode}: {assert_fails(done, 4, 'full')}")
    assert stored(resolve(db)) == before

    # Entirely full: not one more byte.
    fill(folder, "filler-2")
    assert os.statvfs(folder).f_bavail == 0
    for job, done in run_all({"write": write, "import": load}).items():
        print(f"full, {job}: exit {done.returncode}: {assert_fails(done, 4, 'full')}")
    (folder / "filler-2").unlink()
    assert stored(resolve(db)) == before  # read with room for the -shm file

    (folder / "filler-1").unlink()
    succeed({"write": write, "import": load})
    after = stored(resolve(db))
    assert after.events == after.seals == before.events + 3 + imported
    audit_ok(db)
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --- locked by another process -------------------------------------------------------------------------


def test_a_store_locked_by_another_process_is_exit_3_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    """SQLite: a connection holds BEGIN EXCLUSIVE past the 5 s busy timeout. PostgreSQL: a session
    holds the events table's EXCLUSIVE lock (what a writer holds while it inserts) past the 5 s
    lock timeout; a lock timeout is not retried (it once was, ten times: 52 s before exit 3).

    Not tested: ACCESS EXCLUSIVE (as ALTER TABLE or VACUUM FULL take it) also blocks the reads
    before the insert, which have no lock timeout, so a command waits for as long as it is held."""
    store = make_store(db_url)
    source = tmp_path / "import.jsonl"
    imported = import_file(source, IMPORT_PEOPLE, "imp")
    jobs = {"write": argv(db_url, *submit("w-1")), "import": argv(db_url, "import", str(source))}
    envs: dict[str, Any] = {}
    before = stored(store)
    holder = _hold_lock(store)
    started = time.monotonic()
    try:
        faulted = run_all(jobs, env=envs)
    finally:
        holder()
    took = time.monotonic() - started
    assert took < 30, f"gave up only after {took:.0f}s"  # a bound on the wait, not a timing: 5 s each, side by side
    for job, done in faulted.items():
        print(f"{store.engine}, locked, {job}: exit {done.returncode} ({took:.1f}s for both): "
              f"{assert_fails(done, 3, 'locked', 'retry')}")
    assert stored(store) == before
    succeed(jobs, env=envs)
    after = stored(store)
    assert after.events == after.seals == before.events + 3 + imported
    audit_ok(db_url)


def _hold_lock(store: Any) -> Any:
    """Take the store's write lock in another connection; returns the function that lets it go."""
    if store.engine == "sqlite":
        connection = sqlite3.connect(store.path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")

        def release() -> None:
            connection.execute("ROLLBACK")
            connection.close()

        return release
    import psycopg
    from psycopg import sql

    assert POSTGRES_URL
    pg = psycopg.connect(POSTGRES_URL)  # not autocommit: the lock is held until the rollback
    pg.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
        sql.Identifier(store.settings["POSTGRES_SCHEMA"], "studyledger_events")))

    def release_pg() -> None:
        pg.rollback()
        pg.close()

    return release_pg


# --- PostgreSQL going away in the middle of a command ---------------------------------------------------

# name → (what runs, how the fault comes, exit codes allowed, events it may leave: "none" or "all")
CUTS: dict[str, tuple[str, dict[str, Any], set[int], str]] = {
    "import, cut after its events are inserted, before the seals": (
        "import", {"on": b"studyledger_seals", "after": b"LOCK TABLE"}, {4}, "none"),
    "import, cut at a random moment": ("import", {"random": True}, {0, 4}, "either"),
    "import, its server process terminated before the seals": (
        "import", {"on": b"studyledger_seals", "after": b"LOCK TABLE", "action": "terminate"}, {4}, "none"),
    "write, cut as COMMIT is sent": ("write", {"on": b"COMMIT", "after": b"LOCK TABLE"}, {4}, "none"),
    # The server commits, the reply never comes: the command cannot know. Its --request-id makes
    # the repeat safe.
    "write, cut after the server committed, before the reply": (
        "write", {"on": b"COMMIT\x00", "after": b"LOCK TABLE", "side": "server"}, {4}, "all"),
    # A fresh connection to a server still up: the library retries the insert.
    "write, its server process terminated at LOCK TABLE": (
        "write", {"on": b"LOCK TABLE", "action": "terminate"}, {0, 4}, "either"),
}
CUT_SEED = 20260615


@pytest.fixture
def pg_base() -> str:
    assert POSTGRES_URL
    return POSTGRES_URL


@pytest.mark.postgres
def test_postgresql_going_away_mid_command_is_exit_4_and_leaves_all_or_nothing(pg_base: str, tmp_path: Path) -> None:
    """Six commands at once, each on a schema of its own, each through a proxy of its own that
    fails it at one moment (CUTS). Then every proxy is restored and the same commands are run
    again: each succeeds, its events are stored exactly once, and `audit verify` passes.

    The children wait at most 1 s for a connection (STUDYLEDGER_POSTGRES_CONNECT_TIMEOUT, the
    library's per-application setting): a write's insert is tried ten times, so at the default
    of 5 s the same exit 4 takes about 40 s."""
    import random

    parts = urlsplit(pg_base)
    upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
    rng = random.Random(CUT_SEED)
    source = tmp_path / "import.jsonl"
    imported = import_file(source, 400, "imp")  # 1,200 lines, 3,600 events
    env = child_env(STUDYLEDGER_POSTGRES_CONNECT_TIMEOUT="1")
    schemas = {name: "t_cut_" + uuid.uuid4().hex[:10] for name in CUTS}
    proxies: dict[str, Proxy] = {}
    delays: dict[str, float] = {}
    try:
        jobs, befores, expected = {}, {}, {}
        for name, (kind, fault, _, _) in CUTS.items():
            make_store(pg_url(pg_base, schemas[name]))
            befores[name] = stored(resolve(pg_url(pg_base, schemas[name])))
            proxy = proxies[name] = Proxy(upstream, pg_base)
            via = pg_url(pg_base, schemas[name], proxy.port)
            jobs[name] = argv(via, *submit("w-1")) if kind == "write" else argv(via, "import", str(source))
            expected[name] = 3 if kind == "write" else imported  # the claim, its note (rule 8), its request record
            if fault.get("random"):
                delays[name] = rng.uniform(0.2, 2.0)  # after the command's first connection
            else:
                proxy.arm(fault["on"], after=fault.get("after"), side=fault.get("side", "client"),
                          action=fault.get("action", "cut"))
        started = time.monotonic()
        cutters = [proxies[name].cut_later(delay) for name, delay in delays.items()]
        faulted = run_all(jobs, env=dict.fromkeys(jobs, env))
        took = time.monotonic() - started
        for cutter in cutters:
            cutter.join(timeout=60)  # a late cut must not meet the repeat

        outcomes = {}
        for name, (kind, fault, codes, leaves) in CUTS.items():
            done = faulted[name]
            if done.returncode == 0:
                assert 0 in codes, f"{name}: exit 0: {done.stdout}"
                assert done.stderr == ""
            else:
                assert done.returncode in codes, f"{name}: exit {done.returncode}: {done.stderr!r}"
                assert_fails(done, done.returncode, "postgresql")
            assert fault.get("random") or proxies[name].fired.is_set(), f"{name}: the fault never came"
            after = stored(resolve(pg_url(pg_base, schemas[name])))
            assert after.events == after.seals, f"{name}: {after}"
            written = after.events - befores[name].events
            assert written in (0, expected[name]), f"{name}: {written} of {expected[name]} events stored: partial"
            if leaves == "none":
                assert written == 0, f"{name}: exit {done.returncode}, yet {written} events were stored"
            if leaves == "all" or done.returncode == 0:
                assert written == expected[name], f"{name}: exit {done.returncode}, and {written} events are stored"
            if written == 0:
                assert after == befores[name], f"{name}: the seals changed"
            outcomes[name] = (done.returncode, written, done.stderr.strip())

        for proxy in proxies.values():
            if proxy.cuts:
                proxy.restore()
            proxy.disarm()
        again = run_all(jobs, env=dict.fromkeys(jobs, env))
        for name in CUTS:
            done = again[name]
            assert done.returncode == 0, f"{name}, once the server is back: exit {done.returncode}: {done.stderr}"
            after = stored(resolve(pg_url(pg_base, schemas[name])))
            assert after.events == after.seals == befores[name].events + expected[name], (name, after)
        audit_all([pg_url(pg_base, schema) for schema in schemas.values()])
        print(f"\nPostgreSQL going away ({took:.1f}s for the six faulted commands at once):")
        for name, (code, written, sentence) in outcomes.items():
            when = f" (cut {delays[name]:.2f}s after it connected)" if name in delays else ""
            print(f"  {name}{when}: exit {code}, {written} events stored; {sentence[:160]}")
    finally:
        for proxy in proxies.values():
            proxy.close()
        for schema in schemas.values():
            drop_schema(pg_base, schema)
