"""The ledger application: `handle(command)` for every write command, and the aggregates they need.

`handle` carries out one command (ledger/commands/) at the clock's instant and as the
command's actor, once per `--request-id`; its handler loads the aggregates it needs through
the lookups here, calls their command methods (which check the rules), and commits everything
that changed in one transaction (ledger/unit_of_work.py) together with the `--request-id`
record, if any.
"""

from __future__ import annotations

import functools
import getpass
from contextlib import AbstractContextManager, nullcontext
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from domain.base import Naming, carrying_out, naming_people, people_naming
from domain.claim import Claim
from domain.errors import PersonErased, UnknownNetwork, UnknownProfessional, UnknownReviewer
from domain.membership import Membership
from domain.network import Network
from domain.policy import DEFAULT_TERMS, Policy, PolicyTerms
from domain.professional import Professional
from domain.reviewer import Reviewer
from ledger.people import People, open_people, request_owner
from ledger.personal import PersonalMapper
from ledger.requests import Request, replayed
from ledger.transcoder import DateAsISO, FastJSONTranscoder
from ledger.unit_of_work import UnitOfWork
from storage.config import Store
from storage.eventlog import event_log, prepare

if TYPE_CHECKING:
    from ledger.commands import Command

A = TypeVar("A", bound=Aggregate)

# The commands (and their schemas, marshmallow) are imported when the first one is handled: a read
# that opens the ledger does without them.


@functools.cache
def by_name() -> dict[str, type[Command]]:
    """Every write command by its class's name in snake case (SubmitClaim → submit_claim)."""
    from ledger.commands import all_commands

    return {"".join(f"_{c.lower()}" if c.isupper() else c for c in cls.__name__).lstrip("_"): cls
            for cls in all_commands().values()}


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


class Ledger(Application):
    name = "studyledger"

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime] = utc_now,
        os_user: str | None = None,
        create_tables: bool = False,
    ) -> None:
        self.store = store
        self.clock = clock
        self.os_user = os_user or current_os_user()
        self._now = clock()
        self._pending_request: tuple[Command, str] | None = None  # handling one with a --request-id: it, its digest
        env = dict(store.settings)
        env["CREATE_TABLE"] = "yes" if create_tables else "no"
        super().__init__(env=env)
        self.event_log = event_log(store, self)
        self.key_made: str | None = None  # where `create` wrote a new register key, if it did
        self.people = self._open_people(create_tables)
        self.naming = self.people or Naming()
        self.unit_of_work = UnitOfWork(self.repository.get, self.save, self.mapper)

    def _open_people(self, create: bool) -> People | None:
        people, self.key_made = open_people(self.event_log.keystore(), self.store,
                                            create=create and self.event_log.head() == 0)
        if people is not None:
            self.mapper.people = people
        return people

    def _writing(self) -> AbstractContextManager[None]:
        """Key-store rows a command stages are written with its events, or forgotten with its failure."""
        return self.people.writing() if self.people is not None else nullcontext()

    def enrol(self, register_id: str) -> None:
        """Give a person being registered a pseudonym and key (an encrypted store; once per person)."""
        if self.people is not None and self.people.pseudonym(register_id) is None:
            self.check_not_erased(register_id)
            self.people.enrol(register_id)

    def construct_mapper(self) -> PersonalMapper:
        return PersonalMapper(self.construct_transcoder())

    def construct_transcoder(self) -> FastJSONTranscoder:
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- plumbing ----------------------------------------------------------------

    def handle(self, command: Command) -> dict:
        """Carry out a write command, at the clock's instant and as its actor; once per --request-id."""
        from ledger.commands import carry_out

        now = self.clock()
        assert now.tzinfo is not None, "the clock gives timezone-aware instants"
        with carrying_out(now, command.actor, self.os_user, self.naming), self._writing():
            self._now = now
            if command.request_id is None:
                return carry_out(command, self)
            digest = command.fingerprint
            repeat = replayed(self, command, lambda: self._keyed(request_owner(self.people, command), digest))
            if repeat is not None:
                return repeat
            self._pending_request = (command, digest)
            try:
                return carry_out(command, self)
            finally:
                self._pending_request = None

    def run(self, path: str, values: dict[str, Any]) -> dict:
        """Carry out the write command at `path` (such as "claim submit") with these typed values."""
        from ledger.commands import command_at

        return self.handle(command_at(path)(**values))

    def __getattr__(self, name: str) -> Any:
        """A write command by name, for scripts and tests: `ledger.submit_claim(**values)` is
        `ledger.handle(SubmitClaim(**values))`."""
        cls = by_name().get(name) if not name.startswith("_") else None
        if cls is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return lambda **values: self.handle(cls(**values))

    @property
    def now(self) -> datetime:
        """The instant of the command being carried out."""
        return self._now

    @property
    def today(self) -> date:
        return self._now.date()

    def commit(self, result: dict, *aggregates: Aggregate) -> dict:
        """Save every changed aggregate, and the request record, in one transaction; returns `result`."""
        if self._pending_request is not None:
            command, digest = self._pending_request
            assert command.request_id is not None
            owner = request_owner(self.people, command)
            aggregates += (Request(request_id=command.request_id, command=command.path,
                                   fingerprint=self._keyed(owner, digest), result=result, owner=owner),)
        self.unit_of_work.save(*aggregates)
        return result

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate of that id as it stands (None if there is none), through the unit of work."""
        aggregate = self.unit_of_work.get(aggregate_id)
        if aggregate is None:
            return None
        assert isinstance(aggregate, cls), f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
        return aggregate

    def _keyed(self, owner: str | None, digest: str) -> str:
        """A --request-id's fingerprint as stored: in an encrypted store keyed with the key of the person the
        command is about (`owner`: ledger.people.request_owner), so that after their erasure nobody can tell
        which requests were theirs."""
        if self.people is None:
            return digest
        return self.people.keyed_for(owner, digest)

    def id_of(self, cls: type[Aggregate], *parts: str) -> UUID:
        """The aggregate id of `cls` for these register-given ids (a person's through their pseudonym)."""
        if people_naming() is self.naming:  # inside a command (`handle`): twice a command, on average
            return cls.create_id(*parts)  # type: ignore[attr-defined, no-any-return]
        with naming_people(self.naming):
            return cls.create_id(*parts)  # type: ignore[attr-defined, no-any-return]

    def professional(self, professional_id: str) -> Professional:
        found = self.find(Professional, self.id_of(Professional, professional_id))
        if found is None:
            self.check_not_erased(professional_id)
            raise UnknownProfessional(f"no professional '{professional_id}' is registered")
        return found

    def reviewer(self, reviewer_id: str) -> Reviewer:
        found = self.find(Reviewer, self.id_of(Reviewer, reviewer_id))
        if found is None:
            self.check_not_erased(reviewer_id)
            raise UnknownReviewer(f"no reviewer '{reviewer_id}' is appointed")
        return found

    def check_not_erased(self, register_id: str) -> None:
        """PersonErased if the person with this register id was erased (SPEC §9)."""
        if self.people is not None and self.people.was_erased(register_id):
            raise PersonErased(f"{register_id} was erased: the register keeps no personal data of them, "
                               "and their figures are no longer theirs to show")

    def network(self, network_id: str) -> Network:
        found = self.find(Network, Network.create_id(network_id))
        if found is None:
            raise UnknownNetwork(f"no network '{network_id}' is registered")
        return found

    def membership(self, network_id: str, professional_id: str) -> Membership | None:
        return self.find(Membership, self.id_of(Membership, network_id, professional_id))

    def policy(self) -> Policy | None:
        return self.find(Policy, Policy.create_id())

    # --- what relies on a fact (rule 8) ---------------------------------------------
    #
    # Aggregates recorded since rule 8 note what relies on them (a membership its claims, a
    # network its members, a professional their networks, a reviewer the day of their last
    # decision). Those recorded before did not: for them the log is searched as well.

    def _logged(self, *types: type) -> Iterator[Any]:
        """Every committed event of these types (`Membership.Joined`), decoded, in log order."""
        return self.event_log.all_events(topics=[get_topic(t) for t in types])

    def memberships_of(self, professional: Professional) -> list[Membership]:
        networks = list(professional.networks)
        if not professional.tracks_networks:
            networks += [e.network_id for e in self._logged(Membership.Joined)
                         if e.professional_id == professional.professional_id]
        found = (self.membership(n, professional.professional_id) for n in dict.fromkeys(networks))
        return [m for m in found if m is not None]

    def memberships_in(self, network: Network) -> list[Membership]:
        members = list(network.members)
        if not network.tracks_members:
            members += [e.professional_id for e in self._logged(Membership.Joined) if e.network_id == network.network_id]
        found = (self.membership(network.network_id, p) for p in dict.fromkeys(members))
        return [m for m in found if m is not None]

    def claims_relying_on(self, membership: Membership) -> list[Claim]:
        """The claims its member submitted or endorsed in its network, as they stand."""
        ids = list(membership.claims)
        if not membership.tracks_claims:
            who, network = membership.professional_id, membership.network_id
            ids += [str(e.originator_id) for e in self._logged(Claim.Submitted)
                    if e.professional_id == who and e.network_id == network]
            ids += [str(e.originator_id) for e in self._logged(Claim.Endorsed) if e.by == who]
        found = (self.find(Claim, UUID(i)) for i in dict.fromkeys(ids))
        return [c for c in found if c is not None and c.network_id == membership.network_id]

    def last_decision_on(self, reviewer: Reviewer) -> date | None:
        days = [reviewer.last_decision_on] if reviewer.last_decision_on else []
        if not reviewer.tracks_decisions:
            days += [e.timestamp.date() for e in self._logged(*DECISIONS) if e.actor == reviewer.reviewer_id]
        return max(days, default=None)

    def policy_terms(self, on: date) -> PolicyTerms:
        policy = self.policy()
        return policy.in_force(on) if policy else DEFAULT_TERMS

    # --- reads ---------------------------------------------------------------------

    def claim_id(self, ref: str) -> UUID:
        """The id of the claim `ref` names: its id, or the --request-id it was submitted with."""
        from ledger.commands.claims import claim_named

        return claim_named(self, ref).id


DECISIONS = (Claim.Approved, Claim.Rejected, Claim.Returned, Claim.Revoked)


def open_ledger(store: Store, *, create: bool = False, **options: Any) -> Ledger:
    """The ledger on `store`; `create` makes the store (a new SQLite file is private: mode 0600)."""
    prepare(store, create=create)
    return Ledger(store, create_tables=create, **options)
