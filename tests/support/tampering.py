"""A store reached directly in SQL, bypassing the ledger: what someone with database access can do.

Shared by the tests of the chain (tests/ledger/test_integrity.py), of the rules check
(tests/ledger/test_rules_check.py) and of the audit commands (tests/cli/test_audit.py).
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from storage.seals import GENESIS, link

POSITION = re.compile(r"\bevent (?:at position )?(-?\d+)\b")
# The points of an approval in a stored state (JSON): group 1 up to the digits, group 2 the digits.
POINTS = re.compile(rb'("points":\{"_type_":"decimal_str","_data_":")(\d+)')


@dataclass(frozen=True)
class StoredRow:
    position: int
    originator_id: Any  # as the driver gives it: SQLite a 32-digit hex text, PostgreSQL a UUID
    version: Any
    topic: Any
    state: bytes


class RawStore:
    """A store reached directly in SQL, bypassing the ledger: what someone with database access can do."""

    def __init__(self, db_url: str):
        self.db_url = db_url
        self.postgres = db_url.startswith("postgresql://")
        if self.postgres:
            parts = urlsplit(db_url)
            self.schema = parse_qs(parts.query)["schema"][0]
            self.base_url = parts._replace(query="").geturl()
            self.events = f'"{self.schema}".studyledger_events'
            self.seals = f'"{self.schema}".studyledger_seals'
            self.pos = "notification_id"
        else:
            self.path = db_url
            self.events, self.seals, self.pos = "stored_events", "studyledger_seals", "rowid"

    # plumbing

    def execute(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Run one statement (written with `?` markers) in a transaction of its own; the rows it returns."""
        if self.postgres:
            import psycopg

            with psycopg.connect(self.base_url, options=f"-csearch_path={self.schema}") as conn:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                rows = cursor.fetchall() if cursor.description else []
                conn.commit()
                return [tuple(r) for r in rows]
        conn = sqlite3.connect(self.path)
        try:
            with conn:
                return conn.execute(statement, params).fetchall()
        finally:
            conn.close()

    def uuid(self, value: UUID) -> Any:
        return value if self.postgres else value.hex

    # reads

    def rows(self) -> list[StoredRow]:
        return [
            StoredRow(p, o, v, t, bytes(s) if s is not None else None)  # type: ignore[arg-type]
            for p, o, v, t, s in self.execute(
                f"SELECT {self.pos}, originator_id, originator_version, topic, state FROM {self.events} ORDER BY {self.pos}")
        ]

    def seal_rows(self) -> list[tuple[int, bytes]]:
        return [(p, bytes(s)) for p, s in self.execute(f"SELECT position, seal FROM {self.seals} ORDER BY position")]

    # changes to events

    def update(self, position: int, column: str, value: Any) -> None:
        assert column in ("originator_id", "originator_version", "topic", "state")
        self.execute(f"UPDATE {self.events} SET {column} = ? WHERE {self.pos} = ?", (value, position))

    def delete(self, *positions: int) -> None:
        for position in positions:
            self.execute(f"DELETE FROM {self.events} WHERE {self.pos} = ?", (position,))

    def insert(self, position: int, originator_id: Any, version: Any, topic: Any, state: Any) -> None:
        self.execute(
            f"INSERT INTO {self.events} ({self.pos}, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)", (position, originator_id, version, topic, state))

    def move(self, position: int, to: int) -> None:
        self.execute(f"UPDATE {self.events} SET {self.pos} = ? WHERE {self.pos} = ?", (to, position))

    def swap(self, a: int, b: int) -> None:
        spare = -(10**9)
        self.move(a, spare)
        self.move(b, a)
        self.move(spare, b)

    # changes to seals

    def update_seal(self, position: int, seal: bytes) -> None:
        self.execute(f"UPDATE {self.seals} SET seal = ? WHERE position = ?", (seal, position))

    def delete_seal(self, position: int) -> None:
        self.execute(f"DELETE FROM {self.seals} WHERE position = ?", (position,))

    def insert_seal(self, position: int, seal: bytes) -> None:
        self.execute(f"INSERT INTO {self.seals} (position, seal) VALUES (?, ?)", (position, seal))

    def reseal(self) -> None:
        """Rewrite every seal to match the events as they now are: a forger who knows the algorithm."""
        previous = GENESIS
        self.execute(f"DELETE FROM {self.seals}")
        for row in self.rows():
            previous = link(previous, row.position, row.originator_id, row.version, row.topic, row.state)
            self.insert_seal(row.position, previous)


def named_position(problem: str) -> int:
    """The position of the event a problem names."""
    found = POSITION.search(problem)
    assert found, f"the problem names no event: {problem!r}"
    return int(found.group(1))


