"""Shared fixtures: a store on every engine, a controllable clock, and the CLI runner.

`store` is parametrised over SQLite (a file in the test's temporary folder) and PostgreSQL
(a schema of its own in the database named by STUDYLEDGER_TEST_POSTGRES_URL, dropped after
the test). Without that variable the PostgreSQL half is skipped with the reason.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import Ledger, open_ledger
from storage.config import Store, resolve

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


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """A `--db` URL of a store no other test uses."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need STUDYLEDGER_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    schema = "t_" + uuid.uuid4().hex[:12]
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}schema={schema}"
    _drop_schema(POSTGRES_URL, schema)


@pytest.fixture
def store(db_url: str) -> Store:
    return resolve(db_url)


@pytest.fixture
def children() -> Any:
    """Long-running `studyledger` children of the test, all killed when it ends."""
    from tests.children import Children

    kids = Children()
    try:
        yield kids
    finally:
        kids.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store: Store, clock: Clock) -> Any:
    """An initialised, empty ledger on `store`, on the test's clock."""
    app = open_ledger(store, create=True, clock=clock, os_user="tester")
    yield app
    app.close()


def count_events(store: Store) -> int:
    """How many events the store holds, read afresh."""
    app = Ledger(store)
    try:
        return sum(1 for _ in app.event_log.all_events())
    finally:
        app.close()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture
def run(db_url: str, clock: Clock) -> Any:
    """Invoke `studyledger --db <the test's store> ARGS…` in process, on the test's clock."""
    factory = functools.partial(open_ledger, clock=clock, os_user="tester")

    def invoke(*args: str, db: str | None = db_url) -> Result:
        runner = CliRunner()
        prefix = ["--db", db] if db is not None else []
        outcome = runner.invoke(cli, [*prefix, *args], obj=factory, catch_exceptions=False)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    result = invoke("init")
    assert result.exit_code == 0, result.stderr
    return invoke
