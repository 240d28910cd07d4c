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

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

_TAGS = {
    "date_iso": date.fromisoformat,
    "decimal_str": Decimal,
    "datetime_iso": datetime.fromisoformat,
    "uuid_hex": UUID,
}


def _untag(obj: dict[str, Any]) -> Any:
    """Replace the transcoder's tagged values in `obj` (and the dicts and lists it holds)."""
    tag = obj.get("_type_")
    if tag is not None and len(obj) == 2 and "_data_" in obj:
        return _TAGS[tag](obj["_data_"])
    for key, value in obj.items():
        if type(value) is dict:
            obj[key] = _untag(value)
        elif type(value) is list:
            obj[key] = _untag_list(value)
    return obj


def _untag_list(items: list[Any]) -> list[Any]:
    return [_untag(v) if type(v) is dict else _untag_list(v) if type(v) is list else v for v in items]


def decode_state(state: bytes) -> dict[str, Any]:
    """One stored event's state as a dict of plain values, tags and all decoded."""
    return _untag(orjson.loads(state))


raw_state = orjson.loads  # the hot path: handlers decode only the tagged values they use, with value()


def value(item: Any) -> Any:
    """One value of a raw state: a tagged value decoded, anything else as it is."""
    if type(item) is dict and "_type_" in item:
        return _TAGS[item["_type_"]](item["_data_"])
    return item
