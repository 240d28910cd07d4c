"""What `init` makes of a new PostgreSQL schema, made again under another name without `init`.

`init` on PostgreSQL creates the store's tables (events, seals, key store, people, the read models'
bookkeeping and first generation) statement by statement, each in a round trip of its own: most
of a second of the server's time for each of the ~600 PostgreSQL tests that start from an
initialised store. The session runs `init` once, into a schema of its own, and dumps that schema
with pg_dump (its tables, type, function and sequence, and the few rows `init` writes); a test's
store is then that dump replayed under the test's schema name, in one transaction.

As on SQLite (tests/conftest.py's `initialised_copy`), a copy is what `init` made, so it is
checked once: a replayed copy must dump exactly as the original. Without pg_dump, or if the check
fails, there is no copy and every test runs `init` as before. A copy is only made for the register
key `init` used (a test that names another key gets its own `init`), and never over an existing
schema.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

from storage.config import resolve
from tests.support.harness import drop_schema


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


def register_key(url: str) -> bytes | None:
    """The register key `init` would use on a new store at `url` now (None: it would make one)."""
    from ledger.register_key import read_register_key
    from storage.errors import StorageFailure

    try:
        return read_register_key(resolve(url))
    except StorageFailure:
        return None


def dump(url: str, schema: str) -> str | None:
    """The schema as SQL (structure and rows), without pg_dump's comments and meta-commands."""
    try:
        done = subprocess.run(["pg_dump", "--inserts", "--no-owner", "--no-privileges", "--schema", schema,
                               "--dbname", url], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or f"CREATE SCHEMA {schema};" not in done.stdout:
        return None
    return "\n".join(line for line in done.stdout.splitlines()
                     if line.strip() and not line.startswith(("--", "\\")))


class InitialisedSchema:
    """The dump of one schema as `init` left it; `copy_to` makes it again under another name."""

    def __init__(self, url: str, sql: str, name: str, key: bytes):
        self.url, self.sql, self.name, self.key = url, sql, name, key

    @classmethod
    def make(cls, url: str, init: Callable[[str], Any]) -> InitialisedSchema | None:
        """`init(a store's URL)` run once into a schema of its own, dumped, and a copy checked."""
        key = register_key(with_schema(url, "t_key_probe"))
        if shutil.which("pg_dump") is None or key is None:
            return None
        original = "t_init_" + uuid.uuid4().hex[:12]
        try:
            outcome = init(with_schema(url, original))
            assert outcome.exit_code == 0, outcome.stderr
            sql = dump(url, original)
            return cls(url, sql, original, key) if sql is not None and faithful(url, sql, original) else None
        finally:
            drop_schema(url, original)

    def copy_to(self, schema: str) -> bool:
        """Make `schema` (which must not exist) what `init` made; False if it could not be."""
        if register_key(with_schema(self.url, schema)) != self.key:
            return False
        return replay(self.url, self.sql, self.name, schema)


def replay(url: str, sql: str, name: str, schema: str) -> bool:
    """`dump(url, name)`'s SQL run in one transaction with `schema` for `name`: False if it failed
    (e.g. `schema` exists), and then nothing was made."""
    import psycopg

    try:
        with psycopg.connect(url) as connection:
            connection.execute(sql.replace(name, schema).encode())
    except psycopg.Error:
        return False
    return True


def faithful(url: str, sql: str, name: str) -> bool:
    """Whether `sql` (the dump of schema `name`) replayed under another name dumps exactly as `name` did."""
    probe = "t_copy_" + uuid.uuid4().hex[:12]
    try:
        return replay(url, sql, name, probe) and dump(url, probe) == sql.replace(name, probe)
    finally:
        drop_schema(url, probe)
