"""The PostgreSQL half of `ledger.integrity`: the library's recorder, writing seals too.

A module of its own so that SQLite stores never import psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

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

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if stored_events:
            curs.execute(self._select_last_seal)
            row = curs.fetchone()
            rows = seal_rows(bytes(row["seal"]) if row else GENESIS, positions, stored_events)
            curs.executemany(self._insert_seal, rows)
        return positions
