"""The rules check's handlers of claim events: rules 2–7 and 10 as the log alone tells them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.claim import Claim
from domain.personal import pseudonym_of_erased
from ledger.rules_register import ClaimState, Found, Register, day


def _claimant_problems(r: Register, professional: str, network: str, activity: date, today: date | None) -> list[str]:
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


def _submitted(r: Register, e: Any) -> Found:
    cid = str(e.originator_id)
    if e.network_id not in r.networks:
        yield 1, f"network {e.network_id} is not registered", cid
    for problem in _claimant_problems(r, e.professional_id, e.network_id, e.activity_date, day(e)):
        yield 2, problem, cid
    r.claims[cid] = ClaimState(e.professional_id, e.network_id, e.kind, e.activity_date)


def _claim(r: Register, e: Any) -> tuple[str, ClaimState | None]:
    cid = str(e.originator_id)
    return cid, r.claims.get(cid)


def _endorsed(r: Register, e: Any) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, "the endorsed claim was never submitted", cid
        return
    if c.status != "submitted":
        yield 3, f"{e.by} endorsed a claim that was {c.status}", cid
    if e.by == c.professional:
        yield 3, f"{e.by} endorsed their own claim", cid
    if not r.registered(e.by, day(e)):
        yield 3, f"{e.by} was not a registered professional on {day(e)}", cid
    if not r.member(c.network, e.by, c.activity_date):
        yield 3, f"{e.by} was not a member of {c.network} on {c.activity_date}", cid
    if e.by in c.endorsers:
        yield 3, f"{e.by} endorsed the claim twice", cid
    c.endorsers.append(e.by)
    c.ever_endorsed.add(e.by)


def _claimant_change(r: Register, e: Any, verb: str) -> Found:
    cid, c = _claim(r, e)
    if c is None:
        yield 1, f"the {verb} claim was never submitted", cid
        return
    if e.actor != c.professional:
        yield 6, f"{e.actor} {verb} a claim of {c.professional}", cid
    if c.status not in ("submitted", "returned"):
        yield 6, f"the claim was {verb} while {c.status}", cid


def _withdrawn(r: Register, e: Any) -> Found:
    yield from _claimant_change(r, e, "withdrew")
    cid, c = _claim(r, e)
    if c is not None:
        c.status = "withdrawn"


def _amended(r: Register, e: Any) -> Found:
    yield from _claimant_change(r, e, "amended")
    cid, c = _claim(r, e)
    if c is None:
        return
    changes = dict(e.changes)
    if "activity_date" in changes and changes["activity_date"] != c.activity_date:
        for problem in _claimant_problems(r, c.professional, c.network, changes["activity_date"], day(e)):
            yield 2, problem, cid
    if any(k in changes and changes[k] != getattr(c, k) for k in ("kind", "activity_date")) and not e.endorsements_cleared:
        yield 3, "the kind or activity date changed but the endorsements were kept", cid
    c.kind = changes.get("kind", c.kind)
    c.activity_date = changes.get("activity_date", c.activity_date)
    if e.endorsements_cleared:
        c.endorsers = []
    c.status = "submitted"


def _decider_problems(r: Register, e: Any, c: ClaimState) -> Found:
    """Rules 4 and 9: who decided, and whether they could."""
    cid, who, today = str(e.originator_id), e.actor, day(e)
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


def _posting_problems(e: Any, c: ClaimState) -> Found:
    """The approval or revocation carries its posting: it must be the claim's."""
    posted = (e.professional_id, e.network_id, e.kind, e.activity_date)
    if posted != (c.professional, c.network, c.kind, c.activity_date):
        yield 1, f"the posting {posted} is not that of the claim", str(e.originator_id)


def _missing(e: Any, text: str | None) -> bool:
    """A decision's text is missing (rule 5) if it is empty, or None while its reviewer is not an erased
    one: an erased reviewer's texts cannot be read any more (SPEC §9), which is no broken rule."""
    return not (text or "").strip() and not (text is None and pseudonym_of_erased(e.actor) is not None)


def _decided(status: str) -> Any:
    def handle(r: Register, e: Any) -> Found:
        cid, c = _claim(r, e)
        if c is None:
            yield 1, "the decided claim was never submitted", cid
            return
        yield from _decider_problems(r, e, c)
        if c.status != "submitted":
            yield 4, f"the claim was {status} while {c.status}", cid
        if _missing(e, e.reason):
            yield 5, f"the claim was {status} without a reason", cid
        c.status = status

    return handle


def _approved(r: Register, e: Any) -> Found:
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
    if _missing(e, e.rationale):
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


def _revoked(r: Register, e: Any) -> Found:
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
    if _missing(e, e.reason):
        yield 5, "revoked without a reason", cid
    c.status = "revoked"


HANDLERS: dict[type, Any] = {
    Claim.Submitted: _submitted,
    Claim.Endorsed: _endorsed,
    Claim.Withdrawn: _withdrawn,
    Claim.Amended: _amended,
    Claim.Approved: _approved,
    Claim.Rejected: _decided("rejected"),
    Claim.Returned: _decided("returned"),
    Claim.Revoked: _revoked,
}
