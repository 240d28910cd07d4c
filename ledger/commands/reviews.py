"""`review approve|reject|return|revoke`: a reviewer's decisions on a claim."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.claim import Claim
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import format_points
from ledger.commands.base import carry_out, command, option
from ledger.commands.claims import OnClaim, claim_named
from ledger.fields import Amount, Identifier, Text

if TYPE_CHECKING:
    from ledger.app import Ledger


@dataclass(frozen=True, kw_only=True)
class Decision(OnClaim):
    """A reviewer's decision on one claim."""

    reviewer: str = option(Identifier(required=True))

    @property
    def actor(self) -> str:
        return self.reviewer


@command("review approve")
@dataclass(frozen=True, kw_only=True)
class ApproveClaim(Decision):
    points: Decimal | None = option(Amount(load_default=None))
    rationale: str = option(Text(required=True))


@dataclass(frozen=True, kw_only=True)
class WithReason(Decision):
    reason: str = option(Text(required=True))


@command("review reject")
@dataclass(frozen=True, kw_only=True)
class RejectClaim(WithReason):
    pass


@command("review return")
@dataclass(frozen=True, kw_only=True)
class ReturnClaim(WithReason):
    pass


@command("review revoke")
@dataclass(frozen=True, kw_only=True)
class RevokeClaim(WithReason):
    pass


@carry_out.register(ApproveClaim)
def approve_claim(c: ApproveClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    reviewer = ledger.reviewer(c.reviewer)
    network = claim.network_id
    claim.approve(
        reviewer=reviewer,
        policy=ledger.policy_terms(claim.activity_date),
        points_awarded=c.points,
        rationale=c.rationale,
        claimant=ledger.professional(claim.professional_id),
        network=ledger.network(network),
        membership=ledger.membership(network, claim.professional_id),
        endorsers={
            e["by"]: (ledger.find(Professional, Professional.create_id(e["by"])), ledger.membership(network, e["by"]))
            for e in claim.endorsements
        },
        today=ledger.today,
    )
    assert claim.points_awarded is not None
    result = {"claim": str(claim.id), "status": claim.status, "points": format_points(claim.points_awarded)}
    return _decided(ledger, result, claim, reviewer)


@carry_out.register(RejectClaim)
@carry_out.register(ReturnClaim)
def reject_or_return_claim(c: RejectClaim | ReturnClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    reviewer = ledger.reviewer(c.reviewer)
    decide = claim.reject if isinstance(c, RejectClaim) else claim.return_to_claimant
    decide(reviewer=reviewer, reason=c.reason, today=ledger.today)
    return _decided(ledger, {"claim": str(claim.id), "status": claim.status}, claim, reviewer)


@carry_out.register(RevokeClaim)
def revoke_claim(c: RevokeClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    reviewer = ledger.reviewer(c.reviewer)
    claim.revoke(reviewer=reviewer, reason=c.reason, today=ledger.today)
    assert claim.points_awarded is not None
    result = {"claim": str(claim.id), "status": claim.status, "points": format_points(-claim.points_awarded)}
    return _decided(ledger, result, claim, reviewer)


def _decided(ledger: Ledger, result: dict, claim: Claim, reviewer: Reviewer) -> dict:
    """Commit a decision with the reviewer's day of it noted (rule 8: a retirement comes after it)."""
    reviewer.note_decision(ledger.today)
    return ledger.commit(result, claim, reviewer)
