"""A registered professional: registered on a date, possibly deregistered later (and reinstated).

The professional knows the networks they ever joined, so that a deregistration can find
every membership it ends and every claim that relies on them (rule 8).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, person_id
from domain.errors import AlreadyDeregistered, DateOutOfOrder, DeregistrationContradictsClaims, NotDeregistered

if TYPE_CHECKING:
    from domain.claim import Claim


class Professional(LedgerAggregate):
    @staticmethod
    def create_id(professional_id: str, **_: Any) -> Any:
        return person_id("professional", professional_id)

    @event("Registered")
    def __init__(
        self, professional_id: str, name: str, group: str, registered_on: date,
        actor: str = ACTING, os_user: str = ACTING,
        tracks_networks: bool = False,
    ) -> None:
        self.professional_id = professional_id
        self.name = name
        self.group = group
        self.registered_on = registered_on
        self.deregistered_on: date | None = None
        # Professionals recorded before rule 8 did not note their networks (the stored event lacks
        # the field): the ledger finds their memberships in the log instead.
        self.tracks_networks = tracks_networks
        self.networks: list[str] = []

    def deregister(self, on: date, *, claims: list[Claim]) -> None:
        """Deregister on `on`. `claims`: every claim that relies on this professional, as they stand."""
        if self.deregistered_on is not None:
            raise AlreadyDeregistered(
                f"{self.professional_id} was already deregistered on {self.deregistered_on}"
            )
        if on < self.registered_on:
            raise DateOutOfOrder(
                f"{self.professional_id} cannot be deregistered on {on}, "
                f"before registering on {self.registered_on}"
            )
        affected = sorted(
            (c for c in claims if c.relies_on_member(self.professional_id) and c.activity_date > on),
            key=lambda c: str(c.id),
        )
        if affected:
            raise DeregistrationContradictsClaims(
                f"deregistering {self.professional_id} on {on} would contradict live claims for activities after "
                f"that date: {', '.join(f'{c.id} ({c.status}, {c.activity_date})' for c in affected)}; "
                "revoke, return or reject them first",
                [str(c.id) for c in affected],
            )
        self._deregistered(self.professional_id, on)

    @event("Deregistered")
    def _deregistered(self, professional_id: str, on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.deregistered_on = on

    def reinstate(self) -> None:
        """Correct a deregistration recorded by mistake."""
        if self.deregistered_on is None:
            raise NotDeregistered(f"{self.professional_id} is not deregistered")
        self._reinstated(self.professional_id, self.deregistered_on)

    @event("Reinstated")
    def _reinstated(
        self, professional_id: str, deregistered_on: date, actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.deregistered_on = None

    def erase(self, reason: str) -> None:
        """Forget this professional's personal data (SPEC §9): only once they are deregistered. The
        ledger destroys their key with this event; the event itself names them only by pseudonym."""
        if self.deregistered_on is None:
            raise NotDeregistered(f"{self.professional_id} is not deregistered; only a deregistered professional "
                                  "can be erased")
        self._erased(self.professional_id, reason)

    @event("Erased")
    def _erased(self, professional_id: str, reason: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.erased = True

    def note_network(self, network_id: str) -> None:
        if network_id not in self.networks:
            self._network_noted(network_id)

    @event("NetworkNoted")
    def _network_noted(self, network_id: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.networks.append(network_id)

    def active_on(self, day: date) -> bool:
        """Registered on `day`: from the registration date through the deregistration date."""
        return self.registered_on <= day and (self.deregistered_on is None or day <= self.deregistered_on)
