"""The `eventsourcing` library's own recorder test cases, run against this project's stores.

An independent check written by someone else: the base classes in
`eventsourcing/tests/persistence.py` are what the library runs against its own SQLite and
PostgreSQL recorders. Here `create_recorder` builds the recorder exactly as `--db` does —
the store's settings, through the library's infrastructure factory — so what is tested is
the sealing recorder the ledger writes with (`storage.sqlite`, `storage.postgres`), on a SQLite file and in a
PostgreSQL schema of its own.

Left out, and why: `AggregateRecorderTestCase` expects a recorder that returns no
notification ids, and the ledger writes only through application recorders, which do. The tracking, process-recorder and view test cases (`TrackingRecorderTestCase`,
`ProcessRecorderTestCase`, `eventsourcing/tests/projection.py`) test the library's tracking
recorders and its `ProjectionRunner`; the read models keep their own positions in
SQLAlchemy tables (`projections/runner.py`) and use neither.

After each of the library's tests, the hash chain over whatever it wrote is checked too.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from typing import Any

import pytest

pytest.importorskip("Crypto", reason="the library's test module needs pycryptodome (in the project's test extras)")

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory  # noqa: E402
from eventsourcing.tests.persistence import (  # noqa: E402
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)
from eventsourcing.utils import Environment  # noqa: E402

from ledger.app import Ledger  # noqa: E402
from storage.sqlite import SealingSQLiteApplicationRecorder  # noqa: E402
from storage.config import resolve  # noqa: E402
from tests.support.harness import POSTGRES_URL, drop_schema  # noqa: E402


class SQLiteStore:
    """Each test gets a new SQLite file, configured as `--db FILE` configures it."""

    def setUp(self) -> None:
        self._folder = tempfile.TemporaryDirectory()
        self._url = os.path.join(self._folder.name, "ledger.db")
        self._recorders: list[Any] = []
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        try:
            if self._recorders:
                self._assert_chain_unbroken()
        finally:
            for recorder in self._recorders:
                recorder.datastore.close()
            self._folder.cleanup()

    def _assert_chain_unbroken(self) -> None:
        """Ours on top of the library's: whatever its test wrote, concurrent writers included, is sealed in order."""
        from ledger.audit import verify_chain

        ledger = Ledger(resolve(self._url))
        try:
            report, _ = verify_chain(ledger)
        finally:
            ledger.close()
        assert report.ok, report.problems[:3]

    def create_recorder(self) -> ApplicationRecorder:
        env = Environment(Ledger.name, {**resolve(self._url).settings, "CREATE_TABLE": "yes"})
        recorder = InfrastructureFactory.construct(env).application_recorder()
        assert type(recorder).__name__.startswith("Sealing"), type(recorder)  # ours, not the library's
        self._recorders.append(recorder)
        return recorder


@pytest.mark.postgres
class PostgresStore(SQLiteStore):
    """Each test gets a schema of its own in the test database, configured as `--db postgresql://…?schema=` does."""

    def setUp(self) -> None:
        self._schema = "lib_" + uuid.uuid4().hex[:12]
        super().setUp()
        separator = "&" if "?" in POSTGRES_URL else "?"
        self._url = f"{POSTGRES_URL}{separator}schema={self._schema}"
        from storage.postgres import check

        check(resolve(self._url), create_schema=True)

    def tearDown(self) -> None:
        try:
            super().tearDown()
        finally:
            drop_schema(POSTGRES_URL, self._schema)


class TestSQLiteApplicationRecorder(SQLiteStore, ApplicationRecorderTestCase[SealingSQLiteApplicationRecorder]):
    pass


class TestSQLiteNonInterleavingNotificationIDs(SQLiteStore, NonInterleavingNotificationIDsBaseCase):
    pass


class TestPostgresApplicationRecorder(PostgresStore, ApplicationRecorderTestCase[Any]):
    pass


class TestPostgresNonInterleavingNotificationIDs(PostgresStore, NonInterleavingNotificationIDsBaseCase):
    pass
