"""The installed `studyledger` command, run as separate processes, as a user runs it.

These tests start the console script with `subprocess`, so they see what a shell sees:
exit codes (SPEC §3), stdout and stderr, files created on disk, and what happens when two
processes decide on the same claim at the same moment (SPEC §6). Every child is bounded by
a timeout. Timings are never asserted (SPEC §7: those are benchmarks, not tests).
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from storage.config import Store, resolve
from tests.support.children import EXE, NO_EXE, assert_one_sentence, bound_by_file_modes, child_env
from tests.support.children import run_all as run_children
from tests.support.harness import count_events

pytestmark = [pytest.mark.processes, pytest.mark.skipif(EXE is None, reason=NO_EXE)]

TIMEOUT = 60  # seconds: every child process is bounded by this

# The children run on the real clock, so the dates are relative to today (UTC, as the ledger's).
TODAY = datetime.now(timezone.utc).date()
REGISTERED_ON = (TODAY - timedelta(days=400)).isoformat()
ACTIVITY_ON = (TODAY - timedelta(days=30)).isoformat()

SECRET = "s3cr3t-pw"


def sl(*args: str, db: str | None = None, cwd: Path | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Run `studyledger ARGS…` (with STUDYLEDGER_DB=db) to completion."""
    assert EXE is not None
    return subprocess.run(
        [str(EXE), *args], env=child_env(db), cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


def ok(*args: str, db: str, cwd: Path | None = None) -> str:
    """Run a command that must succeed quietly; its stdout."""
    done = sl(*args, db=db, cwd=cwd)
    assert done.returncode == 0, f"studyledger {' '.join(args)} exited {done.returncode}: {done.stderr}"
    assert done.stderr == "", f"studyledger {' '.join(args)} wrote on stderr: {done.stderr!r}"
    return done.stdout


# --- 1. a first session --------------------------------------------------------------------------


def test_a_first_session_as_separate_processes(db_url: str, store: Store, tmp_path: Path) -> None:
    """init, register, network, join, appoint, submit, endorse, queue, approve, balance: each its own process."""
    assert "Ledger ready" in ok("init", db=db_url, cwd=tmp_path)
    ok("professional", "register", "nurse-1", "--name", "Anna de Vries", "--group", "nurse",
       "--registered-on", REGISTERED_ON, db=db_url, cwd=tmp_path)
    ok("professional", "register", "nurse-2", "--name", "Bram Jansen", "--group", "nurse",
       "--registered-on", REGISTERED_ON, db=db_url, cwd=tmp_path)
    ok("network", "register", "wound-care", "--name", "Wound care", "--theme", "wound-care",
       "--group", "nurse", "--founded-on", REGISTERED_ON, db=db_url, cwd=tmp_path)
    ok("network", "join", "wound-care", "nurse-1", "--on", REGISTERED_ON, db=db_url, cwd=tmp_path)
    ok("network", "join", "wound-care", "nurse-2", "--on", REGISTERED_ON, db=db_url, cwd=tmp_path)
    ok("reviewer", "appoint", "rev-1", "--name", "Carla Smit", "--on", REGISTERED_ON, db=db_url, cwd=tmp_path)

    out = ok("claim", "submit", "--professional", "nurse-1", "--network", "wound-care", "--kind", "answer",
             "--on", ACTIVITY_ON, "--hours", "2.5", "--description", "Advised on a pressure ulcer",
             "--outcome", "A care plan the ward now uses", db=db_url, cwd=tmp_path)
    claim = out.strip()
    assert out == claim + "\n", f"claim submit prints only the claim id: {out!r}"
    assert str(uuid.UUID(claim)) == claim

    ok("claim", "endorse", claim, "--by", "nurse-2", "--statement", "I was there", db=db_url, cwd=tmp_path)

    human_queue = ok("review", "queue", db=db_url, cwd=tmp_path)
    assert claim in human_queue
    queue = json.loads(ok("--json", "review", "queue", db=db_url, cwd=tmp_path))
    assert [c["claim"] for c in queue["claims"]] == [claim]
    assert queue["claims"][0]["endorsements"] == 1
    assert queue["claims"][0]["suggested_points"] == "2.5"

    ok("review", "approve", claim, "--reviewer", "rev-1", "--rationale", "Clear outcome", db=db_url, cwd=tmp_path)

    balance = json.loads(ok("--json", "balance", "nurse-1", db=db_url, cwd=tmp_path))
    assert balance["professional"] == "nurse-1"
    assert balance["total"] == "2.5"  # a string, never a float
    assert balance["by_kind"] == {"answer": "2.5"}
    assert balance["by_network"] == {"wound-care": "2.5"}
    assert json.loads(ok("--json", "review", "queue", db=db_url, cwd=tmp_path)) == {"total": 0, "claims": []}

    # 2 professionals and 1 reviewer (3: their ids are guarded against case variants by the key store,
    # SPEC §9), 1 network with the guard of its id (2); 2 joins, each noted by the network and the
    # professional (6); submit, endorse and approve, each with its note (6); reads wrote nothing.
    assert count_events(store) == 17
    # --db was never given: STUDYLEDGER_DB named the store, and nothing landed in the working folder.
    assert not (tmp_path / "studyledger.db").exists()


# --- 2. two processes decide the same claim at the same moment ------------------------------------

# Five rounds by default; STUDYLEDGER_TEST_RACE_ROUNDS=50 makes a longer stress run.
RACE_ROUNDS = int(os.environ.get("STUDYLEDGER_TEST_RACE_ROUNDS", "5"))

# Imports everything the command needs, says it is ready, waits for the start signal, then runs
# the installed console script itself: so both children reach the ledger within a millisecond or
# two of each other, instead of as far apart as their start-up times differ.
_BARRIER = """
import importlib, runpy, sys, time
from pathlib import Path
import cli.main
for warm in ("ledger.app", "ledger.errors", "domain.claim", "eventsourcing.sqlite", "eventsourcing.postgres"):
    try:  # best effort: only makes the start quicker
        importlib.import_module(warm)
    except ImportError:
        pass
ready, go, script, args = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
ready.touch()
deadline = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("start signal never came")
    time.sleep(0.0005)
sys.argv = [script, *args]
runpy.run_path(script, run_name="__main__")
"""


def _is_python_script(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            first = f.readline()
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def start(args: list[str], db: str, ready: Path, go: Path, cwd: Path) -> subprocess.Popen[str]:
    """Start `studyledger ARGS…`; it touches `ready` and then waits until `go` exists."""
    assert EXE is not None
    if _is_python_script(EXE):
        argv = [sys.executable, "-c", _BARRIER, str(ready), str(go), str(EXE), *args]
    else:  # not a Python script: no warm start, only a common start signal
        argv = ["sh", "-c", 'touch "$0"; while [ ! -e "$1" ]; do sleep 0.001; done; shift; exec "$@"',
                str(ready), str(go), str(EXE), *args]
    return subprocess.Popen(argv, env=child_env(db), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def release(children: list[subprocess.Popen[str]], ready: list[Path], go: Path) -> None:
    """Give the start signal once every child is ready (or has died: its exit code will tell)."""
    deadline = time.monotonic() + TIMEOUT
    while not all(r.exists() or c.poll() is not None for r, c in zip(ready, children)):
        assert time.monotonic() < deadline, "the racing children never got ready"
        time.sleep(0.005)
    go.touch()


def _setup_race(db_url: str, tmp_path: Path) -> list[str]:
    """A register with RACE_ROUNDS submitted, endorsed claims; their ids."""
    ok("init", db=db_url, cwd=tmp_path)
    lines: list[dict[str, Any]] = [
        {"command": "professional register", "id": "nurse-1", "name": "Anna", "group": "nurse", "registered_on": REGISTERED_ON},
        {"command": "professional register", "id": "nurse-2", "name": "Bram", "group": "nurse", "registered_on": REGISTERED_ON},
        {"command": "network register", "id": "wound-care", "name": "Wound care", "theme": ["wound-care"],
         "group": ["nurse"], "founded_on": REGISTERED_ON},
        {"command": "network join", "network": "wound-care", "professional": "nurse-1", "on": REGISTERED_ON},
        {"command": "network join", "network": "wound-care", "professional": "nurse-2", "on": REGISTERED_ON},
        {"command": "reviewer appoint", "id": "rev-a", "name": "Reviewer A", "on": REGISTERED_ON},
        {"command": "reviewer appoint", "id": "rev-b", "name": "Reviewer B", "on": REGISTERED_ON},
    ]
    for n in range(RACE_ROUNDS):
        lines.append({"command": "claim submit", "professional": "nurse-1", "network": "wound-care", "kind": "answer",
                      "on": ACTIVITY_ON, "hours": "2", "description": f"Answer {n}", "outcome": "A better plan",
                      "request_id": f"race-{n}"})
        lines.append({"command": "claim endorse", "claim": f"race-{n}", "by": "nurse-2", "statement": "Seen it"})
    setup = tmp_path / "setup.jsonl"
    setup.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    ok("import", str(setup), db=db_url, cwd=tmp_path)

    claims = []
    for n in range(RACE_ROUNDS):
        shown = json.loads(ok("--json", "claim", "show", f"race-{n}", db=db_url, cwd=tmp_path))
        assert shown["status"] == "submitted" and len(shown["endorsements"]) == 1
        claims.append(shown["claim"])
    return claims


def test_two_processes_deciding_the_same_claim_store_exactly_one_decision(db_url: str, store: Store, tmp_path: Path) -> None:
    claims = _setup_race(db_url, tmp_path)
    events_before = count_events(store)

    outcomes = {"approve won": 0, "reject won": 0, "loser refused (1)": 0, "loser conflict (3)": 0}
    for n, claim in enumerate(claims):
        go = tmp_path / f"go-{n}"
        approve = ["review", "approve", claim, "--reviewer", "rev-a", "--rationale", "Good work"]
        reject = ["review", "reject", claim, "--reviewer", "rev-b", "--reason", "Not enough outcome"]
        # Alternate who is started first, so neither is favoured by start order.
        order = [("approve", approve), ("reject", reject)] if n % 2 == 0 else [("reject", reject), ("approve", approve)]
        children: dict[str, subprocess.Popen[str]] = {}
        ready = {name: tmp_path / f"ready-{n}-{name}" for name, _ in order}
        try:
            for name, args in order:
                children[name] = start(args, db_url, ready[name], go, tmp_path)
            release(list(children.values()), [ready[name] for name in children], go)
            results = {}
            for name, child in children.items():
                stdout, stderr = child.communicate(timeout=TIMEOUT)
                results[name] = (child.returncode, stdout, stderr)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.kill()
                    child.wait()

        for name, (code, stdout, stderr) in results.items():
            assert "Traceback" not in stderr, f"round {n}, {name}: {stderr}"
            assert "start signal never came" not in stderr
        codes = {name: code for name, (code, _, _) in results.items()}
        winners = [name for name, code in codes.items() if code == 0]
        assert len(winners) == 1, f"round {n}: exactly one decision must succeed, got exit codes {codes} {results}"
        winner = winners[0]
        loser = "reject" if winner == "approve" else "approve"
        loser_code, loser_out, loser_err = results[loser]
        assert loser_code in (1, 3), f"round {n}: the loser ({loser}) exited {loser_code}: {loser_err!r}"
        assert_one_sentence(loser_err)
        assert loser_out == "", f"round {n}: the loser printed a result: {loser_out!r}"
        if loser_code == 1:
            assert "ClaimNotAwaitingDecision" in loser_err, loser_err
            outcomes["loser refused (1)"] += 1
        else:
            assert "retry" in loser_err.lower(), loser_err
            outcomes["loser conflict (3)"] += 1
        assert results[winner][2] == "", f"round {n}: the winner wrote on stderr: {results[winner][2]!r}"
        outcomes[f"{winner} won"] += 1

        shown = json.loads(ok("--json", "claim", "show", claim, db=db_url, cwd=tmp_path))
        decisions = shown["decisions"]
        assert len(decisions) == 1, f"round {n}: {decisions}"
        expected = {"approve": ("approved", "rev-a"), "reject": ("rejected", "rev-b")}[winner]
        assert (decisions[0]["decision"], decisions[0]["by"]) == expected
        assert shown["status"] == expected[0]

    print(f"race outcomes on {store.engine}: {outcomes}")
    assert outcomes["approve won"] + outcomes["reject won"] == RACE_ROUNDS, outcomes
    assert outcomes["loser refused (1)"] + outcomes["loser conflict (3)"] == RACE_ROUNDS, outcomes
    # One decision event per claim, and each winning reviewer's first decision of the day noted (rule 8):
    # no half-written losers.
    winners = (outcomes["approve won"] > 0) + (outcomes["reject won"] > 0)
    assert count_events(store) == events_before + RACE_ROUNDS + winners
    approved = outcomes["approve won"]
    balance = json.loads(ok("--json", "balance", "nurse-1", db=db_url, cwd=tmp_path))
    assert balance["total"] == str(2 * approved)


# --- 3. an unreachable or missing store ---------------------------------------------------------------

UNREACHABLE = {
    "closed port": f"postgresql://postgres:{SECRET}@127.0.0.1:1/test",
    "unresolvable host": f"postgresql://postgres:{SECRET}@no-such-host.invalid:5432/test",
}
COMMANDS = {
    "read": ["review", "queue"],
    "init": ["init"],
    "write": ["professional", "register", "nurse-9", "--name", "N", "--group", "nurse"],
}


def run_all(jobs: dict[str, tuple[list[str], str | None]], cwd: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several `studyledger` commands at once (name → (args, STUDYLEDGER_DB)); their results.

    The unreachable-server cases each wait for the connection timeout, so they run side by side.
    """
    assert EXE is not None
    return run_children({name: [str(EXE), *args] for name, (args, _) in jobs.items()},
                        env={name: child_env(db) for name, (_, db) in jobs.items()}, cwd=cwd, timeout=TIMEOUT)


@pytest.mark.parametrize("where", sorted(UNREACHABLE))
def test_an_unreachable_postgresql_server_is_exit_4_without_the_password(where: str, tmp_path: Path) -> None:
    # A wrong password: tests/cli/test_postgres_auth.py (the test server trusts local connections).
    url = UNREACHABLE[where]
    jobs: dict[str, tuple[list[str], str | None]] = {}
    for name, args in COMMANDS.items():
        jobs[f"{name} --db"] = (["--db", url, *args], None)
        jobs[f"{name} env"] = (args, url)
        jobs[f"{name} --json"] = (["--json", "--db", url, *args], None)
    for job, done in run_all(jobs, tmp_path).items():
        assert done.returncode == 4, f"{where}, {job}: exit {done.returncode}: {done.stderr!r}"
        assert done.stdout == "", f"{where}, {job}: {done.stdout!r}"
        assert_one_sentence(done.stderr)
        assert SECRET not in done.stdout + done.stderr, f"{where}, {job} shows the password: {done.stderr!r}"
        if job.endswith("--json"):
            error = json.loads(done.stderr)["error"]
            assert error["code"] == 4 and error["message"], error
    assert list(tmp_path.iterdir()) == []  # no SQLite file appeared as a fallback


@pytest.mark.postgres  # the server must be reachable for a missing database to be the fault
def test_a_missing_postgresql_database_is_exit_4(tmp_path: Path) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(os.environ["STUDYLEDGER_TEST_POSTGRES_URL"])
    url = urlunsplit(parts._replace(path="/no_such_db_xyz", query=""))
    jobs: dict[str, tuple[list[str], str | None]] = {name: (["--db", url, *args], None) for name, args in COMMANDS.items()}
    for job, done in run_all(jobs, tmp_path).items():
        assert done.returncode == 4, f"{job}: exit {done.returncode}: {done.stderr!r}"
        assert done.stdout == ""
        assert_one_sentence(done.stderr)
    import psycopg

    with psycopg.connect(os.environ["STUDYLEDGER_TEST_POSTGRES_URL"]) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = 'no_such_db_xyz'").fetchone()
    assert found is None, "init must not create a PostgreSQL database"


def test_an_sqlite_file_in_a_missing_folder_is_exit_4(tmp_path: Path) -> None:
    path = tmp_path / "no-such-folder" / "ledger.db"
    for args in (["review", "queue"], ["balance", "nurse-1"], ["init"]):
        done = sl("--db", str(path), *args, cwd=tmp_path)
        assert done.returncode == 4, f"{args}: exit {done.returncode}: {done.stderr!r}"
        assert done.stdout == ""
        assert_one_sentence(done.stderr)
    assert not path.parent.exists()


@pytest.mark.parametrize(
    "args",
    [["review", "queue"], ["balance", "nurse-1"], ["professional", "register", "nurse-1", "--name", "N", "--group", "nurse"]],
    ids=["queue", "balance", "write"],
)
def test_a_command_on_a_missing_sqlite_file_is_exit_4_and_creates_nothing(args: list[str], tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    for done in (sl("--db", str(path), *args, cwd=tmp_path), sl(*args, db=f"sqlite:///{path}", cwd=tmp_path)):
        assert done.returncode == 4, f"exit {done.returncode}: {done.stderr!r}"
        assert done.stdout == ""
        assert_one_sentence(done.stderr)
        assert "init" in done.stderr  # tells the user what to do
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a failed command must not create the store"


def test_without_db_the_default_store_in_the_working_folder_is_not_created_by_a_read(tmp_path: Path) -> None:
    done = sl("review", "queue", cwd=tmp_path)
    assert done.returncode == 4
    assert_one_sentence(done.stderr)
    assert not (tmp_path / "studyledger.db").exists()
    done = sl("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "studyledger.db").is_file()


# --- 4. a read-only SQLite store ----------------------------------------------------------------------


# File modes only bind a process without CAP_DAC_OVERRIDE. Root has it, so as root the child is
# started through setpriv(1) with that capability (and CAP_DAC_READ_SEARCH) dropped: still uid 0,
# but held to the file modes like any owner. Without setpriv (or the right to drop capabilities)
# a root run cannot make a file read-only to itself, and the test is skipped.
def test_a_write_to_a_read_only_sqlite_store_is_exit_4_and_writes_nothing(tmp_path: Path) -> None:
    prefix = bound_by_file_modes(tmp_path)
    folder = tmp_path / "store"
    folder.mkdir()
    path = folder / "ledger.db"
    ok("init", db=str(path), cwd=tmp_path)
    ok("professional", "register", "nurse-1", "--name", "Anna", "--group", "nurse", db=str(path), cwd=tmp_path)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        done = subprocess.run(
            [*prefix, str(EXE), "professional", "register", "nurse-2", "--name", "Bram", "--group", "nurse"],
            env=child_env(str(path)), cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
        )
    finally:
        folder.chmod(0o755)
        path.chmod(0o600)
    assert done.returncode == 4, f"exit {done.returncode}: {done.stderr!r}"
    assert done.stdout == ""
    assert_one_sentence(done.stderr)
    assert "read-only" in done.stderr, done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, "a refused write changed the store"
    assert count_events(resolve(str(path))) == 1  # the registration, from before (its id's guard: in the key store)


# --- 5. help and version --------------------------------------------------------------------------------


def test_help_and_version(tmp_path: Path) -> None:
    top = sl("--help", cwd=tmp_path)
    assert top.returncode == 0 and top.stderr == ""
    assert "Usage: studyledger" in top.stdout
    for command in ("init", "claim", "review", "balance", "network"):
        assert command in top.stdout

    submit = sl("claim", "submit", "--help", cwd=tmp_path)
    assert submit.returncode == 0 and submit.stderr == ""
    assert "Usage: studyledger claim submit" in submit.stdout
    for option in ("--professional", "--network", "--kind", "--on", "--hours", "--outcome", "--request-id"):
        assert option in submit.stdout

    version = sl("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stderr == ""
    assert version.stdout.startswith("studyledger ")
    assert version.stdout.split()[1][0].isdigit(), version.stdout
    # Help and version touch no store.
    assert list(tmp_path.iterdir()) == []


def test_a_usage_error_is_exit_2_in_one_sentence(tmp_path: Path) -> None:
    done = sl("claim", "submit", "--professional", "nurse-1", cwd=tmp_path)
    assert done.returncode == 2
    assert_one_sentence(done.stderr)
    assert list(tmp_path.iterdir()) == []


# --- 7. a new SQLite store is private ---------------------------------------------------------------


def test_init_creates_a_new_sqlite_file_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    old = os.umask(0o022)  # the child inherits a permissive umask: 0600 must come from the ledger
    try:
        done = sl("init", db=str(path), cwd=tmp_path)
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Running init again keeps it so, and the first write does not widen it.
    ok("init", db=str(path), cwd=tmp_path)
    ok("reviewer", "appoint", "rev-1", "--name", "R", db=str(path), cwd=tmp_path)
    ok("review", "queue", db=str(path), cwd=tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Whatever else the store keeps beside the file (journal, locks) is as private.
    for beside in tmp_path.glob("ledger.db*"):
        assert stat.S_IMODE(beside.stat().st_mode) & 0o077 == 0, f"{beside.name} is {oct(beside.stat().st_mode)}"
