"""The ledger application: one method per write command, plus the reads that need aggregates.

Each write method loads the aggregates it needs, calls their command methods (which check
the rules), and commits everything that changed in one transaction together with the
`--request-id` record, if any. The library's not-found error becomes the ledger's own.
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable, Container, Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Transcoding

from domain.base import recording_at
from domain.claim import Claim
from domain.errors import (
    AlreadyRegistered,
    NoSuchPolicyVersion,
    NotAMember,
    RequestIdReused,
    UnknownClaim,
    UnknownNetwork,
    UnknownProfessional,
    UnknownReviewer,
)
from domain.membership import DEREGISTERED, Membership
from domain.network import Network
from domain.policy import DEFAULT_TERMS, Policy, PolicyTerms
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import KINDS, format_points
from ledger.ids import take as take_id
from ledger.requests import Request, fingerprint
from storage.config import Store
from storage.eventlog import event_log, prepare

REGISTER = "register"  # the actor of the register office's own commands

A = TypeVar("A", bound=Aggregate)

# Command path → name of the Ledger method that carries it out.
WRITE_METHODS: dict[str, str] = {}


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def current_os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


def write(command: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """Register a method as the handler of a write command, with `--request-id` handling."""

    def decorate(method: Callable[..., dict]) -> Callable[..., dict]:
        WRITE_METHODS[command] = method.__name__

        @functools.wraps(method)
        def run(self: Ledger, *, request_id: str | None = None, **values: Any) -> dict:
            return self._execute(command, method, request_id, values)

        return run

    return decorate


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
        self._pending_request: tuple[str, str, str] | None = None
        self._staged: list[StoredEvent] | None = None  # set while importing
        self._cache: dict[UUID, Aggregate] = {}
        self._absent: set[UUID] = set()  # while importing: ids known not to be stored
        self._absent_unless_cached = False  # while importing into an empty store
        self._evicted: Container[UUID] = frozenset()  # then: ids this import may have written and dropped from the cache
        self._import: Any = None  # the import's own transaction (storage.eventlog.ImportTransaction)
        env = dict(store.settings)
        env["CREATE_TABLE"] = "yes" if create_tables else "no"
        super().__init__(env=env)
        self.event_log = event_log(store, self.recorder, self.mapper)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- plumbing ----------------------------------------------------------------

    def run(self, command: str, values: dict[str, Any]) -> dict:
        """Carry out the write command at `command` (a path such as "claim submit")."""
        return getattr(self, WRITE_METHODS[command])(**values)

    def _execute(self, command: str, method: Callable[..., dict], request_id: str | None, values: dict) -> dict:
        now = self.clock()
        assert now.tzinfo is not None, "the clock gives timezone-aware instants"
        with recording_at(now):
            self._now = now
            if request_id is not None:
                digest = fingerprint(command, values)
                prior = self._find(Request, Request.create_id(request_id))
                if prior is not None:
                    if prior.command == command and prior.fingerprint == digest:
                        # The first result, marked as a repeat: what it says may have changed since.
                        return {**prior.result, "replayed": {"request_id": request_id,
                                                             "first_recorded_at": prior.created_on.isoformat()}}
                    raise RequestIdReused(
                        f"request id '{request_id}' was used before for a different "
                        f"{'command' if prior.command != command else 'content'} ({prior.command})"
                    )
                self._pending_request = (request_id, command, digest)
            try:
                return method(self, **values)
            finally:
                self._pending_request = None

    @property
    def _today(self) -> date:
        return self._now.date()

    def _commit(self, result: dict, *aggregates: Aggregate, actor: str) -> dict:
        """Save every changed aggregate, and the request record, in one transaction."""
        if self._pending_request is not None:
            request_id, command, digest = self._pending_request
            aggregates += (
                Request(
                    request_id=request_id, command=command, fingerprint=digest, result=result,
                    actor=actor, os_user=self.os_user,
                ),
            )
        if self._staged is None:
            self.save(*aggregates)
        else:
            for aggregate in aggregates:
                self._staged.extend(map(self.mapper.to_stored_event, aggregate.collect_events()))
                self._cache[aggregate.id] = aggregate
                self._absent.discard(aggregate.id)
        return result

    def _find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        cached = self._cache.get(aggregate_id)
        if cached is not None:
            return cached  # type: ignore[return-value]
        if (self._absent_unless_cached and aggregate_id not in self._evicted) or aggregate_id in self._absent:
            return None
        if self._staged is not None:
            aggregate = self._read_in_import(aggregate_id)
            if aggregate is None:
                self._absent.add(aggregate_id)
                return None
            # Kept, changed or not: a network read for every claim in it was replayed again and
            # again from its whole history (importer: which aggregates the cache keeps).
            self._cache[aggregate_id] = aggregate
        else:
            try:
                aggregate = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        assert isinstance(aggregate, cls), f"{aggregate_id} is a {type(aggregate).__name__}, not a {cls.__name__}"
        return aggregate

    def _read_in_import(self, aggregate_id: UUID) -> Aggregate | None:
        """An aggregate as the import's own transaction sees it: its pages written so far included."""
        aggregate = None
        for stored in self._import.events(aggregate_id):
            aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
        return aggregate

    def _professional(self, professional_id: str) -> Professional:
        found = self._find(Professional, Professional.create_id(professional_id))
        if found is None:
            raise UnknownProfessional(f"no professional '{professional_id}' is registered")
        return found

    def _reviewer(self, reviewer_id: str) -> Reviewer:
        found = self._find(Reviewer, Reviewer.create_id(reviewer_id))
        if found is None:
            raise UnknownReviewer(f"no reviewer '{reviewer_id}' is appointed")
        return found

    def _network(self, network_id: str) -> Network:
        found = self._find(Network, Network.create_id(network_id))
        if found is None:
            raise UnknownNetwork(f"no network '{network_id}' is registered")
        return found

    def _membership(self, network_id: str, professional_id: str) -> Membership | None:
        return self._find(Membership, Membership.create_id(network_id, professional_id))

    def _policy(self) -> Policy | None:
        return self._find(Policy, Policy.create_id())

    # --- what relies on a fact (rule 8) ---------------------------------------------
    #
    # Aggregates recorded since rule 8 note what relies on them (a membership its claims, a
    # network its members, a professional their networks, a reviewer the day of their last
    # decision). Those recorded before did not: for them the log is searched as well.

    def _logged(self, *names: str) -> Iterator[Any]:
        """Every committed event of the named types (`Membership.Joined`), decoded, in log order."""
        return self.event_log.all_events(topics=[topic for name in names for topic in _TOPICS[name]])

    def _memberships_of(self, professional: Professional) -> list[Membership]:
        networks = list(professional.networks)
        if not professional.tracks_networks:
            networks += [e.network_id for e in self._logged("Membership.Joined")
                         if e.professional_id == professional.professional_id]
        found = (self._membership(n, professional.professional_id) for n in dict.fromkeys(networks))
        return [m for m in found if m is not None]

    def _memberships_in(self, network: Network) -> list[Membership]:
        members = list(network.members)
        if not network.tracks_members:
            members += [e.professional_id for e in self._logged("Membership.Joined") if e.network_id == network.network_id]
        found = (self._membership(network.network_id, p) for p in dict.fromkeys(members))
        return [m for m in found if m is not None]

    def _claims_relying_on(self, membership: Membership) -> list[Claim]:
        """The claims its member submitted or endorsed in its network, as they stand."""
        ids = list(membership.claims)
        if not membership.tracks_claims:
            who, network = membership.professional_id, membership.network_id
            ids += [str(e.originator_id) for e in self._logged("Claim.Submitted")
                    if e.professional_id == who and e.network_id == network]
            ids += [str(e.originator_id) for e in self._logged("Claim.Endorsed") if e.by == who]
        found = (self._find(Claim, UUID(i)) for i in dict.fromkeys(ids))
        return [c for c in found if c is not None and c.network_id == membership.network_id]

    def _last_decision_on(self, reviewer: Reviewer) -> date | None:
        days = [reviewer.last_decision_on] if reviewer.last_decision_on else []
        if not reviewer.tracks_decisions:
            days += [e.timestamp.date() for e in self._logged(*DECISIONS) if e.actor == reviewer.reviewer_id]
        return max(days, default=None)

    def _claim(self, ref: str) -> Claim:
        """A claim by its id, or by the --request-id it was submitted with."""
        try:
            aggregate = self._find(Aggregate, UUID(ref))
        except ValueError:
            aggregate = None
        found = aggregate if isinstance(aggregate, Claim) else None  # another aggregate's id is no claim
        if found is None:
            request = self._find(Request, Request.create_id(ref))
            if request is not None and request.command == "claim submit":
                found = self._find(Claim, UUID(request.result["claim"]))
        if found is None:
            raise UnknownClaim(f"no claim '{ref}' was submitted")
        return found

    # --- policy ------------------------------------------------------------------

    def policy_terms(self, on: date) -> PolicyTerms:
        policy = self._policy()
        return policy.in_force(on) if policy else DEFAULT_TERMS

    @write("policy adopt")
    def adopt_policy(
        self,
        effective_from: date,
        points_per_hour: Decimal | None = None,
        cap: list[tuple[str, Decimal]] | None = None,
        min_endorsements: int | None = None,
        cycle_years: int | None = None,
        norm: Decimal | None = None,
    ) -> dict:
        policy = self._policy() or Policy()
        base = policy.versions[-1] if policy.versions else DEFAULT_TERMS
        terms = base.amended(
            effective_from,
            points_per_hour=points_per_hour,
            caps=dict(cap or ()),
            min_endorsements=min_endorsements,
            cycle_years=cycle_years,
            norm=norm,
        )
        policy.adopt(terms, actor=REGISTER, os_user=self.os_user)
        return self._commit(terms_json(terms), policy, actor=REGISTER)

    @write("policy cancel")
    def cancel_policy(self, effective_from: date) -> dict:
        policy = self._policy()
        if policy is None:
            raise NoSuchPolicyVersion(f"no policy version takes effect on {effective_from}")
        policy.cancel(effective_from, today=self._today, actor=REGISTER, os_user=self.os_user)
        result = {"policy": effective_from.isoformat(), "status": "cancelled"}
        return self._commit(result, policy, actor=REGISTER)

    # --- professionals and reviewers ---------------------------------------------

    @write("professional register")
    def register_professional(self, id: str, name: str, group: str, registered_on: date | None = None) -> dict:
        if self._find(Professional, Professional.create_id(id)) is not None:
            raise AlreadyRegistered(f"a professional '{id}' is registered already")
        taken = take_id(self, "professional", id, REGISTER)  # nor one that differs only in case
        professional = Professional(
            professional_id=id, name=name, group=group, registered_on=registered_on or self._today,
            actor=REGISTER, os_user=self.os_user, tracks_networks=True,
        )
        result = {"professional": id, "status": "registered", "registered_on": professional.registered_on.isoformat()}
        return self._commit(result, professional, taken, actor=REGISTER)

    @write("professional deregister")
    def deregister_professional(self, id: str, on: date) -> dict:
        professional = self._professional(id)
        memberships = self._memberships_of(professional)
        claims = list({c.id: c for m in memberships for c in self._claims_relying_on(m)}.values())
        professional.deregister(on, claims=claims, actor=REGISTER, os_user=self.os_user)
        ended = [m for m in memberships if m.reaches_beyond(on)]
        for membership in ended:  # a member through D, no longer from D + 1
            membership.end_with_deregistration(on, actor=REGISTER, os_user=self.os_user)
        result = {"professional": id, "status": "deregistered", "on": on.isoformat(),
                  "memberships_ended": sorted(m.network_id for m in ended)}
        return self._commit(result, professional, *ended, actor=REGISTER)

    @write("professional reinstate")
    def reinstate_professional(self, id: str) -> dict:
        professional = self._professional(id)
        professional.reinstate(actor=REGISTER, os_user=self.os_user)
        restored = [m for m in self._memberships_of(professional) if m.ended_by == DEREGISTERED]
        for membership in restored:
            membership.restore(actor=REGISTER, os_user=self.os_user)
        result = {"professional": id, "status": "reinstated",
                  "memberships_restored": sorted(m.network_id for m in restored)}
        return self._commit(result, professional, *restored, actor=REGISTER)

    @write("reviewer appoint")
    def appoint_reviewer(self, id: str, name: str, on: date | None = None) -> dict:
        if self._find(Reviewer, Reviewer.create_id(id)) is not None:
            raise AlreadyRegistered(f"a reviewer '{id}' is appointed already")
        taken = take_id(self, "reviewer", id, REGISTER)  # nor one that differs only in case
        reviewer = Reviewer(reviewer_id=id, name=name, appointed_on=on or self._today, actor=REGISTER,
                            os_user=self.os_user, tracks_decisions=True)
        result = {"reviewer": id, "status": "appointed", "on": reviewer.appointed_on.isoformat()}
        return self._commit(result, reviewer, taken, actor=REGISTER)

    @write("reviewer retire")
    def retire_reviewer(self, id: str, on: date) -> dict:
        reviewer = self._reviewer(id)
        reviewer.retire(on, last_decision_on=self._last_decision_on(reviewer), actor=REGISTER, os_user=self.os_user)
        return self._commit({"reviewer": id, "status": "retired", "on": on.isoformat()}, reviewer, actor=REGISTER)

    @write("reviewer reinstate")
    def reinstate_reviewer(self, id: str) -> dict:
        reviewer = self._reviewer(id)
        reviewer.reinstate(actor=REGISTER, os_user=self.os_user)
        return self._commit({"reviewer": id, "status": "reinstated"}, reviewer, actor=REGISTER)

    # --- networks and memberships ------------------------------------------------

    @write("network register")
    def register_network(
        self, id: str, name: str, theme: list[str], group: list[str], founded_on: date | None = None
    ) -> dict:
        if self._find(Network, Network.create_id(id)) is not None:
            raise AlreadyRegistered(f"a network '{id}' is registered already")
        taken = take_id(self, "network", id, REGISTER)  # nor one that differs only in case
        network = Network(
            network_id=id, name=name, themes=sorted(set(theme)), groups=sorted(set(group)),
            founded_on=founded_on or self._today, actor=REGISTER, os_user=self.os_user, tracks_members=True,
        )
        result = {"network": id, "status": "registered", "founded_on": network.founded_on.isoformat()}
        return self._commit(result, network, taken, actor=REGISTER)

    @write("network close")
    def close_network(self, id: str, on: date) -> dict:
        network = self._network(id)
        claims = list({c.id: c for m in self._memberships_in(network) for c in self._claims_relying_on(m)}.values())
        network.close(on, claims=claims, actor=REGISTER, os_user=self.os_user)
        return self._commit({"network": id, "status": "closed", "on": on.isoformat()}, network, actor=REGISTER)

    @write("network reopen")
    def reopen_network(self, id: str) -> dict:
        network = self._network(id)
        network.reopen(actor=REGISTER, os_user=self.os_user)
        return self._commit({"network": id, "status": "reopened"}, network, actor=REGISTER)

    @write("network join")
    def join_network(self, network: str, professional: str, on: date) -> dict:
        found = self._network(network)
        member = self._professional(professional)
        found.check_may_join(on)
        membership = self._membership(network, professional)
        if membership is None:
            membership = Membership.join(network_id=network, professional=member, on=on, actor=professional,
                                         os_user=self.os_user)
        else:
            membership.rejoin(on, professional=member, actor=professional, os_user=self.os_user)
        found.note_member(professional, actor=professional, os_user=self.os_user)
        member.note_network(network, actor=professional, os_user=self.os_user)
        result = {"network": network, "professional": professional, "status": "joined", "on": on.isoformat()}
        return self._commit(result, membership, found, member, actor=professional)

    @write("network leave")
    def leave_network(self, network: str, professional: str, on: date | None = None, cancel: bool = False) -> dict:
        self._network(network)
        member = self._professional(professional)
        membership = self._membership(network, professional)
        if membership is None:
            raise NotAMember(f"{professional} is not a member of {network}")
        if cancel:
            assert on is None, "the schema allows --on or --cancel, not both"
            cancelled_on = membership.left_on
            membership.cancel_leave(professional=member, actor=REGISTER, os_user=self.os_user)
            result = {"network": network, "professional": professional, "status": "leave cancelled",
                      "on": cancelled_on.isoformat() if cancelled_on else None}
            return self._commit(result, membership, actor=REGISTER)
        assert on is not None, "the schema requires --on without --cancel"
        membership.leave(on, claims=self._claims_relying_on(membership), actor=professional, os_user=self.os_user)
        result = {"network": network, "professional": professional, "status": "left", "on": on.isoformat()}
        return self._commit(result, membership, actor=professional)

    # --- claims ------------------------------------------------------------------

    @write("claim submit")
    def submit_claim(
        self,
        professional: str,
        network: str,
        kind: str,
        on: date,
        hours: Decimal,
        description: str,
        outcome: str,
        practice_change: str | None = None,
    ) -> dict:
        membership = self._membership(network, professional)
        claim = Claim.submit(
            claimant=self._professional(professional),
            network=self._network(network),
            membership=membership,
            kind=kind,
            activity_date=on,
            hours=hours,
            description=description,
            outcome=outcome,
            practice_change=practice_change,
            today=self._today,
            os_user=self.os_user,
        )
        assert membership is not None, "rule 2 refused a claim without a membership"
        membership.note_claim(str(claim.id), actor=professional, os_user=self.os_user)
        return self._commit({"claim": str(claim.id), "status": claim.status}, claim, membership, actor=professional)

    @write("claim endorse")
    def endorse_claim(self, claim: str, by: str, statement: str) -> dict:
        found = self._claim(claim)
        membership = self._membership(found.network_id, by)
        found.endorse(
            endorser=self._professional(by),
            membership=membership,
            statement=statement,
            today=self._today,
            os_user=self.os_user,
        )
        assert membership is not None, "rule 3 refused an endorser without a membership"
        membership.note_claim(str(found.id), actor=by, os_user=self.os_user)
        result = {"claim": str(found.id), "status": found.status, "endorsements": len(found.endorsements)}
        return self._commit(result, found, membership, actor=by)

    @write("claim withdraw")
    def withdraw_claim(self, claim: str, by: str) -> dict:
        found = self._claim(claim)
        found.withdraw(by=by, os_user=self.os_user)
        return self._commit({"claim": str(found.id), "status": found.status}, found, actor=by)

    @write("claim amend")
    def amend_claim(
        self,
        claim: str,
        by: str,
        kind: str | None = None,
        on: date | None = None,
        hours: Decimal | None = None,
        description: str | None = None,
        outcome: str | None = None,
        practice_change: str | None = None,
    ) -> dict:
        found = self._claim(claim)
        claimant = self._professional(found.professional_id) if by == found.professional_id else None
        membership = self._membership(found.network_id, found.professional_id)
        found.amend(
            by=by,
            claimant=claimant,  # type: ignore[arg-type]  # None only when `by` is not the claimant: refused
            network=self._network(found.network_id),
            membership=membership,
            changes={
                "kind": kind, "activity_date": on, "hours": hours, "description": description,
                "outcome": outcome, "practice_change": practice_change,
            },
            today=self._today,
            os_user=self.os_user,
        )
        if on is not None and membership is not None:  # the claim relies on the membership on another date now
            membership.note_claim(str(found.id), actor=by, os_user=self.os_user)
        result = {"claim": str(found.id), "status": found.status, "endorsements": len(found.endorsements)}
        return self._commit(result, found, *([membership] if membership is not None else []), actor=by)

    # --- decisions ---------------------------------------------------------------

    @write("review approve")
    def approve_claim(self, claim: str, reviewer: str, rationale: str, points: Decimal | None = None) -> dict:
        found = self._claim(claim)
        decider = self._reviewer(reviewer)
        network = found.network_id
        found.approve(
            reviewer=decider,
            policy=self.policy_terms(found.activity_date),
            points_awarded=points,
            rationale=rationale,
            claimant=self._professional(found.professional_id),
            network=self._network(network),
            membership=self._membership(network, found.professional_id),
            endorsers={
                e["by"]: (self._find(Professional, Professional.create_id(e["by"])), self._membership(network, e["by"]))
                for e in found.endorsements
            },
            today=self._today,
            os_user=self.os_user,
        )
        assert found.points_awarded is not None
        result = {"claim": str(found.id), "status": found.status, "points": format_points(found.points_awarded)}
        return self._decided(result, found, decider)

    @write("review reject")
    def reject_claim(self, claim: str, reviewer: str, reason: str) -> dict:
        found = self._claim(claim)
        decider = self._reviewer(reviewer)
        found.reject(reviewer=decider, reason=reason, today=self._today, os_user=self.os_user)
        return self._decided({"claim": str(found.id), "status": found.status}, found, decider)

    @write("review return")
    def return_claim(self, claim: str, reviewer: str, reason: str) -> dict:
        found = self._claim(claim)
        decider = self._reviewer(reviewer)
        found.return_to_claimant(reviewer=decider, reason=reason, today=self._today, os_user=self.os_user)
        return self._decided({"claim": str(found.id), "status": found.status}, found, decider)

    @write("review revoke")
    def revoke_claim(self, claim: str, reviewer: str, reason: str) -> dict:
        found = self._claim(claim)
        decider = self._reviewer(reviewer)
        found.revoke(reviewer=decider, reason=reason, today=self._today, os_user=self.os_user)
        assert found.points_awarded is not None
        result = {"claim": str(found.id), "status": found.status, "points": format_points(-found.points_awarded)}
        return self._decided(result, found, decider)

    def _decided(self, result: dict, claim: Claim, reviewer: Reviewer) -> dict:
        """Commit a decision with the reviewer's day of it noted (rule 8: a retirement comes after it)."""
        reviewer.note_decision(self._today, actor=reviewer.reviewer_id, os_user=self.os_user)
        return self._commit(result, claim, reviewer, actor=reviewer.reviewer_id)

    # --- signing keys and credentials (SPEC §10; the bodies are in ledger/keys.py) ---

    @write("keys init")
    def init_keys(self, key_file: str, issuer_name: str | None = None, issuer_url: str | None = None) -> dict:
        from ledger import keys

        return keys.init_keys(self, key_file, issuer_name, issuer_url)

    @write("keys rotate")
    def rotate_keys(self, key_file: str) -> dict:
        from ledger import keys

        return keys.rotate_keys(self, key_file)

    @write("credential issue")
    def issue_credential(
        self, professional: str, key_file: str, at: date | None = None, known_at: datetime | None = None
    ) -> dict:
        from ledger import keys

        return keys.issue_credential(self, professional, key_file, at, known_at)

    # --- reads ---------------------------------------------------------------------

    def claim_id(self, ref: str) -> UUID:
        """The id of the claim `ref` names: its id, or the --request-id it was submitted with."""
        return self._claim(ref).id


DECISIONS = ("Claim.Approved", "Claim.Rejected", "Claim.Returned", "Claim.Revoked")
# Event type → the topics it is stored under (the library names events by module and class).
_TOPICS = {
    name: [f"domain.{name.split('.')[0].lower()}:{name}"]
    for name in ("Membership.Joined", "Claim.Submitted", "Claim.Endorsed", *DECISIONS)
}


def terms_json(terms: PolicyTerms) -> dict:
    return {
        "effective_from": terms.effective_from.isoformat() if terms.effective_from else None,
        "points_per_hour": format_points(terms.points_per_hour),
        "caps": {kind: format_points(terms.caps[kind]) for kind in KINDS},
        "min_endorsements": terms.min_endorsements,
        "cycle_years": terms.cycle_years,
        "norm": format_points(terms.norm),
    }


def open_ledger(store: Store, *, create: bool = False, **options: Any) -> Ledger:
    """The ledger on `store`; `create` makes the store (a new SQLite file is private: mode 0600)."""
    prepare(store, create=create)
    return Ledger(store, create_tables=create, **options)
