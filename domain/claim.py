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
    AlreadyEndorsed,
    ClaimantNoLongerEligible,
    ClaimNotAwaitingDecision,
    ClaimNotChangeable,
    ClaimNotOpenForEndorsement,
    EndorserMustBeNetworkMember,
    EndorserMustBeRegistered,
    EndorserMustNotBeClaimant,
    OnlyApprovedClaimCanBeRevoked,
    OnlyClaimantMayChangeClaim,
    RationaleRequired,
    ReviewerEndorsedBefore,
    ReviewerMustNotBeClaimant,
    ReviewerMustNotHaveEndorsed,
    RevokerMustNotBeClaimant,
)
from domain.claim_rules import (
    check_activity,
    check_endorsements,
    eligibility_problem,
    points_within_cap,
    require_reason,
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
)

CHANGEABLE = (SUBMITTED, RETURNED)


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
        check_endorsements(f"claim {self.id}", self.endorsements, endorsers, self.activity_date, policy)
        points_awarded = points_within_cap(self.kind, self.hours, points_awarded, policy)
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
        require_reason(reason, "rejecting")
        self._rejected(reason)

    @event("Rejected")
    def _rejected(self, reason: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.status = REJECTED

    def return_to_claimant(self, *, reviewer: Reviewer, reason: str, today: date) -> None:
        self._check_may_decide(reviewer, today)
        require_reason(reason, "returning")
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
        require_reason(reason, "revoking")
        assert self.points_awarded is not None
        self._revoked(*self._posting_keys(), self.points_awarded, reason)

    @event("Revoked")
    def _revoked(
        self, professional_id: str, network_id: str, kind: str, activity_date: date,
        points: Decimal, reason: str, actor: str = ACTING, os_user: str = ACTING,
    ) -> None:
        self.status = REVOKED
