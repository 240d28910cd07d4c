"""The SQLite half of the storage seam: the sealing recorder and the event log on SQLite.

The library's SQLite application recorder is subclassed to insert each event's seal
(storage.seals) in the transaction that inserts the event: an event row added, changed, removed
or moved directly in SQL no longer matches its seal.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatabaseError, IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from storage.eventlog import EventLog, ImportTransaction
from storage.keystore import KeyStore
from storage.seals import GENESIS, SEALS_TABLE, seal_rows

# An import's page cache, in KiB. The index of the events' (aggregate id, version) takes about 46 bytes an
# event: 72 MB for the benchmark's 1M register (1.57 million events), which 128 MB holds and 64 MB does not
# (at 1M the import ran 6-26% faster with 128 MB in five pairs, and no faster with 64: benchmarks/README.md).
# It holds the index up to about 2.8 million events.
IMPORT_CACHE_KIB = 131_072


class SealingSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """The library's SQLite application recorder, writing each event's seal in its transaction, and
    what the key store staged for those events (storage.keystore).

    Its connections delete securely (SPEC §9): an erased person's key-store row is overwritten with
    zeros in the file, not left in a free page or cell until SQLite happens to reuse it."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        pool = self.datastore.pool
        create = pool._create_connection  # the library's pool has no connect hook: its one maker, wrapped

        def create_securely() -> Any:
            connection = create()
            connection._sqlite_conn.execute("PRAGMA secure_delete = ON")
            return connection

        pool._create_connection = create_securely  # type: ignore[method-assign]

    keystore: Any = None  # the store's KeyStore, once made (storage.keystore): it replaces `write_staged`

    @staticmethod
    def write_staged(cursor: Any) -> None:
        """Replaced by the store's KeyStore."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {SEALS_TABLE} (position INTEGER PRIMARY KEY, seal BLOB NOT NULL)",
        ]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        # The library inserts one row per `execute` to learn each rowid. Inserted in one `executemany` (first:
        # a read before it would make this transaction's write fail at once if another committed meanwhile),
        # the rows take the positions after the newest, in order: checked by the first row's position.
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                 s.originator_version, s.topic, s.state) for s in stored_events]
        c.executemany(self.insert_events_statement, rows)
        c.execute(f"SELECT max(rowid) FROM {self.events_table_name}")
        last = c.fetchone()[0]
        positions = list(range(last - len(rows) + 1, last + 1))
        c.execute(f"SELECT rowid FROM {self.events_table_name} WHERE originator_id = ? AND originator_version = ?",
                  rows[0][:2])
        if c.fetchone()[0] != positions[0]:  # (never seen: past rowid 2**63 - 1 SQLite picks them at random)
            raise DatabaseError("the events were not given the positions after the newest; nothing was written")
        c.execute(f"SELECT seal FROM {SEALS_TABLE} ORDER BY position DESC LIMIT 1")
        row = c.fetchone()
        previous = bytes(row[0]) if row else GENESIS
        try:
            c.executemany(f"INSERT INTO {SEALS_TABLE} (position, seal) VALUES (?, ?)",
                          seal_rows(previous, positions, stored_events))
        except sqlite3.IntegrityError:
            # SQLite hands out the position of a deleted newest event again; its seal is still there.
            raise DatabaseError(
                f"event {positions[0]} already has a seal: events were deleted outside the ledger; "
                "run 'studyledger audit verify'"
            ) from None
        self.write_staged(c)
        return positions

    @contextmanager
    def import_transaction(self) -> Iterator[SQLiteCursor]:
        """A transaction holding the write lock from its start (BEGIN IMMEDIATE), for an import.

        An import reads before it writes; in a plain (deferred) transaction a write committed
        by another process meanwhile makes its first insert fail at once instead of waiting.

        Meanwhile the connection's page cache is `IMPORT_CACHE_KIB` instead of SQLite's 2 MB: each
        event goes into the index of (aggregate id, version) at a place of its own, so once that
        index outgrows the cache most inserts find their page outside it."""
        with self.datastore.get_connection(commit=True) as connection:
            cursor = connection.cursor()
            cursor.execute("PRAGMA cache_size")
            (usual,) = cursor.fetchone()
            cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
            try:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
            finally:
                with suppress(sqlite3.Error):  # a failing store: the error that says so is the one raised
                    cursor.execute(f"PRAGMA cache_size = {int(usual)}")

    def insert_within(self, cursor: SQLiteCursor, stored_events: Sequence[StoredEvent]) -> None:
        """Insert and seal `stored_events` inside the caller's transaction (an import's pages)."""
        try:
            self._insert_events(cursor, stored_events)
        except sqlite3.IntegrityError as error:
            raise IntegrityError(error) from error


class SQLiteLog(EventLog):
    column, seals_table, marker = "rowid", SEALS_TABLE, "?"

    def __init__(self, store: Any, application: Any):
        super().__init__(store, application)
        self.table = self.recorder.events_table_name

    def horizon(self) -> int:
        """One writer at a time commits, in position order: the head."""
        return self.head()

    def page(self, after: int, upto: int, topics: Sequence[str]) -> list[tuple[Any, ...]]:
        # Read in SQL through the recorder's own datastore and table, not select_notifications:
        # building a Notification and a UUID for every row cost a rebuild a quarter of its time.
        with self.recorder.datastore.transaction(commit=False) as cursor, cursor as raw:
            raw.row_factory = None  # plain tuples: turning the library's sqlite3.Row into them cost a sixth
            raw.execute(self._page_sql(topics), (after, upto, *topics))
            return raw.fetchall()

    def stored(self, topics: Sequence[str]) -> list[tuple[UUID, int, str, bytes]]:
        with self.recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._stored_sql(topics), list(topics))
            return [(UUID(r["originator_id"]), r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in cursor.fetchall()]

    @contextmanager
    def import_transaction(self) -> Iterator[ImportTransaction]:
        select = self.recorder.select_events_statement + "ORDER BY originator_version"
        with self.recorder.import_transaction() as cursor:
            yield ImportTransaction(self.recorder, cursor, select, _hex)

    @contextmanager
    def listen(self, tick: float) -> Iterator[Callable[[], bool]]:
        """SQLite has no notifications: wait the tick out; the caller looks at the log itself."""
        def nothing() -> bool:
            time.sleep(tick)
            return False

        yield nothing


    def keystore(self) -> KeyStore:
        return KeyStore(self.recorder, "?", str, "BLOB", " WITHOUT ROWID")


CHECKPOINT_WAIT = 5.0  # seconds each try of `checkpoint` waits for readers to move on


def checkpoint(path: Any, attempts: int = 3) -> bool:
    """Copy the write-ahead log into the file and truncate it to nothing (after an erasure: the bytes
    that were purged or deleted are then nowhere but in zeroed pages). False if readers kept it from
    finishing after `attempts` tries (each waits up to CHECKPOINT_WAIT for them)."""
    connection = sqlite3.connect(str(path), timeout=CHECKPOINT_WAIT, isolation_level=None)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        for _ in range(attempts):
            busy, _log, _copied = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
            time.sleep(0.1)
        return False
    finally:
        connection.close()


def _hex(aggregate_id: UUID) -> str:
    return aggregate_id.hex  # as the library's SQLite recorder stores ids
