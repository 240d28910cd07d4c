"""Strict JSON for import lines: a bounded nesting depth and no repeated keys.

Python's `json` module recurses once per bracket, so a line nested deep enough ends in a
RecursionError (which would look like a storage failure); and it lets the last of two equal
keys win, so `{"hours": "1", "hours": "40"}` would silently mean 40. Both are refused here as
invalid input, before the line is decoded.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

MAX_DEPTH = 32  # far more than any command needs (an object holding lists of strings: 2)


class NotStrictJSON(ValueError):
    """The line is JSON that an import refuses; the message says why."""


def loads(line: str) -> Any:
    """`line` decoded (floats as Decimal), or NotStrictJSON / ValueError (`json`'s own) if refused."""
    # Counting brackets is cheap and overcounts (brackets inside strings count too): only a line
    # that might be too deep is walked character by character.
    if line.count("[") + line.count("{") > MAX_DEPTH:
        _check_depth(line)
    if line.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
    return _DECODER.decode(line)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise NotStrictJSON(f"the key {json.dumps(key, ensure_ascii=False)} is given twice")
            seen.add(key)
    return found


# One decoder for every line: json.loads with these options builds a new one (and its scanner) per
# call, half of the decoding time of an import line (3.9 against 1.8 µs a line).
_DECODER = json.JSONDecoder(parse_float=Decimal, object_pairs_hook=_unique)


def _check_depth(line: str) -> None:
    depth = 0
    in_string = escaped = False
    for c in line:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise NotStrictJSON(f"nested more than {MAX_DEPTH} levels deep")
        elif c in "]}":
            depth -= 1
