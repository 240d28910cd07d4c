"""A transaction holding an earlier notification id commits after a later one (PostgreSQL).

Positions come from a sequence when a row is inserted, not when it commits. The library's
writers take an EXCLUSIVE table lock so that ids are committed in order; these tests take that
lock away from two writers to produce exactly the case it prevents, and show that a catch-up
still applies both events: it waits for the earlier transaction instead of passing its id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

import storage.postgres
from ledger.app import open_ledger
from projections.reader import Reader
from projections.runner import ReadModels
from projections.verify import verify
from storage.errors import Busy


@pytest.fixture
def pg(db_url: str, ledger: Any) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: positions are committed in order")
    return db_url


class HeldWriter:
    """A ledger whose insert, once it has its notification ids, waits to commit until released."""

    def __init__(self, store: Any, clock: Any):
        self.app = open_ledger(store, clock=clock, os_user="slow")
        self.app.recorder.lock_table_statements = []  # what the library's writers normally hold
        self.inserted = threading.Event()
        self.release = threading.Event()
        self.ids: list[int] = []
        fetch = self.app.recorder._fetch_ids_after_insert_events

        def fetch_then_wait(*args: Any, **kwargs: Any) -> Any:
            ids = fetch(*args, **kwargs)
            self.ids.extend(ids)
            self.inserted.set()
            assert self.release.wait(60)
            return ids

        self.app.recorder._fetch_ids_after_insert_events = fetch_then_wait

    def register(self, pid: str) -> threading.Thread:
        thread = threading.Thread(target=self.app.run, args=("professional register", _professional(pid)))
        thread.start()
        assert self.inserted.wait(30)
        return thread


def _professional(pid: str) -> dict[str, Any]:
    return {"id": pid, "name": "Sanne Jansen", "group": "nurse", "registered_on": date(2025, 1, 1)}


@pytest.fixture
def held(pg: str, store: Any, clock: Any) -> Iterator[HeldWriter]:
    writer = HeldWriter(store, clock)
    yield writer
    writer.release.set()
    writer.app.close()


def _unlocked_ledger(store: Any, clock: Any) -> Any:
    app = open_ledger(store, clock=clock, os_user="quick")
    app.recorder.lock_table_statements = []
    return app


def test_a_catch_up_waits_for_an_earlier_id_that_commits_late(held: HeldWriter, store: Any, clock: Any,
                                                               ledger: Any) -> None:
    slow = held.register("P-early")  # has its id, not committed
    quick = _unlocked_ledger(store, clock)
    try:
        quick.run("professional register", _professional("P-late"))  # a later id, committed first
        later = quick.recorder.max_notification_id()
    finally:
        quick.close()
    assert held.ids and held.ids[-1] < later  # the case under test really happened

    models = ReadModels(ledger.event_log)
    outcome: dict[str, Any] = {}
    catching_up = threading.Thread(target=lambda: outcome.update(models.catch_up()))
    catching_up.start()
    time.sleep(0.5)
    assert catching_up.is_alive(), f"the catch-up did not wait for the earlier id: {outcome}"

    held.release.set()
    slow.join(30)
    catching_up.join(30)
    assert outcome["head"] == later
    assert {n: p for n, (_, p) in models.state().items()} == {n: later for n in models.state()}
    models.catch_up()  # nothing was left behind for a second pass to find either
    found = verify(models)
    assert found["ok"], found["problems"]
    assert Reader(models, ledger).balance("P-early")["professional"] == "P-early"
    models.close()


def test_a_writer_in_flight_too_long_makes_a_read_say_it_is_behind(held: HeldWriter, store: Any, clock: Any,
                                                                   ledger: Any, monkeypatch: Any) -> None:
    ledger.run("professional register", _professional("P-1"))
    models = ReadModels(ledger.event_log)
    models.catch_up()
    slow = held.register("P-2")
    monkeypatch.setattr(storage.postgres, "HORIZON_WAIT", 1)

    with pytest.raises(Busy, match="Safe to retry"):
        models.catch_up()
    answer = Reader(models, ledger).balance("P-1")  # answered from the model as it stands
    assert answer["professional"] == "P-1"

    held.release.set()
    slow.join(30)
    assert Reader(models, ledger).balance("P-2").get("behind") is None
    models.close()
