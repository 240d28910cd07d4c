"""The orjson transcoder writes exactly the bytes the library's JSON transcoder writes (ledger/transcoder.py).

Checked against the library itself, not against a copy of the code: every stored event of a generated
register (each event type the import writes), and random states (any text, nested values, the tagged
types, and the values orjson would write its own way, which must go through the library)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.generate import lines
from ledger.app import Ledger, open_ledger
from ledger.importer import import_lines
from ledger.transcoder import FastJSONTranscoder


def transcoders(ledger: Ledger) -> tuple[JSONTranscoder, JSONTranscoder]:
    library = JSONTranscoder()
    ledger.register_transcodings(library)
    fast = ledger.construct_transcoder()
    assert type(fast) is FastJSONTranscoder
    return library, fast


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[JSONTranscoder, JSONTranscoder]:
    from storage.config import resolve

    ledger = open_ledger(resolve(str(tmp_path_factory.mktemp("t") / "t.db")), create=True)
    try:
        return transcoders(ledger)
    finally:
        ledger.close()


def test_every_stored_event_of_a_generated_register_encodes_to_the_library_s_bytes(tmp_path: Any) -> None:
    from storage.config import resolve

    ledger = open_ledger(resolve(str(tmp_path / "g.db")), create=True)
    try:
        import_lines(ledger, (json.dumps(line) for line in lines(3000, 3)))
        library, fast = transcoders(ledger)
        topics = set()
        for notification in ledger.recorder.select_notifications(1, 100_000):
            state = library.decode(notification.state)  # Decimals, dates and instants back as objects
            assert fast.encode(state) == library.encode(state) == notification.state
            topics.add(notification.topic)
        assert len(topics) >= 10, topics  # registrations, joins, claims, endorsements, decisions, notes…
    finally:
        ledger.close()


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # any text but lone surrogates
tagged = st.one_of(st.decimals(allow_nan=False, allow_infinity=False, places=3), st.dates(),
                   st.datetimes(timezones=st.just(timezone.utc)))
leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), texts, tagged,
                   st.floats(allow_nan=False), st.uuids())  # floats and UUIDs: the library's way
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(texts, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(state=st.dictionaries(texts, values, max_size=6))
def test_random_states_encode_to_the_library_s_bytes(pair: tuple[JSONTranscoder, JSONTranscoder], state: dict) -> None:
    library, fast = pair
    assert fast.encode(state) == library.encode(state)
    assert library.decode(fast.encode(state)) == library.decode(library.encode(state))


def test_what_orjson_writes_its_own_way_goes_through_the_library(pair: tuple[JSONTranscoder, JSONTranscoder]) -> None:
    library, fast = pair
    tricky = {"id": uuid.uuid4(), "float": 1e16, "big": 2**64, "text": "tab\t\x00 \u2028 é",
              "when": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=1))),
              "on": date(2026, 1, 2), "hours": Decimal("1.50"), "nested": {"l": [(1, "a")]}}
    for name, value in tricky.items():  # one at a time: one value the library writes would hide the others
        assert fast.encode({name: value}) == library.encode({name: value}), name
    assert fast.encode(tricky) == library.encode(tricky)
    assert b'"_type_":"uuid_hex"' in fast.encode({"id": uuid.uuid4()})


def test_a_type_without_a_transcoding_is_refused_as_the_library_refuses_it(pair: tuple[JSONTranscoder, JSONTranscoder]) -> None:
    _, fast = pair
    with pytest.raises(TranscodingNotRegisteredError):
        fast.encode({"x": object()})
    with pytest.raises(TranscodingNotRegisteredError):
        fast.encode({"x": [1, frozenset()]})


def test_instants_are_written_as_the_library_writes_them_however_they_repeat(
        pair: tuple[JSONTranscoder, JSONTranscoder]) -> None:
    """The fast transcoder remembers the last instant it tagged: the same object again gets the same tag, an
    equal instant written with another offset (or one a microsecond on, or a naive one) gets its own."""
    library, fast = pair
    utc = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    elsewhere = utc.astimezone(timezone(timedelta(hours=2)))
    assert elsewhere == utc
    instants = [utc, utc, elsewhere, elsewhere, utc, utc + timedelta(microseconds=1), datetime(2026, 5, 1, 12, 0), utc]
    states = [{"timestamp": i, "on": i.date(), "at": [i]} for i in instants]
    assert [fast.encode(s) for s in states] == [library.encode(s) for s in states]
    assert fast.decode(fast.encode({"at": elsewhere})) == {"at": elsewhere}
