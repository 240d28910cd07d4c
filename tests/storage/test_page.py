"""A page of the log (storage.eventlog.EventLog.page) names each aggregate as the hex text SQLite stores,
on both engines, so that read models written from either hold the same ids."""

from __future__ import annotations

from datetime import date

from ledger.app import Ledger


def test_a_page_gives_positions_hex_ids_topics_and_the_stored_state(ledger: Ledger) -> None:
    ledger.run("network register", {"id": "net", "name": "Net", "theme": ["t"], "group": ["nurse"],
                                    "founded_on": date(2024, 1, 1)})
    stored = list(ledger.recorder.select_notifications(1, 100))
    rows = ledger.event_log.page(0, stored[-1].id, sorted({n.topic for n in stored}))
    assert [(position, aggregate, topic, bytes(state)) for position, aggregate, topic, state in rows] == \
        [(n.id, n.originator_id.hex, n.topic, n.state) for n in stored]
