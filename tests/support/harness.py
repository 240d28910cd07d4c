"""What the in-process tests share with the fixtures of tests/conftest.py: the test's clock, a
CLI result, the test database (STUDYLEDGER_TEST_POSTGRES_URL) and dropping a schema in it, and
how many events a store holds.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ledger.app import Ledger
from storage.config import Store

POSTGRES_URL = os.environ.get("STUDYLEDGER_TEST_POSTGRES_URL")


@dataclass
class Clock:
    """A clock tests move by hand. Starts at noon UTC on 2026-06-15."""

    now: datetime = field(default_factory=lambda: datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc))

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**(delta or {"seconds": 1}))
        return self.now

    @property
    def today(self) -> date:
        return self.now.date()


def drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def count_events(store: Store) -> int:
    """How many events the store holds, read afresh."""
    app = Ledger(store)
    try:
        return sum(1 for _ in app.event_log.all_events())
    finally:
        app.close()
