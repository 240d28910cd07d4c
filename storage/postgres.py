"""The PostgreSQL half of the storage seam: the sealing recorder, the event log, and a direct
connection. A module of its own so that SQLite stores never import psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import DatabaseError, IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from storage.config import Store
from storage.errors import Busy, StorageFailure, lock_timed_out, redact
from storage.eventlog import EventLog, ImportTransaction
from storage.keystore import KeyStore
from storage.seals import GENESIS, SEALS_TABLE, seal_rows

HORIZON_WAIT = 10  # seconds a catch-up waits for writers in flight


class SealingPostgresApplicationRecorder(PostgresApplicationRecorder):
    """Writes each event's seal in the transaction that inserts it.

    Inserts hold the events table's EXCLUSIVE lock (the library's own), so seals are
    chained in the order of the notification ids.
    """

    keystore: Any = None  # the store's KeyStore, once made (storage.keystore): it replaces `write_staged`

    @staticmethod
    def write_staged(cursor: Any) -> None:
        """Replaced by the store's KeyStore (storage.keystore): its rows go in with the events."""

    def __init__(self, datastore: Any, *args: Any, **kwargs: Any):
        if not datastore.enable_db_functions:
            # The library looks its composite type up as the recorder is made, for its INSERT … unnest(array
            # of composite values): a round trip that first waits for the pool's first connection, in every
            # process. Events go in here as four arrays (`_insert_stored_events`) or by COPY (an import's), so
            # nothing needs that type; its stored procedures (POSTGRES_ENABLE_DB_FUNCTIONS) would.
            datastore.register_type_adapters = _no_type_adapters
        super().__init__(datastore, *args, **kwargs)
        table = Identifier(self.datastore.schema, SEALS_TABLE)
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, seal bytea NOT NULL)").format(table)
        )
        self._select_last_seal = SQL("SELECT seal FROM {0} ORDER BY position DESC LIMIT 1").format(table)
        self._insert_seal = SQL("INSERT INTO {0} (position, seal) VALUES (%s, %s)").format(table)
        events = Identifier(self.datastore.schema, self.events_table_name)
        self._insert_arrays = SQL("INSERT INTO {0} (originator_id, originator_version, topic, state) "
                                  "SELECT * FROM unnest(%s::{1}[], %s::bigint[], %s::text[], %s::bytea[]) "
                                  "RETURNING notification_id").format(events, SQL(self.datastore.originator_id_type))
        # Binary: a state goes as its bytes, not as hex text twice their size for the server to decode.
        self._copy_events = SQL("COPY {0} (originator_id, originator_version, topic, state) FROM STDIN "
                                "(FORMAT BINARY)").format(events)
        self._select_copied = SQL("SELECT notification_id, originator_id, originator_version FROM {0} "
                                  "WHERE notification_id > %s ORDER BY notification_id").format(events)
        self._copy_seals = SQL("COPY {0} (position, seal) FROM STDIN (FORMAT BINARY)").format(table)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """The library's statements in the library's order, in one plain transaction.

        The library sends them in pipeline mode, where psycopg (3.3, with libpq 18) can wait
        for ever on a large batch — the one INSERT … unnest(array) … RETURNING of an import
        of 20,000 events hung more often than not, client and server each waiting to read.
        Outside pipeline mode the same statements cost a few round trips more and never hang.
        """
        try:
            if self.datastore.enable_db_functions:
                return super().insert_events(stored_events, **kwargs)
            with self.datastore.get_connection() as conn, conn.transaction():
                with conn.cursor() as curs:
                    self._insert_events(curs, stored_events, **kwargs)
                if not stored_events:
                    return None
                with conn.cursor() as curs:
                    self._insert_stored_events(curs, stored_events, **kwargs)
                    return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        except OperationalError as error:
            if not lock_timed_out(error):
                raise  # a dropped connection: retried on a fresh one
            # Another writer (an import, say) held the events table for the whole lock timeout:
            # a conflict to report at once, not ten more waits.
            raise DatabaseError(str(error)) from error

    @contextmanager
    def import_transaction(self) -> Iterator[Any]:
        """An import's one transaction; its first page takes the events table's lock.

        Between two pages the transaction waits on Python (checking a page of commands takes
        seconds on a loaded machine): the library's idle-in-transaction timeout (5 s) would end
        the import, so this transaction allows a minute."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = '60s'")
            yield cursor

    def insert_within(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> None:
        """Insert and seal `stored_events` inside the caller's transaction (an import's pages).

        Into the library's own table, under the library's own lock and NOTIFY, but with COPY:
        the library's INSERT … unnest(array of composite values) had psycopg quote every value
        in Python, and cost an import half its time on PostgreSQL. The positions the sequence
        gave (in the lock, nobody else's) are read back, and the seals, chained in position
        order, go in by COPY too.
        """
        if not stored_events:
            return
        try:
            self._lock_table(cursor)
            self._notify_channel(cursor)
            cursor.execute(self.max_notification_id_statement)
            before = cursor.fetchone()["max"] or 0
            with cursor.copy(self._copy_events) as copy:
                copy.set_types(["uuid", "int8", "text", "bytea"])
                for stored in stored_events:
                    copy.write_row((stored.originator_id, stored.originator_version, stored.topic, stored.state))
            with cursor.connection.cursor(row_factory=tuple_row) as plain:  # not a dict per row: a page is 5,000
                written = plain.execute(self._select_copied, (before,)).fetchall()
            by_key = {(stored.originator_id, stored.originator_version): stored for stored in stored_events}
            assert len(written) == len(stored_events), "every copied event, and nobody else's, after the lock"
            positions = [position for position, _, _ in written]
            ordered = [by_key[(originator_id, version)] for _, originator_id, version in written]
            cursor.execute(self._select_last_seal)
            row = cursor.fetchone()
            with cursor.copy(self._copy_seals) as copy:
                copy.set_types(["int8", "bytea"])
                for seal_row in seal_rows(bytes(row["seal"]) if row else GENESIS, positions, ordered):
                    copy.write_row(seal_row)
            self.write_staged(cursor)
        except psycopg.errors.IntegrityError as error:
            raise IntegrityError(error) from error

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """The library's, with the events as one array per column instead of an array of its composite
        type: the same single statement, whose unnest gives the rows, and so the positions, in their order."""
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self._insert_arrays, ([e.originator_id for e in stored_events],
                                           [e.originator_version for e in stored_events],
                                           [e.topic for e in stored_events], [e.state for e in stored_events]))

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            curs.execute(self._select_last_seal)
            row = curs.fetchone()
            rows = seal_rows(bytes(row["seal"]) if row else GENESIS, positions, stored_events)
            curs.executemany(self._insert_seal, rows)
            self.write_staged(curs)
        return positions


def _no_type_adapters() -> None:
    """Stands in for the library's `PostgresDatastore.register_type_adapters` (see the recorder's __init__)."""


class PostgresLog(EventLog):
    notifies = True
    column, marker = "notification_id", "%s"

    def __init__(self, store: Store, application: Any):
        super().__init__(store, application)
        schema = self.recorder.datastore.schema
        self.table = f'"{schema}".{self.recorder.events_table_name}'
        self.seals_table = f'"{schema}".{SEALS_TABLE}'

    def horizon(self) -> int:
        """A position comes from a sequence when the row is inserted, and a transaction holding an
        earlier one can commit after a later one is visible (the library's writers prevent that with
        an EXCLUSIVE table lock, but nothing stops another writer from inserting without it). A SHARE
        lock waits for every transaction that is inserting events, so the highest position seen under
        it can never be passed by a late commit; the lock is released at once."""
        with self.recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{HORIZON_WAIT}s'")
            try:
                cursor.execute(f"LOCK TABLE {self.table} IN SHARE MODE")
            except Exception as error:  # psycopg's LockNotAvailable, whatever the library wraps it in
                if not lock_timed_out(error):
                    raise
                raise Busy(f"Events have been being written for over {HORIZON_WAIT} seconds; "
                           "the read models were not caught up. Safe to retry.") from None
            cursor.execute(f"SELECT MAX({self.column}) AS head FROM {self.table}")
            return cursor.fetchone()["head"] or 0

    def _page_sql(self, topics: Sequence[str]) -> str:
        # The aggregate id as the hex text SQLite stores, made by the server: psycopg's uuid.UUID per row
        # cost a rebuild 1-2 µs an event that the floor does not pay.
        return super()._page_sql(topics).replace(", originator_id,", ", replace(originator_id::text, '-', ''),", 1)

    def page(self, after: int, upto: int, topics: Sequence[str]) -> list[tuple[Any, ...]]:
        with self.recorder.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cursor:
            # Plain tuples: a dict per row cost a tenth of a rebuild.
            cursor.execute(self._page_sql(topics), (after, upto, *topics))
            return cursor.fetchall()

    def stored(self, topics: Sequence[str]) -> list[tuple[UUID, int, str, bytes]]:
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._stored_sql(topics), list(topics))
            return [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]))
                    for r in cursor.fetchall()]

    @contextmanager
    def import_transaction(self) -> Iterator[ImportTransaction]:
        select = self.recorder.select_events_statement + SQL(" ORDER BY originator_version")
        with self.recorder.import_transaction() as cursor:
            yield ImportTransaction(self.recorder, cursor, select, _same)

    @contextmanager
    def listen(self, tick: float) -> Iterator[Callable[[], bool]]:
        """LISTEN on the channel the recorder NOTIFYs in every transaction that inserts events.

        Kept rather than the library's `recorder.subscribe()`: that runs a thread which reads and
        hands over every new event, and stops for good when its connection drops (the library's
        issue #305); the worker needs only a wake-up (its catch-up reads the pages itself, in the
        page's transaction), and looks at the log every interval anyway."""
        with connect(self.store) as conn:
            conn.execute(SQL("LISTEN {}").format(Identifier(self.recorder.channel_name)))

            def woken() -> bool:
                return any(True for _ in conn.notifies(timeout=tick, stop_after=1))

            yield woken


    def keystore(self) -> KeyStore:
        schema = self.recorder.datastore.schema
        return KeyStore(self.recorder, "%s", lambda table: f'"{schema}".{table}', "bytea", share_lock=" FOR SHARE")


def _same(aggregate_id: UUID) -> UUID:
    return aggregate_id


@contextmanager
def connect(store: Store) -> Iterator[Any]:
    """A connection of its own (autocommit) to the store's PostgreSQL database; StorageFailure if there is none."""
    s = store.settings
    try:
        connection = psycopg.connect(
            dbname=s["POSTGRES_DBNAME"], host=s["POSTGRES_HOST"], port=s["POSTGRES_PORT"], user=s["POSTGRES_USER"],
            password=s["POSTGRES_PASSWORD"] or None, connect_timeout=int(s["POSTGRES_CONNECT_TIMEOUT"]),
            autocommit=True,
        )
    except psycopg.OperationalError as error:
        reason = redact(" ".join(str(error).split()), store.secrets)
        raise StorageFailure(f"Cannot connect to the PostgreSQL store at {store.where}: {reason}") from None
    with connection:
        yield connection


def check(store: Store, *, create_schema: bool) -> None:
    """One direct connection first: the library's pool would retry for its whole timeout and then
    say only that it got no connection; the server's own answer says why."""
    with connect(store) as connection:
        if create_schema:
            connection.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(store.settings["POSTGRES_SCHEMA"])))
