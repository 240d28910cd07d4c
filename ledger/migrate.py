"""`studyledger migrate OLD NEW` (SPEC §9): a store made before personal data were encrypted,
replayed into a new, encrypted store whose first event records the old store's digest.

OLD is only read: a SQLite file through a snapshot copy (the library switches a file it opens to
WAL mode, which writes to it), PostgreSQL through reads. Its chain is checked and its digest taken
(ledger.integrity) before anything moves, and only the events that digest covers are moved. NEW
must hold no events. In one transaction NEW then receives:

1. `Migration.Migrated`: OLD's digest and number of events, where OLD was (no password) and when the
   migration ran (`migrated_at`). Its recording instant is that of OLD's first event: the log stays
   in recording order, which `--known-at` reads and histories rely on.
2. Every event of OLD in log order, decoded by OLD's mapper (upcast) and encoded by NEW's, which names
   people by pseudonym and seals their texts. Each keeps its recording instant, version and content,
   so balances and memberships are the same at every (D, T). A person is enrolled (a pseudonym and a
   key) at their registration or appointment. Aggregates whose id derives from a person
   (professionals, reviewers, memberships, id guards) get the id NEW derives from the pseudonym; the
   others keep theirs. A --request-id's fingerprint is keyed as NEW keys it, and its first result
   sealed with the key of the person who acted.
3. The id guards (ledger/ids.py) of the registrations OLD had none for, recorded by the register at
   the migration's instant, as `init`'s backfill would: an encrypted store has one for every id.

On any failure nothing is committed, and a SQLite file (and register key) the migration made is removed.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id

if TYPE_CHECKING:
    from ledger.app import Ledger
    from storage.config import Store

PAGE = 5000  # events written per insert
EVENTS_TABLE = {"sqlite": "stored_events", "postgresql": "studyledger_events"}  # the recorders' tables


class Migration(LedgerAggregate):
    """The first event of a migrated store: which store it was moved from, and that store's digest then."""

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return natural_id("migration")

    @event("Migrated")
    def __init__(self, old_digest: str, old_events: int, old_store: str, migrated_at: datetime,
                 actor: str = ACTING, os_user: str = ACTING) -> None:
        self.old_digest = old_digest
        self.old_events = old_events
        self.old_store = old_store
        self.migrated_at = migrated_at


Opener = Callable[..., "Ledger"]


def _opener(opener: Opener | None) -> Opener:
    from ledger.app import open_ledger

    return opener or open_ledger


# --- the old store, read only ---------------------------------------------------------------


@contextmanager
def reading(store: Store, opener: Opener | None = None) -> Iterator[Ledger]:
    """The ledger of `store`, opened so that nothing is written to it (see the module's docstring)."""
    from storage.errors import StorageFailure

    folder = None
    if store.path is not None:
        if not store.path.is_file():
            raise StorageFailure(f"There is no store at {store.where}.")
        folder = Path(tempfile.mkdtemp(prefix="studyledger-migrate-"))
        copy = folder / "old.sqlite"
        try:
            _snapshot(store.path, copy, store.where)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        from storage.config import resolve

        store = resolve(str(copy))
    try:
        ledger = _opener(opener)(store)
    except BaseException:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        yield ledger
    finally:
        ledger.close()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _snapshot(path: Path, copy: Path, where: str) -> None:
    """A consistent copy of the SQLite file at `path`, read through a read-only connection."""
    from storage.errors import StorageFailure

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
        raise StorageFailure(f"Cannot read the store at {where} ({error}).") from None


def digest_of(old: Ledger, where: str) -> tuple[str, int]:
    """OLD's digest and number of events; refused if its events do not match their seals."""
    from ledger.audit import verify_chain
    from ledger.errors import LedgerError
    from ledger.integrity import digest

    report, _ = verify_chain(old)
    if not report.ok:
        raise LedgerError(f"The store at {where} does not pass its chain check, so it was not migrated: "
                          f"{report.problems[0]}.")
    return digest(report.head, report.seal), report.events_checked


# --- the new store ---------------------------------------------------------------------------


def holds_events(store: Store) -> bool:
    """Whether `store` holds any event (read without opening it through the library, which would write)."""
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


def migrate(old_store: Store, new_store: Store, opener: Opener | None = None) -> dict[str, Any]:
    """Move OLD into NEW (see the module's docstring); what was moved."""
    from ledger.errors import LedgerError

    if holds_events(new_store):
        raise LedgerError(f"The store at {new_store.where} holds events already: a store is migrated into a new, "
                          "empty one; nothing was written.")
    made_file = new_store.path is not None and not new_store.path.exists()
    with reading(old_store, opener) as old:
        if old.people is not None:
            raise LedgerError(f"The store at {old_store.where} keeps personal data encrypted already: there is "
                              "nothing to migrate; nothing was written.")
        old_digest, count = digest_of(old, old_store.where)
        new: Ledger | None = None
        try:
            new = _opener(opener)(new_store, create=True)
            moved = _move(old, new, old_store.where, old_digest, count)
        except BaseException:
            key_made = new.key_made if new is not None else None
            if new is not None:
                new.close()
            if made_file:
                assert new_store.path is not None
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{new_store.path}{suffix}").unlink(missing_ok=True)
            if key_made:
                Path(key_made).unlink(missing_ok=True)
            raise
        key_made = new.key_made
        new.close()
    return {"old": old_store.where, "new": new_store.where, "old_digest": old_digest, "key_made": key_made, **moved}


def _move(old: Ledger, new: Ledger, where: str, old_digest: str, count: int) -> dict[str, Any]:
    from domain.base import acting_as, naming_people, recording_at
    from domain.values import REGISTER
    from storage.errors import Conflict

    people = new.people
    assert people is not None, "a store made with create=True is encrypted"
    first = next(old.event_log.all_events(size=1), None)
    migrated_at = new.clock()
    head = old.event_log.chain_head()
    replay = Replay(new)
    written = 0
    with new.event_log.import_transaction() as transaction, people.writing(), naming_people(new.naming):
        with recording_at(first.timestamp if first is not None else migrated_at), acting_as(REGISTER, new.os_user):
            migration = Migration(old_digest=old_digest, old_events=count, old_store=where, migrated_at=migrated_at)
        page = [new.mapper.to_stored_event(e) for e in migration.collect_events()]
        for old_event in old.event_log.all_events(stop=head, size=PAGE):
            page.append(new.mapper.to_stored_event(replay.moved(old_event)))
            if len(page) >= PAGE:
                transaction.insert(page)
                written, page = written + len(page), []
        with recording_at(migrated_at), acting_as(REGISTER, new.os_user):
            guards = replay.missing_guards()
        page += [new.mapper.to_stored_event(e) for guard in guards for e in guard.collect_events()]
        transaction.insert(page)
        written += len(page)
        if replay.count != count:
            raise Conflict(f"The old store changed while it was read ({replay.count} events, {count} checked); "
                           "nothing was written. Safe to retry.")
        table = new.event_log.table
        transaction.cursor.execute(f"SELECT COUNT(*) AS n FROM {table}")
        if transaction.cursor.fetchone()["n"] != written:
            raise Conflict(f"Another process wrote events into {new.store.where} during the migration; "
                           "nothing was written. Safe to retry.")
    return {"events": count, "written": written, "people": replay.enrolled, "guards_added": len(guards),
            "migrated_at": migrated_at.isoformat()}


class Replay:
    """OLD's events, one by one, as NEW stores them: people enrolled, person-derived ids replaced."""

    def __init__(self, new: Ledger):
        from domain.membership import Membership
        from domain.network import Network
        from domain.professional import Professional
        from domain.reviewer import Reviewer
        from ledger.ids import RegisteredId
        from ledger.requests import Request

        self.new, self.people = new, new.people
        assert self.people is not None
        self.count = self.enrolled = 0
        self._ids: dict[UUID, UUID] = {}  # old aggregate id → new, where they differ
        self._wanted: dict[UUID, tuple[str, str]] = {}  # id guard → (kind, registered id): the first keeps it
        self._guarded: set[UUID] = set()
        self._request = Request.Recorded
        self._taken = RegisteredId.Taken
        # The events that create an aggregate whose id derives from a person: the person's register id
        # (None: nobody to enrol), the registered id's kind (for guards), and the new id.
        self._created: dict[type, Callable[[Any], tuple[str | None, str | None, UUID]]] = {
            Professional.Registered: lambda e: (e.professional_id, "professional",
                                                new.id_of(Professional, e.professional_id)),
            Reviewer.Appointed: lambda e: (e.reviewer_id, "reviewer", new.id_of(Reviewer, e.reviewer_id)),
            Network.Registered: lambda e: (None, "network", e.originator_id),
            Membership.Joined: lambda e: (None, None, new.id_of(Membership, e.network_id, e.professional_id)),
            RegisteredId.Taken: lambda e: (e.registered_id if e.kind != "network" else None, None,
                                           new.id_of(RegisteredId, e.kind, e.registered_id)),
        }

    def moved(self, old_event: Any) -> Any:
        """A copy of `old_event` as NEW stores it (the library's mapper copies events the same way)."""
        cls = type(old_event)
        self.count += 1
        state = dict(vars(old_event))
        created = self._created.get(cls) if old_event.originator_version == 1 else None
        if created is not None:
            person = created(old_event)[0]
            if person is not None and self.people.pseudonym(person) is None:
                self.people.enrol(person)  # a professional who is also a reviewer: once
                self.enrolled += 1
            _, kind, new_id = created(old_event)  # after the enrolment: the id derives from the pseudonym
            if new_id != old_event.originator_id:
                self._ids[old_event.originator_id] = new_id
            if kind is not None:
                registered = getattr(old_event, f"{kind}_id")
                self._wanted.setdefault(self.new.id_of(_guard_class(), kind, registered), (kind, registered))
            if cls is self._taken:
                self._guarded.add(new_id)
        state["originator_id"] = self._ids.get(old_event.originator_id, old_event.originator_id)
        if cls is self._request:
            state["fingerprint"] = self.new.naming.keyed(state["fingerprint"])  # as Ledger.handle keys it
            actor = state.get("actor")
            if state.get("owner") is None and isinstance(actor, str) and self.people.pseudonym(actor) is not None:
                state["owner"] = actor  # whose key seals the first result (ledger.people.request_owner)
        copy = object.__new__(cls)
        object.__setattr__(copy, "__dict__", state)
        return copy

    def missing_guards(self) -> list[Any]:
        """An id guard for every registration OLD had none for (inside recording_at and acting_as)."""
        cls = _guard_class()
        return [cls(kind=kind, registered_id=registered)
                for guard, (kind, registered) in self._wanted.items() if guard not in self._guarded]


def _guard_class() -> Any:
    from ledger.ids import RegisteredId

    return RegisteredId
