"""Stateful property: the ledger does what a plain in-memory model of SPEC §1 and §2 says.

A Hypothesis state machine registers professionals, reviewers and networks, deregisters,
retires and closes them, adopts policy versions, joins and leaves networks, submits (also
again with the same --request-id), endorses, approves, rejects, returns, amends, withdraws
and revokes claims, erases deregistered professionals (SPEC §9), lets days pass, catches the
read models up, rebuilds them, and closes and re-opens the ledger on the same store. Every write goes the way the CLI sends it: the
raw option strings through the command's marshmallow schema, then `Ledger.run(path, values)`.

Inputs are drawn so that allowed and refused commands are both frequent: the machine asks
the model about every candidate (who × what × which day) and takes one it allows, or one
that breaks exactly one rule (each broken rule as likely as another: self-endorsement, a
non-member, a retired reviewer, too few endorsements, a date in the future or outside the
membership, an unknown id …), or now and then any candidate at all. Dates come from a short
window around the clock's today, so that boundaries meet (a claim on the day of a leave, a
decision on the day of a retirement). --points lie on and around the cap; some inputs are
malformed (refused by the schema, exit 2).

`Model` is the oracle: dictionaries of what is registered, memberships as dated joins and
leaves with their recording instants, claims with status, endorsers and decisions, postings
with both times, and policy versions. It knows nothing of the implementation but the names
of the refusals. Where SPEC §1 is silent it takes the reading the CLI's help and README
give: deregistered on D still claims and endorses on D, a reviewer retired on D no longer
decides on D, a network closed on D is closed on D; a new policy version keeps the settings
it does not name from the latest version; changing a claim's kind or date clears its
endorsements; revoking needs an active reviewer other than the claimant.

Erasure, from SPEC §9: only a deregistered professional is erased (one who is also a reviewer
must be retired as that too: both roles go); every later command naming them (as registrant,
member, claimant, endorser or reviewer) is refused, PersonErased; nothing else changes. Their
claims, endorsements, memberships and postings stay in the model as they were: others'
balances, member counts and the map do not depend on who the erased one was. Their claims are
found by claim id only: the first result their --request-id recorded was sealed with their key,
so the key names no claim any more (UnknownClaim). Reads show them
as "an erased professional …" and never by their id; `balance` and `audit history` of them are
refused (PersonErased).

Checked at every step and at the end of every example:
- the system accepts exactly the commands the model accepts; a refusal is one of the
  refusals the model expects (same error, same rule number, a message naming "rule N") and
  writes nothing (the log's head does not move); an acceptance writes the number of events
  the model expects and answers what it expects (claim id, status, points, endorsements);
- `balance` (total, cycle, by kind, network and theme) and `network members` at dates D as
  known at instants T (on, just before and after each recording instant; `--known-at` in
  UTC, at another offset, or as a date meaning the whole day) are the same from the model,
  from the read models through `Reader` (the CLI's query path, which catches up first) and
  from a fresh `Replay` of the log; likewise the network map's member counts, claims (status,
  endorsers, kind, date, hours, points, decisions) and the review queue; the log holds as
  many events as the model wrote;
- after an erasure: the erased one's balance and history refused, every list of members the
  same length with the others' ids as before, no read naming the erased one's id.

Each example gets a store of its own: a fresh SQLite file in a temporary folder, or a fresh
PostgreSQL schema dropped in teardown (made inside the machine: function-scoped fixtures are
not reset between Hypothesis examples). The PostgreSQL half needs STUDYLEDGER_TEST_POSTGRES_URL.

CI size: STATEFUL_EXAMPLES (per engine) of STATEFUL_STEPS steps. By hand, e.g.:
    STUDYLEDGER_STATEFUL_EXAMPLES=300 STUDYLEDGER_STATEFUL_STEPS=60 STUDYLEDGER_STATEFUL_OUTCOMES=1 \
        python -m pytest tests/ledger/test_stateful.py -s -k sqlite
(STUDYLEDGER_STATEFUL_OUTCOMES=1 also prints how often each command was accepted or refused, by refusal.)
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as clock_time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from marshmallow import ValidationError

from domain.base import natural_id
from domain.errors import DomainError
from ledger.app import open_ledger
from ledger.audit import history, verify_chain
from ledger.integrity import digest as make_digest
from storage.errors import storage_errors
from ledger.rules_check import check_rules
from ledger.commands import schema_for
from ledger.schemas import Balance, Members, When
from storage.config import resolve
from projections.erasure import erase as erase_person
from projections.reader import Reader
from projections.replay import Replay
from projections.runner import ReadModels
from tests.support.harness import POSTGRES_URL, Clock, drop_schema

STATEFUL_EXAMPLES = {"sqlite": 40, "postgresql": 15}
STATEFUL_STEPS = 60
EXAMPLES_VAR, STEPS_VAR = "STUDYLEDGER_STATEFUL_EXAMPLES", "STUDYLEDGER_STATEFUL_STEPS"

UTC = timezone.utc
DAY = timedelta(days=1)
CENT = Decimal("0.01")

# --- the model: SPEC §1 and §2, written plainly ------------------------------------------

KINDS = ("question", "answer", "co-construction", "facilitation")
IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,64}")
INVALID = "InvalidInput"  # refused by the command's schema (exit 2), before any rule

# The rule of SPEC §1 each refusal names (None: a rule §1 implies without a number).
RULES: dict[str, int | None] = {
    "UnknownProfessional": 1, "UnknownReviewer": 1, "UnknownNetwork": 1, "UnknownClaim": 1,
    "AlreadyRegistered": 1,
    "ActivityDateInFuture": 2, "ActivityBeforeRegistration": 2, "ClaimantDeregistered": 2,
    "NetworkMustBeOpen": 2, "ClaimantMustBeNetworkMember": 2,
    "ClaimNotOpenForEndorsement": 3, "EndorserMustNotBeClaimant": 3, "EndorserMustBeRegistered": 3,
    "EndorserMustBeNetworkMember": 3, "AlreadyEndorsed": 3,
    "ReviewerNotActive": 4, "ReviewerMustNotBeClaimant": 4, "ReviewerMustNotHaveEndorsed": 4,
    "ClaimNotAwaitingDecision": 4,
    "NotEnoughEndorsements": 5, "PointsOutOfRange": 5, "RationaleRequired": 5, "ReasonRequired": 5,
    "OnlyClaimantMayChangeClaim": 6, "ClaimNotChangeable": 6,
    "OnlyApprovedClaimCanBeRevoked": 7, "RevokerMustNotBeClaimant": 7,
    "LeaveContradictsClaims": 8, "CloseContradictsClaims": 8, "DeregistrationContradictsClaims": 8,
    "RetirementContradictsDecisions": 8, "JoinBeforeRegistration": 8, "JoinBeforeFounding": 8,
    "ReviewerEndorsedBefore": 9, "ClaimantNoLongerEligible": 10, "NotEnoughValidEndorsements": 10,
    "DateOutOfOrder": None, "AlreadyDeregistered": None, "AlreadyRetired": None, "NetworkAlreadyClosed": None,
    "AlreadyMember": None, "NotAMember": None, "PolicyNotLater": None, "RequestIdReused": None,
    "NotDeregistered": None, "NotRetired": None, "NetworkNotClosed": None, "NoLeaveToCancel": None,
    "NoSuchPolicyVersion": None, "PolicyVersionInForce": None, "ProfessionalDeregistered": None,
    "PersonErased": 1,
}
ERASED = "an erased professional"  # how reads name an erased professional (followed by " #" and digits)
# The options of each command that name a person by register id: a command naming an erased one is refused.
NAMING = {
    "professional register": ("id",), "professional deregister": ("id",), "professional reinstate": ("id",),
    "professional erase": ("id",), "reviewer appoint": ("id",), "reviewer retire": ("id",),
    "reviewer reinstate": ("id",), "network join": ("professional",), "network leave": ("professional",),
    "claim submit": ("professional",), "claim endorse": ("by",), "claim withdraw": ("by",), "claim amend": ("by",),
    "review approve": ("reviewer",), "review reject": ("reviewer",), "review return": ("reviewer",),
    "review revoke": ("reviewer",),
}
LIVE = ("submitted", "returned", "approved")


def amount(text: str) -> Decimal | None:
    """An exact decimal with at most two places, or None when the text is not one."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value == value.quantize(CENT) else None


def fmt(value: Decimal) -> str:
    """Points as the JSON shows them: "12.5", "3", "0" (never a float)."""
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP).normalize(), "f")


def plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def cycle_of(registered_on: date, at: date, years: int) -> tuple[date, date]:
    """The registration cycle containing `at` (a date before registration: the first)."""
    k = 0
    while plus_years(registered_on, (k + 1) * years) <= at:
        k += 1
    return plus_years(registered_on, k * years), plus_years(registered_on, (k + 1) * years) - DAY


@dataclass(frozen=True)
class Terms:
    effective_from: date | None = None
    recorded_at: datetime | None = None
    points_per_hour: Decimal = Decimal(1)
    caps: tuple[tuple[str, Decimal], ...] = (
        ("question", Decimal(2)), ("answer", Decimal(4)), ("co-construction", Decimal(8)), ("facilitation", Decimal(6)),
    )
    min_endorsements: int = 1
    cycle_years: int = 4
    norm: Decimal = Decimal(160)

    def cap(self, kind: str) -> Decimal:
        return dict(self.caps)[kind]

    def suggested(self, kind: str, hours: Decimal) -> Decimal:
        return min(hours * self.points_per_hour, self.cap(kind)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class MProfessional:
    registered_on: date
    recorded_at: datetime
    deregistered_on: date | None = None

    def active_on(self, day: date) -> bool:
        return self.registered_on <= day and (self.deregistered_on is None or day <= self.deregistered_on)


@dataclass
class MReviewer:
    appointed_on: date
    retired_on: date | None = None
    decided_on: list[date] = field(default_factory=list)  # the days of their decisions

    def may_decide_on(self, day: date) -> bool:
        return self.appointed_on <= day and (self.retired_on is None or day < self.retired_on)


@dataclass
class MNetwork:
    themes: list[str]
    founded_on: date
    recorded_at: datetime
    closed_on: date | None = None

    def open_on(self, day: date) -> bool:
        return self.founded_on <= day and (self.closed_on is None or day < self.closed_on)


@dataclass
class MChange:
    """One recorded change of a membership: "join" (from `on`), "leave" (no member from `on`),
    "cancel" (the last leave undone), "end" (deregistered: no member from `on`, the day after),
    "restore" (that deregistration undone: the intervals of just before it come back)."""

    on: date
    joined: bool
    recorded_at: datetime
    what: str = ""
    before: list[list[Any]] | None = None  # for "restore": the intervals to bring back

    def __post_init__(self) -> None:
        self.what = self.what or ("join" if self.joined else "leave")


@dataclass
class MClaim:
    claimant: str
    network: str
    kind: str
    on: date
    hours: Decimal
    status: str = "submitted"
    endorsers: list[str] = field(default_factory=list)
    points: Decimal | None = None
    decisions: list[str] = field(default_factory=list)
    ever_endorsed: set[str] = field(default_factory=set)  # rule 9: what an amendment cleared still counts
    approved_at: datetime | None = None
    revoked_at: datetime | None = None

    def relies_on(self, professional: str) -> bool:
        """Live, and `professional` is its claimant or one of its endorsers (rule 8)."""
        return self.status in LIVE and (professional == self.claimant or professional in self.endorsers)


@dataclass(frozen=True)
class MPosting:
    professional: str
    network: str
    kind: str
    on: date
    recorded_at: datetime
    points: Decimal


@dataclass
class Prediction:
    errors: set[str]  # empty: accepted
    events: int = 1
    apply: Callable[[dict], None] | None = None  # records an accepted command in the model


class Model:
    def __init__(self) -> None:
        self.professionals: dict[str, MProfessional] = {}
        self.reviewers: dict[str, MReviewer] = {}
        self.networks: dict[str, MNetwork] = {}
        self.changes: dict[tuple[str, str], list[MChange]] = {}
        self.claims: dict[str, MClaim] = {}
        self.requests: dict[str, tuple[tuple, str, dict[str, Any]]] = {}  # key → (content, claim, raw)
        self.postings: list[MPosting] = []
        self.policies: list[Terms] = []  # adopted versions, in recorded order
        self.cancellations: list[tuple[date, datetime]] = []  # (effective from, recorded at)
        self.events = 0
        self.instants: list[datetime] = []
        self.dates: set[date] = set()
        self.erased: set[str] = set()  # register ids of erased people (both their roles)

    # --- what is known, at an instant ------------------------------------------------

    def intervals(self, network: str, professional: str, known_at: datetime | None = None) -> list[list[Any]]:
        """The membership's [first day, first day no longer] intervals, by the changes recorded by `known_at`."""
        intervals: list[list[Any]] = []
        for change in self.changes.get((network, professional), []):
            if known_at is not None and change.recorded_at > known_at:
                continue
            if change.what == "join":
                intervals.append([change.on, None])
            elif change.what in ("leave",):
                intervals[-1][1] = change.on
            elif change.what == "cancel":
                intervals[-1][1] = None
            elif change.what == "end":  # a member through the deregistration day, on no later day
                intervals = [[a, change.on if b is None or b > change.on else b] for a, b in intervals if a < change.on]
            else:
                intervals = [list(i) for i in change.before or []]
        return intervals

    def member(self, network: str, professional: str, day: date, known_at: datetime | None = None) -> bool:
        """Joined on or before `day` and not left on or before it, by the changes recorded by `known_at`."""
        return any(start <= day and (end is None or day < end)
                   for start, end in self.intervals(network, professional, known_at))

    def versions(self, known_at: datetime | None = None) -> list[Terms]:
        """The policy versions in force as known at `known_at`: adopted, less those cancelled since."""
        known = [t for t in self.policies if known_at is None or t.recorded_at <= known_at]  # type: ignore[operator]
        cancelled = [(day, at) for day, at in self.cancellations if known_at is None or at <= known_at]
        return [t for t in known if not any(day == t.effective_from and at > t.recorded_at for day, at in cancelled)]

    def terms(self, day: date, known_at: datetime | None = None) -> Terms:
        in_force = [t for t in self.versions(known_at) if t.effective_from <= day]  # type: ignore[operator]
        return in_force[-1] if in_force else Terms()

    def claim(self, ref: str) -> tuple[str, MClaim] | None:
        if ref in self.claims:
            return ref, self.claims[ref]
        if ref in self.requests:
            claim_id = self.requests[ref][1]
            if self.claims[claim_id].claimant in self.erased:
                return None  # SPEC §9: what the key answered was the erased claimant's, sealed with their key
            return claim_id, self.claims[claim_id]
        return None

    def balance(self, professional: str, at: date, known_at: datetime) -> dict[str, Any]:
        counted = [p for p in self.postings if p.professional == professional and p.on <= at and p.recorded_at <= known_at]
        by_kind: dict[str, Decimal] = {}
        by_network: dict[str, Decimal] = {}
        by_theme: dict[str, Decimal] = {}
        for p in counted:
            by_kind[p.kind] = by_kind.get(p.kind, Decimal(0)) + p.points
            by_network[p.network] = by_network.get(p.network, Decimal(0)) + p.points
            for theme in self.networks[p.network].themes:
                by_theme[theme] = by_theme.get(theme, Decimal(0)) + p.points
        registration = self.professionals[professional]
        cycle = None
        if registration.recorded_at <= known_at:
            terms = self.terms(at, known_at)
            start, end = cycle_of(registration.registered_on, at, terms.cycle_years)
            in_cycle = sum((p.points for p in counted if p.on >= start), Decimal(0))
            cycle = {"start": start.isoformat(), "end": end.isoformat(), "points": fmt(in_cycle),
                     "norm": fmt(terms.norm), "shortfall": fmt(max(Decimal(0), terms.norm - in_cycle))}
        text = lambda sums: {k: fmt(sums[k]) for k in sorted(sums)}  # noqa: E731
        return {
            "professional": professional, "at": at.isoformat(), "known_at": known_at.isoformat(),
            "total": fmt(sum((p.points for p in counted), Decimal(0))),
            "recorded": registration.recorded_at <= known_at, "cycle": cycle,
            "by_kind": text(by_kind), "by_network": text(by_network), "by_theme": text(by_theme),
        }

    def members(self, network: str, at: date, known_at: datetime) -> list[str]:
        return sorted({p for (n, p) in self.changes if n == network and self.member(n, p, at, known_at)})

    def network_map(self, at: date, known_at: datetime) -> dict[str, int]:
        return {n: len(self.members(n, at, known_at)) for n, net in sorted(self.networks.items())
                if net.recorded_at <= known_at and net.founded_on <= at}

    # --- the rules: which are broken by a command, today ------------------------------

    def activity_errors(self, professional: str, network: str, on: date, today: date) -> set[str]:
        """Rule 2 (and rule 1 for the professional and the network)."""
        errors = set()
        p, n = self.professionals.get(professional), self.networks.get(network)
        if p is None:
            errors.add("UnknownProfessional")
        if n is None:
            errors.add("UnknownNetwork")
        if on > today:
            errors.add("ActivityDateInFuture")
        if p is not None and on < p.registered_on:
            errors.add("ActivityBeforeRegistration")
        # Deregistered: no new claims after that date.
        if p is not None and p.deregistered_on is not None and (today > p.deregistered_on or on > p.deregistered_on):
            errors.add("ClaimantDeregistered")
        if n is not None and not n.open_on(on):
            errors.add("NetworkMustBeOpen")
        if not self.member(network, professional, on):
            errors.add("ClaimantMustBeNetworkMember")
        return errors

    def endorse_errors(self, ref: str, by: str, today: date) -> set[str]:
        """Rule 3."""
        errors = set()
        found = self.claim(ref)
        endorser = self.professionals.get(by)
        if endorser is None:
            errors.add("UnknownProfessional")
        elif not endorser.active_on(today):
            errors.add("EndorserMustBeRegistered")
        if found is None:
            return errors | {"UnknownClaim"}
        claim = found[1]
        if claim.status != "submitted":
            errors.add("ClaimNotOpenForEndorsement")
        if by == claim.claimant:
            errors.add("EndorserMustNotBeClaimant")
        if not self.member(claim.network, by, claim.on):
            errors.add("EndorserMustBeNetworkMember")
        if by in claim.endorsers:
            errors.add("AlreadyEndorsed")
        return errors

    def reviewer_errors(self, reviewer: str, today: date) -> set[str]:
        found = self.reviewers.get(reviewer)
        if found is None:
            return {"UnknownReviewer"}
        return set() if found.may_decide_on(today) else {"ReviewerNotActive"}

    def decision_errors(self, verb: str, ref: str, reviewer: str, points: Decimal | None, today: date) -> set[str]:
        """Rules 4 and 5 for approve, reject and return; rule 7 for revoke."""
        errors = self.reviewer_errors(reviewer, today)
        found = self.claim(ref)
        if found is None:
            return errors | {"UnknownClaim"}
        claim = found[1]
        # rule 9: whoever endorsed the claim, even if an amendment cleared it since, decides nothing on it
        if reviewer in claim.endorsers:
            errors.add("ReviewerMustNotHaveEndorsed")
        elif reviewer in claim.ever_endorsed:
            errors.add("ReviewerEndorsedBefore")
        if verb == "revoke":
            if claim.status != "approved":
                errors.add("OnlyApprovedClaimCanBeRevoked")
            if reviewer == claim.claimant:
                errors.add("RevokerMustNotBeClaimant")
            return errors
        if reviewer == claim.claimant:
            errors.add("ReviewerMustNotBeClaimant")
        if claim.status != "submitted":
            errors.add("ClaimNotAwaitingDecision")
        if verb == "approve":
            terms = self.terms(claim.on)  # the policy in force on the activity date
            # rule 10: the claimant and each endorser still qualify, as the register knows it now
            p, n = self.professionals[claim.claimant], self.networks[claim.network]
            if not (p.registered_on <= claim.on and (p.deregistered_on is None or claim.on <= p.deregistered_on)
                    and n.open_on(claim.on) and self.member(claim.network, claim.claimant, claim.on)):
                errors.add("ClaimantNoLongerEligible")
            counted = [e for e in claim.endorsers
                       if self.professionals[e].active_on(claim.on) and self.member(claim.network, e, claim.on)]
            if len(claim.endorsers) < terms.min_endorsements:
                errors.add("NotEnoughEndorsements")
            elif len(counted) < terms.min_endorsements:
                errors.add("NotEnoughValidEndorsements")
            awarded = terms.suggested(claim.kind, claim.hours) if points is None else points
            if not Decimal(0) < awarded <= terms.cap(claim.kind):
                errors.add("PointsOutOfRange")
        return errors

    def claimant_errors(self, ref: str, by: str) -> set[str]:
        """Rule 6."""
        found = self.claim(ref)
        if found is None:
            return {"UnknownClaim"}
        claim = found[1]
        errors = set()
        if by != claim.claimant:
            errors.add("OnlyClaimantMayChangeClaim")
            if by not in self.professionals:
                errors.add("UnknownProfessional")
        if claim.status not in ("submitted", "returned"):
            errors.add("ClaimNotChangeable")
        return errors

    # --- commands: what the model predicts, and what an acceptance changes --------------

    def predict(self, command: str, raw: dict[str, Any], now: datetime) -> Prediction:
        today = now.date()  # "today" for the rules: the recording instant's date (UTC)
        given = {k: v for k, v in raw.items() if v is not None}
        handler = getattr(self, "_" + command.replace(" ", "_"))
        prediction: Prediction = handler(given, today, now)
        if {given.get(name) for name in NAMING.get(command, ())} & self.erased and prediction.errors != {INVALID}:
            # SPEC §9: the erased are nobody the register can act for or on any more. (A claim's claimant
            # changing it: the claim names someone else now; a --request-id of theirs: their fingerprint's
            # key is gone, so the same content no longer matches.)
            also = {"OnlyClaimantMayChangeClaim"} if command in ("claim withdraw", "claim amend") else set()
            if command == "claim submit" and given.get("request_id") in self.requests:
                also.add("RequestIdReused")
            prediction = Prediction(prediction.errors | {"PersonErased"} | also)
        if not prediction.errors:
            inner = prediction.apply

            def accepted(result: dict) -> None:
                self.events += prediction.events
                if prediction.events:
                    self.instants.append(now)
                if inner is not None:
                    inner(result)

            prediction.apply = accepted
        return prediction

    @staticmethod
    def _day(given: dict[str, Any], key: str, default: date) -> date:
        return date.fromisoformat(given[key]) if key in given else default

    def _professional_register(self, g: dict, today: date, now: datetime) -> Prediction:
        if not IDENTIFIER.fullmatch(g["id"]):
            return Prediction({INVALID})
        if g["id"] in self.professionals:
            return Prediction({"AlreadyRegistered"})
        on = self._day(g, "registered_on", today)

        def apply(result: dict) -> None:
            self.professionals[g["id"]] = MProfessional(on, now)
            self.dates.add(on)
        return Prediction(set(), events=1, apply=apply)  # (the guard of its lower-cased id is in the key store)

    def _professional_deregister(self, g: dict, today: date, now: datetime) -> Prediction:
        p, on = self.professionals.get(g["id"]), date.fromisoformat(g["on"])
        if p is None:
            return Prediction({"UnknownProfessional"})
        errors = set()
        if p.deregistered_on is not None:
            errors.add("AlreadyDeregistered")
        if on < p.registered_on:
            errors.add("DateOutOfOrder")
        if any(c.relies_on(g["id"]) and c.on > on for c in self.claims.values()):
            errors.add("DeregistrationContradictsClaims")  # rule 8
        # SPEC §1: deregistration on D ends every membership on D; those that cover a later day end
        ending = [key for key in self.changes if key[1] == g["id"]
                  and any(b is None or b > on + DAY for a, b in self.intervals(*key))]

        def apply(result: dict) -> None:
            p.deregistered_on = on
            self.dates.add(on)
            for key in ending:
                self.changes[key].append(MChange(on + DAY, False, now, "end", self.intervals(*key)))
            assert result["memberships_ended"] == sorted(n for n, _ in ending), result
        return Prediction(errors, events=1 + len(ending), apply=apply)

    def ended(self, key: tuple[str, str]) -> bool:
        """Whether the membership's last interval was ended by a deregistration."""
        return self.last_ending(key) == "end"

    def _professional_reinstate(self, g: dict, today: date, now: datetime) -> Prediction:
        p = self.professionals.get(g["id"])
        if p is None:
            return Prediction({"UnknownProfessional"})
        if p.deregistered_on is None:
            return Prediction({"NotDeregistered"})
        restoring = [key for key in self.changes if key[1] == g["id"] and self.ended(key)]

        def apply(result: dict) -> None:
            p.deregistered_on = None
            for key in restoring:
                end = self.changes[key][-1]
                self.changes[key].append(MChange(end.on, True, now, "restore", end.before))
        return Prediction(set(), events=1 + len(restoring), apply=apply)

    def _reviewer_appoint(self, g: dict, today: date, now: datetime) -> Prediction:
        if g["id"] in self.reviewers:
            return Prediction({"AlreadyRegistered"})
        on = self._day(g, "on", today)
        return Prediction(set(), events=1, apply=lambda result: self.reviewers.__setitem__(g["id"], MReviewer(on)))

    def _professional_erase(self, g: dict, today: date, now: datetime) -> Prediction:
        if not g["reason"].strip():
            return Prediction({INVALID})
        p = self.professionals.get(g["id"])
        if p is None:
            return Prediction({"UnknownProfessional"})
        errors = set()
        if p.deregistered_on is None:
            errors.add("NotDeregistered")
        r = self.reviewers.get(g["id"])  # the same person as a reviewer: erased too, so retired first
        if r is not None and r.retired_on is None:
            errors.add("NotRetired")

        def apply(result: dict) -> None:
            self.erased.add(g["id"])
            assert result["status"] == "erased" and result["professional"] == g["id"], result
            assert result["roles"] == (["professional", "reviewer"] if r is not None else ["professional"]), result
        return Prediction(errors, events=2 if r is not None else 1, apply=apply)  # an Erased event for each role

    def _reviewer_retire(self, g: dict, today: date, now: datetime) -> Prediction:
        r, on = self.reviewers.get(g["id"]), date.fromisoformat(g["on"])
        if r is None:
            return Prediction({"UnknownReviewer"})
        errors = set()
        if r.retired_on is not None:
            errors.add("AlreadyRetired")
        if on < r.appointed_on:
            errors.add("DateOutOfOrder")
        if any(on <= day for day in r.decided_on):
            errors.add("RetirementContradictsDecisions")  # rule 8
        return Prediction(errors, apply=lambda result: setattr(r, "retired_on", on))

    def _reviewer_reinstate(self, g: dict, today: date, now: datetime) -> Prediction:
        r = self.reviewers.get(g["id"])
        if r is None:
            return Prediction({"UnknownReviewer"})
        if r.retired_on is None:
            return Prediction({"NotRetired"})
        return Prediction(set(), apply=lambda result: setattr(r, "retired_on", None))

    def _network_register(self, g: dict, today: date, now: datetime) -> Prediction:
        if g["id"] in self.networks:
            return Prediction({"AlreadyRegistered"})
        on = self._day(g, "founded_on", today)

        def apply(result: dict) -> None:
            self.networks[g["id"]] = MNetwork(sorted(set(g["theme"])), on, now)
            self.dates.add(on)
        return Prediction(set(), events=2, apply=apply)  # and the guard of its lower-cased id

    def _network_close(self, g: dict, today: date, now: datetime) -> Prediction:
        n, on = self.networks.get(g["id"]), date.fromisoformat(g["on"])
        if n is None:
            return Prediction({"UnknownNetwork"})
        errors = set()
        if n.closed_on is not None:
            errors.add("NetworkAlreadyClosed")
        if on < n.founded_on:
            errors.add("DateOutOfOrder")
        if any(c.network == g["id"] and c.status in LIVE and c.on >= on for c in self.claims.values()):
            errors.add("CloseContradictsClaims")  # rule 8

        def apply(result: dict) -> None:
            n.closed_on = on
            self.dates.add(on)
        return Prediction(errors, apply=apply)

    def _network_reopen(self, g: dict, today: date, now: datetime) -> Prediction:
        n = self.networks.get(g["id"])
        if n is None:
            return Prediction({"UnknownNetwork"})
        if n.closed_on is None:
            return Prediction({"NetworkNotClosed"})
        return Prediction(set(), apply=lambda result: setattr(n, "closed_on", None))

    def join_errors(self, network: str, professional: str, on: date) -> set[str]:
        errors = set()
        n, p = self.networks.get(network), self.professionals.get(professional)
        if n is None:
            errors.add("UnknownNetwork")
        elif on < n.founded_on:
            errors.add("JoinBeforeFounding")  # rule 8
        elif not n.open_on(on):
            errors.add("NetworkMustBeOpen")
        if p is None:
            errors.add("UnknownProfessional")
        else:
            if on < p.registered_on:
                errors.add("JoinBeforeRegistration")  # rule 8
            if p.deregistered_on is not None:
                errors.add("ProfessionalDeregistered")  # on any date: reinstate first
        intervals = self.intervals(network, professional)
        if intervals and intervals[-1][1] is None:
            errors.add("AlreadyMember")
        elif intervals and on < intervals[-1][1]:
            errors.add("DateOutOfOrder")  # re-joining before leaving
        return errors

    def leave_errors(self, network: str, professional: str, on: date) -> set[str]:
        errors = set()
        if network not in self.networks:
            errors.add("UnknownNetwork")
        if professional not in self.professionals:
            errors.add("UnknownProfessional")
        intervals = self.intervals(network, professional)
        if not intervals or intervals[-1][1] is not None:
            errors.add("NotAMember")
        elif on <= intervals[-1][0]:
            errors.add("DateOutOfOrder")  # leaving on or before joining
        if any(c.network == network and c.relies_on(professional) and c.on >= on for c in self.claims.values()):
            errors.add("LeaveContradictsClaims")  # rule 8
        return errors

    def cancel_errors(self, network: str, professional: str) -> set[str]:
        errors = set()
        if network not in self.networks:
            errors.add("UnknownNetwork")
        p = self.professionals.get(professional)
        if p is None:
            errors.add("UnknownProfessional")
        if (network, professional) not in self.changes:
            errors.add("NotAMember")
        elif self.last_ending((network, professional)) != "leave":
            errors.add("NoLeaveToCancel")  # never left, re-joined since, or ended by a deregistration
        elif p is not None and p.deregistered_on is not None:
            errors.add("ProfessionalDeregistered")
        return errors

    def last_ending(self, key: tuple[str, str]) -> str | None:
        """How the membership's last interval ended: "leave", "end" (a deregistration) or None (it runs on)."""
        state: str | None = None
        before_end: str | None = None
        for change in self.changes.get(key, []):
            if change.what == "end":
                before_end, state = state, "end"
            elif change.what == "restore":
                state = before_end
            else:
                state = "leave" if change.what == "leave" else None
        return state

    def _network_join(self, g: dict, today: date, now: datetime) -> Prediction:
        network, professional, on = g["network"], g["professional"], date.fromisoformat(g["on"])
        first = (network, professional) not in self.changes  # noted by the network and the professional too

        def apply(result: dict) -> None:
            self.changes.setdefault((network, professional), []).append(MChange(on, True, now))
            self.dates.add(on)
        return Prediction(self.join_errors(network, professional, on), events=3 if first else 1, apply=apply)

    def _network_leave(self, g: dict, today: date, now: datetime) -> Prediction:
        network, professional = g["network"], g["professional"]
        if g.get("cancel"):
            def cancel(result: dict) -> None:
                left = self.intervals(network, professional)[-1][1]
                self.changes[network, professional].append(MChange(left, True, now, "cancel"))
                assert result["status"] == "leave cancelled" and result["on"] == left.isoformat(), result
            return Prediction(self.cancel_errors(network, professional), apply=cancel)
        on = date.fromisoformat(g["on"])

        def apply(result: dict) -> None:
            self.changes[network, professional].append(MChange(on, False, now))
            self.dates.add(on)
        return Prediction(self.leave_errors(network, professional, on), apply=apply)

    def _policy_adopt(self, g: dict, today: date, now: datetime) -> Prediction:
        on = date.fromisoformat(g["effective_from"])
        versions = self.versions()
        if versions and on <= versions[-1].effective_from:  # type: ignore[operator]
            return Prediction({"PolicyNotLater"})
        base = versions[-1] if versions else Terms()
        caps = dict(base.caps)
        for setting in g.get("cap", []):
            kind, _, value = setting.partition("=")
            caps[kind] = Decimal(value)
        terms = replace(
            base, effective_from=on, recorded_at=now, caps=tuple(caps.items()),
            points_per_hour=Decimal(g["points_per_hour"]) if "points_per_hour" in g else base.points_per_hour,
            min_endorsements=int(g.get("min_endorsements", base.min_endorsements)),
            cycle_years=int(g.get("cycle_years", base.cycle_years)),
            norm=Decimal(g["norm"]) if "norm" in g else base.norm,
        )

        def apply(result: dict) -> None:
            self.policies.append(terms)
            self.dates.add(on)
        # The first adoption opens the policy book too: two events.
        return Prediction(set(), events=1 if self.policies else 2, apply=apply)

    def _policy_cancel(self, g: dict, today: date, now: datetime) -> Prediction:
        on = date.fromisoformat(g["effective_from"])
        if not any(t.effective_from == on for t in self.versions()):
            return Prediction({"NoSuchPolicyVersion"})
        if on <= today:
            return Prediction({"PolicyVersionInForce"})
        return Prediction(set(), apply=lambda result: self.cancellations.append((on, now)))

    def _claim_submit(self, g: dict, today: date, now: datetime) -> Prediction:
        hours = amount(g["hours"])
        if g["kind"] not in KINDS or hours is None or not Decimal(0) < hours <= 40:
            return Prediction({INVALID})
        on = date.fromisoformat(g["on"])
        content = (g["professional"], g["network"], g["kind"], on, hours.normalize(), g["description"], g["outcome"],
                   g.get("practice_change"))
        key = g.get("request_id")
        if key in self.requests:
            first, claim_id, _ = self.requests[key]
            if first != content:
                return Prediction({"RequestIdReused"})

            def repeat(result: dict) -> None:  # the first result, marked as a repeat of the key
                assert result == {"claim": claim_id, "status": "submitted",
                                  "replayed": {**result["replayed"], "request_id": key}}, result
            return Prediction(set(), events=0, apply=repeat)
        errors = self.activity_errors(g["professional"], g["network"], on, today)

        def apply(result: dict) -> None:
            assert result["status"] == "submitted", result
            self.claims[result["claim"]] = MClaim(g["professional"], g["network"], g["kind"], on, hours)
            if key is not None:
                self.requests[key] = (content, result["claim"], g)
            self.dates.add(on)
        # the claim, its note on the claimant's membership (rule 8), and the request record
        return Prediction(errors, events=3 if key is not None else 2, apply=apply)

    def _claim_endorse(self, g: dict, today: date, now: datetime) -> Prediction:
        errors = self.endorse_errors(g["claim"], g["by"], today)

        def apply(result: dict) -> None:
            claim_id, claim = self.claim(g["claim"])  # type: ignore[misc]
            claim.endorsers.append(g["by"])
            claim.ever_endorsed.add(g["by"])
            assert result == {"claim": claim_id, "status": "submitted", "endorsements": len(claim.endorsers)}, result
        return Prediction(errors, events=2, apply=apply)  # and its note on the endorser's membership

    def _claim_withdraw(self, g: dict, today: date, now: datetime) -> Prediction:
        errors = self.claimant_errors(g["claim"], g["by"])

        def apply(result: dict) -> None:
            claim = self.claim(g["claim"])[1]  # type: ignore[index]
            claim.status = "withdrawn"
            claim.decisions.append("withdrawn")
        return Prediction(errors, apply=apply)

    def _claim_amend(self, g: dict, today: date, now: datetime) -> Prediction:
        changes = {k: g[k] for k in ("kind", "on", "hours", "description", "outcome", "practice_change") if k in g}
        hours = amount(g["hours"]) if "hours" in g else Decimal(1)
        if not changes or g.get("kind", KINDS[0]) not in KINDS or hours is None or not Decimal(0) < hours <= 40:
            return Prediction({INVALID})
        errors = self.claimant_errors(g["claim"], g["by"])
        found = self.claim(g["claim"])
        if found is not None and "on" in g:  # a new activity date is checked as at submission
            claim = found[1]
            errors |= self.activity_errors(claim.claimant, claim.network, date.fromisoformat(g["on"]), today)

        def apply(result: dict) -> None:
            claim_id, claim = self.claim(g["claim"])  # type: ignore[misc]
            kind, on = g.get("kind", claim.kind), date.fromisoformat(g["on"]) if "on" in g else claim.on
            if kind != claim.kind or on != claim.on:
                claim.endorsers = []  # endorsements vouch for a kind of activity on a date
            claim.kind, claim.on, claim.hours, claim.status = kind, on, hours if "hours" in g else claim.hours, "submitted"
            claim.decisions.append("amended")
            self.dates.add(on)
            assert result == {"claim": claim_id, "status": "submitted", "endorsements": len(claim.endorsers)}, result
        return Prediction(errors, events=2 if "on" in g else 1, apply=apply)  # a new date: noted on the membership

    def _decide(self, verb: str, g: dict, today: date, now: datetime) -> Prediction:
        text = g.get("rationale" if verb == "approve" else "reason", "")
        points = amount(g["points"]) if "points" in g else None
        if not text.strip() or ("points" in g and points is None):
            return Prediction({INVALID})
        errors = self.decision_errors(verb, g["claim"], g["reviewer"], points, today)
        status = {"approve": "approved", "reject": "rejected", "return": "returned", "revoke": "revoked"}[verb]
        decider = self.reviewers.get(g["reviewer"])
        new_day = decider is not None and all(day < today for day in decider.decided_on)

        def apply(result: dict) -> None:
            decider.decided_on.append(today)  # type: ignore[union-attr]
            claim_id, claim = self.claim(g["claim"])  # type: ignore[misc]
            expected: dict[str, Any] = {"claim": claim_id, "status": status}
            if verb == "approve":
                claim.points = claim_points = points if points is not None else \
                    self.terms(claim.on).suggested(claim.kind, claim.hours)
                self.postings.append(MPosting(claim.claimant, claim.network, claim.kind, claim.on, now, claim_points))
                claim.approved_at = now
                expected["points"] = fmt(claim_points)
            elif verb == "revoke":
                assert claim.points is not None
                self.postings.append(MPosting(claim.claimant, claim.network, claim.kind, claim.on, now, -claim.points))
                claim.revoked_at = now
                expected["points"] = fmt(-claim.points)
            claim.status = status
            claim.decisions.append(status)
            assert result == expected, (result, expected)
        # the decision, and the reviewer's first decision of the day (rule 8: a retirement comes after it)
        return Prediction(errors, events=2 if new_day else 1, apply=apply)

    def _review_approve(self, g: dict, today: date, now: datetime) -> Prediction:
        return self._decide("approve", g, today, now)

    def _review_reject(self, g: dict, today: date, now: datetime) -> Prediction:
        return self._decide("reject", g, today, now)

    def _review_return(self, g: dict, today: date, now: datetime) -> Prediction:
        return self._decide("return", g, today, now)

    def _review_revoke(self, g: dict, today: date, now: datetime) -> Prediction:
        return self._decide("revoke", g, today, now)


# --- what the machine draws ------------------------------------------------------------

PROFESSIONALS = ("P-1", "P-2", "P-3", "P-4", "P-5")
REVIEWERS = ("R-1", "P-1", "R-2", "P-2")  # P-1 and P-2 may be reviewers and professionals at once
NETWORKS = ("N-1", "N-2", "N-3")
THEMES = {"N-1": ["care", "wounds"], "N-2": ["wounds"], "N-3": ["teaching", "care"]}
GROUPS = {"N-1": ["nurse"], "N-2": ["nurse", "therapist"], "N-3": ["teacher-secondary"]}

START = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # the Clock's first instant
FIRST = date(2026, 6, 1)
WINDOW = [FIRST + timedelta(days=n) for n in range(20)]  # to 2026-06-20: a few days in the future (few: they meet)
dates = st.sampled_from(WINDOW)
early = st.sampled_from(WINDOW[:4])
gaps = st.sampled_from([timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(minutes=7),
                        timedelta(hours=5)])
# Mostly well-formed values; now and then one the command's schema refuses (exit 2).
kinds = st.sampled_from([*KINDS] * 5 + ["lecture"])
hours_text = st.sampled_from(["0.25", "0.5", "1", "1.5", "2", "2", "3", "4", "4.75", "6", "8", "8", "12", "40", "0",
                              "40.01", "1.234"])
reasons = st.sampled_from(["Because", "Well argued", "Please add the outcome", "Fine", "Yes", "Agreed", "Noted", "Good",
                           "Clear", "Sound", "Thanks", "Right", "Done", "Seen", "  "])  # blank: invalid
request_ids = st.sampled_from([None, None, None, "k-1", "k-2", "k-3"])
WAYS = ("valid",) * 4 + ("broken",) * 3 + ("any",)  # how `pick` chooses: see there
UNKNOWN_REFS = ["no-such-claim", "8d1f3f5e-2b7c-4e59-9a57-0c6f3b0e9d10", str(natural_id("professional", "P-1"))]


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    outcomes: Counter = field(default_factory=Counter)  # (command, "accepted" | error name) → count
    reads: int = 0


STATS = Stats()


def fresh_store(engine: str) -> tuple[Any, Callable[[], None]]:
    """A store of one example's own, and how to remove it."""
    if engine == "sqlite":
        folder = tempfile.mkdtemp(prefix="studyledger-stateful-")
        return resolve(os.path.join(folder, "ledger.db")), lambda: shutil.rmtree(folder, ignore_errors=True)
    assert POSTGRES_URL
    schema = "sm_" + uuid.uuid4().hex[:12]
    separator = "&" if "?" in POSTGRES_URL else "?"
    return resolve(f"{POSTGRES_URL}{separator}schema={schema}"), lambda: drop_schema(POSTGRES_URL, schema)


class LedgerMachine(RuleBasedStateMachine):
    engine = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        STATS.examples += 1
        self.clock = Clock()
        assert self.clock.now == START
        self.model = Model()
        self.store, self.remove = fresh_store(self.engine)
        self.ledger = open_ledger(self.store, create=True, clock=self.clock, os_user="tester")
        self.models = ReadModels(self.ledger.event_log)
        self.digests: list[str] = []  # `audit digest` before each erasure

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is None:  # the example ran to its end: a last full comparison
                self.compare_reads([(None, None), (WINDOW[-1].isoformat(), "first")])
                for kept in [None, *self.digests]:  # `audit verify [--digest X]`: the chain holds, erasures or not
                    report, notes = verify_chain(self.ledger, kept)
                    assert report.ok and (kept is None or any("digest matches" in n for n in notes)), \
                        (kept, report.problems)
        finally:
            self.models.close()
            self.ledger.close()
            self.remove()

    def digest(self) -> str:
        """What `audit digest` prints now."""
        report, _ = verify_chain(self.ledger)
        assert report.ok, report.problems
        return make_digest(report.head, report.seal)

    # --- plumbing ------------------------------------------------------------------

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def send(self, command: str, raw: dict[str, Any]) -> dict | None:
        """Validate `raw` with the command's schema and run it, as the CLI does; check it against the model."""
        expected = self.model.predict(command, raw, self.clock.now)
        before = self.head()
        outcome, result = "accepted", None
        try:
            loaded = schema_for(command).load({k: v for k, v in raw.items() if v is not None})
        except ValidationError:
            outcome = INVALID
        else:
            try:
                with storage_errors(self.store.where, self.store.secrets):
                    if command == "professional erase":  # as the CLI does: the read models purged in the same run
                        self.digests.append(self.digest())  # taken before: it must still verify afterwards
                        result = erase_person(self.ledger, self.models, loaded)
                    else:
                        result = self.ledger.handle(loaded)
            except DomainError as error:
                outcome = error.name
                assert error.name in RULES, f"{command} {raw}: an error the model does not know: {error}"
                assert error.rule == RULES[error.name], f"{command} {raw}: {error} should name rule {RULES[error.name]}"
                if error.rule:
                    assert f"rule {error.rule}" in str(error), str(error)
        after = self.head()
        STATS.outcomes[command, outcome] += 1
        if outcome == "accepted":
            assert not expected.errors, f"{command} {raw} was accepted; the model refuses it: {sorted(expected.errors)}"
            assert result is not None and expected.apply is not None
            assert after - before == expected.events, f"{command} {raw} wrote {after - before} events, not {expected.events}"
            expected.apply(result)
            return result
        assert expected.errors, f"{command} {raw} was refused ({outcome}); the model accepts it"
        assert outcome in expected.errors, f"{command} {raw} was refused with {outcome}, not {sorted(expected.errors)}"
        assert after == before, f"{command} {raw} was refused ({outcome}) but wrote {after - before} event(s)"
        return None

    @staticmethod
    def pick(data: Any, candidates: list[Any], errors_of: Callable[[Any], set[str]], label: str,
             ways: tuple[str, ...] = WAYS) -> Any:
        """One of `candidates`: mostly one the model allows, often one that breaks exactly one
        rule (each broken rule as likely as another), now and then any at all."""
        valid, broken = [], {}
        for candidate in candidates:
            errors = errors_of(candidate)
            if not errors:
                valid.append(candidate)
            elif len(errors) == 1:
                broken.setdefault(next(iter(errors)), []).append(candidate)
        way = data.draw(st.sampled_from(ways), label=f"{label}: which")
        if way == "valid" and valid:
            return data.draw(st.sampled_from(valid), label=label)
        if way != "any" and broken:
            rule = data.draw(st.sampled_from(sorted(broken)), label=f"{label}: breaking")
            return data.draw(st.sampled_from(broken[rule]), label=label)
        return data.draw(st.sampled_from(candidates), label=label)

    def days_to_try(self) -> list[date]:
        """The window's days; twice as often the days of the history so far and the days either
        side (so that boundaries meet: a claim on the day of a leave, a re-join the day before
        it); today."""
        around = sorted({day + timedelta(days=k) for day in self.model.dates for k in (-1, 0, 1)})
        return WINDOW + around + around + [self.clock.today] * 4

    def claim_refs(self) -> list[str]:
        """Every claim by its id and by its --request-id, and some references to no claim."""
        return list(self.model.claims) + list(self.model.requests) + UNKNOWN_REFS

    # --- setting up ------------------------------------------------------------------

    @initialize(data=st.data())
    def register(self, data: Any) -> None:
        """Three or four professionals, one or two networks, two or three reviewers (P-1 among them);
        all professionals join the first network, most the second; one to three claims."""
        for professional in PROFESSIONALS[: data.draw(st.integers(3, 4), label="professionals")]:
            self.clock.tick()
            registered_on = data.draw(st.none() | early.map(date.isoformat), label="registered_on")
            self.send("professional register", {"id": professional, "name": "A professional", "group": "nurse",
                                                "registered_on": registered_on})
        for network in NETWORKS[: data.draw(st.integers(1, 2), label="networks")]:
            self.clock.tick()
            founded_on = data.draw(early, label="founded_on").isoformat()
            self.send("network register", {"id": network, "name": "A network", "theme": THEMES[network],
                                           "group": GROUPS[network], "founded_on": founded_on})
        for reviewer in REVIEWERS[: data.draw(st.integers(2, 3), label="reviewers")]:
            self.clock.tick()
            self.send("reviewer appoint", {"id": reviewer, "name": "A reviewer",
                                           "on": data.draw(st.none() | st.just("2026-01-01"), label="appointed")})
        for first, network in enumerate(self.model.networks):
            for professional in self.model.professionals:
                if first == 0 or data.draw(st.sampled_from([True, True, False]), label=f"{professional} joins?"):
                    self.clock.tick()
                    self.send("network join", {"network": network, "professional": professional,
                                               "on": data.draw(early, label="joined").isoformat()})
        for _ in range(data.draw(st.integers(1, 3), label="claims")):
            self.clock.tick()
            self.submit(data, ways=("valid",))

    # --- the one rule ----------------------------------------------------------------------
    #
    # One rule that draws what to do, weighted, rather than a rule per command: Hypothesis
    # draws rules alike and, per example, switches a random part of them off ("swarm
    # testing"), which at CI's few examples left many examples without a single claim.

    ACTIONS = ("claims",) * 10 + ("submit",) * 3 + ("membership",) * 3 + ("registry",) * 3 + \
        ("maintenance",) * 2 + ("check_reads",) * 2 + ("erasure",)

    @rule(data=st.data())
    def step(self, data: Any) -> None:
        STATS.steps += 1
        action = data.draw(st.sampled_from(self.ACTIONS), label="action")
        if action == "claims" and not self.model.claims:
            action = "submit"
        if action not in ("maintenance", "check_reads"):
            self.clock.now += data.draw(gaps, label="gap")
        getattr(self, action)(data)

    # --- registrations -------------------------------------------------------------------

    def registry(self, data: Any) -> None:
        """Register, deregister, appoint, retire, register or close a network, or adopt a policy."""
        action = data.draw(st.sampled_from(["professional register", "professional register", "reviewer appoint",
                                            "network register", "professional deregister", "reviewer retire",
                                            "reviewer retire", "reviewer retire", "network close", "network close",
                                            "policy adopt", "policy adopt", "policy adopt",
                                            "professional reinstate", "reviewer reinstate", "network reopen",
                                            "policy cancel", "professional erase", "professional erase"]),
                           label="action")
        draw = data.draw
        on = lambda: draw(dates, label="on").isoformat()  # noqa: E731
        optional_on = lambda: draw(st.none() | dates.map(date.isoformat), label="on")  # noqa: E731
        if action == "professional register":
            raw = {"id": draw(st.sampled_from([*PROFESSIONALS, "not valid!"]), label="id"), "name": "A professional",
                   "group": "nurse", "registered_on": optional_on()}
        elif action == "reviewer appoint":
            raw = {"id": draw(st.sampled_from(REVIEWERS), label="id"), "name": "A reviewer", "on": optional_on()}
        elif action == "network register":
            network = draw(st.sampled_from(NETWORKS), label="id")
            raw = {"id": network, "name": "A network", "theme": THEMES[network], "group": GROUPS[network],
                   "founded_on": optional_on()}
        elif action in ("professional deregister", "reviewer retire", "network close"):
            pool = {"professional deregister": PROFESSIONALS, "reviewer retire": REVIEWERS, "network close": NETWORKS}
            predict = getattr(self.model, "_" + action.replace(" ", "_"))
            today = self.clock.today
            id_, day = self.pick(data, [(i, d.isoformat()) for i in pool[action] for d in self.days_to_try()],
                                 lambda c: predict({"id": c[0], "on": c[1]}, today, self.clock.now).errors, "id, on")
            raw = {"id": id_, "on": day}
        elif action in ("professional reinstate", "reviewer reinstate", "network reopen"):
            pool = {"professional reinstate": PROFESSIONALS, "reviewer reinstate": REVIEWERS, "network reopen": NETWORKS}
            predict = getattr(self.model, "_" + action.replace(" ", "_"))
            raw = {"id": self.pick(data, list(pool[action]), lambda i: predict({"id": i}, self.clock.today,
                                                                              self.clock.now).errors, "id")}
        elif action == "professional erase":
            raw = {"id": self.pick(data, list(PROFESSIONALS), lambda i: self.model.predict(
                action, {"id": i, "reason": "Asked to be forgotten"}, self.clock.now).errors, "id"),
                "reason": "Asked to be forgotten"}
        elif action == "policy cancel":
            candidates = sorted({t.effective_from for t in self.model.policies} | set(self.days_to_try()))  # type: ignore[type-var]
            day = self.pick(data, candidates, lambda d: self.model._policy_cancel(
                {"effective_from": d.isoformat()}, self.clock.today, self.clock.now).errors, "effective_from")
            raw = {"effective_from": day.isoformat()}
        else:
            raw = {
                "effective_from": on(),
                "points_per_hour": draw(st.sampled_from([None, "0.5", "1", "1.5", "2"]), label="points_per_hour"),
                "min_endorsements": draw(st.sampled_from([None, 0, 1, 2]), label="min_endorsements"),
                "cycle_years": draw(st.sampled_from([None, 1, 2, 4]), label="cycle_years"),
                "norm": draw(st.sampled_from([None, "20", "160"]), label="norm"),
                "cap": draw(st.lists(st.sampled_from(["question=1", "answer=3", "co-construction=10", "facilitation=0.5"]),
                                     max_size=2, unique=True), label="cap") or None,
            }
        self.send(action, raw)

    def erasure(self, data: Any) -> None:
        """Erase a deregistered professional (SPEC §9); when nobody may be erased, mostly take a step
        towards it instead: retire the reviewer role of a deregistered one, or deregister someone."""
        model, now = self.model, self.clock.now
        reason = "Asked to be forgotten"

        def errors(command: str, raw: dict[str, Any]) -> set[str]:
            return model.predict(command, raw, now).errors

        erase = lambda i: errors("professional erase", {"id": i, "reason": reason})  # noqa: E731
        if any(not erase(i) for i in PROFESSIONALS) or data.draw(st.sampled_from([True, False, False]),
                                                                 label="erase all the same?"):
            self.send("professional erase", {"id": self.pick(data, list(PROFESSIONALS), erase, "id"), "reason": reason})
            return
        retiring = [i for i in PROFESSIONALS if erase(i) == {"NotRetired"}]
        command, pool = ("reviewer retire", retiring) if retiring else ("professional deregister", list(PROFESSIONALS))
        id_, day = self.pick(data, [(i, d.isoformat()) for i in pool for d in self.days_to_try()],
                             lambda c: errors(command, {"id": c[0], "on": c[1]}), "id, on", ways=("valid",))
        self.send(command, {"id": id_, "on": day})

    # --- memberships -------------------------------------------------------------------

    def membership(self, data: Any) -> None:
        """Join or leave a network, or cancel a leave."""
        command = data.draw(st.sampled_from(["network join", "network leave", "network leave", "cancel"]),
                            label="command")
        if command == "cancel":
            n, p = self.pick(data, [(n, p) for n in NETWORKS for p in PROFESSIONALS],
                             lambda c: self.model.cancel_errors(*c), "network, professional")
            self.send("network leave", {"network": n, "professional": p, "cancel": True})
            return
        errors = self.model.join_errors if command == "network join" else self.model.leave_errors
        n, p, on = self.pick(data, [(n, p, d) for n in NETWORKS for p in PROFESSIONALS for d in self.days_to_try()],
                             lambda c: errors(*c), "network, professional, on")
        self.send(command, {"network": n, "professional": p, "on": on.isoformat()})

    # --- claims ------------------------------------------------------------------------

    def submit(self, data: Any, ways: tuple[str, ...] = WAYS) -> None:
        today = self.clock.today
        p, n, on = self.pick(data, [(p, n, d) for p in PROFESSIONALS for n in NETWORKS for d in self.days_to_try()],
                             lambda c: self.model.activity_errors(*c, today), "professional, network, on", ways)
        self.send("claim submit", {
            "professional": p, "network": n, "kind": data.draw(kinds, label="kind"), "on": on.isoformat(),
            "hours": data.draw(hours_text, label="hours"), "description": "Asked about pressure ulcers",
            "outcome": "A new protocol", "practice_change": data.draw(st.none() | st.just("I check daily")),
            "request_id": data.draw(request_ids, label="request_id"),
        })

    def claims(self, data: Any) -> None:
        """Endorse, approve, reject, return or revoke a claim; the claimant amends or withdraws it."""
        action = data.draw(st.sampled_from(["endorse"] * 4 + ["approve"] * 5 + ["return"] * 2 + ["reject"] +
                                           ["revoke"] * 3 + ["claimant"] * 3),
                           label="action")
        if action == "endorse":
            today = self.clock.today
            claim, by = self.pick(data, [(c, p) for c in self.claim_refs() for p in PROFESSIONALS],
                                  lambda c: self.model.endorse_errors(*c, today), "claim, by")
            self.send("claim endorse", {"claim": claim, "by": by, "statement": "I was there"})
        elif action == "claimant":
            self.claimant(data)
        else:
            self.decide(action, data)

    def decide(self, verb: str, data: Any) -> None:
        today = self.clock.today
        claim, reviewer = self.pick(data, [(c, r) for c in self.claim_refs() for r in REVIEWERS],
                                    lambda c: self.model.decision_errors(verb, *c, None, today), "claim, reviewer")
        raw = {"claim": claim, "reviewer": reviewer}
        if verb == "approve":
            raw.update(points=self.points(data, claim), rationale=data.draw(reasons, label="rationale"))
        else:
            raw.update(reason=data.draw(reasons, label="reason"))
        self.send(f"review {verb}", raw)

    def points(self, data: Any, ref: str) -> str | None:
        """--points for an approval: mostly none (the suggested points), else on and around the cap
        of the claim's kind under the policy in force on its activity date, or not a valid amount."""
        found = self.model.claim(ref)
        cap = self.model.terms(found[1].on).cap(found[1].kind) if found else Decimal(4)
        choice = data.draw(st.sampled_from(["suggested"] * 8 + ["cap", "below cap", "least", "above cap", "zero",
                                                               "negative", "three places"]), label="points")
        return {"suggested": None, "cap": fmt(cap), "below cap": fmt(cap - CENT), "least": "0.01",
                "above cap": fmt(cap + CENT), "zero": "0", "negative": "-1", "three places": "0.005"}[choice]

    def claimant(self, data: Any) -> None:
        """The claimant amends or withdraws a claim, or submits one again with the same --request-id."""
        action = data.draw(st.sampled_from(["amend", "amend", "amend", "withdraw", "submit again"]), label="action")
        if action == "submit again":
            if self.model.requests:  # the first result; nothing written
                key = data.draw(st.sampled_from(sorted(self.model.requests)), label="request_id")
                self.send("claim submit", dict(self.model.requests[key][2]))
            return
        claim, by = self.pick(data, [(c, p) for c in self.claim_refs() for p in PROFESSIONALS],
                              lambda c: self.model.claimant_errors(*c), "claim, by")
        if action == "withdraw":
            self.send("claim withdraw", {"claim": claim, "by": by})
            return
        found = self.model.claim(claim)
        on = None
        if data.draw(st.booleans(), label="new date?"):
            today = self.clock.today
            on = self.pick(data, self.days_to_try(), lambda d: found and self.model.activity_errors(  # type: ignore[return-value]
                found[1].claimant, found[1].network, d, today) or set(), "on").isoformat()
        self.send("claim amend", {
            "claim": claim, "by": by, "on": on,
            "kind": data.draw(st.none() | kinds, label="kind"),
            "hours": data.draw(st.none() | hours_text, label="hours"),
            "outcome": data.draw(st.none() | st.just("A better protocol"), label="outcome"),
        })

    # --- time, projections, re-opening ---------------------------------------------------

    def maintenance(self, data: Any) -> None:
        """Days pass; the read models are caught up or rebuilt; the ledger is closed and opened again
        on the same store, as the next CLI process would."""
        action = data.draw(st.sampled_from(["pass days", "pass days", "catch up", "rebuild", "reopen"]), label="action")
        if action == "pass days":
            self.clock.now += timedelta(days=data.draw(st.integers(1, 3), label="days"))
        elif action == "reopen":
            self.models.close()
            self.ledger.close()
            self.ledger = open_ledger(self.store, clock=self.clock, os_user="tester")
            self.models = ReadModels(self.ledger.event_log)
        else:
            self.models.catch_up() if action == "catch up" else self.models.rebuild()
            status = self.models.status()
            assert all(p["lag"] == 0 for p in status["projections"]), status

    # --- the reads ------------------------------------------------------------------------

    def instants(self) -> list[datetime]:
        """On, just before and just after each recording instant, between them, before the first, now."""
        us = timedelta(microseconds=1)
        recorded = sorted(set(self.model.instants))
        asked = {START - DAY, self.clock.now, self.clock.now + DAY}
        for this, following in zip(recorded, recorded[1:] + [self.clock.now]):
            asked.update({this - us, this, this + us, this + (following - this) / 2})
        return sorted(asked)

    def days(self) -> list[date]:
        """On, the day before and after each date of the history; cycle boundaries; long before and after."""
        asked = {FIRST - timedelta(days=400), FIRST + timedelta(days=1500)}
        around = set(self.model.dates)
        for p in self.model.professionals.values():
            around.update(plus_years(p.registered_on, years) for years in (1, 2, 4))
        for day in around:
            asked.update({day - DAY, day, day + DAY})
        return sorted(asked)

    def check_reads(self, data: Any) -> None:
        count = data.draw(st.integers(1, 2), label="how many")
        pairs = data.draw(st.lists(st.tuples(
            st.none() | st.sampled_from(self.days()).map(date.isoformat),
            st.none() | st.tuples(st.sampled_from(self.instants()), st.sampled_from(["utc", "-05:00", "day"])),
        ), min_size=count, max_size=count), label="(at, known_at)")
        refs = list(self.model.claims) + list(self.model.requests)
        shown = data.draw(st.lists(st.sampled_from(refs), max_size=2, unique=True), label="claims") if refs else []
        self.compare_reads([(at, self.instant_text(t)) for at, t in pairs], shown)

    @staticmethod
    def instant_text(asked: tuple[datetime, str] | None) -> str | None:
        """--known-at as a user writes it: an instant in UTC or at another offset, or a date (the whole day)."""
        if asked is None:
            return None
        instant, form = asked
        if form == "day":
            return instant.date().isoformat()
        if form == "utc":
            return instant.isoformat().replace("+00:00", "Z")
        return instant.astimezone(timezone(timedelta(hours=-5))).isoformat()

    def known_at(self, text: str | None) -> datetime:
        """The model's reading of --known-at (SPEC §2: a date D means through 23:59:59.999999 UTC)."""
        if text is None:
            return self.clock.now
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), clock_time.max, tzinfo=UTC)
        return datetime.fromisoformat(text)

    def compare_reads(self, pairs: list[tuple[str | None, str | None]], claims: list[str] | None = None) -> None:
        """Model, read models (the CLI's `Reader`, catching up first) and a fresh replay agree: on
        balances and members at each (at, known_at) of `pairs`, on the review queue and on the
        `claims` named (by id or request id; None: all of them)."""
        model = self.model
        reader = Reader(self.models, self.ledger)
        events = list(self.ledger.event_log.all_events())
        assert len(events) == model.events, f"the log holds {len(events)} events; the model wrote {model.events}"
        replay = Replay.of(events)
        for at_text, known_text in pairs:
            if known_text in ("first", "last"):
                known_text = (model.instants[0] if known_text == "first" else model.instants[-1]).isoformat() \
                    if model.instants else None
            at = date.fromisoformat(at_text) if at_text else self.clock.today
            known_at = self.known_at(known_text)
            given = {"at": at_text, "known_at": known_text}
            given = {k: v for k, v in given.items() if v is not None}
            for professional in sorted(model.professionals):
                values = Balance().load({"professional": professional, **given})
                if professional in model.erased:  # SPEC §9: `balance P` says P was erased
                    assert refusal(lambda: reader.balance(**values)) == "PersonErased", ("balance", professional)
                    continue
                answer = reader.balance(**values)
                expected = model.balance(professional, at, known_at)
                assert answer == expected, ("balance", professional, at_text, known_text, answer, expected)
                assert replay.balance(professional, at, known_at) == expected, ("replay balance", professional, at, known_at)
            for network in sorted(model.networks):
                values = Members().load({"network": network, **given})
                answer = reader.members(**values)
                expected_members = {"network": network, "at": at.isoformat(), "known_at": known_at.isoformat(),
                                    "recorded": model.networks[network].recorded_at <= known_at,
                                    "members": model.members(network, at, known_at)}
                assert shown_as_model(answer, expected_members, model.erased), \
                    ("members", network, at_text, known_text, answer, expected_members)
                assert shown_as_model({"members": replay.members(network, at, known_at)},
                                      {"members": expected_members["members"]}, model.erased), ("replay members", network)
            for professional in sorted(model.professionals):  # the auditor's view: the log alone
                if professional in model.erased:
                    assert refusal(lambda: history(self.ledger, professional)) == "PersonErased", ("history", professional)
                    continue
                told = history(self.ledger, professional, known_at if known_text else None)["events"]
                expected_total = fmt(sum((p.points for p in model.postings
                                          if p.professional == professional and p.recorded_at <= known_at), Decimal(0)))
                assert (told[-1]["balance"] if told else "0") == expected_total, ("history", professional, known_text)
            mapped = reader.network_map(**When().load(given))
            counts = {n["id"]: n["members"] for n in mapped["networks"]}
            assert counts == model.network_map(at, known_at), ("network map", at_text, known_text, counts)
            STATS.reads += 1
        for ref in (list(model.claims) + list(model.requests)) if claims is None else claims:
            found = model.claim(ref)
            if found is None:  # the --request-id of an erased claimant's claim names no claim any more
                assert refusal(lambda: reader.claim(ref)) == "UnknownClaim", ("claim by an erased one's key", ref)
                continue
            claim_id, claim = found
            shown = reader.claim(ref)
            named = lambda who: ERASED if who in model.erased else who  # noqa: E731
            seen = lambda who: ERASED if who.startswith(ERASED + " #") else who  # noqa: E731
            assert (shown["claim"], shown["status"], [seen(e["by"]) for e in shown["endorsements"]], shown["kind"],
                    shown["activity_date"], shown["hours"], seen(shown["professional"])) == \
                (claim_id, claim.status, [named(e) for e in claim.endorsers], claim.kind, claim.on.isoformat(),
                 fmt(claim.hours), named(claim.claimant)), ("claim", ref, shown, claim)
            assert not any(e["statement"] for e in shown["endorsements"] if e["by"].startswith(ERASED)), shown
            assert shown["points"] == (fmt(claim.points) if claim.points is not None else None), ("points", shown)
            assert [d["decision"] for d in shown["decisions"]] == claim.decisions, ("decisions", shown, claim)
            assert replay.claims[uuid.UUID(claim_id)]["status"] == claim.status
        queue = {c["claim"]: c["endorsements"] for c in reader.review_queue()["claims"]}
        assert queue == {i: len(c.endorsers) for i, c in model.claims.items() if c.status == "submitted"}, queue
        self.check_history_holds(reader, pairs)
        # the rules check of `audit verify`, written apart from the aggregates, finds nothing to say
        numbered = [(n.id, self.ledger.mapper.to_domain_event(n))
                    for n in self.ledger.recorder.select_notifications(1, 1_000_000)]
        assert check_rules(numbered) == [], check_rules(numbered)

    def check_history_holds(self, reader: Reader, pairs: list[tuple[str | None, str | None]]) -> None:
        """Rule 8 as the reads show it: at each instant T asked, every claim that counts points as
        known at T (approved by T, not revoked by T) has its claimant among `network members` of its
        network on its activity date as known at T; and every decision recorded was taken by a
        reviewer in office on its day, as the register knows it now."""
        for _, known_text in pairs:
            if known_text in (None, "first", "last"):
                continue
            known_at = self.known_at(known_text)
            for claim in self.model.claims.values():
                counts = claim.approved_at is not None and claim.approved_at <= known_at and not (
                    claim.revoked_at is not None and claim.revoked_at <= known_at)
                if counts:
                    shown = reader.members(network=claim.network, at=claim.on, known_at=known_at)["members"]
                    erased = claim.claimant in self.model.erased
                    assert any(m.startswith(ERASED) for m in shown) if erased else claim.claimant in shown, \
                        ("posting without a member", claim, known_text, shown)
        for rid, reviewer in self.model.reviewers.items():
            assert all(reviewer.may_decide_on(day) for day in reviewer.decided_on), ("decided out of office", rid)


def refusal(read: Callable[[], Any]) -> str | None:
    """The name of the refusal a read ends in (None: it answered)."""
    try:
        read()
    except DomainError as error:
        return error.name
    return None


def shown_as_model(answer: dict[str, Any], expected: dict[str, Any], erased: set[str]) -> bool:
    """A members answer as the model expects it, the erased among them shown as "an erased professional #…":
    as many members, the others by their ids (in order), the rest of the answer alike."""
    members, wanted = answer["members"], expected["members"]
    if {k: v for k, v in answer.items() if k != "members"} != {k: v for k, v in expected.items() if k != "members"}:
        return False
    placeholders = [m for m in members if m.startswith(ERASED + " #")]
    return (len(members) == len(wanted) and len(set(placeholders)) == len(placeholders)
            == sum(1 for m in wanted if m in erased)
            and [m for m in members if m not in placeholders] == [m for m in wanted if m not in erased])


class PostgresLedgerMachine(LedgerMachine):
    engine = "postgresql"


MACHINES = {"sqlite": LedgerMachine, "postgresql": PostgresLedgerMachine}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_ledger_behaves_as_the_model(engine: str, record_property: Any, capsys: Any) -> None:
    examples = int(os.environ.get(EXAMPLES_VAR) or STATEFUL_EXAMPLES[engine])
    steps = int(os.environ.get(STEPS_VAR) or STATEFUL_STEPS)
    global STATS
    STATS = Stats()
    started = time.monotonic()
    try:
        run_state_machine_as_test(MACHINES[engine], settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
            phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no explain: slow
        ))
    finally:
        elapsed = time.monotonic() - started
        steps_run = STATS.steps
        refused = sum(n for (_, outcome), n in STATS.outcomes.items() if outcome != "accepted")
        accepted = sum(n for (_, outcome), n in STATS.outcomes.items() if outcome == "accepted")
        summary = (f"stateful {engine}: {STATS.examples} examples, {steps_run} steps, {accepted} commands accepted, "
                   f"{refused} refused, {STATS.reads} (at, known_at) comparisons in {elapsed:.1f} s")
        for name, value in (("examples", STATS.examples), ("steps", steps_run), ("accepted", accepted),
                            ("refused", refused), ("seconds", round(elapsed, 1))):
            record_property(name, value)
        with capsys.disabled():
            print("\n" + summary)
            if os.environ.get("STUDYLEDGER_STATEFUL_OUTCOMES"):
                for (command, outcome), n in sorted(STATS.outcomes.items()):
                    print(f"  {command:24} {outcome:30} {n}")
