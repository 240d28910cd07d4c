"""`claim submit|endorse|withdraw|amend`: the claimant's and the peers' commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from marshmallow import ValidationError

from domain.claim import Claim
from domain.errors import UnknownClaim
from domain.values import MAX_HOURS
from ledger.commands.base import Command, carry_out, command, option
from ledger.fields import Amount, Day, Identifier, Key, Kind, Text
from ledger.requests import Request

if TYPE_CHECKING:
    from ledger.app import Ledger

HOURS_RULE = {"minimum": Decimal(0), "maximum": MAX_HOURS}


@command("claim submit")
@dataclass(frozen=True, kw_only=True)
class SubmitClaim(Command):
    professional: str = option(Identifier(required=True))
    network: str = option(Identifier(required=True))
    kind: str = option(Kind(required=True))
    on: date = option(Day(required=True))
    hours: Decimal = option(Amount(required=True, **HOURS_RULE))
    description: str = option(Text(required=True))
    outcome: str = option(Text(required=True))
    practice_change: str | None = option(Text(load_default=None))

    @property
    def actor(self) -> str:
        return self.professional


@dataclass(frozen=True, kw_only=True)
class OnClaim(Command):
    """A command about one claim: its id, or the --request-id it was submitted with."""

    claim: str = option(Key(required=True))


@dataclass(frozen=True, kw_only=True)
class ByClaimant(OnClaim):
    """A command of one person on one claim."""

    by: str = option(Identifier(required=True))

    @property
    def actor(self) -> str:
        return self.by


@command("claim endorse")
@dataclass(frozen=True, kw_only=True)
class EndorseClaim(ByClaimant):
    statement: str = option(Text(required=True))


@command("claim withdraw")
@dataclass(frozen=True, kw_only=True)
class WithdrawClaim(ByClaimant):
    pass


CHANGES = ("kind", "on", "hours", "description", "outcome", "practice_change")


@command("claim amend")
@dataclass(frozen=True, kw_only=True)
class AmendClaim(ByClaimant):
    kind: str | None = option(Kind(load_default=None))
    on: date | None = option(Day(load_default=None))
    hours: Decimal | None = option(Amount(load_default=None, **HOURS_RULE))
    description: str | None = option(Text(load_default=None))
    outcome: str | None = option(Text(load_default=None))
    practice_change: str | None = option(Text(load_default=None))

    @staticmethod
    def check(options: dict[str, Any]) -> None:
        if all(options.get(name) is None for name in CHANGES):
            raise ValidationError(
                "an amendment needs at least one of --kind, --on, --hours, --description, --outcome, --practice-change"
            )


def claim_named(ledger: Ledger, ref: str) -> Claim:
    """The claim `ref` names: its id, or the --request-id it was submitted with."""
    try:
        aggregate = ledger.find(Aggregate, UUID(ref))
    except ValueError:
        aggregate = None
    found = aggregate if isinstance(aggregate, Claim) else None  # another aggregate's id is no claim
    if found is None:
        request = ledger.find(Request, Request.create_id(ref))
        # Its result names the claim; None once the claimant was erased (sealed with their key, SPEC §9).
        if request is not None and request.command == SubmitClaim.path and request.result is not None:
            found = ledger.find(Claim, UUID(request.result["claim"]))
    if found is None:
        raise UnknownClaim(f"no claim '{ref}' was submitted")
    return found


@carry_out.register(SubmitClaim)
def submit_claim(c: SubmitClaim, ledger: Ledger) -> dict:
    membership = ledger.membership(c.network, c.professional)
    claim = Claim.submit(
        claimant=ledger.professional(c.professional), network=ledger.network(c.network), membership=membership,
        kind=c.kind, activity_date=c.on, hours=c.hours, description=c.description, outcome=c.outcome,
        practice_change=c.practice_change, today=ledger.today,
    )
    assert membership is not None, "rule 2 refused a claim without a membership"
    claim_id = str(claim.id)
    membership.note_claim(claim_id)
    return ledger.commit({"claim": claim_id, "status": claim.status}, claim, membership)


@carry_out.register(EndorseClaim)
def endorse_claim(c: EndorseClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    membership = ledger.membership(claim.network_id, c.by)
    claim.endorse(endorser=ledger.professional(c.by), membership=membership, statement=c.statement,
                  today=ledger.today)
    assert membership is not None, "rule 3 refused an endorser without a membership"
    claim_id = str(claim.id)
    membership.note_claim(claim_id)
    result = {"claim": claim_id, "status": claim.status, "endorsements": len(claim.endorsements)}
    return ledger.commit(result, claim, membership)


@carry_out.register(WithdrawClaim)
def withdraw_claim(c: WithdrawClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    claim.withdraw(by=c.by)
    return ledger.commit({"claim": str(claim.id), "status": claim.status}, claim)


@carry_out.register(AmendClaim)
def amend_claim(c: AmendClaim, ledger: Ledger) -> dict:
    claim = claim_named(ledger, c.claim)
    claimant = ledger.professional(claim.professional_id) if c.by == claim.professional_id else None
    membership = ledger.membership(claim.network_id, claim.professional_id)
    claim.amend(
        by=c.by,
        claimant=claimant,  # type: ignore[arg-type]  # None only when `by` is not the claimant: refused
        network=ledger.network(claim.network_id),
        membership=membership,
        changes={"kind": c.kind, "activity_date": c.on, "hours": c.hours, "description": c.description,
                 "outcome": c.outcome, "practice_change": c.practice_change},
        today=ledger.today,
    )
    if c.on is not None and membership is not None:  # the claim relies on the membership on another date now
        membership.note_claim(str(claim.id))
    result = {"claim": str(claim.id), "status": claim.status, "endorsements": len(claim.endorsements)}
    return ledger.commit(result, claim, *([membership] if membership is not None else []))
