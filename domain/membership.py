"""One professional's membership of one network: a list of date intervals.

A membership joined on J and left on L covers J up to the day before L; leaving and
re-joining later is allowed. Joins and leaves are recorded in date order.

The membership also knows the claims that rely on it — those its member submitted or
endorsed in the network (rule 8) — so that a back-dated leave is checked in the same
transaction that records it: a claim noted here and the leave both write this aggregate,
so of two concurrent writers one fails with a conflict instead of both passing their check.

Every event that moves a boundary says which change rows it stands for — (date, member
from that date on?) — and the read side applies them in recording order, the last one
dated on or before a day deciding (see `changes`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, person_id
from domain.errors import (
    AlreadyMember,
    DateOutOfOrder,
    JoinBeforeRegistration,
    LeaveContradictsClaims,
    NoLeaveToCancel,
    NotAMember,
    ProfessionalDeregistered,
)

if TYPE_CHECKING:
    from domain.claim import Claim
    from domain.professional import Professional

LEFT = "left"
DEREGISTERED = "deregistered"


class Membership(LedgerAggregate):
    @staticmethod
    def create_id(network_id: str, professional_id: str, **_: Any) -> Any:
        return person_id("membership", professional_id, network_id)

    @classmethod
    def join(cls, *, network_id: str, professional: Professional, on: date) -> Membership:
        check_may_join(professional, on)
        return cls(network_id=network_id, professional_id=professional.professional_id, on=on,
                   tracks_claims=True)

    @event("Joined")
    def __init__(
        self, network_id: str, professional_id: str, on: date,
        actor: str = ACTING, os_user: str = ACTING, tracks_claims: bool = False
    ) -> None:
        self.network_id = network_id
        self.professional_id = professional_id
        self.intervals: list[list[date | None]] = [[on, None]]
        self.ended_by: str | None = None  # how the last interval ended: LEFT or DEREGISTERED
        self.ending: tuple[date, list[list[Any]]] | None = None  # the deregistration's end, while in effect
        # Memberships recorded before rule 8 did not note their claims (stored events lack the
        # field): the ledger finds theirs in the log instead.
        self.tracks_claims = tracks_claims
        self.claims: list[str] = []

    @property
    def current(self) -> list[date | None] | None:
        """The open interval, if a member now. A deregistration dated before the first join
        leaves no interval at all."""
        if not self.intervals:
            return None
        last = self.intervals[-1]
        return last if last[1] is None else None

    @property
    def left_on(self) -> date | None:
        """The end of the last interval; None while a member or when no interval is left."""
        return self.intervals[-1][1] if self.intervals else None

    def rejoin(self, on: date, *, professional: Professional) -> None:
        if self.current is not None:
            raise AlreadyMember(
                f"{self.professional_id} is a member of {self.network_id} since {self.current[0]} already"
            )
        check_may_join(professional, on)  # first: only a deregistration leaves no interval
        left_on = self.left_on
        assert left_on is not None
        if on < left_on:
            raise DateOutOfOrder(
                f"{self.professional_id} cannot re-join {self.network_id} on {on}, before leaving it on {left_on}"
            )
        self._rejoined(self.network_id, self.professional_id, on)

    @event("Rejoined")
    def _rejoined(
        self, network_id: str, professional_id: str, on: date, actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.intervals.append([on, None])
        self.ended_by = None

    def leave(self, on: date, *, claims: list[Claim]) -> None:
        """Leave on `on` (no member from that day). `claims`: the claims noted here, as they stand."""
        current = self.current
        if current is None:
            raise NotAMember(f"{self.professional_id} is not a member of {self.network_id}")
        joined_on = current[0]
        assert joined_on is not None
        if on <= joined_on:
            raise DateOutOfOrder(
                f"{self.professional_id} joined {self.network_id} on {joined_on}; leaving must come after that"
            )
        affected = [c for c in claims if c.relies_on_member(self.professional_id) and c.activity_date >= on]
        if affected:
            raise LeaveContradictsClaims(
                f"{self.professional_id} leaving {self.network_id} on {on} would leave live claims for activities "
                f"on or after that date without a member: {_listed(affected)}; revoke, return or reject them first",
                [str(c.id) for c in affected],
            )
        self._left(self.network_id, self.professional_id, on)

    @event("Left")
    def _left(
        self, network_id: str, professional_id: str, on: date, actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.intervals[-1][1] = on
        self.ended_by = LEFT

    def cancel_leave(self, *, professional: Professional) -> None:
        """Correct a leave recorded by mistake: the last interval runs on as if never left."""
        left_on = self.left_on
        if left_on is None or self.ended_by != LEFT:
            raise NoLeaveToCancel(
                f"{self.professional_id} has no leave of {self.network_id} to cancel"
                + ("; the membership ended with the deregistration: reinstate the professional instead"
                   if self.ended_by == DEREGISTERED else "")
            )
        if professional.deregistered_on is not None:
            raise ProfessionalDeregistered(
                f"{self.professional_id} is deregistered since {professional.deregistered_on}; "
                "reinstate the professional before cancelling a leave"
            )
        self._leave_cancelled(self.network_id, self.professional_id, left_on)

    @event("LeaveCancelled")
    def _leave_cancelled(
        self, network_id: str, professional_id: str, on: date, actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.intervals[-1][1] = None
        self.ended_by = None

    # --- deregistration of the member, and its correction ----------------------------

    def reaches_beyond(self, day: date) -> bool:
        """Whether the membership covers any date after `day`."""
        last_start, last_end = self.intervals[-1]
        assert last_start is not None
        return last_end is None or last_end > day + timedelta(days=1)

    def end_with_deregistration(self, deregistered_on: date) -> None:
        """The member is deregistered on D: a member through D, no longer from D + 1."""
        assert self.reaches_beyond(deregistered_on)
        self._ended(self.network_id, self.professional_id, deregistered_on + timedelta(days=1),
                    [list(i) for i in self.intervals])

    @event("Ended")
    def _ended(
        self, network_id: str, professional_id: str, on: date, previous: list,
        actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.intervals = [[start, on if end is None or end > on else end] for start, end in previous if start < on]
        self.ended_by = DEREGISTERED
        self.ending: tuple[date, list[list[Any]]] | None = (on, [list(i) for i in previous])

    def restore(self) -> None:
        """The deregistration that ended this membership was cancelled: its intervals come back."""
        assert self.ended_by == DEREGISTERED
        assert self.ending is not None
        on, previous = self.ending
        changes = [[on, covers(previous, on)]]
        for start, end in previous:
            if start > on:
                changes.append([start, True])
            if end is not None and end > on:
                changes.append([end, False])
        self._restored(self.network_id, self.professional_id, on, previous, changes)

    @event("Restored")
    def _restored(
        self, network_id: str, professional_id: str, on: date, previous: list, changes: list,
        actor: str = ACTING, os_user: str = ACTING
    ) -> None:
        self.intervals = [list(i) for i in previous]
        self.ended_by = LEFT if previous[-1][1] is not None else None
        self.ending = None

    # --- the claims that rely on this membership (rule 8) ---------------------------

    def note_claim(self, claim_id: str) -> None:
        """Record that a claim relies on this membership (its member submitted or endorsed it)."""
        self._claim_noted(claim_id)

    @event("ClaimNoted")
    def _claim_noted(self, claim_id: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        if claim_id not in self.claims:
            self.claims.append(claim_id)

    def covers(self, day: date) -> bool:
        return covers(self.intervals, day)


def covers(intervals: list[list[Any]], day: date) -> bool:
    return any(start <= day and (end is None or day < end) for start, end in intervals)


def check_may_join(professional: Professional, on: date) -> None:
    """Rule 8: no membership before the registration; none while deregistered.

    A deregistered professional joins nothing, not even on a date before the deregistration:
    the membership would run on past it, where the deregistration already ended every other.
    """
    if on < professional.registered_on:
        raise JoinBeforeRegistration(
            f"{professional.professional_id} cannot join on {on}, before registering on {professional.registered_on}"
        )
    if professional.deregistered_on is not None:
        raise ProfessionalDeregistered(
            f"{professional.professional_id} was deregistered on {professional.deregistered_on}; "
            "reinstate the professional before recording a membership"
        )


def _listed(claims: list[Claim]) -> str:
    return ", ".join(f"{c.id} ({c.status}, {c.activity_date})" for c in sorted(claims, key=lambda c: str(c.id)))
