"""The register's policy: versioned terms, each in force from an effective date.

A built-in default applies until the register adopts another; a claim is judged by the
terms in force on its activity date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import NoSuchPolicyVersion, PolicyNotLater, PolicyVersionInForce
from domain.terms import DEFAULT_TERMS, PolicyTerms, in_force, versions_known

__all__ = ["DEFAULT_TERMS", "Policy", "PolicyTerms", "in_force", "versions_known"]  # the terms: domain/terms.py


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
