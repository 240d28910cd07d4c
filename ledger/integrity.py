"""Tamper evidence, checked: the hash chain of `storage.seals` recomputed over the stored events.

Every stored event is linked into a chain of seals (see storage.seals), written by the
recorders in the same transaction as the events: an event row added, changed, removed or moved
directly in SQL no longer matches its seal. Someone who rewrites both events and seals is
caught by a digest of the chain kept elsewhere (`audit digest`, then `audit verify --digest`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple
from uuid import UUID

from ledger.errors import InvalidInput
from storage.seals import GENESIS, link

DIGEST_PREFIX = "sl1"
_HEX_DIGITS = frozenset("0123456789abcdef")


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
    parts = text.strip().split("-")
    if (len(parts) != 3 or parts[0] != DIGEST_PREFIX or not (parts[1].isascii() and parts[1].isdigit())
            or len(parts[2]) != 32):
        raise InvalidInput(f"--digest must look like {DIGEST_PREFIX}-<position>-<32 hex digits>, as 'audit digest' prints it.")
    seal = parts[2].lower()  # copied by hand, perhaps in capitals: the same digest
    if not set(seal) <= _HEX_DIGITS:
        raise InvalidInput("--digest must end in 32 hex digits.")
    return int(parts[1]), seal
