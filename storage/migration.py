"""What `studyledger migrate` (ledger/migrate.py) asks of a store beyond the event log: a snapshot of
a SQLite file read without writing to it, whether a store holds any event (asked without opening
it through the library, which would write), and how many events an import transaction sees.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from storage.config import Store
from storage.errors import StorageFailure

EVENTS_TABLE = {"sqlite": "stored_events", "postgresql": "studyledger_events"}  # as the recorders name them


def snapshot(path: Path, copy: Path, where: str) -> None:
    """A consistent copy of the SQLite store at `path`, read through a read-only connection (SQLite's
    backup: a writer elsewhere is waited out, not copied half-way)."""
    try:
        source = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if EVENTS_TABLE["sqlite"] not in tables:
                raise StorageFailure(f"The file at {where} holds no ledger.")
            target = sqlite3.connect(copy)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        if "full" in str(error):
            raise StorageFailure(f"No room for a snapshot of the store at {where} in {copy.parent} ({error}); set "
                                 "TMPDIR to a folder with room for a copy of it.") from None
        raise StorageFailure(f"Cannot read the store at {where} ({error}).") from None


def holds_events(store: Store) -> bool:
    """Whether `store` holds any event; a store that does not exist (yet) holds none."""
    table = EVENTS_TABLE[store.engine]
    if store.path is not None:
        if not store.path.exists():
            return False
        connection = sqlite3.connect(f"{store.path.as_uri()}?mode=ro", uri=True)
        try:
            if connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is None:
                return False
            return connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
        finally:
            connection.close()
    from psycopg.sql import SQL, Identifier

    from storage.postgres import connect

    schema = store.settings.get("POSTGRES_SCHEMA", "public")
    with connect(store) as connection:
        found = connection.execute("SELECT to_regclass(%s)", (f'"{schema}".{table}',)).fetchone()
        if found is None or found[0] is None:
            return False
        row = connection.execute(SQL("SELECT 1 FROM {}.{} LIMIT 1").format(Identifier(schema), Identifier(table)))
        return row.fetchone() is not None


def events_in(transaction: Any, table: str) -> int:
    """How many events the events table holds as the import `transaction` (storage.eventlog) sees it."""
    transaction.cursor.execute(f"SELECT COUNT(*) AS n FROM {table}")
    return int(transaction.cursor.fetchone()["n"])
