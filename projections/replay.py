"""A plain fold over the event log: postings, memberships and networks, answered at any date.

The reference every read model must agree with. It reads decoded domain events in log
order and keeps, for each posting and each membership change, both times: the activity
(valid) date and the recording instant. Queries filter on both (SPEC §2):

- a posting counts for `--at D --known-at T` when its activity date ≤ D and it was recorded ≤ T;
- a membership covers D by the joins and leaves recorded ≤ T.

Its handlers are keyed by domain event class (`functools.singledispatchmethod`), as the read
models' are; its own code folds the events, so a fault in the read models' fast decoder or
handlers shows up as a difference (`projections verify`). A balance is added up and shown by
`domain.balance`, the one fold every path shares.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from domain.balance import ZERO, Tally, statement
from domain.claim import Claim
from domain.membership import Membership
from domain.network import Network
from domain.policy import Policy, PolicyTerms, in_force, versions_known
from domain.professional import Professional
from domain.values import cycle_containing
from ledger.requests import Request

@dataclass(frozen=True)
class Posting:
    professional: str
    claim: UUID
    network: str
    kind: str
    activity_date: date
    recorded_at: datetime
    points: Decimal  # credit (approval) > 0, debit (revocation) < 0


@dataclass(frozen=True)
class MembershipChange:
    network: str
    professional: str
    on: date
    joined: bool
    recorded_at: datetime


@dataclass
class NetworkInfo:
    name: str
    themes: list[str]
    groups: list[str]
    founded_on: date
    closed_on: date | None = None
    recorded_at: datetime | None = None


@dataclass
class Replay:
    professionals: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, NetworkInfo] = field(default_factory=dict)
    changes: list[MembershipChange] = field(default_factory=list)
    postings: list[Posting] = field(default_factory=list)
    # (recorded at, effective from, the terms adopted, or None: that version cancelled)
    policies: list[tuple[datetime, date, PolicyTerms | None]] = field(default_factory=list)
    claims: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    endorsements: list[tuple[UUID, str, str, datetime]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    requests: dict[UUID, str] = field(default_factory=dict)  # claim → the --request-id it was submitted with
    # How a read model's stored text reads (storage.eventlog.EventLog.open_text): they keep texts sealed.
    open_text: Callable[[str | None], str | None] = field(default=lambda text: text)

    @classmethod
    def of(cls, events: Iterable[Any]) -> Replay:
        replay = cls()
        apply = replay.apply
        for event in events:
            apply(event)
        return replay

    # --- handlers, by event class ------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any) -> None:
        """An event of a type no read model reads: nothing to do."""

    @apply.register(Professional.Registered)
    def _registered(self, e: Any) -> None:
        self.professionals[e.professional_id] = {
            "name": e.name, "group": e.group, "registered_on": e.registered_on, "recorded_at": e.timestamp,
        }

    @apply.register(Network.Registered)
    def _network(self, e: Any) -> None:
        self.networks[e.network_id] = NetworkInfo(e.name, list(e.themes), list(e.groups), e.founded_on, None, e.timestamp)

    @apply.register(Network.Closed)
    def _closed(self, e: Any) -> None:
        # Closing does not end memberships; it stops new claims (rule 2).
        self.networks[e.network_id].closed_on = e.on

    @apply.register(Network.Reopened)
    def _reopened(self, e: Any) -> None:
        self.networks[e.network_id].closed_on = None

    @apply.register(Membership.Joined)
    @apply.register(Membership.Rejoined)
    @apply.register(Membership.LeaveCancelled)  # a member again from the day that was left
    def _joined(self, e: Any) -> None:
        self.changes.append(MembershipChange(e.network_id, e.professional_id, e.on, True, e.timestamp))

    @apply.register(Membership.Left)
    @apply.register(Membership.Ended)  # a deregistration: no member from the day after it
    def _left(self, e: Any) -> None:
        self.changes.append(MembershipChange(e.network_id, e.professional_id, e.on, False, e.timestamp))

    @apply.register(Membership.Restored)
    def _restored(self, e: Any) -> None:
        for on, joined in e.changes:
            self.changes.append(MembershipChange(e.network_id, e.professional_id, on, joined, e.timestamp))

    @apply.register(Claim.Submitted)
    def _submitted(self, e: Any) -> None:
        self.claims[e.originator_id] = {
            "professional": e.professional_id, "network": e.network_id, "kind": e.kind,
            "activity_date": e.activity_date, "hours": e.hours, "description": e.description, "outcome": e.outcome,
            "practice_change": e.practice_change, "status": "submitted", "points": None, "submitted_at": e.timestamp,
        }

    @apply.register(Claim.Endorsed)
    def _endorsed(self, e: Any) -> None:
        self.endorsements.append((e.originator_id, e.by, e.statement, e.timestamp))

    @apply.register(Claim.Amended)
    def _amended(self, e: Any) -> None:
        self.claims[e.originator_id].update(e.changes, status="submitted")
        if e.endorsements_cleared:
            self.endorsements = [x for x in self.endorsements if x[0] != e.originator_id]
        self._decide(e, "amended", changes=sorted(e.changes))

    @apply.register(Claim.Withdrawn)
    def _withdrawn(self, e: Any) -> None:
        self._decide(e, "withdrawn")

    @apply.register(Claim.Rejected)
    def _rejected(self, e: Any) -> None:
        self._decide(e, "rejected", text=e.reason)

    @apply.register(Claim.Returned)
    def _returned(self, e: Any) -> None:
        self._decide(e, "returned", text=e.reason)

    @apply.register(Claim.Approved)
    def _approved(self, e: Any) -> None:
        self._post(e, e.points)
        self.claims[e.originator_id]["points"] = e.points
        self._decide(e, "approved", text=e.rationale, points=e.points)

    @apply.register(Claim.Revoked)
    def _revoked(self, e: Any) -> None:
        self._post(e, -e.points)
        self._decide(e, "revoked", text=e.reason, points=-e.points)

    def _decide(self, e: Any, decision: str, **details: Any) -> None:
        if decision != "amended":
            self.claims[e.originator_id]["status"] = decision
        self.decisions.append({"claim": e.originator_id, "decision": decision, "by": e.actor,
                               "recorded_at": e.timestamp, **details})

    @apply.register(Request.Recorded)
    def _request(self, e: Any) -> None:
        if e.command == "claim submit" and e.result is not None:  # None: sealed by an erased claimant
            self.requests[UUID(e.result["claim"])] = e.request_id

    @apply.register(Policy.Adopted)
    def _adopted(self, e: Any) -> None:
        self.policies.append((e.timestamp, e.effective_from, PolicyTerms.from_state(e.effective_from, e.terms)))

    @apply.register(Policy.Cancelled)
    def _cancelled(self, e: Any) -> None:
        self.policies.append((e.timestamp, e.effective_from, None))

    def _post(self, e: Any, amount: Decimal) -> None:
        self.postings.append(
            Posting(e.professional_id, e.originator_id, e.network_id, e.kind, e.activity_date, e.timestamp, amount)
        )

    # --- queries -----------------------------------------------------------------

    def policy(self, on: date, known_at: datetime) -> PolicyTerms:
        return in_force(versions_known([(day, terms) for at, day, terms in self.policies if at <= known_at]), on)

    def balance(self, professional: str, at: date, known_at: datetime) -> dict[str, Any]:
        registration = self.professionals.get(professional)
        recorded = registration is not None and registration["recorded_at"] <= known_at
        cycle, norm = None, ZERO
        if recorded:
            terms = self.policy(at, known_at)
            cycle, norm = cycle_containing(registration["registered_on"], at, terms.cycle_years), terms.norm
        tally = Tally()
        for p in self.postings:
            if p.professional == professional and p.activity_date <= at and p.recorded_at <= known_at:
                tally.add(p.kind, p.network, p.points, p.points if cycle and p.activity_date >= cycle[0] else ZERO)
        themes = {key: network.themes for key, network in self.networks.items()}
        return statement(professional, at, known_at, tally, themes, recorded=recorded, cycle=cycle, norm=norm)

    def members(self, network: str, at: date, known_at: datetime) -> list[str]:
        """Professionals whose membership covered `at`, by the changes recorded by `known_at`."""
        state: dict[str, list[MembershipChange]] = defaultdict(list)
        for change in self.changes:
            if change.network == network and change.recorded_at <= known_at:
                state[change.professional].append(change)
        return sorted(p for p, changes in state.items() if _covers(changes, at))


def _covers(changes: list[MembershipChange], day: date) -> bool:
    """Joined on or before `day` and not left on or before it.

    A membership's changes are recorded in date order (the aggregate refuses others), so
    the last change dated on or before `day` decides.
    """
    relevant = [c for c in changes if c.on <= day]
    return bool(relevant) and relevant[-1].joined

