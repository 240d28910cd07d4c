"""A plain fold over the event log: postings, memberships and networks, answered at any date.

The reference every read model must agree with. It reads decoded domain events in log
order and keeps, for each posting and each membership change, both times: the activity
(valid) date and the recording instant. Queries filter on both (SPEC §2):

- a posting counts for `--at D --known-at T` when its activity date ≤ D and it was recorded ≤ T;
- a membership covers D by the joins and leaves recorded ≤ T.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.policy import PolicyTerms, in_force, versions_known
from domain.values import cycle_containing, format_points

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

    @classmethod
    def of(cls, events: Iterable[Any]) -> Replay:
        replay = cls()
        for event in events:
            replay.apply(event)
        return replay

    def apply(self, event: Any) -> None:
        handler = getattr(self, "_" + type(event).__qualname__.replace(".", "_"), None)
        if handler is not None:
            handler(event)

    # --- handlers, by event class ------------------------------------------------

    def _Professional_Registered(self, e: Any) -> None:
        self.professionals[e.professional_id] = {
            "name": e.name, "group": e.group, "registered_on": e.registered_on, "recorded_at": e.timestamp,
        }

    def _Network_Registered(self, e: Any) -> None:
        self.networks[e.network_id] = NetworkInfo(e.name, list(e.themes), list(e.groups), e.founded_on, None, e.timestamp)

    def _Network_Closed(self, e: Any) -> None:
        # Closing does not end memberships; it stops new claims (rule 2).
        self.networks[e.network_id].closed_on = e.on

    def _Network_Reopened(self, e: Any) -> None:
        self.networks[e.network_id].closed_on = None

    def _Membership_Joined(self, e: Any) -> None:
        self.changes.append(MembershipChange(e.network_id, e.professional_id, e.on, True, e.timestamp))

    _Membership_Rejoined = _Membership_Joined

    def _Membership_Left(self, e: Any) -> None:
        self.changes.append(MembershipChange(e.network_id, e.professional_id, e.on, False, e.timestamp))

    _Membership_Ended = _Membership_Left  # a deregistration: no member from the day after it
    _Membership_LeaveCancelled = _Membership_Joined  # a member again from the day that was left

    def _Membership_Restored(self, e: Any) -> None:
        for on, joined in e.changes:
            self.changes.append(MembershipChange(e.network_id, e.professional_id, on, joined, e.timestamp))

    def _Claim_Submitted(self, e: Any) -> None:
        self.claims[e.originator_id] = {
            "professional": e.professional_id, "network": e.network_id, "kind": e.kind,
            "activity_date": e.activity_date, "hours": e.hours, "description": e.description, "outcome": e.outcome,
            "practice_change": e.practice_change, "status": "submitted", "points": None, "submitted_at": e.timestamp,
        }

    def _Claim_Endorsed(self, e: Any) -> None:
        self.endorsements.append((e.originator_id, e.by, e.statement, e.timestamp))

    def _Claim_Amended(self, e: Any) -> None:
        self.claims[e.originator_id].update(e.changes, status="submitted")
        if e.endorsements_cleared:
            self.endorsements = [x for x in self.endorsements if x[0] != e.originator_id]
        self._decide(e, "amended", changes=sorted(e.changes))

    def _Claim_Withdrawn(self, e: Any) -> None:
        self._decide(e, "withdrawn")

    def _Claim_Rejected(self, e: Any) -> None:
        self._decide(e, "rejected", text=e.reason)

    def _Claim_Returned(self, e: Any) -> None:
        self._decide(e, "returned", text=e.reason)

    def _Claim_Approved(self, e: Any) -> None:
        self._post(e, e.points)
        self.claims[e.originator_id]["points"] = e.points
        self._decide(e, "approved", text=e.rationale, points=e.points)

    def _Claim_Revoked(self, e: Any) -> None:
        self._post(e, -e.points)
        self._decide(e, "revoked", text=e.reason, points=-e.points)

    def _decide(self, e: Any, decision: str, **details: Any) -> None:
        if decision != "amended":
            self.claims[e.originator_id]["status"] = decision
        self.decisions.append({"claim": e.originator_id, "decision": decision, "by": e.actor,
                               "recorded_at": e.timestamp, **details})

    def _Request_Recorded(self, e: Any) -> None:
        if e.command == "claim submit":
            self.requests[UUID(e.result["claim"])] = e.request_id

    def _Policy_Adopted(self, e: Any) -> None:
        self.policies.append((e.timestamp, e.effective_from, PolicyTerms.from_state(e.effective_from, e.terms)))

    def _Policy_Cancelled(self, e: Any) -> None:
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
        counted = [
            p for p in self.postings
            if p.professional == professional and p.activity_date <= at and p.recorded_at <= known_at
        ]
        by_kind: dict[str, Decimal] = defaultdict(Decimal)
        by_network: dict[str, Decimal] = defaultdict(Decimal)
        by_theme: dict[str, Decimal] = defaultdict(Decimal)
        for p in counted:
            by_kind[p.kind] += p.points
            by_network[p.network] += p.points
            for theme in self.networks[p.network].themes:
                by_theme[theme] += p.points
        result: dict[str, Any] = {
            "professional": professional,
            "at": at.isoformat(),
            "known_at": known_at.isoformat(),
            "total": format_points(sum((p.points for p in counted), Decimal(0))),
            "recorded": registration is not None and registration["recorded_at"] <= known_at,
            "cycle": None,
            "by_kind": _text(by_kind),
            "by_network": _text(by_network),
            "by_theme": _text(by_theme),
        }
        if registration is not None and registration["recorded_at"] <= known_at:
            terms = self.policy(at, known_at)
            start, end = cycle_containing(registration["registered_on"], at, terms.cycle_years)
            in_cycle = sum((p.points for p in counted if p.activity_date >= start), Decimal(0))
            result["cycle"] = {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "points": format_points(in_cycle),
                "norm": format_points(terms.norm),
                "shortfall": format_points(max(Decimal(0), terms.norm - in_cycle)),
            }
        return result

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


def _text(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {key: format_points(amounts[key]) for key in sorted(amounts)}

