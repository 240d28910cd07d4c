"""Tamper evidence: a hash chain over the stored events, sealed as they are written.

Every stored event is linked into a chain:

    seal(n) = SHA-256( seal(previous) ‖ position ‖ aggregate id ‖ version ‖ topic ‖ SHA-256(state bytes) )

so the seal covers the event's bytes (which hold its recording instant), its position in
the log, its aggregate and version, and its topic — the stored bytes, not the decoded
event, so upcasting an event class later changes nothing. The seals are written by the
library's own application recorders, subclassed here to insert them in the same
transaction as the events: an event row added, changed, removed or moved directly in SQL
no longer matches its seal. Someone who rewrites both events and seals is caught by a
digest of the chain kept elsewhere (`audit digest`, then `audit verify --digest`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import DatabaseError, IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

GENESIS = hashlib.sha256(b"studyledger audit chain v1").digest()
SEALS_TABLE = "studyledger_seals"
DIGEST_PREFIX = "sl1"
_HEX_DIGITS = frozenset("0123456789abcdef")
_POSITION_VERSION = struct.Struct(">QQ").pack
_sha256 = hashlib.sha256


def link(previous: bytes, position: int, originator_id: UUID | str, version: int, topic: str, state: bytes) -> bytes:
    """The seal of one stored event, chained to the seal before it.

    An aggregate id given as text must be spelled as the SQLite recorder stores it (32 lower-case
    hex digits): the same id spelled otherwise is not found by the ledger, so it is a change.
    """
    if isinstance(originator_id, UUID):
        oid = originator_id.bytes
    else:
        oid = bytes.fromhex(originator_id) if isinstance(originator_id, str) else b""
        if len(oid) != 16 or oid.hex() != originator_id:  # not text, spaces, capitals, another length
            raise ValueError(f"{originator_id!r} is not an aggregate id as the ledger stores it")
    header = _POSITION_VERSION(position, version) + oid + topic.encode()
    return _sha256(previous + header + _sha256(state).digest()).digest()


def seal_rows(previous: bytes, positions: Sequence[int], events: Sequence[StoredEvent]) -> list[tuple[int, bytes]]:
    assert len(positions) == len(events), "one position for each stored event"
    rows = []
    for position, stored in zip(positions, events):
        previous = link(previous, position, stored.originator_id, stored.originator_version, stored.topic, stored.state)
        rows.append((position, previous))
    return rows


class SealingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, writing each event's seal in its transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SEALS_TABLE} (position INTEGER PRIMARY KEY, seal BLOB NOT NULL)",
        ]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            assert positions is not None
            c.execute(f"SELECT seal FROM {SEALS_TABLE} ORDER BY position DESC LIMIT 1")
            row = c.fetchone()
            rows = seal_rows(bytes(row[0]) if row else GENESIS, positions, stored_events)
            try:
                c.executemany(f"INSERT INTO {SEALS_TABLE} (position, seal) VALUES (?, ?)", rows)
            except sqlite3.IntegrityError:
                # SQLite hands out the position of a deleted newest event again; its seal is still there.
                raise DatabaseError(
                    f"event {positions[0]} already has a seal: events were deleted outside the ledger; "
                    "run 'studyledger audit verify'"
                ) from None
        return positions

    @contextmanager
    def import_transaction(self) -> Iterator[SQLiteCursor]:
        """A transaction holding the write lock from its start (BEGIN IMMEDIATE), for an import.

        An import reads before it writes; in a plain (deferred) transaction a write committed
        by another process meanwhile makes its first insert fail at once instead of waiting."""
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                connection.rollback()
                raise
            connection.commit()

    def insert_within(self, cursor: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Insert and seal `stored_events` inside the caller's transaction (an import's pages)."""
        try:
            self._insert_events(cursor, stored_events)
        except sqlite3.IntegrityError as error:
            raise IntegrityError(error) from error


# --- verification ----------------------------------------------------------------------


class Row(NamedTuple):
    position: int
    originator_id: UUID | str
    version: int
    topic: str
    state: bytes


@dataclass
class Report:
    ok: bool
    events_checked: int
    head: int
    seal: bytes
    problems: list[str]


def check_chain(events: Iterable[Row], seals: Iterable[tuple[int, bytes]], upto: int | None = None) -> Report:
    """Recompute the chain over `events` and compare with the stored `seals`, both in position order.

    Names the first event whose row, position or order does not match its seal, and any
    event without a seal or seal without an event (a deletion or an insertion).
    """
    problems: list[str] = []
    previous = GENESIS
    checked = 0
    head = 0
    event_iter: Iterator[Row] = iter(events)
    seal_iter = iter(seals)
    event = next(event_iter, None)
    sealed = next(seal_iter, None)
    while event is not None or sealed is not None:
        if upto is not None and (event is None or event.position > upto) and (sealed is None or sealed[0] > upto):
            break
        if sealed is None or (event is not None and event.position < sealed[0]):
            assert event is not None
            problems.append(f"event {event.position} ({event.topic}) has no seal: inserted directly in the database")
            break
        if event is None or sealed[0] < event.position:
            problems.append(f"the event at position {sealed[0]} is missing: deleted directly in the database")
            break
        try:
            expected = link(previous, event.position, event.originator_id, event.version, event.topic, event.state)
        except (TypeError, ValueError, AttributeError, struct.error):
            expected = None  # a value the ledger never writes (no topic, a version or id that is none): changed
        if expected != sealed[1]:
            problems.append(
                f"event {event.position} ({event.topic}, aggregate {event.originator_id} version {event.version}) "
                "does not match its seal: changed, moved or inserted directly in the database"
            )
            break
        previous = expected
        head = event.position
        checked += 1
        event = next(event_iter, None)
        sealed = next(seal_iter, None)
    return Report(ok=not problems, events_checked=checked, head=head, seal=previous, problems=problems)


def digest(position: int, seal: bytes) -> str:
    """A short digest of the chain up to `position`: worth keeping elsewhere."""
    return f"{DIGEST_PREFIX}-{position}-{seal.hex()[:32]}"


def parse_digest(text: str) -> tuple[int, str]:
    from ledger.errors import InvalidInput

    parts = text.strip().split("-")
    if (len(parts) != 3 or parts[0] != DIGEST_PREFIX or not (parts[1].isascii() and parts[1].isdigit())
            or len(parts[2]) != 32):
        raise InvalidInput(f"--digest must look like {DIGEST_PREFIX}-<position>-<32 hex digits>, as 'audit digest' prints it.")
    seal = parts[2].lower()  # copied by hand, perhaps in capitals: the same digest
    if not set(seal) <= _HEX_DIGITS:
        raise InvalidInput("--digest must end in 32 hex digits.")
    return int(parts[1]), seal
