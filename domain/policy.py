"""The register's policy: versioned terms, each in force from an effective date.

A built-in default applies until the register adopts another; a claim is judged by the
terms in force on its activity date.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import NoSuchPolicyVersion, PolicyNotLater, PolicyVersionInForce
from domain.values import KINDS, points


@dataclass(frozen=True)
class PolicyTerms:
    """One version of the register's rules."""

    effective_from: date | None = None  # None: the built-in default
    points_per_hour: Decimal = Decimal(1)
    caps: dict[str, Decimal] = field(
        default_factory=lambda: {
            "question": Decimal(2),
            "answer": Decimal(4),
            "co-construction": Decimal(8),
            "facilitation": Decimal(6),
        }
    )
    min_endorsements: int = 1
    cycle_years: int = 4
    norm: Decimal = Decimal(160)

    def cap(self, kind: str) -> Decimal:
        return self.caps[kind]

    def suggested_points(self, kind: str, hours: Decimal) -> Decimal:
        """Hours × points per hour, capped for the kind."""
        return points(min(hours * self.points_per_hour, self.cap(kind)))

    def amended(self, effective_from: date, **changes: Any) -> PolicyTerms:
        """These terms with some settings changed, in force from `effective_from`."""
        caps = dict(self.caps)
        caps.update(changes.pop("caps", None) or {})
        settings = {k: v for k, v in changes.items() if v is not None}
        return replace(self, effective_from=effective_from, caps=caps, **settings)

    def to_state(self) -> dict[str, Any]:
        """As stored in an event: strings for exact decimals."""
        return {
            "points_per_hour": str(self.points_per_hour),
            "caps": {kind: str(self.caps[kind]) for kind in KINDS},
            "min_endorsements": self.min_endorsements,
            "cycle_years": self.cycle_years,
            "norm": str(self.norm),
        }

    @classmethod
    def from_state(cls, effective_from: date, state: dict[str, Any]) -> PolicyTerms:
        return cls(
            effective_from=effective_from,
            points_per_hour=Decimal(state["points_per_hour"]),
            caps={kind: Decimal(v) for kind, v in state["caps"].items()},
            min_endorsements=int(state["min_endorsements"]),
            cycle_years=int(state["cycle_years"]),
            norm=Decimal(state["norm"]),
        )


DEFAULT_TERMS = PolicyTerms()


class Policy(LedgerAggregate):
    """The register's policy book: one per ledger, a list of adopted versions."""

    @staticmethod
    def create_id() -> Any:
        return natural_id("policy")

    @event("Opened")
    def __init__(self) -> None:
        self.versions: list[PolicyTerms] = []

    def in_force(self, on: date) -> PolicyTerms:
        return in_force(self.versions, on)

    def adopt(self, terms: PolicyTerms) -> None:
        assert terms.effective_from is not None
        if self.versions and terms.effective_from <= self.versions[-1].effective_from:
            raise PolicyNotLater(
                f"a policy is already in force from {self.versions[-1].effective_from}; "
                "a new version must take effect after it"
            )
        self._adopted(terms.effective_from, terms.to_state())

    @event("Adopted")
    def _adopted(self, effective_from: date, terms: dict, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.versions.append(PolicyTerms.from_state(effective_from, terms))

    def cancel(self, effective_from: date, *, today: date) -> None:
        """Withdraw the version adopted from `effective_from`, while it is not yet in force."""
        if not any(v.effective_from == effective_from for v in self.versions):
            raise NoSuchPolicyVersion(f"no policy version takes effect on {effective_from}")
        if effective_from <= today:
            raise PolicyVersionInForce(
                f"the policy version of {effective_from} is in force already (today is {today}); "
                "adopt a new version instead"
            )
        self._cancelled(effective_from)

    @event("Cancelled")
    def _cancelled(self, effective_from: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.versions = [v for v in self.versions if v.effective_from != effective_from]


def versions_known(entries: list[tuple[date, PolicyTerms | None]]) -> list[PolicyTerms]:
    """The versions left by adoptions (terms) and cancellations (None), given in recorded order."""
    versions: dict[date, PolicyTerms] = {}
    for effective_from, terms in entries:
        if terms is None:
            versions.pop(effective_from, None)
        else:
            versions[effective_from] = terms
    return [versions[day] for day in sorted(versions)]


def in_force(versions: list[PolicyTerms], on: date) -> PolicyTerms:
    """The latest version whose effective date is on or before `on`, else the default."""
    current = DEFAULT_TERMS
    for version in versions:
        assert version.effective_from is not None
        if version.effective_from <= on:
            current = version
    return current
