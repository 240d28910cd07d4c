"""`policy adopt|cancel`: the register's versioned terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from marshmallow import fields

from domain.errors import NoSuchPolicyVersion
from domain.policy import DEFAULT_TERMS, Policy, PolicyTerms
from domain.values import KINDS, format_points
from ledger.commands.base import Command, carry_out, command, option
from ledger.fields import Amount, CapSetting, Day, WholeNumber

if TYPE_CHECKING:
    from ledger.app import Ledger


@command("policy adopt")
@dataclass(frozen=True, kw_only=True)
class AdoptPolicy(Command):
    effective_from: date = option(Day(required=True))
    points_per_hour: Decimal | None = option(Amount(minimum=Decimal(0), load_default=None))
    cap: list[tuple[str, Decimal]] = option(fields.List(CapSetting(), load_default=list))
    min_endorsements: int | None = option(WholeNumber(0, 1000, load_default=None))
    cycle_years: int | None = option(WholeNumber(1, 100, load_default=None))
    norm: Decimal | None = option(Amount(minimum=Decimal(0), load_default=None))


@command("policy cancel")
@dataclass(frozen=True, kw_only=True)
class CancelPolicy(Command):
    effective_from: date = option(Day(required=True))


@carry_out.register(AdoptPolicy)
def adopt_policy(c: AdoptPolicy, ledger: Ledger) -> dict:
    policy = ledger.policy() or Policy()
    base = policy.versions[-1] if policy.versions else DEFAULT_TERMS
    terms = base.amended(
        c.effective_from,
        points_per_hour=c.points_per_hour,
        caps=dict(c.cap or ()),
        min_endorsements=c.min_endorsements,
        cycle_years=c.cycle_years,
        norm=c.norm,
    )
    policy.adopt(terms)
    return ledger.commit(terms_json(terms), policy)


@carry_out.register(CancelPolicy)
def cancel_policy(c: CancelPolicy, ledger: Ledger) -> dict:
    policy = ledger.policy()
    if policy is None:
        raise NoSuchPolicyVersion(f"no policy version takes effect on {c.effective_from}")
    policy.cancel(c.effective_from, today=ledger.today)
    return ledger.commit({"policy": c.effective_from.isoformat(), "status": "cancelled"}, policy)


def terms_json(terms: PolicyTerms) -> dict:
    return {
        "effective_from": terms.effective_from.isoformat() if terms.effective_from else None,
        "points_per_hour": format_points(terms.points_per_hour),
        "caps": {kind: format_points(terms.caps[kind]) for kind in KINDS},
        "min_endorsements": terms.min_endorsements,
        "cycle_years": terms.cycle_years,
        "norm": format_points(terms.norm),
    }
