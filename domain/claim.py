"""A contribution claim: what a professional did in a network, endorsed by peers, decided by a reviewer.

Life cycle: submitted → approved | rejected | returned | withdrawn; returned → (amended) →
submitted; approved → revoked. The command methods check SPEC §1 rules 2–7 against the
other aggregates they are handed; the `@event` methods only assign.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate
from domain.errors import (
    ActivityBeforeRegistration,
    ActivityDateInFuture,
    AlreadyEndorsed,
    ClaimantDeregistered,
    ClaimantMustBeNetworkMember,
    ClaimantNoLongerEligible,
    ClaimNotAwaitingDecision,
    ClaimNotChangeable,
    ClaimNotOpenForEndorsement,
    EndorserMustBeNetworkMember,
    EndorserMustBeRegistered,
    EndorserMustNotBeClaimant,
    NotEnoughEndorsements,
    NotEnoughValidEndorsements,
    OnlyApprovedClaimCanBeRevoked,
    OnlyClaimantMayChangeClaim,
    PointsOutOfRange,
    RationaleRequired,
    ReasonRequired,
    ReviewerEndorsedBefore,
    ReviewerMustNotBeClaimant,
    ReviewerMustNotHaveEndorsed,
    RevokerMustNotBeClaimant,
)
from domain.membership import Membership
from domain.network import Network
from domain.policy import PolicyTerms
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import (
    APPROVED,
    KINDS,
    LIVE,
    MAX_HOURS,
    REJECTED,
    RETURNED,
    REVOKED,
    SUBMITTED,
    WITHDRAWN,
    format_points,
)

CHANGEABLE = (SUBMITTED, RETURNED)


def check_activity(
    claimant: Professional, network: Network, membership: Membership | None, activity_date: date, today: date
) -> None:
    """Rule 2: the activity date, the claimant's registration and membership, the network."""
    if activity_date > today:
        raise ActivityDateInFuture(f"the activity date {activity_date} is after today, {today}")
    if activity_date < claimant.registered_on:
        raise ActivityBeforeRegistration(
            f"the activity date {activity_date} is before {claimant.professional_id} "
            f"registered on {claimant.registered_on}"
        )
    if claimant.deregistered_on is not None and (
        activity_date > claimant.deregistered_on or today > claimant.deregistered_on
    ):
        raise ClaimantDeregistered(
            f"{claimant.professional_id} was deregistered on {claimant.deregistered_on}"
        )
    network.check_open_on(activity_date)
    if membership is None or not membership.covers(activity_date):
        raise ClaimantMustBeNetworkMember(
            f"{claimant.professional_id} was not a member of {network.network_id} on {activity_date}"
        )


def eligibility_problem(
    claimant: Professional, network: Network, membership: Membership | None, activity_date: date
) -> str | None:
    """Rule 10 for the claimant: what no longer holds of rule 2 for a recorded claim, as known now."""
    who = claimant.professional_id
    if activity_date < claimant.registered_on:
        return f"{who} registered only on {claimant.registered_on}"
    if claimant.deregistered_on is not None and activity_date > claimant.deregistered_on:
        return f"{who} was deregistered on {claimant.deregistered_on}"
    if not network.open_on(activity_date):
        return f"network {network.network_id} was not open on {activity_date}"
    if membership is None or not membership.covers(activity_date):
        return f"{who} was not a member of {network.network_id} on {activity_date}"
    return None


def endorsement_problem(endorser: Professional | None, membership: Membership | None, activity_date: date) -> str | None:
    """Rule 10 for one endorser: what no longer holds of rule 3, as known now."""
    if endorser is None:
        return "is not a registered professional"
    if not endorser.active_on(activity_date):
        return f"was not registered on {activity_date}"
    if membership is None or not membership.covers(activity_date):
        return f"was not a member of the network on {activity_date}"
    return None


class Claim(LedgerAggregate):
    @classmethod
    def submit(
        cls,
        *,
        claimant: Professional,
        network: Network,
        membership: Membership | None,
        kind: str,
        activity_date: date,
        hours: Decimal,
        description: str,
        outcome: str,
        practice_change: str | None,
        today: date,
    ) -> Claim:
        assert kind in KINDS and Decimal(0) < hours <= MAX_HOURS, "the schema validates kind and hours"
        assert description.strip() and outcome.strip(), "the schema requires a description and an outcome"
        check_activity(claimant, network, membership, activity_date, today)
        return cls(
            professional_id=claimant.professional_id,
            network_id=network.network_id,
            kind=kind,
            activity_date=activity_date,
            hours=hours,
            description=description,
            outcome=outcome,
            practice_change=practice_change,
        )

    @event("Submitted")
    def __init__(
        self,
        professional_id: str,
        network_id: str,
        kind: str,
        activity_date: date,
        hours: Decimal,
        description: str,
        outcome: str,
        practice_change: str | None,
        actor: str = ACTING,
        os_user: str = ACTING,
    ) -> None:
        self.professional_id = professional_id
        self.network_id = network_id
        self.kind = kind
        self.activity_date = activity_date
        self.hours = hours
        self.description = description
        self.outcome = outcome
        self.practice_change = practice_change
        self.status = SUBMITTED
        self.endorsements: list[dict[str, Any]] = []
        self.ever_endorsed: list[str] = []  # rule 9: an amendment clears endorsements, not this
        self.points_awarded: Decimal | None = None

    # --- peers -------------------------------------------------------------------

    def endorse(
        self, *, endorser: Professional, membership: Membership | None, statement: str, today: date
    ) -> None:
        who = endorser.professional_id
        if self.status != SUBMITTED:
            raise ClaimNotOpenForEndorsement(f"claim {self.id} is {self.status}; only a submitted claim is endorsed")
        if who == self.professional_id:
            raise EndorserMustNotBeClaimant(f"{who} cannot endorse their own claim")
        if not endorser.active_on(today):
            raise EndorserMustBeRegistered(f"{who} is not a registered professional on {today}")
        if membership is None or not membership.covers(self.activity_date):
            raise EndorserMustBeNetworkMember(
                f"{who} was not a member of {self.network_id} on {self.activity_date}"
            )
        if self.endorsed_by(who):
            raise AlreadyEndorsed(f"{who} endorsed claim {self.id} already")
        assert statement.strip(), "the schema requires a statement"
        self._endorsed(who, statement)

    @event("Endorsed")
    def _endorsed(self, by: str, statement: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.endorsements.append({"by": by, "statement": statement})
        if by not in self.ever_endorsed:
            self.ever_endorsed.append(by)

    def endorsed_by(self, professional_id: str) -> bool:
        return any(e["by"] == professional_id for e in self.endorsements)

    @property
    def live(self) -> bool:
        """Still standing on the facts of its activity date (rule 8): submitted, returned or approved."""
        return self.status in LIVE

    def relies_on_member(self, professional_id: str) -> bool:
        """Whether this claim, while live, needs `professional_id` as claimant or counted endorser."""
        return self.live and (professional_id == self.professional_id or self.endorsed_by(professional_id))

    # --- the claimant ------------------------------------------------------------

    def _check_claimant_may_change(self, by: str, verb: str) -> None:
        if by != self.professional_id:
            raise OnlyClaimantMayChangeClaim(f"only {self.professional_id}, the claimant, may {verb} claim {self.id}")
        if self.status not in CHANGEABLE:
            raise ClaimNotChangeable(
                f"claim {self.id} is {self.status}; the claimant may {verb} it only while submitted or returned"
            )

    def withdraw(self, *, by: str) -> None:
        self._check_claimant_may_change(by, "withdraw")
        self._withdrawn()

    @event("Withdrawn")
    def _withdrawn(self, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.status = WITHDRAWN

    def amend(
        self,
        *,
        by: str,
        claimant: Professional,
        network: Network,
        membership: Membership | None,
        changes: dict[str, Any],
        today: date,
    ) -> None:
        """Change some of the claim's fields; it is submitted again.

        Endorsements vouch for an activity on a date: changing the kind or the activity
        date clears them, so peers endorse what is now claimed.
        """
        self._check_claimant_may_change(by, "amend")
        changes = {k: v for k, v in changes.items() if v is not None}
        activity_date = changes.get("activity_date", self.activity_date)
        if "activity_date" in changes:
            check_activity(claimant, network, membership, activity_date, today)
        clears = any(changes.get(k, getattr(self, k)) != getattr(self, k) for k in ("kind", "activity_date"))
        self._amended(changes, clears)

    @event("Amended")
    def _amended(self, changes: dict, endorsements_cleared: bool, actor: str = ACTING, os_user: str = ACTING) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        if endorsements_cleared:
            self.endorsements = []
        self.status = SUBMITTED

    # --- reviewers ---------------------------------------------------------------

    def _check_may_decide(self, reviewer: Reviewer, today: date) -> None:
        who = reviewer.reviewer_id
        reviewer.check_may_decide(today)
        if who == self.professional_id:
            raise ReviewerMustNotBeClaimant(f"reviewer {who} is the claimant of claim {self.id}")
        self._check_never_endorsed(who)
        if self.status != SUBMITTED:
            raise ClaimNotAwaitingDecision(f"claim {self.id} is {self.status}; only a submitted claim is decided on")

    def _check_never_endorsed(self, who: str) -> None:
        if self.endorsed_by(who):
            raise ReviewerMustNotHaveEndorsed(f"reviewer {who} endorsed claim {self.id} and cannot decide on it")
        if who in self.ever_endorsed:
            raise ReviewerEndorsedBefore(
                f"reviewer {who} endorsed claim {self.id} before it was amended and cannot decide on it"
            )

    def approve(
        self,
        *,
        reviewer: Reviewer,
        policy: PolicyTerms,
        points_awarded: Decimal | None,
        rationale: str,
        claimant: Professional,
        network: Network,
        membership: Membership | None,
        endorsers: dict[str, tuple[Professional | None, Membership | None]],
        today: date,
    ) -> None:
        """Approve. `claimant`, `network`, `membership` and `endorsers` (each endorser's professional
        and membership of the claim's network) are the register's facts now: rule 10 re-checks them."""
        self._check_may_decide(reviewer, today)
        problem = eligibility_problem(claimant, network, membership, self.activity_date)
        if problem is not None:
            raise ClaimantNoLongerEligible(f"claim {self.id} no longer stands: {problem}")
        if len(self.endorsements) < policy.min_endorsements:
            raise NotEnoughEndorsements(
                f"claim {self.id} has {_count(len(self.endorsements), 'endorsement')}; "
                f"approval needs at least {policy.min_endorsements}"
            )
        uncounted = {
            e["by"]: why for e in self.endorsements
            if (why := endorsement_problem(*endorsers.get(e["by"], (None, None)), self.activity_date)) is not None
        }
        counted = len(self.endorsements) - len(uncounted)
        if counted < policy.min_endorsements:
            raise NotEnoughValidEndorsements(
                f"claim {self.id} has {_count(counted, 'endorsement')} that still count"
                f" ({'; '.join(f'{by} {why}' for by, why in sorted(uncounted.items()))}); "
                f"approval needs at least {policy.min_endorsements}"
            )
        if points_awarded is None:
            points_awarded = policy.suggested_points(self.kind, self.hours)
        cap = policy.cap(self.kind)
        if not Decimal(0) < points_awarded <= cap:
            raise PointsOutOfRange(
                f"{format_points(points_awarded)} point{'' if points_awarded == 1 else 's'} is more than {format_points(cap)}, the cap for one "
                f"claim of kind {self.kind}" if points_awarded > cap else
                f"an approval awards more than 0 points, not {format_points(points_awarded)}"
            )
        if not rationale.strip():
            raise RationaleRequired("an approval needs a rationale")
        self._approved(*self._posting_keys(), points_awarded, rationale)

    def _posting_keys(self) -> tuple[str, str, str, date]:
        """What a posting needs, carried by the approval and revocation events themselves."""
        return self.professional_id, self.network_id, self.kind, self.activity_date

    @event("Approved")
    def _approved(
        self, professional_id: str, network_id: str, kind: str, activity_date: date,
        points: Decimal, rationale: str, actor: str = ACTING, os_user: str = ACTING,
    ) -> None:
        self.status = APPROVED
        self.points_awarded = points

    def reject(self, *, reviewer: Reviewer, reason: str, today: date) -> None:
        self._check_may_decide(reviewer, today)
        _require_reason(reason, "rejecting")
        self._rejected(reason)

    @event("Rejected")
    def _rejected(self, reason: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.status = REJECTED

    def return_to_claimant(self, *, reviewer: Reviewer, reason: str, today: date) -> None:
        self._check_may_decide(reviewer, today)
        _require_reason(reason, "returning")
        self._returned(reason)

    @event("Returned")
    def _returned(self, reason: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.status = RETURNED

    def revoke(self, *, reviewer: Reviewer, reason: str, today: date) -> None:
        who = reviewer.reviewer_id
        reviewer.check_may_decide(today)
        if self.status != APPROVED:
            raise OnlyApprovedClaimCanBeRevoked(f"claim {self.id} is {self.status}; only an approved claim is revoked")
        if who == self.professional_id:
            raise RevokerMustNotBeClaimant(f"reviewer {who} is the claimant of claim {self.id}")
        self._check_never_endorsed(who)
        _require_reason(reason, "revoking")
        assert self.points_awarded is not None
        self._revoked(*self._posting_keys(), self.points_awarded, reason)

    @event("Revoked")
    def _revoked(
        self, professional_id: str, network_id: str, kind: str, activity_date: date,
        points: Decimal, reason: str, actor: str = ACTING, os_user: str = ACTING,
    ) -> None:
        self.status = REVOKED


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _require_reason(reason: str, verb: str) -> None:
    if not reason.strip():
        raise ReasonRequired(f"{verb} a claim needs a reason")
