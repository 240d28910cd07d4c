"""How a write's events go into PostgreSQL (storage/postgres.py): one INSERT of four arrays, in the
library's table under its lock, without the library's composite type — whose look-up, a round trip
waiting for the pool's first connection, every process that opened the recorder used to make.

The recorder is built as `--db` builds it (the store's settings, through the library's factory).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.persistence import InfrastructureFactory, IntegrityError, StoredEvent
from eventsourcing.utils import Environment

from ledger.app import Ledger
from ledger.audit import verify_chain
from storage.config import resolve
from storage.postgres import check

# The shared `db_url` fixture (tests/conftest.py), its PostgreSQL half only: a schema no other test uses.
pytestmark = pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def url(db_url: str) -> str:
    check(resolve(db_url), create_schema=True)
    return db_url


@pytest.fixture
def recorder(url: str) -> Iterator[Any]:
    env = Environment(Ledger.name, {**resolve(url).settings, "CREATE_TABLE": "yes"})
    recorder = InfrastructureFactory.construct(env).application_recorder()
    assert type(recorder).__name__ == "SealingPostgresApplicationRecorder"
    try:
        yield recorder
    finally:
        recorder.datastore.close()


def events(count: int, originator: uuid.UUID | None = None) -> list[StoredEvent]:
    originator = originator or uuid.uuid4()
    return [StoredEvent(originator_id=originator, originator_version=version, topic="tests:Happened",
                        state=b'{"n":%d}' % version) for version in range(1, count + 1)]


def chain_ok(url: str) -> bool:
    ledger = Ledger(resolve(url))
    try:
        report, _ = verify_chain(ledger)
    finally:
        ledger.close()
    return report.ok and report.events_checked > 0


def test_no_composite_type_is_looked_up(recorder: Any, url: str) -> None:
    recorder.insert_events(events(3))
    assert recorder.datastore.psycopg_type_adapters == {}, "the library's composite type was fetched"
    assert chain_ok(url)


def test_a_batch_larger_than_a_values_list_could_carry(recorder: Any, url: str) -> None:
    """20,000 events are 80,000 values: past the 65,535 parameters of one statement, had they gone as a
    VALUES list. As arrays they are four parameters; the positions follow the events' order, which the
    seals chain (verified from the stored bytes)."""
    batch = events(20_000)
    positions = recorder.insert_events(batch)
    assert positions == list(range(positions[0], positions[0] + 20_000))
    stored = recorder.select_events(batch[0].originator_id)
    assert [(e.originator_version, e.state) for e in stored] == [(e.originator_version, e.state) for e in batch]
    assert [n.id for n in recorder.select_notifications(start=positions[0], limit=3)] == positions[:3]
    assert chain_ok(url)


def test_a_conflicting_batch_writes_nothing(recorder: Any, url: str) -> None:
    originator = uuid.uuid4()
    recorder.insert_events(events(2, originator))
    with pytest.raises(IntegrityError):
        recorder.insert_events([*events(1), *events(3, originator)])  # versions 1 and 2 are taken
    assert len(recorder.select_events(originator)) == 2
    assert recorder.max_notification_id() == 2
    assert chain_ok(url)
