"""Locks that are taken at once or not at all: one catch-up or rebuild of a read model at a time.

A file lock beside the SQLite file; `pg_try_advisory_lock` on PostgreSQL (keyed by the schema and
the name, so that two stores in one database do not share a lock). A second taker gets Busy.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, func, select

from storage.config import Store
from storage.errors import Busy


@contextmanager
def exclusive(store: Store, engine: Engine, name: str, busy: str) -> Iterator[None]:
    """Hold the lock called `name`, or raise Busy(`busy`) at once."""
    if store.path is not None:
        import fcntl

        fd = os.open(f"{store.path}.{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(busy) from None
            yield
        finally:
            os.close(fd)
        return
    key = zlib.crc32(f"studyledger:{store.settings.get('POSTGRES_SCHEMA', '')}:{name}".encode())
    with engine.connect() as conn:
        if not conn.execute(select(func.pg_try_advisory_lock(key))).scalar():
            conn.rollback()
            raise Busy(busy)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(select(func.pg_advisory_unlock(key)))
            conn.commit()
