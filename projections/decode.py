"""The read side's decoder of stored event state: JSON bytes → plain values, fast.

The library's mapper builds a domain event object for every stored event, which costs
more than a rebuild can afford (NOTES: decoding through the mapper alone nearly uses up
the 3× budget). Projections read the stored state directly; this module is the one place
that honours the transcoder's type tags (`date_iso`, `decimal_str`, `datetime_iso`,
`uuid_hex`). tests/projections/test_decode.py checks it against the mapper on every
event type. Events are neither encrypted nor compressed (no CIPHER_KEY, no COMPRESSOR_TOPIC):
if that changes, this decoder must change with it.

In an encrypted store (SPEC §9) a stored state names people by pseudonym and keeps free texts
sealed; the mapper's `unprotect` (ledger/personal.py) gives back every one of them. A rebuild
needs only the few a read model reads (`ReadModel.people`): `state_reader` turns those, and
only those, into register ids exactly as `unprotect` does, in the same call that parses the
state (tests/projections/test_decode.py holds the two together). The texts stay sealed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

import orjson

from projections.units import cents, micros

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


# --- the tagged values handlers read most, read directly (a tagged value always has its tag) ----

DATA = "_data_"
_last_instant = ("", 0)
_last_points = ("", 0)


def instant_us(item: dict[str, str]) -> int:
    """A tagged instant (an event's `timestamp`) in microseconds since the epoch. Several read models
    read the same event's, and the events of one command share it: the last one is remembered."""
    global _last_instant
    text, last = item[DATA], _last_instant  # (one read of the pair: safe with threads)
    if text == last[0]:
        return last[1]
    us = micros(datetime.fromisoformat(text))
    _last_instant = (text, us)
    return us


def points_cents(item: dict[str, str]) -> int:
    """A tagged amount of points in cents (projections.units.cents); the last one is remembered, as an
    approval is read by two read models."""
    global _last_points
    text, last = item[DATA], _last_points
    if text == last[0]:
        return last[1]
    amount = cents(Decimal(text))
    _last_points = (text, amount)
    return amount


# --- people, in an encrypted store (SPEC §9) ---------------------------------------------------

PSEUDONYM = "~"  # how a stored state names a person (ledger.personal.PSEUDONYM)
RESULT = "result"  # Request.Recorded: its first result, sealed with its owner's key


def _json(text: str) -> Any:
    """A result as the mapper parses it (json.loads): by orjson, unless it holds what orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class People(Protocol):
    """What the read side asks of an encrypted store's people (ledger.people.People)."""

    known: dict[str, str]  # pseudonym → register id, of the people whose keys are read

    def register_id(self, pseudonym: str) -> str | None: ...

    def open(self, token: str) -> str | None: ...


def roles(event_class: type, fields: tuple[str, ...]) -> dict[str, str]:
    """field → the role of the person it names (how an erased one is shown), for person fields the
    read side reads; `result` (a request's first result) maps to itself."""
    from domain.personal import ACTOR_ROLES, PEOPLE, PROFESSIONAL  # not at import: projections.quick is light

    found = {}
    for name in fields:
        if name == "actor":
            found[name] = ACTOR_ROLES.get(event_class, PROFESSIONAL)
        elif name == RESULT:
            found[name] = RESULT
        elif name in PEOPLE.get(event_class, {}):
            found[name] = PEOPLE[event_class][name]
        else:
            raise ValueError(f"{event_class.__qualname__}.{name} names no person")
    return found


def state_reader(people: People | None, fields: Mapping[str, str]) -> Callable[[bytes], dict[str, Any]]:
    """`raw_state`, with the person `fields` (field → role, from `roles`) as the mapper's `unprotect`
    gives them: a pseudonym → the register id, or "an erased <role> #…" once the key is gone; a
    request's result opened and parsed (None once its owner is erased). Other fields as stored."""
    loads = orjson.loads
    if people is None or not fields:
        return loads
    from domain.personal import erased
    known, register_id, open_ = people.known, people.register_id, people.open
    result = RESULT in fields
    named = tuple((name, role) for name, role in fields.items() if name != RESULT)
    if len(named) == 1 and not result:  # nearly every event: one person field
        ((field, role),) = named

        def read_one(stored: bytes) -> dict[str, Any]:
            state = loads(stored)
            v = state.get(field)
            if v.__class__ is str and v[:1] == PSEUDONYM:
                p = v[1:]
                state[field] = known.get(p) or register_id(p) or erased(role, p)
            return state

        return read_one

    def read(stored: bytes) -> dict[str, Any]:
        state = loads(stored)
        for name, role in named:
            v = state.get(name)
            if v.__class__ is str and v[:1] == PSEUDONYM:
                p = v[1:]
                state[name] = known.get(p) or register_id(p) or erased(role, p)
        if result:
            text = open_(state[RESULT])
            state[RESULT] = _json(text) if text is not None else None
        return state

    return read
