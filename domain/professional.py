"""A registered professional: registered on a date, possibly deregistered later."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import LedgerAggregate, natural_id
from domain.errors import AlreadyDeregistered, DateOutOfOrder


class Professional(LedgerAggregate):
    @staticmethod
    def create_id(professional_id: str, **_: Any) -> Any:
        return natural_id("professional", professional_id)

    @event("Registered")
    def __init__(
        self, professional_id: str, name: str, group: str, registered_on: date, actor: str, os_user: str
    ) -> None:
        self.professional_id = professional_id
        self.name = name
        self.group = group
        self.registered_on = registered_on
        self.deregistered_on: date | None = None

    def deregister(self, on: date, *, actor: str, os_user: str) -> None:
        if self.deregistered_on is not None:
            raise AlreadyDeregistered(
                f"{self.professional_id} was already deregistered on {self.deregistered_on}"
            )
        if on < self.registered_on:
            raise DateOutOfOrder(
                f"{self.professional_id} cannot be deregistered on {on}, "
                f"before registering on {self.registered_on}"
            )
        self._deregistered(self.professional_id, on, actor, os_user)

    @event("Deregistered")
    def _deregistered(self, professional_id: str, on: date, actor: str, os_user: str) -> None:
        self.deregistered_on = on

    def active_on(self, day: date) -> bool:
        """Registered on `day`: from the registration date through the deregistration date."""
        return self.registered_on <= day and (self.deregistered_on is None or day <= self.deregistered_on)
