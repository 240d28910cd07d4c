"""`claim submit|endorse|withdraw|amend`: the claimant's and the peers' commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, ValidationError, validates_schema

from domain.claim import Claim
from domain.values import MAX_HOURS
from ledger.commands.base import Command, CommandSchema, carry_out, command
from ledger.fields import Amount, Day, Identifier, Key, Kind, Text

if TYPE_CHECKING:
    from ledger.app import Ledger

HOURS_RULE = {"minimum": Decimal(0), "maximum": MAX_HOURS}


class ClaimSubmitSchema(CommandSchema):
    professional = Identifier(required=True)
    network = Identifier(required=True)
    kind = Kind(required=True)
    on = Day(required=True)
    hours = Amount(required=True, **HOURS_RULE)
    description = Text(required=True)
    outcome = Text(required=True)
    practice_change = Text(load_default=None)


class ClaimRefSchema(Schema):
    """The claim a command is about: its id, or the --request-id it was submitted with. Mixed in after
    CommandSchema, so that CLAIM comes first in the options and their error messages, as it always has."""

    claim = Key(required=True)


class ClaimEndorseSchema(CommandSchema, ClaimRefSchema):
    by = Identifier(required=True)
    statement = Text(required=True)


class ClaimWithdrawSchema(CommandSchema, ClaimRefSchema):
    by = Identifier(required=True)


class ClaimAmendSchema(CommandSchema, ClaimRefSchema):
    by = Identifier(required=True)
    kind = Kind(load_default=None)
    on = Day(load_default=None)
    hours = Amount(load_default=None, **HOURS_RULE)
    description = Text(load_default=None)
    outcome = Text(load_default=None)
    practice_change = Text(load_default=None)

    @validates_schema
    def changes_something(self, data: dict[str, Any], **_: Any) -> None:
        fields_ = ("kind", "on", "hours", "description", "outcome", "practice_change")
        if all(data.get(name) is None for name in fields_):
            raise ValidationError(
                "an amendment needs at least one of --kind, --on, --hours, --description, --outcome, --practice-change"
            )


@command("claim submit", ClaimSubmitSchema)
@dataclass(frozen=True, kw_only=True)
class SubmitClaim(Command):
    professional: str
    network: str
    kind: str
    on: date
    hours: Decimal
    description: str
    outcome: str
    practice_change: str | None = None

    @property
    def actor(self) -> str:
        return self.professional


@dataclass(frozen=True, kw_only=True)
class ByClaimant(Command):
    """A command of one person on one claim."""

    claim: str
    by: str

    @property
    def actor(self) -> str:
        return self.by


@command("claim endorse", ClaimEndorseSchema)
@dataclass(frozen=True, kw_only=True)
class EndorseClaim(ByClaimant):
    statement: str


@command("claim withdraw", ClaimWithdrawSchema)
@dataclass(frozen=True, kw_only=True)
class WithdrawClaim(ByClaimant):
    pass


@command("claim amend", ClaimAmendSchema)
@dataclass(frozen=True, kw_only=True)
class AmendClaim(ByClaimant):
    kind: str | None = None
    on: date | None = None
    hours: Decimal | None = None
    description: str | None = None
    outcome: str | None = None
    practice_change: str | None = None


@carry_out.register(SubmitClaim)
def submit_claim(c: SubmitClaim, ledger: Ledger) -> dict:
    membership = ledger.membership(c.network, c.professional)
    claim = Claim.submit(
        claimant=ledger.professional(c.professional), network=ledger.network(c.network), membership=membership,
        kind=c.kind, activity_date=c.on, hours=c.hours, description=c.description, outcome=c.outcome,
        practice_change=c.practice_change, today=ledger.today,
    )
    assert membership is not None, "rule 2 refused a claim without a membership"
    membership.note_claim(str(claim.id))
    return ledger.commit({"claim": str(claim.id), "status": claim.status}, claim, membership)


@carry_out.register(EndorseClaim)
def endorse_claim(c: EndorseClaim, ledger: Ledger) -> dict:
    claim = ledger.claim(c.claim)
    membership = ledger.membership(claim.network_id, c.by)
    claim.endorse(endorser=ledger.professional(c.by), membership=membership, statement=c.statement,
                  today=ledger.today)
    assert membership is not None, "rule 3 refused an endorser without a membership"
    membership.note_claim(str(claim.id))
    result = {"claim": str(claim.id), "status": claim.status, "endorsements": len(claim.endorsements)}
    return ledger.commit(result, claim, membership)


@carry_out.register(WithdrawClaim)
def withdraw_claim(c: WithdrawClaim, ledger: Ledger) -> dict:
    claim = ledger.claim(c.claim)
    claim.withdraw(by=c.by)
    return ledger.commit({"claim": str(claim.id), "status": claim.status}, claim)


@carry_out.register(AmendClaim)
def amend_claim(c: AmendClaim, ledger: Ledger) -> dict:
    claim = ledger.claim(c.claim)
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
