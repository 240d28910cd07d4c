"""The hash chain the recorders write beside the events: one seal per stored event.

    seal(n) = SHA-256( seal(previous) ‖ position ‖ aggregate id ‖ version ‖ topic ‖ SHA-256(state bytes) )

The seal covers the event's stored bytes (which hold its recording instant), its position in
the log, its aggregate and version, and its topic — the stored bytes, not the decoded event, so
upcasting an event class later changes nothing. The recorders (storage.sqlite, storage.postgres)
insert the seals in the same transaction as the events; `ledger.integrity` checks the chain.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from typing import Any
from uuid import UUID

GENESIS = hashlib.sha256(b"studyledger audit chain v1").digest()
SEALS_TABLE = "studyledger_seals"
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


def seal_rows(previous: bytes, positions: Sequence[int], events: Sequence[Any]) -> list[tuple[int, bytes]]:
    """(position, seal) of each of the library's stored `events`, chained on from `previous`."""
    assert len(positions) == len(events), "one position for each stored event"
    rows = []
    for position, stored in zip(positions, events):
        previous = link(previous, position, stored.originator_id, stored.originator_version, stored.topic, stored.state)
        rows.append((position, previous))
    return rows
