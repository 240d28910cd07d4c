"""A professional network: founded on a date around themes, for professional groups; can close."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import LedgerAggregate, natural_id
from domain.errors import DateOutOfOrder, NetworkAlreadyClosed, NetworkMustBeOpen


class Network(LedgerAggregate):
    @staticmethod
    def create_id(network_id: str, **_: Any) -> Any:
        return natural_id("network", network_id)

    @event("Registered")
    def __init__(
        self,
        network_id: str,
        name: str,
        themes: list[str],
        groups: list[str],
        founded_on: date,
        actor: str,
        os_user: str,
    ) -> None:
        self.network_id = network_id
        self.name = name
        self.themes = list(themes)
        self.groups = list(groups)
        self.founded_on = founded_on
        self.closed_on: date | None = None

    def close(self, on: date, *, actor: str, os_user: str) -> None:
        if self.closed_on is not None:
            raise NetworkAlreadyClosed(f"network {self.network_id} closed on {self.closed_on} already")
        if on < self.founded_on:
            raise DateOutOfOrder(
                f"network {self.network_id} cannot close on {on}, before its founding on {self.founded_on}"
            )
        self._closed(self.network_id, on, actor, os_user)

    @event("Closed")
    def _closed(self, network_id: str, on: date, actor: str, os_user: str) -> None:
        self.closed_on = on

    def open_on(self, day: date) -> bool:
        """Open from the founding date up to (not including) the closing date."""
        return self.founded_on <= day and (self.closed_on is None or day < self.closed_on)

    def check_open_on(self, day: date) -> None:
        if day < self.founded_on:
            raise NetworkMustBeOpen(f"network {self.network_id} was founded only on {self.founded_on}, after {day}")
        if not self.open_on(day):
            raise NetworkMustBeOpen(f"network {self.network_id} closed on {self.closed_on}, on or before {day}")
