"""A request's result is sealed as JSON text (ledger.personal._result_text): read back as it was given,
whether orjson writes it or, for what orjson refuses, the standard library; and as texts written by
`json.dumps` before are read."""

from __future__ import annotations

import json

import pytest

from ledger.personal import _result_text

RESULTS = [
    {"claim": "0b9c6f2e-1c4f-4b1e-9d7a-2f1e3c4d5e6f", "status": "submitted", "endorsements": 2},
    {"professional": "P-1", "name": "Anneke Brouwer–de Vries", "registered_on": "2026-01-05"},
    {"points": "2.5", "nested": {"b": [1, None, True], "a": "x"}},
    {"huge": 1 << 70},  # beyond orjson's 64-bit integers: the standard library writes it
]


@pytest.mark.parametrize("result", RESULTS)
def test_a_result_reads_back_as_given(result):
    text = _result_text(result)
    assert isinstance(text, str)
    assert json.loads(text) == result == json.loads(json.dumps(result, sort_keys=True))


def test_the_keys_are_sorted_at_every_depth():
    text = _result_text({"b": 1, "a": {"d": 2, "c": 3}})
    assert text.index('"a"') < text.index('"b"') and text.index('"c"') < text.index('"d"')
