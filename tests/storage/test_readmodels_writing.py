"""Read-model writes on SQLite take the write lock at BEGIN (storage.readmodels.writing).

A deferred transaction that reads first and writes after fails at once with "database is locked"
when another process commits in between (WAL's busy snapshot), whatever the busy timeout: a
rebuild's index step did so while claims were written. Holding the lock from BEGIN, it waits instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.config import resolve
from storage.readmodels import make_engine, writing


def test_a_read_model_write_holds_the_write_lock_from_its_begin(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    sqlite3.connect(path).execute("PRAGMA journal_mode=WAL").close()
    engine = make_engine(resolve(str(path)))
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with writing(engine) as conn:
            conn.execute(text("SELECT 1"))  # reads only, so far
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released with the commit
        other.execute("ROLLBACK")
        with engine.begin() as conn:  # the deferred default, for contrast: no lock until it writes
            conn.execute(text("SELECT 1"))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()
