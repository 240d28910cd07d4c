"""`professional register|deregister|reinstate` and `reviewer appoint|retire|reinstate`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from domain.errors import AlreadyRegistered, NotEncrypted
from domain.membership import DEREGISTERED
from domain.professional import Professional
from domain.reviewer import Reviewer
from ledger.commands.base import Command, Dated, Identified, carry_out, command, option
from ledger.fields import Day, Identifier, Text
from ledger.ids import take as take_id

if TYPE_CHECKING:
    from ledger.app import Ledger


@command("professional register")
@dataclass(frozen=True, kw_only=True)
class RegisterProfessional(Command):
    id: str = option(Identifier(required=True))
    name: str = option(Text(required=True))
    group: str = option(Identifier(required=True))
    registered_on: date | None = option(Day(load_default=None))


@command("professional deregister")
@dataclass(frozen=True, kw_only=True)
class DeregisterProfessional(Dated):
    pass


@command("professional reinstate")
@dataclass(frozen=True, kw_only=True)
class ReinstateProfessional(Identified):
    pass


@command("reviewer appoint")
@dataclass(frozen=True, kw_only=True)
class AppointReviewer(Command):
    id: str = option(Identifier(required=True))
    name: str = option(Text(required=True))
    on: date | None = option(Day(load_default=None))


@command("reviewer retire")
@dataclass(frozen=True, kw_only=True)
class RetireReviewer(Dated):
    pass


@command("reviewer reinstate")
@dataclass(frozen=True, kw_only=True)
class ReinstateReviewer(Identified):
    pass


@carry_out.register(RegisterProfessional)
def register_professional(c: RegisterProfessional, ledger: Ledger) -> dict:
    if ledger.find(Professional, ledger.id_of(Professional, c.id)) is not None:
        raise AlreadyRegistered(f"a professional '{c.id}' is registered already")
    taken = take_id(ledger, "professional", c.id)  # nor one that differs only in case
    ledger.enrol(c.id)
    professional = Professional(professional_id=c.id, name=c.name, group=c.group,
                                registered_on=c.registered_on or ledger.today, tracks_networks=True)
    result = {"professional": c.id, "status": "registered", "registered_on": professional.registered_on.isoformat()}
    return ledger.commit(result, professional, *filter(None, [taken]))


@carry_out.register(DeregisterProfessional)
def deregister_professional(c: DeregisterProfessional, ledger: Ledger) -> dict:
    professional = ledger.professional(c.id)
    memberships = ledger.memberships_of(professional)
    claims = list({claim.id: claim for m in memberships for claim in ledger.claims_relying_on(m)}.values())
    professional.deregister(c.on, claims=claims)
    ended = [m for m in memberships if m.reaches_beyond(c.on)]
    for membership in ended:  # a member through D, no longer from D + 1
        membership.end_with_deregistration(c.on)
    result = {"professional": c.id, "status": "deregistered", "on": c.on.isoformat(),
              "memberships_ended": sorted(m.network_id for m in ended)}
    return ledger.commit(result, professional, *ended)


@carry_out.register(ReinstateProfessional)
def reinstate_professional(c: ReinstateProfessional, ledger: Ledger) -> dict:
    professional = ledger.professional(c.id)
    professional.reinstate()
    restored = [m for m in ledger.memberships_of(professional) if m.ended_by == DEREGISTERED]
    for membership in restored:
        membership.restore()
    result = {"professional": c.id, "status": "reinstated",
              "memberships_restored": sorted(m.network_id for m in restored)}
    return ledger.commit(result, professional, *restored)


@carry_out.register(AppointReviewer)
def appoint_reviewer(c: AppointReviewer, ledger: Ledger) -> dict:
    if ledger.find(Reviewer, ledger.id_of(Reviewer, c.id)) is not None:
        raise AlreadyRegistered(f"a reviewer '{c.id}' is appointed already")
    taken = take_id(ledger, "reviewer", c.id)  # nor one that differs only in case
    ledger.enrol(c.id)
    reviewer = Reviewer(reviewer_id=c.id, name=c.name, appointed_on=c.on or ledger.today, tracks_decisions=True)
    result = {"reviewer": c.id, "status": "appointed", "on": reviewer.appointed_on.isoformat()}
    return ledger.commit(result, reviewer, *filter(None, [taken]))


@carry_out.register(RetireReviewer)
def retire_reviewer(c: RetireReviewer, ledger: Ledger) -> dict:
    reviewer = ledger.reviewer(c.id)
    reviewer.retire(c.on, last_decision_on=ledger.last_decision_on(reviewer))
    return ledger.commit({"reviewer": c.id, "status": "retired", "on": c.on.isoformat()}, reviewer)


@carry_out.register(ReinstateReviewer)
def reinstate_reviewer(c: ReinstateReviewer, ledger: Ledger) -> dict:
    reviewer = ledger.reviewer(c.id)
    reviewer.reinstate()
    return ledger.commit({"reviewer": c.id, "status": "reinstated"}, reviewer)


@command("professional erase", importable=False)
@dataclass(frozen=True, kw_only=True)
class EraseProfessional(Identified):
    reason: str = option(Text(required=True))


@command("reviewer erase", importable=False)
@dataclass(frozen=True, kw_only=True)
class EraseReviewer(Identified):
    reason: str = option(Text(required=True))


@carry_out.register(EraseProfessional)
def erase_professional(c: EraseProfessional, ledger: Ledger) -> dict:
    return _erase(ledger, c.id, c.reason, "professional")


@carry_out.register(EraseReviewer)
def erase_reviewer(c: EraseReviewer, ledger: Ledger) -> dict:
    return _erase(ledger, c.id, c.reason, "reviewer")


def _erase(ledger: Ledger, person: str, reason: str, role: str) -> dict:
    """Erase a person's personal data (SPEC §9): their key and link go with the `Erased` events of every
    role they had, so each of those roles must have ended (deregistered, retired) first.

    This is the ledger's half. Carry an erase out with `projections.erasure.erase`, as the CLI does: it
    also purges the read models, which `Ledger.handle` alone leaves holding the person's id."""
    if ledger.people is None:
        raise NotEncrypted("this store was made before personal data were encrypted, so nobody in it can be "
                           "erased; move it into a new store with 'studyledger migrate OLD NEW' first")
    roles = [ledger.professional(person)] if role == "professional" else [ledger.reviewer(person)]
    other = (ledger.find(Reviewer, ledger.id_of(Reviewer, person)) if role == "professional"
             else ledger.find(Professional, ledger.id_of(Professional, person)))
    if other is not None:
        roles.append(other)
    for aggregate in roles:
        aggregate.erase(reason)
    ledger.people.erase(person)
    result = {role: person, "status": "erased", "roles": sorted(type(a).__name__.lower() for a in roles)}
    try:
        return ledger.commit(result, *roles)
    finally:
        ledger.people.forget()
