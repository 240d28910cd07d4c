"""Tamper evidence (SPEC §5): the hash chain of `ledger.integrity`, checked by `ledger.audit.verify_chain`.

The heart of this file is a mutation test: a realistic store (the demo register) is built
once, and for every example a copy of it is altered directly in SQL — a byte of a state
flipped, points or a recording instant rewritten, a row deleted, forged, moved, swapped,
its topic, version or aggregate changed, a seal removed or altered — and `verify_chain` must
report a problem naming the first affected event. Hypothesis chooses the mutation and the
row on SQLite (a copy of the file) and, fewer of them, on PostgreSQL (a copy of the tables
in a schema of their own); every kind also runs once at a fixed row on both engines.

Further: the chain hashes the stored bytes and never decodes them (so upcasting an event
class later changes nothing); digests (`audit digest`, `audit verify --digest`); and a store
written by an earlier run (tests/data/ledger-v1.sqlite) whose digest was written down then.

`RawStore` (direct SQL on either engine, bypassing the ledger) is shared with tests/cli/test_audit.py.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli.main import cli
from ledger.app import Ledger, open_ledger
from ledger.audit import verify_chain
from ledger.demo import script
from ledger.errors import InvalidInput
from ledger.integrity import check_chain, digest, parse_digest
from storage.config import resolve
from storage.seals import GENESIS, link
from tests.support.harness import POSTGRES_URL, Clock
from tests.support.tampering import POINTS, RawStore, StoredRow, named_position

DATA = Path(__file__).resolve().parent.parent / "data"


def checkpoint(path: Path) -> None:
    """Fold the SQLite write-ahead log into the file, so that the file alone is the store."""
    conn = sqlite3.connect(path)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "nothing else holds the store"
    finally:
        conn.close()
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def pg_url(schema: str) -> str:
    assert POSTGRES_URL
    return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}schema={schema}"


def pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_clone(source: str, target: str) -> None:
    """A copy of the events and seals of schema `source` in a fresh schema `target`."""
    statements = [f'DROP SCHEMA IF EXISTS "{target}" CASCADE', f'CREATE SCHEMA "{target}"']
    for table in ("studyledger_events", "studyledger_seals"):
        statements += [
            f'CREATE TABLE "{target}".{table} (LIKE "{source}".{table} INCLUDING ALL)',
            f'INSERT INTO "{target}".{table} SELECT * FROM "{source}".{table}',
        ]
    pg_admin(*statements)


def verify(db_url: str, digest_text: str | None = None, **options: Any) -> Any:
    """`verify_chain` on a ledger opened afresh on `db_url`."""
    ledger = open_ledger(resolve(db_url), **options)
    try:
        report, _ = verify_chain(ledger, digest_text)
        return report
    finally:
        ledger.close()


# --- the realistic store, built once per engine ---------------------------------------------


def build_demo(db_url: str) -> None:
    """The demo register (≈90 events: policies, registrations, memberships, claims in every state)."""
    clock = Clock()
    ledger = open_ledger(resolve(db_url), create=True, clock=clock, os_user="tester")
    try:
        for _, command, values in script(clock.today):
            clock.tick(seconds=7)
            ledger.run(command, values)
    finally:
        ledger.close()


@dataclass
class Template:
    db_url: str  # SQLite: the file; PostgreSQL: the URL of the template schema
    rows: list[StoredRow]
    seals: list[tuple[int, bytes]]


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("template") / "demo.db"
    build_demo(str(path))
    checkpoint(path)
    raw = RawStore(str(path))
    return Template(str(path), raw.rows(), raw.seal_rows())


@pytest.fixture(scope="module")
def postgres_template() -> Iterator[Template]:
    assert POSTGRES_URL
    schema = "t_tmpl_" + uuid.uuid4().hex[:10]
    pg_admin(f'CREATE SCHEMA "{schema}"')
    try:
        build_demo(pg_url(schema))
        raw = RawStore(pg_url(schema))
        yield Template(pg_url(schema), raw.rows(), raw.seal_rows())
    finally:
        pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Copies:
    """Fresh copies of a template store, one per mutation."""

    def __init__(self, template: Template, tmp_path: Path):
        self.template = template
        self.tmp_path = tmp_path
        self.numbers = itertools.count()
        self.postgres = template.db_url.startswith("postgresql://")
        self.schema = "t_mut_" + uuid.uuid4().hex[:10]

    def fresh(self) -> str:
        if self.postgres:
            source = parse_qs(urlsplit(self.template.db_url).query)["schema"][0]
            pg_clone(source, self.schema)
            return pg_url(self.schema)
        copy = self.tmp_path / f"copy-{next(self.numbers)}.db"
        shutil.copy(self.template.db_url, copy)
        return str(copy)

    def discard(self, db_url: str) -> None:
        if not self.postgres:
            for suffix in ("", "-wal", "-shm"):
                Path(db_url + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        if self.postgres:
            pg_admin(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


@pytest.fixture
def sqlite_copies(sqlite_template: Template, tmp_path: Path) -> Iterator[Copies]:
    copies = Copies(sqlite_template, tmp_path)
    yield copies
    copies.close()


@pytest.fixture
def postgres_copies(postgres_template: Template, tmp_path: Path) -> Iterator[Copies]:
    copies = Copies(postgres_template, tmp_path)
    yield copies
    copies.close()


# --- the mutations --------------------------------------------------------------------------
#
# Each takes the raw store, the template's rows and `pick(n)` (an index below n, chosen by
# hypothesis or fixed), changes the store, and returns the position of the first affected event.

Pick = Callable[[int], int]
TIMESTAMP = re.compile(rb'("timestamp":\{"_type_":"datetime_iso","_data_":")([^"]+)')


def _other(pick: Pick, n: int, i: int) -> int:
    """An index other than i."""
    return (i + 1 + pick(n - 1)) % n


def flip_state_byte(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    state = bytearray(row.state)
    offset = pick(len(state))
    state[offset] ^= 1 << pick(8)
    raw.update(row.position, "state", bytes(state))
    return row.position


def change_points(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """An approval's points, "1.50" → "2.50": still valid JSON, still a valid amount."""
    approved = [r for r in rows if r.topic.endswith(("Claim.Approved", "Claim.Revoked"))]
    row = approved[pick(len(approved))]
    state = POINTS.sub(lambda m: m.group(1) + str(int(m.group(2)) + 1 + pick(3)).encode(), row.state, count=1)
    assert state != row.state and json.loads(state)
    raw.update(row.position, "state", state)
    return row.position


def change_recording_instant(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The recording instant inside a state, moved by a few seconds to a day: valid JSON still."""
    row = rows[pick(len(rows))]
    delta = timedelta(seconds=(1, 60, 86400, -1)[pick(4)])
    state = TIMESTAMP.sub(
        lambda m: m.group(1) + (datetime.fromisoformat(m.group(2).decode()) + delta).isoformat().encode(),
        row.state, count=1)
    assert state != row.state and json.loads(state)
    raw.update(row.position, "state", state)
    return row.position


def empty_state(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update(row.position, "state", (b"", None, b"{}")[pick(3)])
    return row.position


def delete_row(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.delete(row.position)
    return row.position


def delete_first(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    raw.delete(rows[0].position)
    return rows[0].position


def delete_last(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The last event removed: its seal is left with no event."""
    raw.delete(rows[-1].position)
    return rows[-1].position


def truncate_tail(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The newest events removed, as if the history had stopped earlier."""
    first = len(rows) - 1 - pick(min(len(rows), 10))
    raw.delete(*(r.position for r in rows[first:]))
    return rows[first].position


def forge_approval(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """A valid-looking approval of a claim, as its next version, at a new position after the head."""
    approvals = [r for r in rows if r.topic.endswith("Claim.Approved")]
    template = approvals[pick(len(approvals))]
    claims = sorted({r.originator_id for r in rows if r.topic.endswith("Claim.Submitted")}, key=str)
    claim = claims[pick(len(claims))]
    version = max(r.version for r in rows if r.originator_id == claim) + 1
    position = rows[-1].position + 1 + pick(3)
    raw.insert(position, claim, version, template.topic, template.state)
    return position


def copy_under_new_version(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """An existing row's state repeated under its aggregate's next version, at a new position."""
    row = rows[pick(len(rows))]
    version = max(r.version for r in rows if r.originator_id == row.originator_id) + 1
    position = rows[-1].position + 1
    raw.insert(position, row.originator_id, version, row.topic, row.state)
    return position


def insert_before_first(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """A forged row at a position before the first (0 or negative): first in the log order."""
    row = rows[pick(len(rows))]
    position = (0, -1, -1000)[pick(3)]
    raw.insert(position, raw.uuid(uuid.uuid4()), 1, row.topic, row.state)
    return position


def insert_into_gap(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """A row deleted, and a forged one put in its place."""
    i = pick(len(rows))
    j = _other(pick, len(rows), i)
    row, other = rows[i], rows[j]
    raw.delete(row.position)
    raw.insert(row.position, row.originator_id, row.version, other.topic, other.state)  # states are all distinct
    return row.position


def swap_positions(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    i = pick(len(rows))
    j = _other(pick, len(rows), i)
    raw.swap(rows[i].position, rows[j].position)
    return min(rows[i].position, rows[j].position)


def swap_neighbours(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    i = pick(len(rows) - 1)
    raw.swap(rows[i].position, rows[i + 1].position)
    return rows[i].position


def swap_states(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The states (content) of two rows exchanged, the rows staying where they are."""
    i = pick(len(rows))
    j = _other(pick, len(rows), i)
    raw.update(rows[i].position, "state", rows[j].state)
    raw.update(rows[j].position, "state", rows[i].state)
    return min(rows[i].position, rows[j].position)


def move_to_end(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """An event moved after the head: re-ordered."""
    row = rows[pick(len(rows))]
    raw.move(row.position, rows[-1].position + 1 + pick(3))
    return row.position


def change_topic(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    topics = sorted({r.topic for r in rows} - {row.topic}) + ["domain.claim:Claim.Forged", ""]
    raw.update(row.position, "topic", topics[pick(len(topics))])
    return row.position


def change_version(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update(row.position, "originator_version", (row.version + 1000, 0, -row.version - 1)[pick(3)])
    return row.position


def change_aggregate(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The event attributed to another (new) aggregate."""
    row = rows[pick(len(rows))]
    raw.update(row.position, "originator_id", raw.uuid(uuid.uuid4()))
    return row.position


def change_seal(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update_seal(row.position, hashlib.sha256(str(pick(1000)).encode()).digest())
    return row.position


def delete_seal(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.delete_seal(row.position)
    return row.position


def extra_seal(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """A seal after the head with no event: an event deleted together with everything after it."""
    position = rows[-1].position + 1
    raw.insert_seal(position, hashlib.sha256(b"x").digest())
    return position


# SQLite only: values PostgreSQL's column types would refuse.


def version_not_a_number(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update(row.position, "originator_version", (None, "two", 2.5)[pick(3)])
    return row.position


def aggregate_not_a_uuid(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update(row.position, "originator_id", ("nonsense", "", None)[pick(3)])
    return row.position


def aggregate_id_respelled(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    """The same aggregate id spelled otherwise (dashed, capitals): the ledger no longer finds the event under it."""
    row = rows[pick(len(rows))]
    spelled = UUID(row.originator_id)
    raw.update(row.position, "originator_id", (str(spelled), spelled.hex.upper(), "{%s}" % spelled)[pick(3)])
    return row.position


def topic_null(raw: RawStore, rows: list[StoredRow], pick: Pick) -> int:
    row = rows[pick(len(rows))]
    raw.update(row.position, "topic", None)
    return row.position


MUTATIONS: dict[str, Callable[[RawStore, list[StoredRow], Pick], int]] = {
    f.__name__: f
    for f in (
        flip_state_byte, change_points, change_recording_instant, empty_state,
        delete_row, delete_first, delete_last, truncate_tail,
        forge_approval, copy_under_new_version, insert_before_first, insert_into_gap,
        swap_positions, swap_neighbours, swap_states, move_to_end,
        change_topic, change_version, change_aggregate,
        change_seal, delete_seal, extra_seal,
        topic_null,
    )
}
SQLITE_ONLY = {f.__name__: f for f in (version_not_a_number, aggregate_not_a_uuid, aggregate_id_respelled)}
ALL_MUTATIONS = {**MUTATIONS, **SQLITE_ONLY}


def mutate_and_verify(copies: Copies, kind: str, pick: Pick) -> tuple[int, Any]:
    """Apply one mutation to a fresh copy; (expected position, report)."""
    db_url = copies.fresh()
    try:
        expected = ALL_MUTATIONS[kind](RawStore(db_url), copies.template.rows, pick)
        return expected, verify(db_url)
    finally:
        copies.discard(db_url)


def assert_detected(kind: str, expected: int, report: Any) -> None:
    assert not report.ok, f"{kind} went unnoticed"
    assert report.problems, kind
    assert named_position(report.problems[0]) == expected, (kind, expected, report.problems)


TALLY: dict[str, Counter] = {"sqlite": Counter(), "postgresql": Counter()}


def run_hypothesis(copies: Copies, engine: str, kinds: list[str], examples: int) -> None:
    tally = TALLY[engine]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(kind=st.sampled_from(kinds), data=st.data())
    def mutation_is_detected(kind: str, data: st.DataObject) -> None:
        def pick(n: int) -> int:
            assert n > 0
            return data.draw(st.integers(0, n - 1))

        tally["tried"] += 1
        tally[kind] += 1
        expected, report = mutate_and_verify(copies, kind, pick)
        assert_detected(kind, expected, report)
        tally["detected"] += 1

    mutation_is_detected()
    tried, detected = tally["tried"], tally["detected"]
    per_kind = ", ".join(f"{k} {tally[k]}" for k in kinds)
    print(f"\n{engine}: mutations tried: {tried}, detected: {detected} ({per_kind})")
    assert tried == detected
    assert tried >= examples // 2


def test_the_template_stores_are_sound(sqlite_template: Template) -> None:
    """Before mutating: the demo store verifies, has one seal per event, and is big enough to be realistic."""
    rows = sqlite_template.rows
    assert len(rows) >= 80
    assert [p for p, _ in sqlite_template.seals] == [r.position for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r.topic.endswith("Claim.Approved") for r in rows) >= 5
    report = verify(sqlite_template.db_url)
    assert (report.ok, report.events_checked, report.problems) == (True, len(rows), [])


@pytest.mark.slow
def test_hypothesis_mutations_on_sqlite_are_all_detected(sqlite_copies: Copies) -> None:
    run_hypothesis(sqlite_copies, "sqlite", sorted(ALL_MUTATIONS), examples=200)


@pytest.mark.slow
@pytest.mark.postgres
def test_hypothesis_mutations_on_postgresql_are_all_detected(postgres_copies: Copies) -> None:
    report = verify(postgres_copies.template.db_url)
    assert (report.ok, report.events_checked) == (True, len(postgres_copies.template.rows))
    run_hypothesis(postgres_copies, "postgresql", sorted(MUTATIONS), examples=60)


FIXED = {"first": lambda n: 0, "middle": lambda n: n // 2, "last": lambda n: n - 1}


@pytest.mark.parametrize("where", sorted(FIXED))
@pytest.mark.parametrize("kind", sorted(ALL_MUTATIONS))
def test_every_kind_of_mutation_is_detected_on_sqlite(sqlite_copies: Copies, kind: str, where: str) -> None:
    expected, report = mutate_and_verify(sqlite_copies, kind, FIXED[where])
    assert_detected(kind, expected, report)


@pytest.mark.postgres
@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_every_kind_of_mutation_is_detected_on_postgresql(postgres_copies: Copies, kind: str) -> None:
    expected, report = mutate_and_verify(postgres_copies, kind, FIXED["middle"])
    assert_detected(kind, expected, report)


def test_an_unchanged_copy_passes(sqlite_copies: Copies) -> None:
    """The copying itself changes nothing: the mutation tests fail for the mutation, not for the copy."""
    db_url = sqlite_copies.fresh()
    report = verify(db_url)
    assert (report.ok, report.events_checked) == (True, len(sqlite_copies.template.rows))


def test_a_state_rewritten_as_text_with_the_same_bytes_is_not_a_change(sqlite_copies: Copies) -> None:
    """Only the storage class changes (BLOB → TEXT); the bytes, and so the history, are the same."""
    db_url = sqlite_copies.fresh()
    RawStore(db_url).execute("UPDATE stored_events SET state = CAST(state AS TEXT) WHERE rowid = 5")
    assert verify(db_url).ok


# --- the chain hashes the stored bytes: independent of decoding and upcasting -------------------


class LedgerWithoutDateTranscoding(Ledger):
    """A ledger whose transcoder can no longer decode dates: as if the event classes had changed."""

    def register_transcodings(self, transcoder: Any) -> None:
        super(Ledger, self).register_transcodings(transcoder)  # skip Ledger's own DateAsISO


def test_verify_chain_never_decodes_events(sqlite_copies: Copies, monkeypatch: pytest.MonkeyPatch) -> None:
    db_url = sqlite_copies.fresh()
    ledger = open_ledger(resolve(db_url))
    try:
        def refuse(*_: Any, **__: Any) -> Any:
            raise AssertionError("verify_chain decoded an event")

        monkeypatch.setattr(ledger.mapper, "to_domain_event", refuse)
        monkeypatch.setattr(ledger.mapper.transcoder, "decode", refuse)
        report, _ = verify_chain(ledger)
        assert (report.ok, report.events_checked) == (True, len(sqlite_copies.template.rows))
    finally:
        ledger.close()


def test_the_chain_does_not_depend_on_the_decoder(sqlite_copies: Copies) -> None:
    """Reading with another decoder (here: one that cannot decode dates at all) changes nothing."""
    db_url = sqlite_copies.fresh()
    ledger = LedgerWithoutDateTranscoding(resolve(db_url))
    try:
        with pytest.raises(Exception):  # noqa: B017 - the point: this decoder cannot read the events
            list(ledger.event_log.all_events())
        report, _ = verify_chain(ledger)
        assert report.ok
        assert report.seal == verify_report_seal(db_url)
    finally:
        ledger.close()


def verify_report_seal(db_url: str) -> bytes:
    return verify(db_url).seal


def test_link_is_the_documented_formula() -> None:
    """seal(n) = SHA-256(seal(n-1) ‖ position ‖ version (8 bytes each, big-endian) ‖ aggregate id (16 bytes)
    ‖ topic ‖ SHA-256(state)), chained from SHA-256("studyledger audit chain v1"): fixed forever."""
    oid = UUID("0f0e0d0c-0b0a-4908-8706-050403020100")
    expected = hashlib.sha256(
        GENESIS + (7).to_bytes(8, "big") + (3).to_bytes(8, "big") + oid.bytes + b"domain.claim:Claim.Approved"
        + hashlib.sha256(b'{"points":"1.50"}').digest()
    ).digest()
    assert GENESIS == hashlib.sha256(b"studyledger audit chain v1").digest()
    assert link(GENESIS, 7, oid, 3, "domain.claim:Claim.Approved", b'{"points":"1.50"}') == expected
    assert link(GENESIS, 7, oid.hex, 3, "domain.claim:Claim.Approved", b'{"points":"1.50"}') == expected
    assert expected.hex() == "c9baa35abf0df20e16ef72c5408a9be1a0e1554c47f18712f1301fa01e759364"
    for not_as_stored in (str(oid), oid.hex.upper(), "nonsense", None):  # the ledger stores 32 lower-case digits
        with pytest.raises(ValueError):
            link(GENESIS, 7, not_as_stored, 3, "domain.claim:Claim.Approved", b"{}")  # type: ignore[arg-type]


def test_check_chain_names_missing_and_extra_rows() -> None:
    from ledger.integrity import Row

    oid = uuid.uuid4()
    events = [Row(p, oid, p, "t", b"s%d" % p) for p in (1, 2, 3)]
    seals, previous = [], GENESIS
    for e in events:
        previous = link(previous, e.position, e.originator_id, e.version, e.topic, e.state)
        seals.append((e.position, previous))
    assert check_chain(events, seals).ok
    assert check_chain(events, seals).seal == seals[-1][1]
    assert named_position(check_chain(events[:2], seals).problems[0]) == 3
    assert named_position(check_chain(events, seals[:2]).problems[0]) == 3
    assert named_position(check_chain([events[0], events[2]], seals).problems[0]) == 2
    report = check_chain(events, seals, upto=2)
    assert (report.ok, report.head, report.seal) == (True, 2, seals[1][1])


# --- digests --------------------------------------------------------------------------------


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def small_register(run: Any, clock: Clock, prefix: str = "P") -> None:
    ok(run("professional", "register", f"{prefix}-1", "--name", "Ada", "--group", "nurse", "--registered-on", "2024-01-01"))
    clock.tick()
    ok(run("professional", "register", f"{prefix}-2", "--name", "Bob", "--group", "nurse", "--registered-on", "2024-01-01"))
    clock.tick()
    ok(run("network", "register", "care", "--name", "Care", "--theme", "care", "--group", "nurse",
           "--founded-on", "2020-01-01"))
    clock.tick()
    ok(run("network", "join", "care", f"{prefix}-1", "--on", "2024-02-01"))
    clock.tick()


def take_digest(run: Any) -> dict:
    return ok(run("--json", "audit", "digest")).json()


def test_a_digest_keeps_passing_as_events_are_added(run: Any, clock: Clock, db_url: str) -> None:
    small_register(run, clock)
    first = take_digest(run)
    assert re.fullmatch(r"sl1-\d+-[0-9a-f]{32}", first["digest"])
    head = len(RawStore(db_url).rows())
    assert first == {"digest": first["digest"], "events": head}
    assert first["digest"].startswith(f"sl1-{head}-")
    for n in range(3):
        ok(run("reviewer", "appoint", f"R-{n}", "--name", "Rev", "--on", "2024-01-01"))
        clock.tick()
        result = ok(run("--json", "audit", "verify", "--digest", first["digest"]))
        assert result.json()["ok"] is True
        assert any("digest matches" in note for note in result.json()["notes"])
    later = take_digest(run)
    # one event each: in an encrypted store a person's id is guarded against case variants by the key store
    assert later["events"] == head + 3 and later["digest"] != first["digest"]
    ok(run("audit", "verify", "--digest", later["digest"]))
    ok(run("audit", "verify", "--digest", first["digest"]))  # the older one still holds too
    assert "the digest matches" in ok(run("audit", "verify", "--digest", "  " + first["digest"] + "\n")).stdout


def test_a_digest_of_another_history_fails(run: Any, clock: Clock, db_url: str, tmp_path: Path) -> None:
    small_register(run, clock)
    ok(run("reviewer", "appoint", "R-1", "--name", "Rev", "--on", "2024-01-01"))
    other = str(tmp_path / "other.db")
    assert ok(run("init", db=other))
    clock.tick()
    small_register(lambda *a, **k: run(*a, db=other), clock, prefix="Q")  # same shape, other content
    foreign = take_digest(lambda *a: run(*a, db=other))
    assert foreign["events"] <= len(RawStore(db_url).rows())
    result = run("--json", "audit", "verify", "--digest", foreign["digest"])
    assert result.exit_code == 1, result.stdout
    problems = result.json()["problems"]
    assert result.json()["ok"] is False
    assert any(f"up to event {foreign['events']} differs" in p for p in problems), problems
    ok(run("audit", "verify", "--digest", take_digest(run)["digest"]))  # while the store's own digest passes


def test_a_digest_fails_after_an_event_before_it_is_changed(run: Any, clock: Clock, db_url: str) -> None:
    small_register(run, clock)
    kept = take_digest(run)
    ok(run("reviewer", "appoint", "R-1", "--name", "Rev", "--on", "2024-01-01"))
    raw = RawStore(db_url)
    rows = raw.rows()
    # Bob's registration (the second): his name is sealed, so his registration date is changed instead —
    # a change that decodes and breaks no rule, which only the seals and the digest can tell
    target = [r for r in rows if r.topic.endswith("Professional.Registered")][1]
    assert target.state.count(b'"2024-01-01"') == 1
    raw.update(target.position, "state", target.state.replace(b'"2024-01-01"', b'"2024-01-02"'))
    result = run("--json", "audit", "verify", "--digest", kept["digest"])
    assert result.exit_code == 1
    assert named_position(result.json()["problems"][0]) == target.position
    # A forger who also rewrites every seal fools the plain check, not the digest kept elsewhere.
    raw.reseal()
    plain = run("--json", "audit", "verify")
    assert plain.exit_code == 0, plain.stdout
    result = run("--json", "audit", "verify", "--digest", kept["digest"])
    assert result.exit_code == 1, result.stdout
    assert any(f"up to event {kept['events']} differs" in p for p in result.json()["problems"]), result.stdout


def test_a_digest_still_proves_the_past_when_only_later_events_changed(run: Any, clock: Clock, db_url: str) -> None:
    """A change after the digest's position breaks the chain (exit 1) — but not the digest's own proof."""
    small_register(run, clock)
    kept = take_digest(run)
    ok(run("reviewer", "appoint", "R-1", "--name", "Rev", "--on", "2024-01-01"))
    raw = RawStore(db_url)
    last = next(r for r in reversed(raw.rows()) if b"Rev" in r.state)  # the appointment (its id guard follows)
    assert last.position > kept["events"]
    raw.update(last.position, "state", last.state.replace(b"Rev", b"Eve"))
    result = run("--json", "audit", "verify", "--digest", kept["digest"])
    assert result.exit_code == 1
    assert named_position(result.json()["problems"][0]) == last.position
    assert any("digest matches" in n for n in result.json()["notes"]), result.stdout


def test_a_digest_beyond_the_head_fails(run: Any, clock: Clock, db_url: str) -> None:
    small_register(run, clock)
    real = take_digest(run)
    head = real["events"]
    beyond = f"sl1-{head + 5}-{real['digest'].split('-')[2]}"
    result = run("--json", "audit", "verify", "--digest", beyond)
    assert result.exit_code == 1, result.stdout
    assert any(f"covers {head + 5} events" in p for p in result.json()["problems"]), result.stdout
    # and a digest taken when the store was longer, after its newest events were deleted
    ok(run("reviewer", "appoint", "R-1", "--name", "Rev", "--on", "2024-01-01"))
    longer = take_digest(run)
    RawStore(db_url).delete(longer["events"])
    assert run("audit", "verify", "--digest", longer["digest"]).exit_code == 1
    assert run("audit", "verify").exit_code == 1


MALFORMED = [
    "", "sl1", "sl1-12", "sl1-12-", "sl2-12-" + "0" * 32, "SL1-12-" + "0" * 32, "sl1-x-" + "0" * 32,
    "sl1--12-" + "0" * 32, "sl1-12-" + "0" * 31, "sl1-12-" + "0" * 33, "sl1-12-" + "g" * 32,
    "sl1-12-" + "00 11 22 33 44 55 66 77 88 99 aa", "sl1-1.5-" + "0" * 32, "sl1-12-" + "0" * 32 + "-extra",
    "sl1-+12-" + "0" * 32, "sl1-\u00b2-" + "0" * 32, "sl1-12-" + "0" * 30 + "\u00e9\u00e9",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_parse_digest_refuses_malformed_digests(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_digest(text)


def test_parse_digest_reads_what_digest_writes() -> None:
    seal = hashlib.sha256(b"x").digest()
    assert parse_digest(digest(42, seal)) == (42, seal.hex()[:32])


@pytest.mark.parametrize("text", ["sl1-12", "sl1-12-" + "g" * 32, "sl1-12-" + "00 11 22 33 44 55 66 77 88 99 aa"])
def test_malformed_digests_exit_2_through_the_cli(run: Any, text: str) -> None:
    result = run("audit", "verify", "--digest", text)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "--digest" in result.stderr and "Traceback" not in result.stderr
    as_json = run("--json", "audit", "verify", "--digest", text)
    assert as_json.exit_code == 2 and json.loads(as_json.stderr)["error"]["code"] == 2


def test_a_digest_in_capitals_is_the_same_digest(run: Any, clock: Clock) -> None:
    """Copied by hand from a printout: the hex digits in capitals must not read as a different history."""
    small_register(run, clock)
    kept = take_digest(run)["digest"]
    upper = "sl1-" + kept.split("-", 1)[1].upper()
    result = run("audit", "verify", "--digest", upper)
    assert result.exit_code == 0, (result.stdout, result.stderr)


# --- a store written by an earlier run: its digest must hold forever ------------------------------


def committed_digest() -> str:
    return (DATA / "ledger-v1.digest").read_text().strip()


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "ledger-v1.sqlite"
    shutil.copy(DATA / "ledger-v1.sqlite", copy)  # never open the committed file itself
    return copy


def test_the_committed_vector_files_are_self_contained() -> None:
    assert (DATA / "ledger-v1.sqlite").is_file()
    assert not Path(f"{DATA / 'ledger-v1.sqlite'}-wal").exists()
    assert re.fullmatch(r"sl1-\d+-[0-9a-f]{32}", committed_digest())
    with open(DATA / "ledger-v1.sqlite", "rb") as f:
        header = f.read(20)
    assert header.startswith(b"SQLite format 3\x00")
    assert header[18:20] == b"\x01\x01", "rollback journal, not WAL: the file alone is the store"


def test_a_store_from_an_earlier_run_verifies_against_its_written_down_digest(run: Any, v1_copy: Path) -> None:
    written = committed_digest()
    result = run("--json", "audit", "verify", "--digest", written, db=str(v1_copy))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.json()["ok"] is True and result.json()["problems"] == []
    events = int(written.split("-")[1])
    assert 20 <= events <= 60 and result.json()["events_checked"] == events
    recomputed = run("--json", "audit", "digest", db=str(v1_copy))
    assert recomputed.exit_code == 0, recomputed.stderr
    assert recomputed.json() == {"digest": written, "events": events}


def test_the_store_from_an_earlier_run_still_decodes(v1_copy: Path) -> None:
    """Its events are readable by today's code (else the vectors would only prove the hashing)."""
    ledger = open_ledger(resolve(str(v1_copy)))
    try:
        events = list(ledger.event_log.all_events())
    finally:
        ledger.close()
    assert len(events) == int(committed_digest().split("-")[1])
    assert {type(e).__qualname__ for e in events} >= {"Professional.Registered", "Claim.Submitted", "Claim.Approved"}


def test_a_change_to_the_earlier_store_is_caught_by_its_digest(run: Any, v1_copy: Path) -> None:
    raw = RawStore(str(v1_copy))
    raw.update(3, "state", raw.rows()[2].state + b" ")
    raw.reseal()
    result = run("--json", "audit", "verify", "--digest", committed_digest(), db=str(v1_copy))
    assert result.exit_code == 1 and not result.json()["ok"]


@pytest.mark.processes  # the script runs in a Python of its own
def test_the_vector_script_is_deterministic(tmp_path: Path) -> None:
    """tests/data/make_ledger_v1.py builds the same history (so the same digest) every time it runs."""
    digests = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        out.mkdir()
        done = subprocess.run([sys.executable, str(DATA / "make_ledger_v1.py"), str(out)],
                              capture_output=True, text=True, check=False, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(DATA.parent.parent)})
        assert done.returncode == 0, done.stderr
        digests.append((out / "ledger-v1.digest").read_text().strip())
        assert not Path(f"{out / 'ledger-v1.sqlite'}-wal").exists()
    assert digests[0] == digests[1]


def test_a_write_after_the_newest_event_was_deleted_is_refused_with_a_pointer_to_verify(tmp_path: Any, clock: Any) -> None:
    """SQLite reuses a deleted newest event's position; its seal is still there: exit 4, not a retryable conflict."""
    db = str(tmp_path / "ledger.db")
    factory = functools.partial(open_ledger, clock=clock, os_user="tester")

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--db", db, *args], obj=factory, catch_exceptions=False)

    assert run("init").exit_code == 0
    for pid in ("P-1", "P-2"):
        assert run("professional", "register", pid, "--name", "N", "--group", "nurse").exit_code == 0
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = (SELECT MAX(rowid) FROM stored_events)")
    done = run("professional", "register", "P-3", "--name", "N", "--group", "nurse")
    assert done.exit_code == 4, done.stderr
    assert "already has a seal" in done.stderr and "audit verify" in done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0] == 1  # nothing written
    verdict = run("audit", "verify")
    assert verdict.exit_code == 1 and "position 2 is missing" in verdict.stdout
