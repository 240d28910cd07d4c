"""The read side's decoder of stored event state: JSON bytes → plain values, fast.

The library's mapper builds a domain event object for every stored event, which costs
more than a rebuild can afford (NOTES: decoding through the mapper alone nearly uses up
the 3× budget). Projections read the stored state directly; this module is the one place
that honours the transcoder's type tags (`date_iso`, `decimal_str`, `datetime_iso`,
`uuid_hex`). tests/projections/test_decode.py checks it against the mapper on every
event type. Events are neither encrypted nor compressed (no CIPHER_KEY, no COMPRESSOR_TOPIC):
if that changes, this decoder must change with it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_TAGS = {
    "date_iso": date.fromisoformat,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "uuid_hex": UUID,
}


def _object_hook(obj: dict[str, Any]) -> Any:
    tag = obj.get("_type_")
    if tag is not None and len(obj) == 2 and "_data_" in obj:
        return _TAGS[tag](obj["_data_"])
    return obj


def decode_state(state: bytes) -> dict[str, Any]:
    """One stored event's state as a dict of plain values."""
    return json.loads(state, object_hook=_object_hook)


def event_name(topic: str) -> str:
    """`domain.claim:Claim.Approved` → `Claim.Approved`."""
    return topic.rpartition(":")[2]
