"""An import on SQLite runs with a page cache large enough for the events' index at a million
events (storage.sqlite.IMPORT_CACHE_KIB), and gives the connection its usual cache back after,
whether the import was committed or rolled back."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from ledger.app import open_ledger
from storage.config import resolve
from storage.sqlite import IMPORT_CACHE_KIB


def cache_size(cursor: Any) -> int:
    cursor.execute("PRAGMA cache_size")
    return int(cursor.fetchone()[0])


@pytest.mark.parametrize("fails", [False, True])
def test_an_import_has_a_larger_page_cache_and_gives_it_back(tmp_path: Path, fails: bool) -> None:
    ledger = open_ledger(resolve(str(tmp_path / "ledger.db")), create=True, os_user="tester")
    recorder = ledger.recorder
    try:
        with recorder.datastore.get_connection(commit=False) as connection:
            usual, used = cache_size(connection.cursor()), connection
        assert usual != -IMPORT_CACHE_KIB
        with pytest.raises(RuntimeError) if fails else nullcontext():
            with recorder.import_transaction() as cursor:
                assert cache_size(cursor) == -IMPORT_CACHE_KIB
                if fails:
                    raise RuntimeError("a bad line")
        with recorder.datastore.get_connection(commit=False) as connection:
            assert connection is used, "the pool hands out the import's connection again"
            assert cache_size(connection.cursor()) == usual
    finally:
        ledger.close()
