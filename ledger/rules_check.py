"""The rules check of `audit verify`: SPEC §1 rules 1–10 re-checked over the event log alone.

`check_rules` is a plain fold over the decoded events in log (= recording) order. It keeps
its own picture of the register — who is registered, appointed, a member on which dates,
which policy versions are known, what each claim is — and judges every event by what was
recorded before it, as the ledger should have judged it at its recording instant. It is
written apart from the aggregates on purpose: it calls none of their methods, so a bug in
an aggregate, or a history rewritten and re-sealed by someone with write access to the
database, shows up here as a broken rule instead of hiding itself.

Membership is read as the read side reads it (SPEC §2): each change says "a member (or not)
from this date on", and the last change recorded that is dated on or before a day decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.membership import Membership
from domain.network import Network
from domain.policy import Policy, PolicyTerms
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.values import LIVE
from ledger import rules_claims
from ledger.rules_register import Found, Register, day


@dataclass(frozen=True)
class RuleProblem:
    position: int
    event: str
    rule: int
    message: str
    claim: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"position": self.position, "event": self.event, "rule": self.rule, "claim": self.claim,
                "message": self.message}

    def __str__(self) -> str:
        return f"event {self.position} ({self.event}) breaks rule {self.rule}: {self.message}"


def check_rules(events: Iterable[tuple[int, Any]]) -> list[RuleProblem]:
    """Every rule broken by an event of `events` — (position, decoded event) in log order."""
    register = Register()
    problems: list[RuleProblem] = []
    for position, event in events:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            continue
        for rule, message, claim in handler(register, event):
            problems.append(RuleProblem(position, type(event).__qualname__, rule, message, claim))
    return problems


# --- registrations ----------------------------------------------------------------------


def _professional_registered(r: Register, e: Any) -> Found:
    if e.professional_id in r.professionals:
        yield 1, f"professional {e.professional_id} was registered twice", None
    r.professionals[e.professional_id] = {"registered_on": e.registered_on, "deregistered_on": None}


def _professional_deregistered(r: Register, e: Any) -> Found:
    p = r.professionals.get(e.professional_id)
    if p is None:
        yield 1, f"professional {e.professional_id} is not registered", None
        return
    for cid, c in r.live_claims_of(e.professional_id):
        if c.activity_date > e.on:
            yield 8, (f"deregistering {e.professional_id} on {e.on} contradicts the live claim {cid} "
                      f"for an activity on {c.activity_date}"), cid
    p["deregistered_on"] = e.on


def _reviewer_appointed(r: Register, e: Any) -> Found:
    if e.reviewer_id in r.reviewers:
        yield 1, f"reviewer {e.reviewer_id} was appointed twice", None
    r.reviewers[e.reviewer_id] = {"appointed_on": e.appointed_on, "retired_on": None}


def _reviewer_retired(r: Register, e: Any) -> Found:
    reviewer = r.reviewers.get(e.reviewer_id)
    if reviewer is None:
        yield 1, f"reviewer {e.reviewer_id} is not appointed", None
        return
    last = r.last_decision.get(e.reviewer_id)
    if last is not None and e.on <= last:
        yield 8, f"retiring {e.reviewer_id} on {e.on} contradicts a decision they took on {last}", None
    reviewer["retired_on"] = e.on


def _network_registered(r: Register, e: Any) -> Found:
    if e.network_id in r.networks:
        yield 1, f"network {e.network_id} was registered twice", None
    r.networks[e.network_id] = {"founded_on": e.founded_on, "closed_on": None}


def _network_closed(r: Register, e: Any) -> Found:
    n = r.networks.get(e.network_id)
    if n is None:
        yield 1, f"network {e.network_id} is not registered", None
        return
    for cid, c in r.claims.items():
        if c.network == e.network_id and c.status in LIVE and c.activity_date >= e.on:
            yield 8, (f"closing {e.network_id} on {e.on} contradicts the live claim {cid} "
                      f"for an activity on {c.activity_date}"), cid
    n["closed_on"] = e.on


def _cancelled(registry: str, key: str, dated: str, what: str) -> Any:
    """A correction (reinstating, reopening): the dated fact it cancels must have been recorded."""

    def handle(r: Register, e: Any) -> Found:
        found = getattr(r, registry).get(getattr(e, key))
        if found is None or found[dated] is None:
            yield 1, f"{getattr(e, key)} was not {what}", None
            return
        found[dated] = None

    return handle


# --- memberships --------------------------------------------------------------------------


def _change(r: Register, e: Any, on: date, joined: bool) -> None:
    r.changes.setdefault((e.network_id, e.professional_id), []).append((on, joined))


def _joined(r: Register, e: Any) -> Found:
    p = r.professionals.get(e.professional_id)
    n = r.networks.get(e.network_id)
    if p is None or n is None:
        yield 1, f"{e.professional_id} joined {e.network_id}, but one of them is not registered", None
    else:
        if e.on < p["registered_on"]:
            yield 8, f"{e.professional_id} joined {e.network_id} on {e.on}, before registering on {p['registered_on']}", None
        if e.on < n["founded_on"]:
            yield 8, f"{e.professional_id} joined {e.network_id} on {e.on}, before its founding on {n['founded_on']}", None
    _change(r, e, e.on, True)


def _left(r: Register, e: Any) -> Found:
    """A leave, or the end of a membership by a deregistration: no member from `e.on`."""
    if type(e).__qualname__ == "Membership.Left":
        for cid, c in r.live_claims_of(e.professional_id, e.network_id):
            if c.activity_date >= e.on:
                yield 8, (f"{e.professional_id} leaving {e.network_id} on {e.on} contradicts the live claim {cid} "
                          f"for an activity on {c.activity_date}"), cid
    _change(r, e, e.on, False)


def _leave_cancelled(r: Register, e: Any) -> Found:
    _change(r, e, e.on, True)
    return ()


def _restored(r: Register, e: Any) -> Found:
    for on, joined in e.changes:
        _change(r, e, on, joined)
    return ()


# --- policy -------------------------------------------------------------------------------


def _policy_adopted(r: Register, e: Any) -> Found:
    r.policies.append((e.effective_from, PolicyTerms.from_state(e.effective_from, e.terms)))
    return ()


def _policy_cancelled(r: Register, e: Any) -> Found:
    if e.effective_from <= day(e):
        yield 8, f"the policy version of {e.effective_from} was cancelled while in force", None
    r.policies.append((e.effective_from, None))


_HANDLERS: dict[type, Any] = {
    Professional.Registered: _professional_registered,
    Professional.Deregistered: _professional_deregistered,
    Professional.Reinstated: _cancelled("professionals", "professional_id", "deregistered_on", "deregistered"),
    Reviewer.Appointed: _reviewer_appointed,
    Reviewer.Retired: _reviewer_retired,
    Reviewer.Reinstated: _cancelled("reviewers", "reviewer_id", "retired_on", "retired"),
    Network.Registered: _network_registered,
    Network.Closed: _network_closed,
    Network.Reopened: _cancelled("networks", "network_id", "closed_on", "closed"),
    Membership.Joined: _joined,
    Membership.Rejoined: _joined,
    Membership.Left: _left,
    Membership.Ended: _left,
    Membership.LeaveCancelled: _leave_cancelled,
    Membership.Restored: _restored,
    **rules_claims.HANDLERS,
    Policy.Adopted: _policy_adopted,
    Policy.Cancelled: _policy_cancelled,
}
