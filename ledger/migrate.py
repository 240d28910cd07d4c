"""`studyledger migrate OLD NEW` (SPEC §9): a store made before personal data were encrypted,
replayed into a new, encrypted store whose first event records the old store's digest.

OLD is only read: a SQLite file through a snapshot copy (the library switches a file it opens to
WAL mode: a write), PostgreSQL through reads. Its chain is checked and its digest taken before
anything moves; only the events that digest covers move. NEW must hold no events. In one
transaction NEW receives:

1. `Migration.Migrated` (ledger/migrated.py): OLD's digest and event count, where it was (no
   password), when it was moved. Recorded at the instant of OLD's first event, so that the log stays
   in recording order (`--known-at` reads and histories rely on it).
2. Every event of OLD in log order, decoded by OLD's mapper (upcast), encoded by NEW's (people by
   pseudonym, texts sealed), with its recording instant, version and content: balances and
   memberships are the same at every (D, T). A person is enrolled at their registration or
   appointment; professionals', reviewers' and memberships' ids derive from the pseudonym in NEW,
   other ids stay. A person's id guard is left out (NEW's key store guards people); a --request-id's
   fingerprint is keyed, and its result sealed, with the key of the person it was about.
3. A guard (ledger/ids.py) for every network OLD had none for, recorded at the migration's instant.

On any failure nothing is committed, and a SQLite file (and register key) it made is removed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.migrated import Migration
from storage.migration import events_in, holds_events, snapshot

if TYPE_CHECKING:
    from ledger.app import Ledger
    from storage.config import Store

PAGE = 5000  # events written per insert


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
            snapshot(store.path, copy, store.where)
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


def digest_of(old: Ledger, where: str) -> tuple[str, int, int]:
    """OLD's digest, number of events and last position; refused if its events do not match their seals."""
    from ledger.audit import verify_chain
    from ledger.errors import LedgerError
    from ledger.integrity import digest

    report, _ = verify_chain(old)
    if not report.ok:
        raise LedgerError(f"The store at {where} does not pass its chain check, so it was not migrated: "
                          f"{report.problems[0]}.")
    return digest(report.head, report.seal), report.events_checked, report.head


# --- the new store ---------------------------------------------------------------------------


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
        old_digest, count, head = digest_of(old, old_store.where)
        new: Ledger | None = None
        try:
            new = _opener(opener)(new_store, create=True)
            moved = _move(old, new, old_store.where, old_digest, count, head)
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


def _move(old: Ledger, new: Ledger, where: str, old_digest: str, count: int, head: int) -> dict[str, Any]:
    from domain.base import acting_as, naming_people, recording_at
    from domain.values import REGISTER
    from storage.errors import Conflict

    people = new.people
    assert people is not None, "a store made with create=True is encrypted"
    first = next(old.event_log.all_events(size=1), None)
    migrated_at = new.clock()
    replay = Replay(new)
    written = 0
    with new.event_log.import_transaction() as transaction, people.writing(), naming_people(new.naming):
        with recording_at(first.timestamp if first is not None else migrated_at), acting_as(REGISTER, new.os_user):
            migration = Migration(old_digest=old_digest, old_events=count, old_store=where, migrated_at=migrated_at)
        page = [new.mapper.to_stored_event(e) for e in migration.collect_events()]
        for old_event in old.event_log.all_events(stop=head, size=PAGE):
            moved = replay.moved(old_event)
            if moved is not None:
                page.append(new.mapper.to_stored_event(moved))
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
        if events_in(transaction, new.event_log.table) != written:
            raise Conflict(f"Another process wrote events into {new.store.where} during the migration; "
                           "nothing was written. Safe to retry.")
    return {"events": count, "written": written, "people": replay.enrolled, "guards_added": len(guards),
            "person_guards_dropped": replay.skipped,
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
        self.count = self.enrolled = self.skipped = 0
        self._ids: dict[UUID, UUID] = {}  # old aggregate id → new, where they differ
        self._networks: dict[str, str] = {}  # network ids without a guard: case-folded → as registered (the first)
        self._request, self._taken, self._network = Request.Recorded, RegisteredId.Taken, Network.Registered
        # The events that create an aggregate of a person: who (to enrol), and the id NEW gives it.
        self._people: dict[type, Callable[[Any], str]] = {
            Professional.Registered: lambda e: e.professional_id, Reviewer.Appointed: lambda e: e.reviewer_id}
        self._created: dict[type, Callable[[Any], UUID]] = {
            Professional.Registered: lambda e: new.id_of(Professional, e.professional_id),
            Reviewer.Appointed: lambda e: new.id_of(Reviewer, e.reviewer_id),
            Membership.Joined: lambda e: new.id_of(Membership, e.network_id, e.professional_id),
        }

    def moved(self, old_event: Any) -> Any | None:
        """A copy of `old_event` as NEW stores it (the library's mapper copies events the same way); None
        for an event NEW has no place for: the id guard of a person (the key store guards those)."""
        cls = type(old_event)
        self.count += 1
        if cls is self._taken:
            if old_event.kind != "network":
                self.skipped += 1
                return None
            self._networks[old_event.registered_id.lower()] = ""  # guarded already
        if old_event.originator_version == 1:
            self._created_in_new(cls, old_event)
        state = dict(vars(old_event))
        state["originator_id"] = self._ids.get(old_event.originator_id, old_event.originator_id)
        if cls is self._request:
            self._rekey(state)
        copy = object.__new__(cls)
        object.__setattr__(copy, "__dict__", state)
        return copy

    def _created_in_new(self, cls: type, old_event: Any) -> None:
        from ledger.errors import LedgerError

        if cls in self._people:
            person = self._people[cls](old_event)
            variant = self.people.case_variant(person)
            if variant is not None and variant != person:
                raise LedgerError(f"The old store holds both '{variant}' and '{person}', ids that differ only in "
                                  "case, which an encrypted store cannot tell apart; nothing was written.")
            if variant is None:
                self.people.enrol(person)  # a professional who is also a reviewer is enrolled once
                self.enrolled += 1
        if cls in self._created:
            new_id = self._created[cls](old_event)  # after the enrolment: it derives from the pseudonym
            if new_id != old_event.originator_id:
                self._ids[old_event.originator_id] = new_id
        if cls is self._network:
            self._networks.setdefault(old_event.network_id.lower(), old_event.network_id)

    def _rekey(self, state: dict[str, Any]) -> None:
        """A --request-id's fingerprint keyed, and its result sealed, as `Ledger.handle` does in NEW: with the
        key of the person the command was about (ledger.people.request_owner), who acted or is named."""
        result = state.get("result") if isinstance(state.get("result"), dict) else {}
        named = [state.get("owner"), state.get("actor"), *(result.get(k) for k in ("professional", "by", "reviewer"))]
        owner = next((n for n in named if isinstance(n, str) and self.people.pseudonym(n) is not None), None)
        state["owner"] = owner
        state["fingerprint"] = self.people.keyed_for(owner, state["fingerprint"])

    def missing_guards(self) -> list[Any]:
        """An id guard for every network OLD had none for (inside recording_at and acting_as)."""
        from ledger.ids import RegisteredId

        return [RegisteredId(kind="network", registered_id=n) for n in self._networks.values() if n]
