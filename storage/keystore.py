"""The key store's tables (SPEC §9): what links people to the events, kept apart from the events.

    studyledger_keyring   name → wrapped key: the key that makes links, the register's own text key
    studyledger_people    pseudonym, link (keyed hash of the register id), folded (keyed hash of it in lower
                          case: unique, so ids differing only in case are refused), wrapped data key, sealed id
    studyledger_erased    link and folded hash of each erased person: no date, no order (SQLite: WITHOUT
                          ROWID), which would point at their `Erased` event

Unlike the events these rows are deleted: erasing a person deletes their row (key, link and id)
and records their link as erased, in the transaction that inserts the `Erased` event
(`stage_erasure`, written by the recorders' `write_staged` hook). The crypto is the ledger's
(ledger/people.py); this module only keeps the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from storage.errors import Conflict

KEYRING, PEOPLE, ERASED = "studyledger_keyring", "studyledger_people", "studyledger_erased"


@dataclass
class Index:
    """The key store as read at once: rows (pseudonym, wrapped key, sealed id) by link and by folded hash,
    and the erased links and folded hashes."""

    by_link: dict[str, tuple[str, bytes, bytes]]
    by_folded: dict[str, tuple[str, bytes, bytes]]
    erased_links: set[str]
    erased_folded: set[str]


class KeyStore:
    def __init__(self, recorder: Any, marker: str, qualify: Callable[[str], str], blob: str, without_rowid: str = "",
                 share_lock: str = ""):
        self._datastore = recorder.datastore
        self._m = marker
        self._keyring, self._people, self._erased = qualify(KEYRING), qualify(PEOPLE), qualify(ERASED)
        self._blob, self._without_rowid, self._share_lock = blob, without_rowid, share_lock
        self._expected: bytes | None = None  # the wrapped link key as this process read it
        self._staged: list[tuple[str, tuple[Any, ...]]] = []
        recorder.write_staged = self.write_staged
        recorder.keystore = self

    @contextmanager
    def _cursor(self, commit: bool = False) -> Iterator[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    # --- the store's mode -----------------------------------------------------------------

    def exists(self) -> bool:
        """Whether this store has a key store (an encrypted store) at all."""
        try:
            with self._cursor() as cursor:
                cursor.execute(f"SELECT name FROM {self._keyring} WHERE name = {self._m}", ("link",))
                return cursor.fetchone() is not None
        except Exception as error:  # no such table: a store made before SPEC §9
            if "keyring" in str(error) or "no such table" in str(error) or "does not exist" in str(error):
                return False
            raise

    def create(self, keyring: dict[str, bytes]) -> None:
        """Make the tables and the keyring, in one transaction."""
        m, blob = self._m, self._blob
        with self._cursor(commit=True) as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._keyring} (name TEXT PRIMARY KEY, value {blob} NOT NULL)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._people} (pseudonym TEXT PRIMARY KEY, "
                           f"link TEXT NOT NULL UNIQUE, folded TEXT NOT NULL UNIQUE, wrapped {blob} NOT NULL, "
                           f"sealed_id {blob} NOT NULL)")
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {self._erased} (link TEXT PRIMARY KEY, folded TEXT NOT NULL)"
                           f"{self._without_rowid}")
            for name, value in keyring.items():
                cursor.execute(f"INSERT INTO {self._keyring} (name, value) VALUES ({m}, {m})", (name, value))

    # --- reads ------------------------------------------------------------------------------

    def keyring(self) -> dict[str, bytes]:
        with self._cursor() as cursor:
            cursor.execute(f"SELECT name, value FROM {self._keyring}")
            return {r["name"]: bytes(r["value"]) for r in cursor.fetchall()}

    def by_link(self, link: str) -> tuple[str, bytes, bytes] | None:
        return self._one(f"SELECT pseudonym, wrapped, sealed_id FROM {self._people} WHERE link = {self._m}", link)

    def by_pseudonym(self, pseudonym: str) -> tuple[str, bytes, bytes] | None:
        return self._one(f"SELECT pseudonym, wrapped, sealed_id FROM {self._people} WHERE pseudonym = {self._m}",
                         pseudonym)

    def everyone(self) -> list[tuple[str, bytes, bytes]]:
        with self._cursor() as cursor:
            cursor.execute(f"SELECT pseudonym, wrapped, sealed_id FROM {self._people}")
            return [(r["pseudonym"], bytes(r["wrapped"]), bytes(r["sealed_id"])) for r in cursor.fetchall()]

    def by_folded(self, folded: str) -> tuple[str, bytes, bytes] | None:
        return self._one(f"SELECT pseudonym, wrapped, sealed_id FROM {self._people} WHERE folded = {self._m}", folded)

    def index(self) -> Index:
        """The whole key store in two reads, for an import that would otherwise ask it several times a
        registration."""
        with self._cursor() as cursor:
            cursor.execute(f"SELECT pseudonym, link, folded, wrapped, sealed_id FROM {self._people}")
            people = [(r["pseudonym"], r["link"], r["folded"], bytes(r["wrapped"]), bytes(r["sealed_id"]))
                      for r in cursor.fetchall()]
            cursor.execute(f"SELECT link, folded FROM {self._erased}")
            erased = [(r["link"], r["folded"]) for r in cursor.fetchall()]
        return Index({link: (p, w, s) for p, link, _, w, s in people}, {folded: (p, w, s) for p, _, folded, w, s in people},
                     {link for link, _ in erased}, {folded for _, folded in erased})

    def erased(self, column: str, value: str) -> bool:
        """Whether an erased person had this `link` or `folded` hash."""
        assert column in ("link", "folded")
        with self._cursor() as cursor:
            cursor.execute(f"SELECT 1 AS found FROM {self._erased} WHERE {column} = {self._m}", (value,))
            return cursor.fetchone() is not None

    def erasures(self) -> int:
        """How many people were erased: a process that caches keys reads them again when this grows."""
        with self._cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) AS n FROM {self._erased}")
            return int(cursor.fetchone()["n"])

    def _one(self, sql: str, value: str) -> tuple[str, bytes, bytes] | None:
        with self._cursor() as cursor:
            cursor.execute(sql, (value,))
            r = cursor.fetchone()
            return (r["pseudonym"], bytes(r["wrapped"]), bytes(r["sealed_id"])) if r else None

    # --- writes, in the transaction that inserts the events they go with ---------------------

    def stage_person(self, pseudonym: str, link: str, folded: str, wrapped: bytes, sealed_id: bytes) -> None:
        m = self._m
        self._staged.append((f"INSERT INTO {self._people} (pseudonym, link, folded, wrapped, sealed_id) "
                             f"VALUES ({m}, {m}, {m}, {m}, {m})", (pseudonym, link, folded, wrapped, sealed_id)))

    def stage_erasure(self, pseudonym: str, link: str, folded: str) -> None:
        m = self._m
        self._staged.append((f"DELETE FROM {self._people} WHERE pseudonym = {m}", (pseudonym,)))
        self._staged.append((f"INSERT INTO {self._erased} (link, folded) VALUES ({m}, {m})", (link, folded)))

    def unstage(self) -> None:
        """Forget what was staged and not written (the events' transaction failed before it)."""
        self._staged.clear()

    def take_staged(self) -> tuple[list[tuple[str, tuple[Any, ...]]], bytes | None]:
        """What was staged, taken away, and the link key as this process read it: for a writer process
        (storage.writer), whose `give_staged` makes them its own."""
        staged, self._staged = self._staged, []
        return staged, self._expected

    def give_staged(self, staged: list[tuple[str, tuple[Any, ...]]], expected: bytes | None) -> None:
        self._staged, self._expected = staged, expected

    def expect(self, wrapped_link: bytes) -> None:
        """Keys this process wraps are wrapped with the register key that gave `wrapped_link`: if the key is
        rotated meanwhile (`rewrap`), its next enrolment is refused instead of wrapped with the old key."""
        self._expected = wrapped_link

    def write_staged(self, cursor: Any) -> None:
        """Called by the sealing recorders inside the transaction that inserts events."""
        staged, self._staged = self._staged, []
        if any(sql.startswith("INSERT INTO " + self._people) for sql, _ in staged) and self._expected is not None:
            cursor.execute(f"SELECT value FROM {self._keyring} WHERE name = {self._m}{self._share_lock}", ("link",))
            if bytes(cursor.fetchone()["value"]) != self._expected:
                raise Conflict("The register key was rotated while this command ran; nothing was written. "
                               "Run it again (with the new key).")
        # A run of one statement goes in one executemany: on PostgreSQL one round trip, not one per person.
        for sql, run in groupby(staged, key=itemgetter(0)):
            cursor.executemany(sql, [params for _, params in run])

    def rewrap(self, rewrapped: Callable[[bytes], bytes]) -> int:
        """Key rotation: every wrapped key replaced by `rewrapped(it)`, read and written in one transaction
        (an enrolment committing meanwhile is refused by its own check: see `expect`); how many people."""
        m = self._m
        with self._cursor(commit=True) as cursor:
            cursor.execute(f"SELECT name, value FROM {self._keyring}{self._share_lock.replace('SHARE', 'UPDATE')}")
            keyring = {r["name"]: rewrapped(bytes(r["value"])) for r in cursor.fetchall()}
            cursor.execute(f"SELECT pseudonym, wrapped FROM {self._people}")
            people = [(r["pseudonym"], rewrapped(bytes(r["wrapped"]))) for r in cursor.fetchall()]
            for name, value in keyring.items():
                cursor.execute(f"UPDATE {self._keyring} SET value = {m} WHERE name = {m}", (value, name))
            for pseudonym, wrapped in people:
                cursor.execute(f"UPDATE {self._people} SET wrapped = {m} WHERE pseudonym = {m}", (wrapped, pseudonym))
        self._expected = keyring["link"]
        return len(people)
