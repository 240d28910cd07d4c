"""The register's policy terms: one version of its rules, and which version is in force on a day.

Pure values, apart from the Policy aggregate (domain/policy.py) that records them: a quick read
from the shell (projections/quick.py) uses them without loading the event-sourcing library.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

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
