"""The library's JSON transcoder, encoding with orjson where that gives the very same bytes.

`JSONTranscoder.encode` runs the standard library's encoder with a Python `default` hook; for an
import that was about a tenth of its time. orjson writes the same compact JSON (separators "," and
":", non-ASCII as UTF-8, the same escapes) several times faster. It also writes UUIDs, floats and
subclasses of str or int its own way, so it is used only for states made of exactly str, int, bool,
None, lists, tuples and dicts of those, and the values the transcodings tag (Decimal, date, datetime),
which reach the same `default` hook as before. Anything else is encoded by the library, as always.
tests/ledger/test_transcoder.py holds the two to the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder, Transcoding

# What orjson writes as the library does (str, int, bool, None), and what the transcodings tag.
_LEAVES = frozenset({str, int, bool, type(None), Decimal, date, datetime})
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME  # dates and instants go to `default`, to be tagged


_KEYS = frozenset({str})


def _plain(state: dict[Any, Any]) -> bool:
    """Whether `state` holds nothing but str keys, the leaves above, and lists, tuples and dicts of them."""
    # (Most states hold leaves only: the set tests answer those without a step of Python a key or value.)
    return _KEYS.issuperset(map(type, state)) and (
        _LEAVES.issuperset(map(type, state.values())) or _plain_values(state.values()))


def _plain_values(values: Iterable[Any]) -> bool:
    for value in values:
        kind = type(value)
        if kind in _LEAVES:
            continue
        if kind is dict:
            if not _plain(value):
                return False
        elif kind is list or kind is tuple:
            if not _plain_values(value):
                return False
        else:
            return False
    return True


class FastJSONTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[Any, dict[str, Any]] = (None, {})

    def encode(self, obj: Any) -> bytes:
        if type(obj) is dict and _plain(obj):
            try:
                return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)
            except orjson.JSONEncodeError:  # an int beyond 64 bits, a lone surrogate: as the library does
                pass
        return super().encode(obj)

    def _encode_obj(self, o: Any) -> dict[str, Any]:
        """The library's tagged value ({"_type_": …, "_data_": …}), the last instant's remembered: the events
        of one command share their recording instant (set once a command: domain.base.carrying_out), the same
        object, and tagging it again (`isoformat` and the tag) was 2-3% of an import. The tag is only read. (One
        tuple, replaced whole: two threads encoding at once cannot pair an instant with another's tag.)"""
        last = self._last
        if last[0] is o:
            return last[1]
        tagged = super()._encode_obj(o)
        if type(o) is datetime:
            self._last = (o, tagged)
        return tagged


class DateAsISO(Transcoding):
    """A day (not an instant): "YYYY-MM-DD", tagged date_iso."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)
