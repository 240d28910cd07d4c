"""SPEC §9 through the real command line, on SQLite and on PostgreSQL: `professional erase` and
`reviewer erase` forget a person, and every other figure stays.

The register below gives ZQ-8841 ("Zebediah Quixotefield") claims with distinctive texts (one
submitted with a --request-id, one returned, amended and withdrawn), a statement on a peer's claim,
and memberships of two networks. The done-when test (issue 13) takes a digest and the figures of
everyone else, erases ZQ-8841, and checks that the chain, the digest and every other figure
stand, that reads about ZQ-8841 say they were erased, that the read models equal a fresh replay,
and that none of the person's name, id or texts is left in the store's bytes: the SQLite file
and its write-ahead log (free pages included), or a `pg_dump` of the PostgreSQL schema.
"""

from __future__ import annotations

import glob
import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from projections import quick
from storage.config import resolve
from tests.support.harness import Clock, Result, count_events
from tests.support.snapshots import Snapshots

NAME = "Zebediah Quixotefield"
PID = "ZQ-8841"  # an id no other text of the register holds by chance
TEXTS = {
    "description": "Xylophonic bandaging of a venous ulcer",
    "outcome": "Flabbergasted ward adopted the regime",
    "practice_change": "Quokka-style triage at the door",
    "amended": "Zeppelin narrative of the co-construction",
    "statement": "Marmalade-scented endorsement by Zebediah",
}
SECRETS = [NAME, *NAME.split(), PID, *TEXTS.values()]
# (at, known-at) pairs: before, between and after the claims' decisions; the instants are the
# test clock's (it starts at 2026-06-15T12:00Z and ticks a second per command).
DATES = ("2025-03-31", "2025-06-30", "2026-06-15")
KNOWN = ("2026-06-15T12:00:10Z", "2026-06-15T12:00:40Z", "2026-06-15T13:00:00Z")


@dataclass
class Register:
    run: Any
    store: Any
    clock: Clock
    db_url: str
    claims: dict[str, str]

    def ok(self, *args: str) -> Result:
        self.clock.tick(seconds=1)
        result = self.run(*args)
        assert result.exit_code == 0, f"{args}: {result.stderr}"
        return result

    def refused(self, *args: str, error: str) -> str:
        """A command refused with exit 1 naming `error`, one line on stderr, and nothing written."""
        before = count_events(self.store)
        self.clock.tick(seconds=1)
        result = self.run(*args)
        assert result.exit_code == 1, f"{args}: exit {result.exit_code}: {result.stderr}"
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and f"{error}): " in result.stderr, result.stderr
        assert count_events(self.store) == before
        return result.stderr.strip()

    def json(self, *args: str) -> Any:
        return self.ok("--json", *args).json()

    def figures(self) -> dict[str, Any]:
        """Everyone else's balance at every (at, known-at), every network's members and the map."""
        found: dict[str, Any] = {}
        for at in DATES:
            for known in KNOWN:
                for pid in ("P-2", "P-3"):
                    found[f"balance {pid} {at} {known}"] = self.json("balance", pid, "--at", at, "--known-at", known)
                for network in ("wc", "ic"):
                    members = self.json("network", "members", network, "--at", at, "--known-at", known)["members"]
                    others = [m for m in members if m != PID and not m.startswith("an erased ")]
                    found[f"members {network} {at} {known}"] = (len(members), others)
                found[f"map {at} {known}"] = self.json("network", "map", "--at", at, "--known-at", known)
        return found


@pytest.fixture
def reg(run: Any, store: Any, clock: Clock, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Register:
    """The register (`write_register`): written by the first test of each engine, a copy of its
    store (the SQLite files byte for byte) and of its clock for the others."""
    r = Register(run, store, clock, db_url, {})
    r.claims = snapshots.register("cli-erasure", db_url, clock, lambda: write_register(r), tmp_path)
    return r


def write_register(r: Register) -> dict[str, str]:
    """ZQ-8841, P-2, P-3, V-1, networks wc and ic, and their claims; the claims' ids by name."""
    r.ok("professional", "register", PID, "--name", NAME, "--group", "nurse", "--registered-on", "2024-01-01")
    for pid, name in (("P-2", "Petra Tweede"), ("P-3", "Pim Derde")):
        r.ok("professional", "register", pid, "--name", name, "--group", "nurse", "--registered-on", "2024-01-01")
    r.ok("reviewer", "appoint", "V-1", "--name", "Vera Beoordelaar", "--on", "2024-01-01")
    r.ok("network", "register", "wc", "--name", "Wound care", "--theme", "wound-care", "--group", "nurse",
         "--founded-on", "2020-01-01")
    r.ok("network", "register", "ic", "--name", "Infection control", "--theme", "hygiene", "--group", "nurse",
         "--founded-on", "2020-01-01")
    for network, pid in (("wc", PID), ("wc", "P-2"), ("wc", "P-3"), ("ic", PID), ("ic", "P-2")):
        r.ok("network", "join", network, pid, "--on", "2024-02-01")
    r.ok("network", "leave", "ic", PID, "--on", "2025-05-01")
    # ZQ's claim in wc, with a request id, endorsed and approved.
    r.claims["zq"] = r.ok("claim", "submit", "--professional", PID, "--network", "wc", "--kind", "answer",
                          "--on", "2025-03-01", "--hours", "2", "--description", TEXTS["description"],
                          "--outcome", TEXTS["outcome"], "--practice-change", TEXTS["practice_change"],
                          "--request-id", "req-alpha-17").stdout.strip()
    r.ok("claim", "endorse", "req-alpha-17", "--by", "P-2", "--statement", "Petra saw it work")
    r.ok("review", "approve", "req-alpha-17", "--reviewer", "V-1", "--rationale", "Clear outcome, well endorsed")
    # ZQ's claim in ic: returned, amended, withdrawn.
    r.claims["zq-ic"] = r.ok("claim", "submit", "--professional", PID, "--network", "ic", "--kind", "co-construction",
                             "--on", "2024-06-01", "--hours", "3", "--description", "first try",
                             "--outcome", "something").stdout.strip()
    r.ok("review", "return", r.claims["zq-ic"], "--reviewer", "V-1", "--reason", "Say what came of it")
    r.ok("claim", "amend", r.claims["zq-ic"], "--by", PID, "--description", TEXTS["amended"])
    r.ok("claim", "withdraw", r.claims["zq-ic"], "--by", PID)
    # P-2's claim, endorsed by ZQ, approved; P-3's, approved then revoked.
    r.claims["p2"] = r.ok("claim", "submit", "--professional", "P-2", "--network", "wc", "--kind", "question",
                          "--on", "2025-04-01", "--hours", "1.5", "--description", "Asked about dressings",
                          "--outcome", "Changed the protocol").stdout.strip()
    r.ok("claim", "endorse", r.claims["p2"], "--by", PID, "--statement", TEXTS["statement"])
    r.ok("review", "approve", r.claims["p2"], "--reviewer", "V-1", "--rationale", "Useful question")
    r.claims["p3"] = r.ok("claim", "submit", "--professional", "P-3", "--network", "wc", "--kind", "facilitation",
                          "--on", "2025-06-01", "--hours", "4", "--description", "Hosted the meeting",
                          "--outcome", "Twelve nurses came").stdout.strip()
    r.ok("claim", "endorse", r.claims["p3"], "--by", "P-2", "--statement", "I was one of them")
    r.ok("review", "approve", r.claims["p3"], "--reviewer", "V-1", "--rationale", "Good meeting")
    r.ok("review", "revoke", r.claims["p3"], "--reviewer", "V-1", "--reason", "Counted twice")
    r.ok("professional", "deregister", PID, "--on", "2025-12-31")
    r.clock.tick(minutes=30)
    return r.claims


# --- what is in the store's bytes --------------------------------------------------------


def stored_bytes(reg: Register) -> bytes:
    """Every byte of the store: the SQLite file and its WAL as they are on disk (free pages included),
    or a pg_dump of the test's PostgreSQL schema."""
    if reg.store.path is not None:
        path = reg.store.path
        wal = Path(f"{path}-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    dump = pg_dump()
    if dump is None:
        pytest.skip("pg_dump is not installed: the PostgreSQL byte search needs it")
    url = urlsplit(reg.db_url)
    schema = reg.store.settings["POSTGRES_SCHEMA"]
    database = url._replace(query="").geturl()
    done = subprocess.run([dump, f"--dbname={database}", f"--schema={schema}", "--no-owner"],
                          capture_output=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def pg_dump() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    return found[-1] if found else shutil.which("pg_dump")


def found_in(data: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode() in data]


def key_store_row(reg: Register) -> tuple[bytes, bytes]:
    """The erased-to-be person's wrapped key and sealed register id, as the key store holds them."""
    from ledger.app import open_ledger
    from storage.keystore import KeyStore

    app = open_ledger(reg.store)
    try:
        assert app.people is not None
        pseudonym = app.people.pseudonym(PID)
        keystore: KeyStore = app.event_log.keystore()
        row = keystore.by_pseudonym(pseudonym)
    finally:
        app.close()
    assert row is not None
    return row[1], row[2]


def stored_form(reg: Register, value: bytes) -> bytes:
    """How `value` shows in `stored_bytes`: raw in the SQLite file, as hex in a pg_dump."""
    return value if reg.store.path is not None else value.hex().encode()


def sqlite_checkpoint(reg: Register) -> None:
    if reg.store.path is not None:
        with sqlite3.connect(reg.store.path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- the done-when test -----------------------------------------------------------------


def test_erasing_a_professional_forgets_them_and_keeps_every_other_figure(reg: Register) -> None:
    run = reg.run
    digest = reg.ok("audit", "digest").stdout.strip()
    before = reg.figures()
    # A rebuild keeps the generation before it: the purge must reach both.
    reg.ok("projections", "rebuild")
    sqlite_checkpoint(reg)
    # The read models hold the id in plain until the erasure (texts stay sealed there): the search finds it.
    assert PID in found_in(stored_bytes(reg))
    assert reg.json("balance", PID)["total"] == "2"

    key_row = key_store_row(reg)
    # Another process keeps the store open (a worker, a reader): its last close would otherwise
    # checkpoint the write-ahead log, so without it the erasure's own checkpoint would go untested.
    keeper = sqlite3.connect(reg.store.path) if reg.store.path is not None else None
    if keeper is not None:
        keeper.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    erased = reg.ok("professional", "erase", PID, "--reason", "Asked to be forgotten (GDPR art. 17)")
    assert erased.stdout == (f"Professional {PID} erased: their key and link are destroyed; their figures stay, "
                             "named 'an erased professional'.\n")
    # Straight after the erasure, before anything else runs: nothing of the person in the bytes,
    # nor their key-store row (their wrapped key, their sealed id) in a free page or cell.
    data = stored_bytes(reg)
    assert found_in(data) == []
    assert not any(stored_form(reg, value) in data for value in key_row)
    if keeper is not None:
        keeper.close()

    assert run("audit", "verify").exit_code == 0
    assert run("audit", "verify", "--digest", digest).exit_code == 0
    assert reg.figures() == before
    refused = run("balance", PID)
    assert refused.exit_code == 1 and f"{PID} was erased" in refused.stderr, refused.stderr
    assert run("projections", "verify").exit_code == 0

    # A rebuild from the events gives the same, and keeps nothing of the person either.
    reg.ok("projections", "rebuild")
    assert run("projections", "verify").exit_code == 0
    assert reg.figures() == before
    sqlite_checkpoint(reg)
    assert found_in(stored_bytes(reg)) == []


def test_an_erasure_waits_for_a_running_catch_up_and_else_erases_nobody(reg: Register, monkeypatch: Any) -> None:
    from ledger.app import open_ledger
    from projections import erasure
    from projections.runner import ReadModels

    monkeypatch.setattr(erasure, "LOCK_WAIT", 0.5)
    before = count_events(reg.store)
    app = open_ledger(reg.store)
    models = ReadModels(app.event_log)
    try:
        with models.exclusive("claims"):  # a catch-up or rebuild elsewhere
            result = reg.run("professional", "erase", PID, "--reason", "GDPR")
    finally:
        models.close()
        app.close()
    assert result.exit_code == 3, result.stderr
    assert "did not end within 0.5 s; nobody was erased. Safe to retry." in result.stderr
    assert count_events(reg.store) == before
    assert reg.json("balance", PID)["total"] == "2"
    reg.ok("professional", "erase", PID, "--reason", "GDPR")


# --- what the reads show afterwards ---------------------------------------------------------


def test_reads_about_an_erased_professional_say_they_were_erased(reg: Register) -> None:
    reg.ok("professional", "erase", PID, "--reason", "GDPR")
    for args in (("balance", PID), ("balance", PID, "--at", "2025-06-30"), ("audit", "history", PID),
                 ("claim", "list", "--professional", PID)):
        result = reg.run(*args)
        assert result.exit_code == 1, (args, result.stderr)
        assert result.stderr.startswith("Refused (rule 1, PersonErased): ") and f"{PID} was erased" in result.stderr
        assert result.stdout == ""
    # The quick path (no SQLAlchemy) does not answer for the erased id: the usual path says why.
    assert quick.balance(reg.store, PID, now=reg.clock()) is None


def test_the_erased_professional_is_named_by_a_placeholder_where_they_acted(reg: Register) -> None:
    reg.ok("professional", "erase", PID, "--reason", "GDPR")
    own = reg.json("claim", "show", reg.claims["zq"])
    placeholder = own["professional"]
    assert placeholder.startswith("an erased professional #") and PID not in placeholder
    assert (own["description"], own["outcome"], own["practice_change"], own["request_id"]) == (None, None, None, None)
    assert own["professional_name"] is None
    assert own["points"] == "2" and own["status"] == "approved"
    assert [(e["by"], e["statement"]) for e in own["endorsements"]] == [("P-2", "Petra saw it work")]
    assert [(d["decision"], d["by"], d["text"]) for d in own["decisions"]] == [
        ("approved", "V-1", "Clear outcome, well endorsed")]  # the reviewer's text is the reviewer's
    shown = reg.ok("claim", "show", reg.claims["zq"]).stdout
    assert "description      (erased)" in shown and "outcome          (erased)" in shown
    # The statement ZQ wrote on P-2's claim is unreadable; P-2's own texts are not touched.
    peer = reg.json("claim", "show", reg.claims["p2"])
    assert [(e["by"], e["statement"]) for e in peer["endorsements"]] == [(placeholder, None)]
    assert peer["description"] == "Asked about dressings"
    # The withdrawn and amended claim: the claimant's decisions signed by the placeholder.
    other = reg.json("claim", "show", reg.claims["zq-ic"])
    assert [(d["decision"], d["by"]) for d in other["decisions"]] == [
        ("returned", "V-1"), ("amended", placeholder), ("withdrawn", placeholder)]
    assert other["description"] is None
    members = reg.json("network", "members", "wc", "--at", "2025-06-30")["members"]
    assert members == sorted(["P-2", "P-3", placeholder])
    # The --request-id of their claim names nothing any more (its result was sealed with their key).
    unknown = reg.run("claim", "show", "req-alpha-17")
    assert (unknown.exit_code, unknown.stderr) == (1, "Refused (rule 1, UnknownClaim): no claim 'req-alpha-17' was "
                                                      "submitted.\n")
    listed = reg.json("claim", "list", "--network", "wc")["claims"]
    assert sorted(c["professional"] for c in listed) == sorted(["P-2", "P-3", placeholder])


def test_an_erased_professional_is_not_registered_again_nor_erased_twice(reg: Register) -> None:
    reg.ok("professional", "erase", PID, "--reason", "GDPR")
    reg.refused("professional", "register", PID, "--name", NAME, "--group", "nurse", error="PersonErased")
    reg.refused("professional", "erase", PID, "--reason", "again", error="PersonErased")
    reg.refused("credential", "issue", PID, error="PersonErased")
    assert reg.run("projections", "verify").exit_code == 0


def test_a_pending_claim_of_an_erased_professional_is_decided_afterwards(reg: Register) -> None:
    claim = reg.ok("claim", "submit", "--professional", "P-3", "--network", "wc", "--kind", "answer",
                   "--on", "2025-07-01", "--hours", "2", "--description", "Pending when erased",
                   "--outcome", "Decided later").stdout.strip()
    reg.ok("claim", "endorse", claim, "--by", "P-2", "--statement", "Seen")
    reg.ok("professional", "deregister", "P-3", "--on", "2025-12-31")
    balance = reg.json("balance", "P-2", "--at", "2026-06-15", "--known-at", "2026-06-15T14:00:00Z")
    reg.ok("professional", "erase", "P-3", "--reason", "GDPR")
    reg.ok("review", "approve", claim, "--reviewer", "V-1", "--rationale", "Late but fine")
    shown = reg.json("claim", "show", claim)
    assert shown["professional"].startswith("an erased professional #") and shown["description"] is None
    assert (shown["status"], shown["points"]) == ("approved", "2")
    assert reg.json("balance", "P-2", "--at", "2026-06-15", "--known-at", "2026-06-15T14:00:00Z") == balance
    assert reg.run("projections", "verify").exit_code == 0
    reg.ok("projections", "rebuild")
    assert reg.run("projections", "verify").exit_code == 0
    assert reg.run("audit", "verify").exit_code == 0


def test_shell_completion_offers_no_erased_person(reg: Register) -> None:
    import os
    import sys

    reg.ok("professional", "erase", PID, "--reason", "GDPR")
    reg.ok("claim", "list")  # the claims read model (which completion reads as it stands) caught up
    env = {**os.environ, "_STUDYLEDGER_COMPLETE": "bash_complete",
           "COMP_WORDS": f"studyledger --db {reg.db_url} balance ", "COMP_CWORD": "4"}
    done = subprocess.run([str(Path(sys.executable).with_name("studyledger"))], env=env, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert [line.removeprefix("plain,") for line in done.stdout.splitlines()] == ["P-2", "P-3"]


# --- refusals: nothing written ------------------------------------------------------------


def test_a_professional_still_registered_is_not_erased(reg: Register) -> None:
    reg.refused("professional", "erase", "P-2", "--reason", "GDPR", error="NotDeregistered")
    assert reg.json("balance", "P-2")["professional"] == "P-2"


def test_a_reviewer_in_office_is_not_erased(reg: Register) -> None:
    reg.refused("reviewer", "erase", "V-1", "--reason", "GDPR", error="NotRetired")


def test_a_deregistered_professional_who_reviews_in_office_is_not_erased(reg: Register) -> None:
    reg.ok("professional", "register", "X-1", "--name", "Xander Both", "--group", "nurse",
           "--registered-on", "2024-01-01")
    reg.ok("reviewer", "appoint", "X-1", "--name", "Xander Both", "--on", "2024-01-01")
    reg.ok("professional", "deregister", "X-1", "--on", "2025-12-31")
    reg.refused("professional", "erase", "X-1", "--reason", "GDPR", error="NotRetired")
    reg.ok("reviewer", "retire", "X-1", "--on", "2026-06-16")
    result = reg.ok("professional", "erase", "X-1", "--reason", "GDPR")
    assert "(as professional and as reviewer)" in result.stdout
    assert reg.run("projections", "verify").exit_code == 0


def test_a_store_made_before_encryption_erases_nobody(run: Any, tmp_path: Path, db_url: str) -> None:
    if not db_url.endswith(".db"):
        pytest.skip("the plain store is an SQLite file (tests/data/ledger-v1.sqlite)")
    plain = tmp_path / "plain.sqlite"
    shutil.copyfile(Path(__file__).parents[1] / "data" / "ledger-v1.sqlite", plain)
    before = count_events(resolve(str(plain)))
    result = run("professional", "erase", "N-2", "--reason", "GDPR", db=str(plain))
    assert result.exit_code == 1, result.stderr
    assert result.stderr.startswith("Refused (NotEncrypted): ") and "migrate" in result.stderr
    assert count_events(resolve(str(plain))) == before


# --- reviewers ---------------------------------------------------------------------------


def test_erasing_a_reviewer_keeps_their_decisions_and_every_balance(reg: Register) -> None:
    reg.ok("reviewer", "retire", "V-1", "--on", "2026-06-16")
    before = reg.figures()
    result = reg.ok("reviewer", "erase", "V-1", "--reason", "Retention period over")
    assert result.stdout.startswith("Reviewer V-1 erased: ")
    assert reg.figures() == before
    shown = reg.json("claim", "show", reg.claims["p2"])
    (decision,) = shown["decisions"]
    assert decision["by"].startswith("an erased reviewer #") and decision.get("text") is None
    assert decision["points"] == "1.5"
    assert "(erased)" in reg.ok("claim", "show", reg.claims["p2"]).stdout
    assert reg.run("projections", "verify").exit_code == 0
    assert reg.run("audit", "verify").exit_code == 0
    refused = reg.run("audit", "history", "V-1")
    assert refused.exit_code == 1 and "V-1 was erased" in refused.stderr
    sqlite_checkpoint(reg)
    assert b"Clear outcome, well endorsed" not in stored_bytes(reg)  # the rationale V-1 wrote


def test_an_erasure_says_so_when_readers_keep_the_wal_from_being_emptied(reg: Register, monkeypatch: Any) -> None:
    if reg.store.path is None:
        pytest.skip("the write-ahead log is SQLite's")
    import storage.sqlite

    monkeypatch.setattr(storage.sqlite, "CHECKPOINT_WAIT", 0.2)
    reader = sqlite3.connect(reg.store.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM stored_events").fetchone()  # a read transaction held open
    try:
        result = reg.ok("professional", "erase", PID, "--reason", "GDPR")
    finally:
        reader.close()
    assert result.stderr.startswith("Note: readers kept the write-ahead log from being emptied; ")
    assert result.stdout.startswith(f"Professional {PID} erased: ")
    assert reg.run("projections", "verify").exit_code == 0


# --- with a worker following the log (separate processes) ---------------------------------


@pytest.mark.processes
def test_an_erasure_while_a_worker_follows_the_log(reg: Register, children: Any) -> None:
    """The worker decoded the person's events with their key before the erasure; afterwards it applies
    a late approval of their pending claim without their register id, and nothing of them comes back."""
    import signal
    import time

    from tests.support.children import EXE
    from tests.support.readmodels import Models

    if EXE is None:
        pytest.skip("the `studyledger` console script is not installed")
    claim = reg.ok("claim", "submit", "--professional", "P-3", "--network", "wc", "--kind", "answer",
                   "--on", "2025-07-01", "--hours", "2", "--description", "Quetzal-feathered pending claim",
                   "--outcome", "Decided while a worker ran").stdout.strip()
    reg.ok("claim", "endorse", claim, "--by", "P-2", "--statement", "Seen")
    reg.ok("professional", "deregister", "P-3", "--on", "2025-12-31")
    view = Models(reg.store)
    try:
        def caught_up() -> bool:
            state = view.state()
            return bool(state) and {position for _, position in state.values()} == {view.head()}

        def wait(condition: Any) -> None:
            deadline = time.monotonic() + 60
            while not condition():
                assert time.monotonic() < deadline, "the worker did not catch up within 60 s"
                time.sleep(0.05)

        worker = children.start(reg.db_url, "projections", "run")
        assert worker.stdout.readline().startswith("Following the log")
        wait(caught_up)  # it has read P-3's key
        reg.ok("professional", "erase", "P-3", "--reason", "GDPR")
        reg.ok("review", "approve", claim, "--reviewer", "V-1", "--rationale", "Late but fine")
        wait(caught_up)
        worker.send_signal(signal.SIGTERM)
        assert children.finish(worker).returncode == 0
    finally:
        view.close()
    shown = reg.json("claim", "show", claim)
    assert shown["professional"].startswith("an erased professional #") and shown["points"] == "2"
    assert reg.run("projections", "verify").exit_code == 0
    sqlite_checkpoint(reg)
    assert b"Quetzal-feathered" not in stored_bytes(reg)
