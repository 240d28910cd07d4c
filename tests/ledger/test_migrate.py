"""`studyledger migrate OLD NEW` (SPEC §9): the old plain store tests/data/ledger-v1.sqlite moved into
a new, encrypted store on each engine.

Every figure is compared with the old store's, at several (D, T): activity dates before, between and
after its events, and recording instants between them (the old store was written one command a minute
from 2025-03-03T09:00Z). The old store is a copy (never the committed file), and is never written to by
the migration: its bytes are compared before and after.
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.context import Session
from cli.main import cli
from ledger.app import open_ledger
from ledger.migrate import Replay, migrate
from storage.config import resolve
from tests.support.harness import Clock, Result, count_events
from tests.support.tampering import POINTS, RawStore

DATA = Path(__file__).resolve().parents[1] / "data"
PROFESSIONALS = ["N-1", "N-2", "N-3", "N-4"]
DATES = ["2023-12-31", "2024-03-04", "2024-05-01", "2024-06-30", "2024-12-31", "2026-06-15"]
INSTANTS = [None, "2025-03-03T09:00:00Z", "2025-03-03T09:16:00Z", "2025-03-03T09:24:30Z",
            "2025-03-03T09:28:00Z", "2025-03-03T09:29:00Z"]
# OLD's personal data, as its events hold them (names, register ids as JSON values, texts)
PERSONAL = ["Eva Dekker", "Mehmet Y", "Ingrid Post", "Kees van Dijk", "Hanneke Vos", '"N-1"', '"N-2"', '"N-3"',
            '"N-4"', '"R-1"', "Shared a dressing protocol", "Adopted on two wards", "I photograph every wound",
            "I was there", "Clear outcome", "What changed in your practice?", "Counted as a course already",
            "Eva hosted the evening"]


@pytest.fixture
def old(tmp_path: Path) -> Path:
    copy = tmp_path / "old" / "ledger-v1.sqlite"
    copy.parent.mkdir()
    shutil.copy(DATA / "ledger-v1.sqlite", copy)  # never the committed file itself
    return copy


@pytest.fixture
def factory(clock: Clock) -> Any:
    return functools.partial(open_ledger, clock=clock, os_user="tester")


def invoke(factory: Any, *args: str) -> Result:
    outcome = CliRunner().invoke(cli, list(args), obj=factory, catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def read(factory: Any, db: str, *args: str) -> Any:
    result = invoke(factory, "--db", db, "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.json()


def files(old: Path) -> dict[str, bytes]:
    """The old store's file and its WAL, if it holds any (not its -shm: every reader of a WAL file takes read
    marks there, and may leave an empty WAL file where there was none)."""
    return {p.name: p.read_bytes() for p in old.parent.glob(old.name + "*")
            if not p.name.endswith("-shm") and p.stat().st_size}


def moved(old: Path, db_url: str, factory: Any) -> dict[str, Any]:
    before = files(old)
    result = migrate(resolve(str(old)), resolve(db_url), factory)
    assert files(old) == before, "the migration wrote to the old store"
    return result


def test_every_balance_membership_and_the_map_are_the_old_stores(old: Path, db_url: str, factory: Any) -> None:
    result = moved(old, db_url, factory)
    assert result["events"] == 42 and result["people"] == 5  # N-4 is a professional and a reviewer: once
    assert result["old_digest"] == (DATA / "ledger-v1.digest").read_text().strip()
    # Read in process, one reader per store (the CLI's reads are the same Reader; the CLI is run below)
    readers = {db: Session(db=db, json=True, ledger_factory=factory) for db in (str(old), db_url)}
    try:
        compared = 0
        for professional in PROFESSIONALS:
            for day in map(date.fromisoformat, DATES):
                for instant in INSTANTS:
                    known_at = datetime.fromisoformat(instant.replace("Z", "+00:00")) if instant else factory.keywords["clock"]()
                    before, after = (readers[db].reader().balance(professional, day, known_at) for db in readers)
                    assert after == before, (professional, day, instant, before, after)
                    compared += Decimal(before["total"]) != 0
        assert compared > 10, "the (D, T) pairs chosen see some points"
        for network in ("wondzorg", "diabetes"):
            for day in map(date.fromisoformat, ("2023-02-01", "2023-06-30", "2024-09-01", "2026-06-15")):
                for instant in ("2025-03-03T09:10:00+00:00", "2025-03-03T09:34:30+00:00"):
                    known_at = datetime.fromisoformat(instant)
                    before, after = (readers[db].reader().members(network, day, known_at) for db in readers)
                    assert after == before, (network, day, instant)
        for day in map(date.fromisoformat, ("2023-06-30", "2024-10-01")):
            before, after = (readers[db].reader().network_map(day) for db in readers)
            assert after == before
    finally:
        for reader in readers.values():
            reader.close()
    for args in (["balance", "N-1", "--at", "2024-03-04", "--known-at", "2025-03-03T09:16:00Z"],
                 ["network", "members", "wondzorg", "--at", "2024-09-01"], ["network", "map", "--at", "2023-06-30"]):
        assert read(factory, db_url, *args) == read(factory, str(old), *args), args


def test_the_new_store_holds_no_personal_data_in_plain_bytes(old: Path, tmp_path: Path, factory: Any) -> None:
    new = tmp_path / "new.db"
    moved(old, str(new), factory)
    connection = sqlite3.connect(new)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("new.db*") if p.name != "new.db.key")
    plain = old.read_bytes()
    for text in PERSONAL:
        assert text.encode() in plain, f"{text!r} is not in the old store: the search would prove nothing"
        assert text.encode() not in stored, f"{text!r} is readable in the new store"
    # ... and yet the new store reads them back with the key
    assert read(factory, str(new), "claim", "show", "v1-c2")["endorsements"][1]["statement"] == "Useful for us too"


def test_audit_verify_passes_and_checks_the_link_to_the_old_store(old: Path, db_url: str, factory: Any) -> None:
    moved(old, db_url, factory)
    checked = read(factory, db_url, "audit", "verify")
    assert checked["ok"] and checked["events_checked"] == 42 + 1 + 2  # Migrated, and both networks' id guards
    digest = (DATA / "ledger-v1.digest").read_text().strip()
    assert checked["migrated_from"]["digest"] == digest and checked["migrated_from"]["events"] == 42
    assert checked["migrated_from"]["store"] == str(old)
    linked = read(factory, db_url, "audit", "verify", "--migrated-from", str(old))
    assert linked["ok"] and "nothing in it has changed since" in linked["notes"][0]

    # An event written to OLD after the migration is not in NEW
    assert invoke(factory, "--db", str(old), "network", "register", "late", "--name", "Late", "--theme", "x",
                  "--group", "nurse").exit_code == 0
    late = invoke(factory, "--db", db_url, "--json", "audit", "verify", "--migrated-from", str(old))
    assert late.exit_code == 1 and "written after it was migrated" in late.json()["problems"][0]


def test_a_changed_old_store_fails_the_link(old: Path, db_url: str, factory: Any) -> None:
    moved(old, db_url, factory)
    raw = RawStore(str(old))
    row = next(r for r in raw.rows() if POINTS.search(r.state))
    raw.update(row.position, "state", POINTS.sub(rb"\g<1>9\2", row.state))
    broken = invoke(factory, "--db", db_url, "--json", "audit", "verify", "--migrated-from", str(old))
    assert broken.exit_code == 1 and "fails its own chain check" in broken.json()["problems"][0], broken.stdout
    raw.reseal()  # a forger who re-seals OLD's chain: its digest is another one all the same
    result = invoke(factory, "--db", db_url, "--json", "audit", "verify", "--migrated-from", str(old))
    assert result.exit_code == 1
    problems = result.json()["problems"]
    assert any("is not the one this store was migrated from" in p for p in problems), problems

    other = old.with_name("other.sqlite")  # the wrong old store: another register
    assert invoke(factory, "--db", str(other), "init").exit_code == 0
    assert invoke(factory, "--db", str(other), "network", "register", "n", "--name", "N", "--theme", "t",
                  "--group", "g").exit_code == 0
    wrong = invoke(factory, "--db", db_url, "--json", "audit", "verify", "--migrated-from", str(other))
    assert wrong.exit_code == 1 and "not the one this store was migrated from" in wrong.json()["problems"][0]


def test_a_store_that_holds_events_is_not_migrated_into(old: Path, db_url: str, factory: Any) -> None:
    moved(old, db_url, factory)
    before = count_events(resolve(db_url))
    again = invoke(factory, "migrate", str(old), db_url)
    assert again.exit_code == 1 and "holds events already" in again.stderr, again.stderr
    assert count_events(resolve(db_url)) == before
    # nor is an encrypted store migrated again
    into = old.with_name("again.db")
    result = invoke(factory, "migrate", db_url, str(into))
    assert result.exit_code == 1 and "encrypted already" in result.stderr, result.stderr
    assert not into.exists()


def test_a_failed_migration_leaves_nothing(old: Path, db_url: str, factory: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("ledger.migrate.PAGE", 10)  # pages written before the failure
    real = Replay.moved

    def failing(self: Replay, event: Any) -> Any:
        if self.count == 30:
            raise OSError("disk gone")
        return real(self, event)

    monkeypatch.setattr(Replay, "moved", failing)
    with pytest.raises(OSError):
        moved(old, db_url, factory)
    store = resolve(db_url)
    if store.path is not None:
        assert not list(store.path.parent.glob(store.path.name + "*")), "the new file is removed"
    else:
        assert count_events(store) == 0
    monkeypatch.setattr(Replay, "moved", real)
    assert moved(old, db_url, factory)["events"] == 42  # and it can be migrated afterwards


def test_a_request_id_repeated_after_the_migration_is_still_recognised(old: Path, db_url: str, factory: Any) -> None:
    # (ledger-v1's own request ids were fingerprinted by an earlier version of the commands' content: a
    # repeat of them is refused on the old store itself. One recorded by today's code on the old store:)
    submit = ["claim", "submit", "--professional", "N-3", "--network", "wondzorg", "--kind", "answer", "--on",
              "2024-08-02", "--hours", "1", "--description", "Showed the protocol", "--outcome",
              "Used on the ward", "--request-id", "r-late"]
    first = read(factory, str(old), *submit)
    moved(old, db_url, factory)
    before = count_events(resolve(db_url))
    repeat = read(factory, db_url, *submit)
    assert repeat["claim"] == first["claim"] and repeat["replayed"]["request_id"] == "r-late", repeat
    other = invoke(factory, "--db", db_url, *submit[:-4], "--outcome", "Other", "--request-id", "r-late")
    assert other.exit_code == 1 and "different content" in other.stderr, other.stderr
    assert count_events(resolve(db_url)) == before


def test_a_deregistered_professional_is_erased_in_the_new_store(old: Path, db_url: str, factory: Any) -> None:
    moved(old, db_url, factory)
    others = {p: read(factory, db_url, "balance", p, "--at", "2024-12-31") for p in ("N-1", "N-3", "N-4")}
    erased = invoke(factory, "--db", db_url, "professional", "erase", "N-2", "--reason", "retention period over")
    assert erased.exit_code == 0, erased.stderr
    assert invoke(factory, "--db", db_url, "balance", "N-2").exit_code == 1
    for professional, balance in others.items():
        assert read(factory, db_url, "balance", professional, "--at", "2024-12-31") == balance
    assert read(factory, db_url, "audit", "verify", "--migrated-from", str(old))["ok"]


def test_old_stores_are_read_without_a_write(old: Path, tmp_path: Path, factory: Any) -> None:
    """The library switches a SQLite file it opens to WAL mode: OLD is read through a snapshot instead."""
    before = old.read_bytes()
    result = invoke(factory, "--json", "migrate", str(old), str(tmp_path / "new.db"))
    assert result.exit_code == 0, result.stderr
    assert result.json()["events"] == 42
    assert read(factory, str(tmp_path / "new.db"), "audit", "verify", "--migrated-from", str(old))["ok"]
    assert old.read_bytes() == before and sorted(p.name for p in old.parent.iterdir()) == [old.name]


@pytest.mark.postgres
def test_a_plain_postgresql_store_is_migrated_and_linked(tmp_path: Path, factory: Any) -> None:
    """OLD on PostgreSQL (read as it is, no snapshot): a plain store, made as stores were before SPEC §9."""
    import uuid

    import psycopg

    from tests.support.harness import POSTGRES_URL, drop_schema

    assert POSTGRES_URL
    schema = "t_" + uuid.uuid4().hex[:12]
    url = f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"
    try:
        factory(resolve(url), create=True).close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:  # no key store: a plain store
            for table in ("studyledger_keyring", "studyledger_people", "studyledger_erased"):
                connection.execute(f'DROP TABLE IF EXISTS "{schema}".{table}')
        lines = tmp_path / "old.jsonl"
        lines.write_text("\n".join([
            '{"command": "professional register", "id": "P-1", "name": "Pia Plain", "group": "nurse", '
            '"registered_on": "2024-01-01"}',
            '{"command": "reviewer appoint", "id": "R-1", "name": "Rik Plain", "on": "2024-01-01"}',
            '{"command": "network register", "id": "net", "name": "Net", "theme": ["t"], "group": ["nurse"], '
            '"founded_on": "2024-01-01"}',
            '{"command": "professional register", "id": "P-2", "name": "Piet Plain", "group": "nurse", '
            '"registered_on": "2024-01-01"}',
            '{"command": "network join", "network": "net", "professional": "P-1", "on": "2024-01-01"}',
            '{"command": "network join", "network": "net", "professional": "P-2", "on": "2024-01-01"}',
            '{"command": "claim submit", "professional": "P-1", "network": "net", "kind": "answer", "on": "2024-02-01", '
            '"hours": "2", "description": "Pia explained", "outcome": "It worked", "request_id": "c-1"}',
            '{"command": "claim endorse", "claim": "c-1", "by": "P-2", "statement": "Piet saw it"}',
            '{"command": "review approve", "claim": "c-1", "reviewer": "R-1", "rationale": "Good"}']) + "\n")
        assert invoke(factory, "--db", url, "import", str(lines)).exit_code == 0
        assert factory(resolve(url)).people is None, "the old store is plain"
        new = tmp_path / "new.db"
        assert migrate(resolve(url), resolve(str(new)), factory)["people"] == 3
        stored = new.read_bytes() + (Path(f"{new}-wal").read_bytes() if Path(f"{new}-wal").exists() else b"")
        assert not [t for t in (b"Pia Plain", b"Pia explained", b"Piet saw it", b'"P-1"') if t in stored]
        for day in ("2024-01-31", "2024-02-01"):
            balance = read(factory, url, "balance", "P-1", "--at", day)
            assert read(factory, str(new), "balance", "P-1", "--at", day) == balance
        assert balance["total"] == "2"
        assert read(factory, str(new), "audit", "verify", "--migrated-from", url)["ok"]
    finally:
        drop_schema(POSTGRES_URL, schema)
