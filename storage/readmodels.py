"""The read models' side of the storage seam: their SQLAlchemy engine on the store's database, a
page's transaction, a snapshot for reading, and the bulk insert of a page's rows.

The read models themselves (projections/) are SQLAlchemy Core tables and expressions; what is
engine-specific or raw SQL about writing and reading them is here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import IntegrityError

from storage.config import Store

# The read models' dates go to SQLite as ISO text, as SQLAlchemy's Date type stores them (and
# reads them back); adapted by the driver, not row by row in Python (a tenth of a rebuild).
# Exact type only: datetimes are never stored there (instants are integer microseconds).
sqlite3.register_adapter(date, date.isoformat)


def make_engine(store: Store) -> Engine:
    """The read models' engine on the store's database."""
    if store.path is None:
        return create_engine(store.sqlalchemy_url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    engine = create_engine(store.sqlalchemy_url, connect_args={"timeout": 5})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        # Read models can be rebuilt from the events: they need not wait for an fsync at
        # every page (WAL with NORMAL survives a crashed process; the events' own
        # connections keep the library's setting).
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        # A page cache of 64 MB instead of 2 MB: a rebuild's inserts into large indexes
        # otherwise read the same index pages back from the file again and again.
        dbapi_connection.execute("PRAGMA cache_size=-65536")
        # Checkpoint the write-ahead log every 40 MB instead of every 4 MB: a rebuild writes
        # hundreds of MB, and each checkpoint waits for the disk.
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=10000")
        # Deleted and overwritten content is zeroed in the file (SPEC §9): a purged person's texts
        # are not left behind in free pages or cells.
        dbapi_connection.execute("PRAGMA secure_delete=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes read-model tables, their indexes or their bookkeeping.

    On SQLite it takes the write lock at BEGIN, waiting for it up to the busy timeout. A deferred
    transaction that reads first (a position, an index's or a table's `checkfirst`) and writes
    after fails at once with "database is locked" when another process committed in between (a
    busy snapshot in WAL mode), whatever the timeout: a rebuild did, while claims were written.
    """
    options = {"sqlite_begin": "IMMEDIATE"} if engine.dialect.name == "sqlite" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


@contextmanager
def page_transaction(engine: Engine) -> Iterator[Connection]:
    """The transaction that writes one page of rows with the positions they bring the read models to."""
    with writing(engine) as conn:
        if engine.dialect.name == "postgresql":
            # The page's commit need not wait for its WAL flush. A crash may lose the last pages,
            # rows and position together (they are one transaction), and they are applied again;
            # the events themselves are written with the server's own setting.
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        yield conn


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read transaction that sees one state of every read-model table (REPEATABLE READ on PostgreSQL;
    an SQLite read transaction is a snapshot already)."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn


_INSERTS: dict[tuple[str, str], tuple[str, list[str]]] = {}


def insert_many(conn: Connection, table: Table, rows: list[Any]) -> None:
    """The rows in one go, straight to the driver: an executemany on SQLite, COPY on PostgreSQL.
    `rows`: dicts by column name, or tuples in the table's column order (all of one kind).

    SQLAlchemy's per-row parameter processing cost a quarter of a rebuild; the rows here
    are plain values already. On PostgreSQL an executemany of INSERTs cost a
    rebuild more than reading and decoding every event; COPY, in the same transaction,
    takes a fraction of that.
    """
    dialect = conn.dialect
    key = (dialect.name, table.name)
    if key not in _INSERTS:
        quote = dialect.identifier_preparer.quote
        names = [c.name for c in table.columns]
        columns = f"{dialect.identifier_preparer.format_table(table)} ({', '.join(quote(n) for n in names)})"
        if dialect.name == "postgresql":
            sql = f"COPY {columns} FROM STDIN"
        else:
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            sql = f"INSERT INTO {columns} VALUES ({', '.join([marker] * len(names))})"
        _INSERTS[key] = (sql, names)
    sql, names = _INSERTS[key]
    if type(rows[0]) is tuple:  # in column order already
        params: list[Any] = rows
    else:
        params = list(map(itemgetter(*names), rows)) if len(names) > 1 else [(row[names[0]],) for row in rows]
    if dialect.name == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for values in params:
                copy.write_row(values)
        return
    conn.exec_driver_sql(sql, params)


def update_many(conn: Connection, table: Table, key: str, columns: Sequence[str], rows: list[tuple[Any, ...]],
                keep_nulls: bool = False) -> None:
    """`UPDATE table SET columns … WHERE key = …` for each row (its values in `columns` order, then its
    key), in one executemany straight to the driver, as `insert_many` inserts (SQLAlchemy's per-row
    parameter processing cost an update 16 µs). `keep_nulls`: a NULL leaves its column as it is."""
    dialect = conn.dialect
    cache = (dialect.name, table.name, key, tuple(columns), keep_nulls)
    if cache not in _UPDATES:
        quote = dialect.identifier_preparer.quote
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        sets = ", ".join(f"{quote(c)} = COALESCE({marker}, {quote(c)})" if keep_nulls else f"{quote(c)} = {marker}"
                         for c in columns)
        _UPDATES[cache] = f"UPDATE {dialect.identifier_preparer.format_table(table)} SET {sets} WHERE {quote(key)} = {marker}"
    conn.exec_driver_sql(_UPDATES[cache], rows)


_UPDATES: dict[tuple[Any, ...], str] = {}


def duplicate(error: BaseException) -> bool:
    """A unique constraint broken: SQLAlchemy's wrapper, or psycopg's own (COPY goes to the driver).
    Another integrity failure (a NOT NULL column given NULL) is no collision of rows: False."""
    cause = error.orig if isinstance(error, IntegrityError) else error
    if isinstance(cause, sqlite3.IntegrityError):
        name = getattr(cause, "sqlite_errorname", "")
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY") or (
            not name and "UNIQUE constraint failed" in str(cause))
    try:
        import psycopg
    except ImportError:  # pragma: no cover - installed with the package
        return False
    return isinstance(cause, psycopg.IntegrityError) and getattr(cause, "sqlstate", None) == "23505"
