"""`network register|close|reopen|join|leave`: networks and their members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validate

from domain.errors import AlreadyRegistered, NotAMember
from domain.membership import Membership
from domain.network import Network
from domain.values import REGISTER
from ledger.commands.base import Command, Dated, Identified, carry_out, command, option
from ledger.fields import Day, Identifier, Text
from ledger.ids import take as take_id

if TYPE_CHECKING:
    from ledger.app import Ledger


@command("network register")
@dataclass(frozen=True, kw_only=True)
class RegisterNetwork(Command):
    id: str = option(Identifier(required=True))
    name: str = option(Text(required=True))
    theme: list[str] = option(fields.List(Identifier(), required=True,
                                          validate=validate.Length(min=1, error="needs at least one value")))
    group: list[str] = option(fields.List(Identifier(), required=True,
                                          validate=validate.Length(min=1, error="needs at least one value")))
    founded_on: date | None = option(Day(load_default=None))


@command("network close")
@dataclass(frozen=True, kw_only=True)
class CloseNetwork(Dated):
    pass


@command("network reopen")
@dataclass(frozen=True, kw_only=True)
class ReopenNetwork(Identified):
    pass


@command("network join")
@dataclass(frozen=True, kw_only=True)
class JoinNetwork(Command):
    network: str = option(Identifier(required=True))
    professional: str = option(Identifier(required=True))
    on: date = option(Day(required=True))

    @property
    def actor(self) -> str:
        return self.professional


@command("network leave")
@dataclass(frozen=True, kw_only=True)
class LeaveNetwork(Command):
    network: str = option(Identifier(required=True))
    professional: str = option(Identifier(required=True))
    on: date | None = option(Day(load_default=None))
    cancel: bool = option(fields.Boolean(load_default=False))

    @property
    def actor(self) -> str:
        """A leave is the member's; cancelling one recorded by mistake is the register's correction."""
        return REGISTER if self.cancel else self.professional

    @staticmethod
    def check(options: dict[str, Any]) -> None:
        if options.get("cancel") and options.get("on") is not None:
            raise ValidationError("give --on for a leave, or --cancel to cancel the last leave, not both")
        if not options.get("cancel") and options.get("on") is None:
            raise ValidationError("a leave needs --on DATE (or --cancel to cancel the last leave)")


@carry_out.register(RegisterNetwork)
def register_network(c: RegisterNetwork, ledger: Ledger) -> dict:
    if ledger.find(Network, Network.create_id(c.id)) is not None:
        raise AlreadyRegistered(f"a network '{c.id}' is registered already")
    taken = take_id(ledger, "network", c.id)  # nor one that differs only in case
    network = Network(network_id=c.id, name=c.name, themes=sorted(set(c.theme)), groups=sorted(set(c.group)),
                      founded_on=c.founded_on or ledger.today, tracks_members=True)
    result = {"network": c.id, "status": "registered", "founded_on": network.founded_on.isoformat()}
    return ledger.commit(result, network, taken)


@carry_out.register(CloseNetwork)
def close_network(c: CloseNetwork, ledger: Ledger) -> dict:
    network = ledger.network(c.id)
    claims = list({claim.id: claim for m in ledger.memberships_in(network)
                   for claim in ledger.claims_relying_on(m)}.values())
    network.close(c.on, claims=claims)
    return ledger.commit({"network": c.id, "status": "closed", "on": c.on.isoformat()}, network)


@carry_out.register(ReopenNetwork)
def reopen_network(c: ReopenNetwork, ledger: Ledger) -> dict:
    network = ledger.network(c.id)
    network.reopen()
    return ledger.commit({"network": c.id, "status": "reopened"}, network)


@carry_out.register(JoinNetwork)
def join_network(c: JoinNetwork, ledger: Ledger) -> dict:
    network = ledger.network(c.network)
    member = ledger.professional(c.professional)
    network.check_may_join(c.on)
    membership = ledger.membership(c.network, c.professional)
    if membership is None:
        membership = Membership.join(network_id=c.network, professional=member, on=c.on)
    else:
        membership.rejoin(c.on, professional=member)
    network.note_member(c.professional)
    member.note_network(c.network)
    result = {"network": c.network, "professional": c.professional, "status": "joined", "on": c.on.isoformat()}
    return ledger.commit(result, membership, network, member)


@carry_out.register(LeaveNetwork)
def leave_network(c: LeaveNetwork, ledger: Ledger) -> dict:
    ledger.network(c.network)
    member = ledger.professional(c.professional)
    membership = ledger.membership(c.network, c.professional)
    if membership is None:
        raise NotAMember(f"{c.professional} is not a member of {c.network}")
    if c.cancel:
        assert c.on is None, "the schema allows --on or --cancel, not both"
        cancelled_on = membership.left_on
        membership.cancel_leave(professional=member)
        result = {"network": c.network, "professional": c.professional, "status": "leave cancelled",
                  "on": cancelled_on.isoformat() if cancelled_on else None}
        return ledger.commit(result, membership)
    assert c.on is not None, "the schema requires --on without --cancel"
    membership.leave(c.on, claims=ledger.claims_relying_on(membership))
    result = {"network": c.network, "professional": c.professional, "status": "left", "on": c.on.isoformat()}
    return ledger.commit(result, membership)
