"""Auditors' reads: a professional's history from the events alone, and the chain check.

`history` decodes every stored event through the library's mapper (never the read
models) and keeps those that concern the professional — as claimant, endorser, member or
reviewer — with the running balance after each. `verify_chain` recomputes the hash chain
of `ledger.integrity` over the stored rows and compares it with the seals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.balance import Tally
from domain.errors import UnknownProfessional
from domain.progress import counted
from domain.values import format_points
from ledger.app import Ledger
from ledger.integrity import Report, Row, check_chain, parse_digest
from ledger.rules_check import RuleProblem, check_rules

PAGE = 5000


def history(ledger: Ledger, professional: str, known_at: datetime | None = None) -> dict[str, Any]:
    """Every event concerning `professional` — a professional's or a reviewer's id — in recorded order,
    with the running balance.

    As known at an instant before the id was recorded, the history is empty and says so
    (`"recorded": false`), as `balance` and `network members` do: the id is known now, only not then.
    """
    from domain.professional import Professional
    from domain.reviewer import Reviewer

    roles = {}  # rule 1: refer only to what exists
    if ledger.find(Professional, ledger.id_of(Professional, professional)) is not None:
        roles["professional"] = professional
    if ledger.find(Reviewer, ledger.id_of(Reviewer, professional)) is not None:
        roles["reviewer"] = professional
    if not roles:
        ledger.check_not_erased(professional)
        raise UnknownProfessional(f"no professional or reviewer '{professional}' is registered")
    claims: set[UUID] = set()
    balance = Tally()  # the claimant's postings so far: the one fold every balance is added up with
    entries: list[dict[str, Any]] = []
    for event in ledger.event_log.all_events():
        if known_at is not None and event.timestamp > known_at:
            break  # events are recorded in log order
        entry = _concerning(event, professional, claims)
        if entry is None:
            continue
        if entry.get("role") == "claimant" and "points" in entry:
            balance.add(event.kind, event.network_id, entry.pop("_amount"))
        entry.pop("_amount", None)
        entry["balance"] = format_points(balance.total)
        entries.append(entry)
    recorded = any(e["type"] in ("ProfessionalRegistered", "ReviewerAppointed") for e in entries)
    return {**roles, "known_at": known_at.isoformat() if known_at else None, "recorded": recorded, "events": entries}


def _concerning(event: Any, professional: str, claims: set[UUID]) -> dict[str, Any] | None:
    """The history entry for `event` if it concerns `professional`, else None."""
    name = type(event).__qualname__
    if name.endswith("Noted"):
        return None  # bookkeeping for rule 8 (what relies on a fact), not a fact of its own
    base = {"recorded_at": event.timestamp.isoformat(), "type": name.replace(".", ""),
            "actor": getattr(event, "actor", None), "os_user": getattr(event, "os_user", None)}
    if name.startswith("Professional.") and event.professional_id == professional:
        details = {"on": _day(_first(event, "registered_on", "on", "deregistered_on"))}
        if name == "Professional.Registered":
            details.update(name=event.name, group=event.group)
        return {**base, "role": "professional", **details}
    if name.startswith("Reviewer.") and event.reviewer_id == professional:
        return {**base, "role": "reviewer", "on": _day(_first(event, "appointed_on", "on", "retired_on"))}
    if name.startswith("Membership.") and event.professional_id == professional:
        return {**base, "role": "member", "network": event.network_id, "on": _day(event.on)}
    if name == "Credential.Issued" and event.professional_id == professional:  # SPEC §10: who asked, when, which cycle
        return {**base, "role": "subject", "credential": event.credential_id, "cycle_start": _day(event.cycle_start),
                "cycle_end": _day(event.cycle_end), "at": _day(event.at), "known_at": event.known_at.isoformat(),
                "text": f"credential issued for the cycle {_day(event.cycle_start)} – {_day(event.cycle_end)}: "
                        f"{event.points} points, {event.claims} claim(s), asked by {event.os_user}"}
    if not name.startswith("Claim."):
        return None
    claim = str(event.originator_id)
    if name == "Claim.Submitted" and event.professional_id == professional:
        claims.add(event.originator_id)
        return {**base, "role": "claimant", "claim": claim, "network": event.network_id, "kind": event.kind,
                "activity_date": _day(event.activity_date), "hours": format_points(event.hours)}
    if event.originator_id in claims:
        entry = {**base, "role": "claimant", "claim": claim}
        if name in ("Claim.Approved", "Claim.Revoked"):
            amount = event.points if name == "Claim.Approved" else -event.points
            entry.update(points=format_points(amount), _amount=amount, network=event.network_id,
                         activity_date=_day(event.activity_date))
        text = getattr(event, "rationale", None) or getattr(event, "reason", None) or getattr(event, "statement", None)
        if text:
            entry["text"] = text
        if name == "Claim.Endorsed":
            entry["by"] = event.by
        return entry
    if name == "Claim.Endorsed" and event.by == professional:
        return {**base, "role": "endorser", "claim": claim, "text": event.statement}
    if event.actor == professional and name in ("Claim.Approved", "Claim.Rejected", "Claim.Returned", "Claim.Revoked"):
        entry = {**base, "role": "reviewer", "claim": claim,
                 "text": getattr(event, "rationale", None) or event.reason}
        for key, attribute in (("professional", "professional_id"), ("network", "network_id")):
            if getattr(event, attribute, None) is not None:
                entry[key] = getattr(event, attribute)
        if getattr(event, "activity_date", None) is not None:
            entry["activity_date"] = _day(event.activity_date)
        if name in ("Claim.Approved", "Claim.Revoked"):
            entry["points"] = format_points(event.points if name == "Claim.Approved" else -event.points)
        return entry
    return None


def _first(event: Any, *names: str) -> Any:
    """The first of the named attributes that the event has (each event type names its date its own way)."""
    return next((getattr(event, n) for n in names if getattr(event, n, None) is not None), None)


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- the rules -------------------------------------------------------------------------


def verify_rules(ledger: Ledger, progress: Callable[[int], None] | None = None) -> list[RuleProblem]:
    """SPEC §5: rules 1–10 re-checked over the whole log by `ledger.rules_check`, apart from the aggregates.

    An event that no longer decodes (changed in the database) is left out here: the chain check
    names it. `progress(n)` is told of every n events read (the CLI shows a progress bar).
    """
    return check_rules(counted(_decoded(ledger), progress))


def _decoded(ledger: Ledger) -> Iterator[tuple[int, Any]]:
    decode = ledger.mapper.to_domain_event
    for stored in ledger.event_log.notifications(size=PAGE):
        try:
            yield stored.id, decode(stored)
        except Exception:  # noqa: BLE001 - whatever a rewritten row makes the decoder raise
            continue


# --- the chain -------------------------------------------------------------------------


def _rows(ledger: Ledger, upto: int) -> Iterator[Row]:
    """Every event row up to `upto` as stored, read in SQL rather than through the recorder.

    Also rows at positions the library never hands out (0 or below), and values it would
    fail to read (an aggregate id that is no UUID, no state): check_chain reports them.
    """
    return map(Row._make, ledger.event_log.chain(upto))


def verify_chain(ledger: Ledger, digest_text: str | None = None,
                 progress: Callable[[int], None] | None = None) -> tuple[Report, list[str]]:
    """The chain over every stored event; with a digest, also that history up to it is unchanged.
    `progress(n)` is told of every n events checked."""
    log = ledger.event_log
    head = log.chain_head()
    report = check_chain(counted(_rows(ledger, head), progress), log.seals(head))
    notes: list[str] = []
    if digest_text is not None:
        position, prefix = parse_digest(digest_text)
        at = check_chain(_rows(ledger, position), log.seals(position), upto=position)
        if at.head != position:
            report.problems.append(
                f"the digest covers {position} events, but the chain holds only {at.head} unbroken: events were "
                "deleted or changed")
        elif at.seal.hex()[:32] != prefix:
            report.problems.append(
                f"the history up to event {position} differs from the one the digest was taken of")
        else:
            notes.append(f"the digest matches: no event up to {position} has changed since it was taken")
        report.ok = not report.problems
    return report, notes
