"""ledger.jsonlines decodes an import line as the standard library's `json.loads` with the same
options does (its shared decoder must not change what a line means), and refuses what the
standard library lets through: repeated keys and deep nesting."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ledger.jsonlines import MAX_DEPTH, NotStrictJSON, _unique, loads

LINES = ['{"command": "claim submit", "hours": 1.5, "on": "2026-01-01"}', '{"a": [1, 2.25, {"b": null}]}',
         '{"x": 1e400}', '{"n": -0.0}', '"text"', "[]", "3", " {\"a\": 1} ", '{"é": "\\u00e9"}',
         '{"a": 1}{"b": 2}', "", "{", '{"a": NaN}', '{"a": Infinity}', "\ufeff{\"a\": 1}", '{"a": "\\ud800"}',
         "{'a': 1}", '{"a": 1,}', "nul"]


def _standard(line: str) -> object:
    return json.loads(line, parse_float=Decimal, object_pairs_hook=_unique)


@pytest.mark.parametrize("line", LINES)
def test_a_line_means_what_the_standard_library_reads(line: str) -> None:
    try:
        expected = _standard(line)
    except ValueError as refused:
        with pytest.raises(ValueError) as ours:
            loads(line)
        assert type(ours.value) is type(refused) and ours.value.args[0] == refused.args[0]
        return
    assert loads(line) == expected
    assert repr(loads(line)) == repr(expected)  # Decimal('1.5') stays a Decimal, -0.0 its sign


def test_repeated_keys_and_deep_nesting_are_refused() -> None:
    with pytest.raises(NotStrictJSON, match="given twice"):
        loads('{"hours": "1", "hours": "40"}')
    with pytest.raises(NotStrictJSON, match="levels deep"):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
