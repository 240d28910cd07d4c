"""The picture of the register that the rules check (ledger/rules_check.py) keeps while it folds the log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from domain.policy import DEFAULT_TERMS, PolicyTerms, in_force, versions_known
from domain.values import LIVE

@dataclass
class ClaimState:
    professional: str
    network: str
    kind: str
    activity_date: date
    status: str = "submitted"
    endorsers: list[str] = field(default_factory=list)
    ever_endorsed: set[str] = field(default_factory=set)
    points: Decimal | None = None


@dataclass
class Register:
    """What the register knew after the events folded so far."""

    professionals: dict[str, dict[str, Any]] = field(default_factory=dict)
    reviewers: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: dict[tuple[str, str], list[tuple[date, bool]]] = field(default_factory=dict)
    policies: list[tuple[date, PolicyTerms | None]] = field(default_factory=list)
    claims: dict[str, ClaimState] = field(default_factory=dict)
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

    def live_claims_of(self, professional: str, network: str | None = None) -> list[tuple[str, ClaimState]]:
        """Live claims that `professional` submitted or counts as an endorser of (in `network`)."""
        return [(cid, c) for cid, c in self.claims.items()
                if c.status in LIVE and (network is None or c.network == network)
                and (c.professional == professional or professional in c.endorsers)]


Found = Iterable[tuple[int, str, str | None]]  # (rule, message, claim id)


def day(event: Any) -> date:
    return event.timestamp.date()
