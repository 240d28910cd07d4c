"""What every aggregate of the register shares: deterministic ids and the recording clock.

An event's `timestamp` is its *recording instant*. The library reads the wall clock for it;
here the application passes its clock in with `recording_at(now)`, so that tests (and the
rules that compare with "today") use one and the same instant for a whole command.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from contextvars import ContextVar
from datetime import datetime, timezone

from eventsourcing.domain import Aggregate

# Namespace for ids derived from the register's own identifiers.
NAMESPACE = uuid.UUID("5b0a6f0e-8c55-4a8e-9a53-3d1c3f0d2a11")

_recording_instant: ContextVar[datetime | None] = ContextVar("recording_instant", default=None)


@contextmanager
def recording_at(now: datetime) -> Iterator[None]:
    """Stamp every event triggered inside the block with `now` (a UTC instant)."""
    assert now.tzinfo is not None, "recording instants are timezone-aware"
    token = _recording_instant.set(now.astimezone(timezone.utc))
    try:
        yield
    finally:
        _recording_instant.reset(token)


@lru_cache(maxsize=1 << 16)
def natural_id(kind: str, *parts: str) -> uuid.UUID:
    """The aggregate id for a register-given identifier: the same key, the same id."""
    return uuid.uuid5(NAMESPACE, "/".join((kind, *parts)))


class LedgerAggregate(Aggregate):
    """Base of the register's aggregates; its events carry the recording instant."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            now = _recording_instant.get()
            return now if now is not None else datetime.now(timezone.utc)

    class Created(Event, Aggregate.Created):
        pass
