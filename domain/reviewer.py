"""A reviewer appointed by the register, who decides on claims until retired."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import LedgerAggregate, natural_id
from domain.errors import AlreadyRetired, DateOutOfOrder, ReviewerNotActive


class Reviewer(LedgerAggregate):
    @staticmethod
    def create_id(reviewer_id: str, **_: Any) -> Any:
        return natural_id("reviewer", reviewer_id)

    @event("Appointed")
    def __init__(self, reviewer_id: str, name: str, appointed_on: date, actor: str, os_user: str) -> None:
        self.reviewer_id = reviewer_id
        self.name = name
        self.appointed_on = appointed_on
        self.retired_on: date | None = None

    def retire(self, on: date, *, actor: str, os_user: str) -> None:
        if self.retired_on is not None:
            raise AlreadyRetired(f"reviewer {self.reviewer_id} retired on {self.retired_on} already")
        if on < self.appointed_on:
            raise DateOutOfOrder(
                f"reviewer {self.reviewer_id} cannot retire on {on}, before the appointment on {self.appointed_on}"
            )
        self._retired(self.reviewer_id, on, actor, os_user)

    @event("Retired")
    def _retired(self, reviewer_id: str, on: date, actor: str, os_user: str) -> None:
        self.retired_on = on

    def check_may_decide(self, today: date) -> None:
        """Rule 4: appointed on or before today and not retired (retiring on D ends the term on D)."""
        if today < self.appointed_on:
            raise ReviewerNotActive(f"reviewer {self.reviewer_id} is appointed only from {self.appointed_on}")
        if self.retired_on is not None and today >= self.retired_on:
            raise ReviewerNotActive(f"reviewer {self.reviewer_id} retired on {self.retired_on}")
