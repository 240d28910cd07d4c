"""Registers built once per session and copied into each test that starts from one.

A fixture that writes the same register command by command for every test spends most of the
test's time doing so. On SQLite, the first test builds it as before; its temporary folder (the
store and any file beside it, e.g. a key file) and its clock are then kept, and every later test
asking for the same register gets a copy of the folder, its clock set where the build left it,
and the build's value with the paths in it moved to its own folder. Each test still has a store
of its own. On PostgreSQL likewise when the caller names the test's folder: the first test's
schema is dumped with pg_dump (tests/support/pgcopy.py), and a later test's schema is made again
from that dump, in one transaction; the copy is checked once to dump exactly as the original, and
without pg_dump (or a faithful copy) every test builds its register.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.support.harness import Clock

T = TypeVar("T")


def moved(value: Any, old: Path, new: Path) -> Any:
    """`value` with every path under `old` now under `new` (in dictionaries, lists and tuples too)."""
    if isinstance(value, Path):
        return new / value.relative_to(old) if value.is_relative_to(old) else value
    if isinstance(value, dict):
        return {key: moved(item, old, new) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(moved(item, old, new) for item in value)
    return value


class Snapshots:
    """The registers built so far in this session: name → (its folder, its clock's time, its value)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.made: dict[str, tuple[Path, Any, Any]] = {}
        self.dumps: dict[str, tuple[str, str] | None] = {}  # name → (its dump, the schema dumped)

    def register(self, name: str, db_url: str, clock: Clock, build: Callable[[], T], folder: Path | None = None) -> T:
        """What `build()` returns, with the register it writes to the store at `db_url` (whose
        folder is the test's temporary folder, or `folder` for PostgreSQL): built, or copied from
        the first build."""
        if db_url.startswith("postgresql"):
            return build() if folder is None else self._on_postgres(name, db_url, clock, build, folder)
        here = Path(db_url).parent
        if name not in self.made:
            value = build()
            kept = self.folder / name
            shutil.copytree(here, kept)
            self.made[name] = (kept, clock.now, moved(value, here, kept))
            return value
        kept, now, value = self.made[name]
        shutil.copytree(kept, here, dirs_exist_ok=True)
        clock.now = now
        return moved(value, kept, here)

    def _on_postgres(self, name: str, db_url: str, clock: Clock, build: Callable[[], T], here: Path) -> T:
        from storage.config import resolve
        from tests.support.harness import POSTGRES_URL, drop_schema
        from tests.support.pgcopy import dump, faithful, replay

        assert POSTGRES_URL
        schema = resolve(db_url).settings["POSTGRES_SCHEMA"]
        if name not in self.dumps:
            value = build()
            sql = dump(POSTGRES_URL, schema)
            self.dumps[name] = (sql, schema) if sql is not None and faithful(POSTGRES_URL, sql, schema) else None
            kept = self.folder / f"{name}-postgresql"
            shutil.copytree(here, kept)
            self.made[f"{name}-postgresql"] = (kept, clock.now, moved(value, here, kept))
            return value
        made = self.dumps[name]
        if made is None:
            return build()
        drop_schema(POSTGRES_URL, schema)  # as its caller's `run` left it: new, initialised
        assert replay(POSTGRES_URL, made[0], made[1], schema), f"the dump of {made[1]} did not replay"
        kept, now, value = self.made[f"{name}-postgresql"]
        shutil.copytree(kept, here, dirs_exist_ok=True)
        clock.now = now
        return moved(value, kept, here)
