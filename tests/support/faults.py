"""What the storage-fault and killed-writer tests share: the installed command run as a child,
a register to fault, a look at what a store holds, and a TCP proxy that can cut PostgreSQL off.

Not a test module: `tests/ledger/test_faults.py` and `tests/ledger/test_killed_writers.py` use it.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ledger.app import Ledger, open_ledger
from ledger.importer import import_lines
from storage.config import Store, resolve
from tests.support.children import EXE, child_env
from tests.support.children import run_all as run_children

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 90  # seconds: no child may run longer


# The children run on the real clock, so the dates are relative to today (UTC, as the ledger's).
TODAY = datetime.now(timezone.utc).date()
REGISTERED_ON = (TODAY - timedelta(days=400)).isoformat()
ACTIVITY_ON = (TODAY - timedelta(days=30)).isoformat()
PROFESSIONALS = [f"nurse-{n}" for n in range(1, 7)]


def argv(db: str, *args: str) -> list[str]:
    assert EXE is not None
    return [str(EXE), "--db", db, *args]


def sl(db: str, *args: str, prefix: Iterable[str] = (), env: dict[str, str] | None = None,
       timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run `studyledger --db DB ARGS…` to its end (under `prefix`, e.g. setpriv)."""
    return subprocess.run([*prefix, *argv(db, *args)], env=env or child_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=REPO)


def ok(db: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = sl(db, *args, env=env)
    assert done.returncode == 0, f"studyledger {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done.stdout


def run_all(jobs: dict[str, list[str]], env: dict[str, dict[str, str]] | None = None,
            timeout: float = TIMEOUT) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several commands (name → argv) side by side, in the repository; their results."""
    return run_children(jobs, env=env, cwd=REPO, timeout=timeout)


def assert_fails(done: subprocess.CompletedProcess[str], code: int, *words: str) -> str:
    """Exit `code`, nothing on stdout, one plain sentence on stderr holding each of `words`; the sentence."""
    assert done.returncode == code, f"{done.args[1:]} exited {done.returncode}, not {code}: {done.stderr!r}"
    assert done.stdout == "", f"a failed command printed a result: {done.stdout!r}"
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"not one line on stderr: {done.stderr!r}"
    for word in words:
        assert word in lines[0].lower(), f"{word!r} not in {lines[0]!r}"
    return lines[0]


# --- a register --------------------------------------------------------------------------------


def setup_lines() -> list[dict[str, Any]]:
    """Six nurses in one network and a reviewer: enough for claims, endorsements and decisions."""
    lines: list[dict[str, Any]] = [
        {"command": "network register", "id": "wound-care", "name": "Wound care", "theme": ["wound-care"],
         "group": ["nurse"], "founded_on": REGISTERED_ON},
        {"command": "reviewer appoint", "id": "rev-1", "name": "Reviewer One", "on": REGISTERED_ON},
    ]
    for p in PROFESSIONALS:
        lines.append({"command": "professional register", "id": p, "name": p.title(), "group": "nurse",
                      "registered_on": REGISTERED_ON})
        lines.append({"command": "network join", "network": "wound-care", "professional": p, "on": REGISTERED_ON})
    return lines


def submit(key: str, professional: str = "nurse-1", hours: str = "2") -> list[str]:
    """The arguments of a `claim submit` with `--request-id key` (two events: the claim and the key)."""
    return ["claim", "submit", "--professional", professional, "--network", "wound-care", "--kind", "answer",
            "--on", ACTIVITY_ON, "--hours", hours, "--description", f"Advice {key}",
            "--outcome", "A plan the ward now uses", "--request-id", key]


def import_file(path: Path, people: int, tag: str) -> int:
    """An import of 3 lines per new professional (register, join, submit), each with a request id,
    so that repeating it after an uncertain outcome writes nothing twice. Returns its events."""
    with path.open("w", encoding="utf-8") as out:
        for n in range(people):
            p = f"{tag}-{n}"
            for line in (
                {"command": "professional register", "id": p, "name": f"Professional {n}", "group": "nurse",
                 "registered_on": REGISTERED_ON, "request_id": f"{p}-r"},
                {"command": "network join", "network": "wound-care", "professional": p, "on": REGISTERED_ON,
                 "request_id": f"{p}-j"},
                {"command": "claim submit", "professional": p, "network": "wound-care", "kind": "question",
                 "on": ACTIVITY_ON, "hours": "1.5", "description": f"Question {n} " + "x" * 200,
                 "outcome": "An answer I now use", "request_id": f"{p}-c"},
            ):
                out.write(json.dumps(line) + "\n")
    # each command's own events and its request record: the registration (2: its id is guarded against
    # case variants by the key store, SPEC §9), the first join noted by the network and the professional
    # (4), the claim with its note (3)
    return people * 9


def make_store(db: str) -> Store:
    """`init` and the setup lines, in process (as `init` and `import` do)."""
    store = resolve(db)
    ledger = open_ledger(store, create=True)
    try:
        from projections.runner import ReadModels

        models = ReadModels(ledger.event_log)
        models.ensure()
        models.close()
        import_lines(ledger, [json.dumps(line) for line in setup_lines()])
    finally:
        ledger.close()
    return store


@dataclass(frozen=True)
class Stored:
    """What a store holds: its events and seals, and the last seal (any change shows here)."""

    events: int
    seals: int
    last_position: int
    last_seal: str


def stored(store: Store) -> Stored:
    ledger = Ledger(store)
    try:
        log = ledger.event_log
        events, column, seals = log.table, log.column, log.seals_table
        with ledger.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT (SELECT count(*) FROM {events}) AS events, (SELECT count(*) FROM {seals}) AS seals,"
                           f" (SELECT max({column}) FROM {events}) AS last")
            row = cursor.fetchone()
            cursor.execute(f"SELECT seal FROM {seals} ORDER BY position DESC LIMIT 1")
            seal = cursor.fetchone()
        return Stored(int(row["events"]), int(row["seals"]), int(row["last"] or 0),
                      bytes(seal["seal"]).hex() if seal else "")
    finally:
        ledger.close()


def audit_ok(db: str, env: dict[str, str] | None = None) -> None:
    """`audit verify` (the chain, and every projection against a replay) passes."""
    done = sl(db, "--json", "audit", "verify", env=env)
    assert done.returncode == 0, f"audit verify exited {done.returncode}: {done.stdout} {done.stderr}"
    assert json.loads(done.stdout)["ok"] is True


def audit_all(dbs: list[str]) -> None:
    """`audit verify` passes on each store (run side by side)."""
    for db, done in run_all({db: argv(db, "--json", "audit", "verify") for db in dbs}).items():
        assert done.returncode == 0, f"audit verify of {db} exited {done.returncode}: {done.stdout} {done.stderr}"
        assert json.loads(done.stdout)["ok"] is True


def pg_url(base: str, schema: str, port: int | None = None) -> str:
    """`base` with its own schema, and (given a port) through 127.0.0.1:port instead of its server."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(base)
    if port is not None:
        auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        parts = parts._replace(netloc=f"{auth}127.0.0.1:{port}")
    separator = "&" if parts.query else ""
    return urlunsplit(parts._replace(query=f"{parts.query}{separator}schema={schema}"))


# --- a proxy between the ledger and PostgreSQL -----------------------------------------------------


class Proxy:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server, until it is cut.

    `cut()` is the server going away: every connection is shut down and nothing listens on the
    port any more, so a reconnect is refused. `restore()` listens again on the same port.

    `arm(on, after=…)` cuts (or terminates the backend of) the one connection, at the moment a
    message holding `on` passes — from the client by default (it is then not forwarded: the
    server never gets it), or from the server (`side="server"`: the server has done it, the
    client never hears) — once `after` has passed from the client on that connection.
    """

    def __init__(self, upstream: tuple[str, int], server_url: str):
        self.upstream = upstream
        self.server_url = server_url  # for pg_terminate_backend
        self.port = 0
        self.cuts = 0
        self.terminated = 0
        self.fired = threading.Event()
        self.connected = threading.Event()  # a client has connected
        self._plan: tuple[bytes | None, bytes, str, str] | None = None
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def arm(self, on: bytes, after: bytes | None = None, side: str = "client", action: str = "cut") -> None:
        assert side in ("client", "server") and action in ("cut", "terminate")
        self.fired.clear()
        self._plan = (after, on, side, action)

    def disarm(self) -> None:
        self._plan = None

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
            self.cuts += 1
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; the port stops listening
            except OSError:
                pass
            listener.close()
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.cut()

    def cut_later(self, delay: float) -> threading.Thread:
        """Cut `delay` seconds after the first client connects (not at all if none does within 60 s)."""

        def later() -> None:
            if self.connected.wait(60):
                time.sleep(delay)
                self.cut()

        thread = threading.Thread(target=later, daemon=True)
        thread.start()
        return thread

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
            self.connected.set()
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        armed = False
        try:
            while True:
                ready, _, _ = select.select([client, server], [], [], 0.5)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    plan = self._plan
                    if plan is not None:
                        after, on, side, action = plan
                        armed = armed or (s is client and (after is None or after in data))
                        if armed and on in data and (side == "client") == (s is client):
                            self._plan = None
                            self.fired.set()
                            if action == "cut":
                                self.cut()
                                return
                            self._terminate(server.getsockname()[1])
                    (server if s is client else client).sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for s in (client, server):
                try:
                    s.close()
                except OSError:
                    pass

    def _terminate(self, port: int) -> None:
        """End the server process of the connection whose client side is 127.0.0.1:port."""
        import psycopg

        with psycopg.connect(self.server_url, autocommit=True) as connection:
            self.terminated += connection.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE client_port = %s", (port,)
            ).fetchone()[0]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.01)
