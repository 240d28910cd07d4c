"""One professional's membership of one network: a list of date intervals.

A membership joined on J and left on L covers J up to the day before L; leaving and
re-joining later is allowed. Joins and leaves are recorded in date order.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import LedgerAggregate, natural_id
from domain.errors import AlreadyMember, DateOutOfOrder, NotAMember


class Membership(LedgerAggregate):
    @staticmethod
    def create_id(network_id: str, professional_id: str, **_: Any) -> Any:
        return natural_id("membership", network_id, professional_id)

    @event("Joined")
    def __init__(self, network_id: str, professional_id: str, on: date, actor: str, os_user: str) -> None:
        self.network_id = network_id
        self.professional_id = professional_id
        self.intervals: list[list[date | None]] = [[on, None]]

    @property
    def current(self) -> list[date | None] | None:
        last = self.intervals[-1]
        return last if last[1] is None else None

    def rejoin(self, on: date, *, actor: str, os_user: str) -> None:
        if self.current is not None:
            raise AlreadyMember(
                f"{self.professional_id} is a member of {self.network_id} since {self.current[0]} already"
            )
        left_on = self.intervals[-1][1]
        assert left_on is not None
        if on < left_on:
            raise DateOutOfOrder(
                f"{self.professional_id} cannot re-join {self.network_id} on {on}, before leaving it on {left_on}"
            )
        self._rejoined(self.network_id, self.professional_id, on, actor, os_user)

    @event("Rejoined")
    def _rejoined(self, network_id: str, professional_id: str, on: date, actor: str, os_user: str) -> None:
        self.intervals.append([on, None])

    def leave(self, on: date, *, actor: str, os_user: str) -> None:
        current = self.current
        if current is None:
            raise NotAMember(f"{self.professional_id} is not a member of {self.network_id}")
        joined_on = current[0]
        assert joined_on is not None
        if on <= joined_on:
            raise DateOutOfOrder(
                f"{self.professional_id} joined {self.network_id} on {joined_on}; leaving must come after that"
            )
        self._left(self.network_id, self.professional_id, on, actor, os_user)

    @event("Left")
    def _left(self, network_id: str, professional_id: str, on: date, actor: str, os_user: str) -> None:
        self.intervals[-1][1] = on

    def covers(self, day: date) -> bool:
        return any(start <= day and (end is None or day < end) for start, end in self.intervals)
