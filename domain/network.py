"""A professional network: founded on a date around themes, for professional groups; can close.

The network knows who ever joined it, so that a back-dated closing can find the claims
made in it (rule 8), and a closing recorded by mistake can be corrected by reopening.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id
from domain.errors import (
    CloseContradictsClaims,
    DateOutOfOrder,
    JoinBeforeFounding,
    NetworkAlreadyClosed,
    NetworkMustBeOpen,
    NetworkNotClosed,
)
from domain.values import LIVE

if TYPE_CHECKING:
    from domain.claim import Claim


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
        actor: str = ACTING,
        os_user: str = ACTING,
        tracks_members: bool = False,
    ) -> None:
        self.network_id = network_id
        self.name = name
        self.themes = list(themes)
        self.groups = list(groups)
        self.founded_on = founded_on
        self.closed_on: date | None = None
        # Networks recorded before rule 8 did not note their members (the stored event lacks the
        # field): the ledger finds them in the log instead.
        self.tracks_members = tracks_members
        self.members: list[str] = []

    def close(self, on: date, *, claims: list[Claim]) -> None:
        """Close on `on` (no activities from that day). `claims`: the claims made in the network."""
        if self.closed_on is not None:
            raise NetworkAlreadyClosed(f"network {self.network_id} closed on {self.closed_on} already")
        if on < self.founded_on:
            raise DateOutOfOrder(
                f"network {self.network_id} cannot close on {on}, before its founding on {self.founded_on}"
            )
        affected = sorted(
            (c for c in claims if c.network_id == self.network_id and c.status in LIVE and c.activity_date >= on),
            key=lambda c: str(c.id),
        )
        if affected:
            raise CloseContradictsClaims(
                f"closing {self.network_id} on {on} would leave live claims for activities on or after that date "
                f"in a closed network: {', '.join(f'{c.id} ({c.status}, {c.activity_date})' for c in affected)}; "
                "revoke, return or reject them first",
                [str(c.id) for c in affected],
            )
        self._closed(self.network_id, on)

    @event("Closed")
    def _closed(self, network_id: str, on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.closed_on = on

    def reopen(self) -> None:
        """Correct a closing recorded by mistake."""
        if self.closed_on is None:
            raise NetworkNotClosed(f"network {self.network_id} is not closed")
        self._reopened(self.network_id, self.closed_on)

    @event("Reopened")
    def _reopened(self, network_id: str, closed_on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.closed_on = None

    def note_member(self, professional_id: str) -> None:
        if professional_id not in self.members:
            self._member_noted(professional_id)

    @event("MemberNoted")
    def _member_noted(self, professional_id: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.members.append(professional_id)

    def open_on(self, day: date) -> bool:
        """Open from the founding date up to (not including) the closing date."""
        return self.founded_on <= day and (self.closed_on is None or day < self.closed_on)

    def check_open_on(self, day: date) -> None:
        if day < self.founded_on:
            raise NetworkMustBeOpen(f"network {self.network_id} was founded only on {self.founded_on}, after {day}")
        if not self.open_on(day):
            raise NetworkMustBeOpen(f"network {self.network_id} closed on {self.closed_on}, on or before {day}")

    def check_may_join(self, day: date) -> None:
        """A membership starts while the network is open; never before its founding (rule 8)."""
        if day < self.founded_on:
            raise JoinBeforeFounding(f"network {self.network_id} was founded only on {self.founded_on}, after {day}")
        self.check_open_on(day)
