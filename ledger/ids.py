"""Register-given ids that differ only in case: refused when registering (rule 1).

Ids are case-sensitive as given (`Q-1` is looked up as `Q-1`), but two registered ids of the
same kind — professional, reviewer, network — may not differ only in case: `q-1` reviewing
`Q-1`'s claim would read as separation of duties kept while a reader sees one person.

A `RegisteredId` aggregate, whose id derives from the kind and the lower-cased id, is saved in
the same transaction as the registration. Two processes registering `q-1` and `Q-1` at the
same moment both create it: the store lets exactly one insert win (the other exits 3, and
refused on retry).

Stores written before this have registrations without one. `backfill` (run by `studyledger
init`, idempotent) records one for every registration that lacks it, the first registered of
a case-folded id first; until then such an old id is not protected against a case variant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import AlreadyRegistered
from domain.values import REGISTER
from ledger.people import ERASED

if TYPE_CHECKING:
    from ledger.app import Ledger

KINDS = {  # kind → (the noun for messages, the verb, the registration event, its id attribute)
    "professional": ("professional", "registered", "Professional.Registered", "professional_id"),
    "reviewer": ("reviewer", "appointed", "Reviewer.Appointed", "reviewer_id"),
    "network": ("network", "registered", "Network.Registered", "network_id"),
}


class RegisteredId(LedgerAggregate):
    @staticmethod
    def create_id(kind: str, registered_id: str, **_: Any) -> UUID:
        return natural_id("registered-id", kind, registered_id.lower())

    @event("Taken")
    def __init__(self, kind: str, registered_id: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.kind = kind
        self.registered_id = registered_id


def take(ledger: Ledger, kind: str, registered_id: str) -> RegisteredId | None:
    """The record that `registered_id` is taken, to save with its registration; AlreadyRegistered if an
    id of the same kind that differs only in case was registered (the exact id is the caller's check).

    In an encrypted store a person's id is guarded by the key store instead (its `folded` hash is
    unique), and there is no record: an aggregate found by a hash of the register id, saved with the
    registration, would point at an erased person's events for anyone holding the register's key."""
    noun, verb, _, _ = KINDS[kind]
    if ledger.people is not None and kind != "network":
        ledger.check_not_erased(registered_id)
        variant = ledger.people.case_variant(registered_id)
        if variant == ERASED:
            raise AlreadyRegistered(f"an id differing from '{registered_id}' only in case belonged to a person who "
                                    "was erased, and is not given out again")
        if variant is not None and variant != registered_id:
            raise AlreadyRegistered(f"a {noun} '{variant}' is {verb} already, and ids may not differ "
                                    f"only in case ('{registered_id}')")
        return None
    found = ledger.find(RegisteredId, RegisteredId.create_id(kind, registered_id))
    if found is not None:
        raise AlreadyRegistered(f"a {noun} '{found.registered_id}' is {verb} already, and ids may not differ "
                                f"only in case ('{registered_id}')")
    return RegisteredId(kind=kind, registered_id=registered_id)


def backfill(ledger: Ledger) -> int:
    """Record a RegisteredId for every registration made before they existed; returns how many were saved.

    Reads only the registration events and the RegisteredId events, in SQL by topic: run on every
    `init`, it must stay cheap on a large store that needs nothing."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.utils import get_topic

    from domain.base import acting_as, recording_at
    from domain.network import Network
    from domain.professional import Professional
    from domain.reviewer import Reviewer

    if ledger.people is not None:
        return 0  # an encrypted store was made with guards for every id
    kinds = {get_topic(Professional.Registered): "professional", get_topic(Reviewer.Appointed): "reviewer",
             get_topic(Network.Registered): "network"}
    taken_topic = get_topic(RegisteredId.Taken)
    taken: set[UUID] = set()
    wanted: dict[UUID, tuple[str, str]] = {}
    for originator_id, version, topic, state in ledger.event_log.stored([*kinds, taken_topic]):
        if topic == taken_topic:
            taken.add(originator_id)
            continue
        kind = kinds[topic]
        stored = ledger.mapper.to_domain_event(StoredEvent(originator_id=originator_id, originator_version=version,
                                                           topic=topic, state=state))
        registered_id = getattr(stored, KINDS[kind][3])
        wanted.setdefault(RegisteredId.create_id(kind, registered_id), (kind, registered_id))  # the first keeps it
    with acting_as(REGISTER, ledger.os_user):
        missing = [RegisteredId(kind=kind, registered_id=registered_id)
                   for key, (kind, registered_id) in wanted.items() if key not in taken]
    if missing:
        with recording_at(ledger.clock()):
            ledger.save(*missing)
    return len(missing)

