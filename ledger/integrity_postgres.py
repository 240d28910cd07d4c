"""The PostgreSQL half of `ledger.integrity`: the library's recorder, writing seals too.

A module of its own so that SQLite stores never import psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import DatabaseError, IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

from ledger.errors import lock_timed_out
from ledger.integrity import GENESIS, SEALS_TABLE, seal_rows


class SealingPostgresApplicationRecorder(PostgresApplicationRecorder):
    """Writes each event's seal in the transaction that inserts it.

    Inserts hold the events table's EXCLUSIVE lock (the library's own), so seals are
    chained in the order of the notification ids.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        table = Identifier(self.datastore.schema, SEALS_TABLE)
        self.sql_create_statements.append(
            SQL("CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, seal bytea NOT NULL)").format(table)
        )
        self._select_last_seal = SQL("SELECT seal FROM {0} ORDER BY position DESC LIMIT 1").format(table)
        self._insert_seal = SQL("INSERT INTO {0} (position, seal) VALUES (%s, %s)").format(table)

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

    def import_transaction(self) -> Any:
        """An import's one transaction; its first page takes the events table's lock."""
        return self.datastore.transaction(commit=True)

    def insert_within(self, cursor: Any, stored_events: Sequence[StoredEvent]) -> None:
        """Insert and seal `stored_events` inside the caller's transaction (an import's pages)."""
        try:
            self._insert_events(cursor, stored_events)
            self._insert_stored_events(cursor, stored_events)
            self._fetch_ids_after_insert_events(cursor, stored_events)
        except psycopg.errors.IntegrityError as error:
            raise IntegrityError(error) from error

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            curs.execute(self._select_last_seal)
            row = curs.fetchone()
            rows = seal_rows(bytes(row["seal"]) if row else GENESIS, positions, stored_events)
            curs.executemany(self._insert_seal, rows)
        return positions
