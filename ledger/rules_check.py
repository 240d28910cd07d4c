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
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain.policy import DEFAULT_TERMS, PolicyTerms, in_force, versions_known

LIVE = ("submitted", "returned", "approved")


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


@dataclass
class _Claim:
    professional: str
    network: str
    kind: str
    activity_date: date
    status: str = "submitted"
    endorsers: list[str] = field(default_factory=list)
    ever_endorsed: set[str] = field(default_factory=set)
    points: Decimal | None = None


@dataclass
class _Register:
    """What the register knew after the events folded so far."""

    professionals: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviewers: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: dict[tuple[str, str], list[tuple[date, bool]]] = field(default_factory=dict)
    policies: list[tuple[date, PolicyTerms | None]] = field(default_factory=list)
    claims: dict[str, _Claim] = field(default_factory=dict)
    last_decision: dict[str, date] = field(default_factory=dict)

    def member(self, network: str, professional: str, day: date) -> bool:
        decided = [joined for on, joined in self.changes.get((network, professional), []) if on <= day]
        return bool(decided) and decided[-1]

    def registered(self, professional: str, day: date) -> bool:
        p = self.professionals.get(professional)
        return p is not None and p["registered_on"] <= day and (p["deregistered_on"] is None or day <= p["deregistered_on"])

    def open(self, network: str, day: date) -> bool:
        n = self.networks.get(network)
        return n is not None and n["founded_on"] <= day and (n["closed_on"] is None or day < n["closed_on"])

    def terms(self, day: date) -> PolicyTerms:
        return in_force(versions_known(self.policies), day) if self.policies else DEFAULT_TERMS

    def live_claims_of(self, professional: str, network: str | None = None) -> list[tuple[str, _Claim]]:
        """Live claims that `professional` submitted or counts as an endorser of (in `network`)."""
        return [(cid, c) for cid, c in self.claims.items()
                if c.status in LIVE and (network is None or c.network == network)
                and (c.professional == professional or professional in c.endorsers)]


def check_rules(events: Iterable[tuple[int, Any]]) -> list[RuleProblem]:
    """Every rule broken by an event of `events` — (position, decoded event) in log order."""
    register = _Register()
    problems: list[RuleProblem] = []
    for position, event in events:
        name = type(event).__qualname__
        handler = _HANDLERS.get(name)
        if handler is None:
            continue
        for rule, message, claim in handler(register, event):
            problems.append(RuleProblem(position, name, rule, message, claim))
    return problems


Found = Iterable[tuple[int, str, str | None]]  # (rule, message, claim id)


def _day(event: Any) -> date:
    return event.timestamp.date()


# --- registrations ----------------------------------------------------------------------


def _professional_registered(r: _Register, e: Any) -> Found:
    if e.professional_id in r.professionals:
        yield 1, f"professional {e.professional_id} was registered twice", None
    r.professionals[e.professional_id] = {"registered_on": e.registered_on, "deregistered_on": None}


def _professional_deregistered(r: _Register, e: Any) -> Found:
    p = r.professionals.get(e.professional_id)
    if p is None:
        yield 1, f"professional {e.professional_id} is not registered", None
        return
    for cid, c in r.live_claims_of(e.professional_id):
        if c.activity_date > e.on:
            yield 8, (f"deregistering {e.professional_id} on {e.on} contradicts the live claim {cid} "
                      f"for an activity on {c.activity_date}"), cid
    p["deregistered_on"] = e.on


def _reviewer_appointed(r: _Register, e: Any) -> Found:
    if e.reviewer_id in r.reviewers:
        yield 1, f"reviewer {e.reviewer_id} was appointed twice", None
    r.reviewers[e.reviewer_id] = {"appointed_on": e.appointed_on, "retired_on": None}


def _reviewer_retired(r: _Register, e: Any) -> Found:
    reviewer = r.reviewers.get(e.reviewer_id)
    if reviewer is None:
        yield 1, f"reviewer {e.reviewer_id} is not appointed", None
        return
    last = r.last_decision.get(e.reviewer_id)
    if last is not None and e.on <= last:
        yield 8, f"retiring {e.reviewer_id} on {e.on} contradicts a decision they took on {last}", None
    reviewer["retired_on"] = e.on


def _network_registered(r: _Register, e: Any) -> Found:
    if e.network_id in r.networks:
        yield 1, f"network {e.network_id} was registered twice", None
    r.networks[e.network_id] = {"founded_on": e.founded_on, "closed_on": None}


def _network_closed(r: _Register, e: Any) -> Found:
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

    def handle(r: _Register, e: Any) -> Found:
        found = getattr(r, registry).get(getattr(e, key))
        if found is None or found[dated] is None:
            yield 1, f"{getattr(e, key)} was not {what}", None
            return
        found[dated] = None

    return handle


# --- memberships --------------------------------------------------------------------------


def _change(r: _Register, e: Any, on: date, joined: bool) -> None:
    r.changes.setdefault((e.network_id, e.professional_id), []).append((on, joined))


def _joined(r: _Register, e: Any) -> Found:
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


def _left(r: _Register, e: Any) -> Found:
    """A leave, or the end of a membership by a deregistration: no member from `e.on`."""
    if type(e).__qualname__ == "Membership.Left":
        for cid, c in r.live_claims_of(e.professional_id, e.network_id):
            if c.activity_date >= e.on:
                yield 8, (f"{e.professional_id} leaving {e.network_id} on {e.on} contradicts the live claim {cid} "
                          f"for an activity on {c.activity_date}"), cid
    _change(r, e, e.on, False)


def _leave_cancelled(r: _Register, e: Any) -> Found:
    _change(r, e, e.on, True)
    return ()


def _restored(r: _Register, e: Any) -> Found:
    for on, joined in e.changes:
        _change(r, e, on, joined)
    return ()


# --- claims -------------------------------------------------------------------------------


def _claimant_problems(r: _Register, professional: str, network: str, activity: date, today: date | None) -> list[str]:
    """What breaks rule 2 for an activity of `professional` in `network` (and, with `today`, a new claim)."""
    p = r.professionals.get(professional)
    if p is None:
        return [f"{professional} is not a registered professional"]
    found = []
    if today is not None and activity > today:
        found.append(f"the activity date {activity} is after the day it was recorded, {today}")
    if activity < p["registered_on"]:
        found.append(f"the activity date {activity} is before {professional} registered on {p['registered_on']}")
    if p["deregistered_on"] is not None and (
        activity > p["deregistered_on"] or (today is not None and today > p["deregistered_on"])
    ):
        found.append(f"{professional} was deregistered on {p['deregistered_on']}")
    if not r.open(network, activity):
        found.append(f"network {network} was not open on {activity}")
    if not r.member(network, professional, activity):
        found.append(f"{professional} was not a member of {network} on {activity}")
    return found


def _submitted(r: _Register, e: Any) -> Found:
    cid = str(e.originator_id)
    if e.network_id not in r.networks:
        yield 1, f"network {e.network_id} is not registered", cid
    for problem in _claimant_problems(r, e.professional_id, e.network_id, e.activity_date, _day(e)):
        yield 2, problem, cid
    r.claims[cid] = _Claim(e.professional_id, e.network_id, e.kind, e.activity_date)


def _claim(r: _Register, e: Any) -> tuple[str, _Claim | None]:
    cid = str(e.originator_id)
    return cid, r.claims.get(cid)


def _endorsed(r: _Register, e: Any) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, "the endorsed claim was never submitted", cid
        return
    if c.status != "submitted":
        yield 3, f"{e.by} endorsed a claim that was {c.status}", cid
    if e.by == c.professional:
        yield 3, f"{e.by} endorsed their own claim", cid
    if not r.registered(e.by, _day(e)):
        yield 3, f"{e.by} was not a registered professional on {_day(e)}", cid
    if not r.member(c.network, e.by, c.activity_date):
        yield 3, f"{e.by} was not a member of {c.network} on {c.activity_date}", cid
    if e.by in c.endorsers:
        yield 3, f"{e.by} endorsed the claim twice", cid
    c.endorsers.append(e.by)
    c.ever_endorsed.add(e.by)


def _claimant_change(r: _Register, e: Any, verb: str) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, f"the {verb} claim was never submitted", cid
        return
    if e.actor != c.professional:
        yield 6, f"{e.actor} {verb} a claim of {c.professional}", cid
    if c.status not in ("submitted", "returned"):
        yield 6, f"the claim was {verb} while {c.status}", cid


def _withdrawn(r: _Register, e: Any) -> Found:
    yield from _claimant_change(r, e, "withdrew")
    cid, c = _claim(r, e)
    if c is not None:
        c.status = "withdrawn"


def _amended(r: _Register, e: Any) -> Found:
    yield from _claimant_change(r, e, "amended")
    cid, c = _claim(r, e)
    if c is None:
        return
    changes = dict(e.changes)
    if "activity_date" in changes and changes["activity_date"] != c.activity_date:
        for problem in _claimant_problems(r, c.professional, c.network, changes["activity_date"], _day(e)):
            yield 2, problem, cid
    if any(k in changes and changes[k] != getattr(c, k) for k in ("kind", "activity_date")) and not e.endorsements_cleared:
        yield 3, "the kind or activity date changed but the endorsements were kept", cid
    c.kind = changes.get("kind", c.kind)
    c.activity_date = changes.get("activity_date", c.activity_date)
    if e.endorsements_cleared:
        c.endorsers = []
    c.status = "submitted"


def _decider_problems(r: _Register, e: Any, c: _Claim) -> Found:
    """Rules 4 and 9: who decided, and whether they could."""
    cid, who, today = str(e.originator_id), e.actor, _day(e)
    reviewer = r.reviewers.get(who)
    if reviewer is None:
        yield 4, f"{who} is not an appointed reviewer", cid
    elif today < reviewer["appointed_on"] or (reviewer["retired_on"] is not None and today >= reviewer["retired_on"]):
        yield 4, f"reviewer {who} was not in office on {today}", cid
    if who == c.professional:
        yield 9, f"reviewer {who} decided on their own claim", cid
    elif who in c.ever_endorsed:
        yield 9, f"reviewer {who} endorsed the claim and decided on it", cid
    r.last_decision[who] = max(today, r.last_decision.get(who, today))


def _posting_problems(e: Any, c: _Claim) -> Found:
    """The approval or revocation carries its posting: it must be the claim's."""
    posted = (e.professional_id, e.network_id, e.kind, e.activity_date)
    if posted != (c.professional, c.network, c.kind, c.activity_date):
        yield 1, f"the posting {posted} is not that of the claim", str(e.originator_id)


def _decided(status: str) -> Any:
    def handle(r: _Register, e: Any) -> Found:
        cid, c = _claim(r, e)
        if c is None:
            yield 1, "the decided claim was never submitted", cid
            return
        yield from _decider_problems(r, e, c)
        if c.status != "submitted":
            yield 4, f"the claim was {status} while {c.status}", cid
        if not (e.reason or "").strip():
            yield 5, f"the claim was {status} without a reason", cid
        c.status = status

    return handle


def _approved(r: _Register, e: Any) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, "the approved claim was never submitted", cid
        return
    yield from _decider_problems(r, e, c)
    yield from _posting_problems(e, c)
    if c.status != "submitted":
        yield 4, f"the claim was approved while {c.status}", cid
    terms = r.terms(c.activity_date)
    cap = terms.caps[c.kind]
    if not Decimal(0) < e.points <= cap:
        yield 5, f"{e.points} points awarded, but a {c.kind} claim may receive more than 0 and at most {cap}", cid
    if not (e.rationale or "").strip():
        yield 5, "approved without a rationale", cid
    for problem in _claimant_problems(r, c.professional, c.network, c.activity_date, None):
        yield 10, f"at approval: {problem}", cid
    counted = [by for by in c.endorsers
               if r.registered(by, c.activity_date) and r.member(c.network, by, c.activity_date)]
    if len(counted) < terms.min_endorsements:
        rule = 5 if len(c.endorsers) < terms.min_endorsements else 10
        yield rule, (f"approved with {len(counted)} endorsement(s) that count, of {len(c.endorsers)}; "
                     f"the policy asked for {terms.min_endorsements}"), cid
    c.status, c.points = "approved", e.points


def _revoked(r: _Register, e: Any) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, "the revoked claim was never submitted", cid
        return
    yield from _decider_problems(r, e, c)
    yield from _posting_problems(e, c)
    if c.status != "approved":
        yield 7, f"the claim was revoked while {c.status}", cid
    elif e.points != c.points:
        yield 7, f"{e.points} points revoked, but {c.points} were awarded", cid
    if not (e.reason or "").strip():
        yield 5, "revoked without a reason", cid
    c.status = "revoked"


# --- policy -------------------------------------------------------------------------------


def _policy_adopted(r: _Register, e: Any) -> Found:
    r.policies.append((e.effective_from, PolicyTerms.from_state(e.effective_from, e.terms)))
    return ()


def _policy_cancelled(r: _Register, e: Any) -> Found:
    if e.effective_from <= _day(e):
        yield 8, f"the policy version of {e.effective_from} was cancelled while in force", None
    r.policies.append((e.effective_from, None))


_HANDLERS: dict[str, Any] = {
    "Professional.Registered": _professional_registered,
    "Professional.Deregistered": _professional_deregistered,
    "Professional.Reinstated": _cancelled("professionals", "professional_id", "deregistered_on", "deregistered"),
    "Reviewer.Appointed": _reviewer_appointed,
    "Reviewer.Retired": _reviewer_retired,
    "Reviewer.Reinstated": _cancelled("reviewers", "reviewer_id", "retired_on", "retired"),
    "Network.Registered": _network_registered,
    "Network.Closed": _network_closed,
    "Network.Reopened": _cancelled("networks", "network_id", "closed_on", "closed"),
    "Membership.Joined": _joined,
    "Membership.Rejoined": _joined,
    "Membership.Left": _left,
    "Membership.Ended": _left,
    "Membership.LeaveCancelled": _leave_cancelled,
    "Membership.Restored": _restored,
    "Claim.Submitted": _submitted,
    "Claim.Endorsed": _endorsed,
    "Claim.Withdrawn": _withdrawn,
    "Claim.Amended": _amended,
    "Claim.Approved": _approved,
    "Claim.Rejected": _decided("rejected"),
    "Claim.Returned": _decided("returned"),
    "Claim.Revoked": _revoked,
    "Policy.Adopted": _policy_adopted,
    "Policy.Cancelled": _policy_cancelled,
}
