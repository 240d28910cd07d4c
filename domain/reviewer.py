"""A reviewer appointed by the register, who decides on claims until retired (or reinstated).

The reviewer knows the last day on which they decided a claim, so that a back-dated
retirement is checked in the same transaction that records it (rule 8). It is noted only
when it moves forward: at most one event a day, and a decision on a new day writes this
aggregate, so a concurrent retirement conflicts with it instead of passing its check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, person_id
from domain.errors import AlreadyRetired, DateOutOfOrder, NotRetired, RetirementContradictsDecisions, ReviewerNotActive


class Reviewer(LedgerAggregate):
    @staticmethod
    def create_id(reviewer_id: str, **_: Any) -> Any:
        return person_id("reviewer", reviewer_id)

    @event("Appointed")
    def __init__(
        self, reviewer_id: str, name: str, appointed_on: date,
        actor: str = ACTING, os_user: str = ACTING, tracks_decisions: bool = False
    ) -> None:
        self.reviewer_id = reviewer_id
        self.name = name
        self.appointed_on = appointed_on
        self.retired_on: date | None = None
        # Reviewers appointed before rule 8 did not note their decisions (the stored event lacks
        # the field): the ledger finds them in the log instead.
        self.tracks_decisions = tracks_decisions
        self.last_decision_on: date | None = None

    def retire(self, on: date, *, last_decision_on: date | None) -> None:
        """Retire on `on` (no decisions from that day). `last_decision_on`: the day of the latest decision."""
        if self.retired_on is not None:
            raise AlreadyRetired(f"reviewer {self.reviewer_id} retired on {self.retired_on} already")
        if on < self.appointed_on:
            raise DateOutOfOrder(
                f"reviewer {self.reviewer_id} cannot retire on {on}, before the appointment on {self.appointed_on}"
            )
        if last_decision_on is not None and on <= last_decision_on:
            raise RetirementContradictsDecisions(
                f"reviewer {self.reviewer_id} decided on a claim on {last_decision_on}; a retirement must be "
                "dated after the last decision"
            )
        self._retired(self.reviewer_id, on)

    @event("Retired")
    def _retired(self, reviewer_id: str, on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.retired_on = on

    def reinstate(self) -> None:
        """Correct a retirement recorded by mistake."""
        if self.retired_on is None:
            raise NotRetired(f"reviewer {self.reviewer_id} is not retired")
        self._reinstated(self.reviewer_id, self.retired_on)

    @event("Reinstated")
    def _reinstated(self, reviewer_id: str, retired_on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.retired_on = None

    def erase(self, reason: str) -> None:
        """Forget this reviewer's personal data (SPEC §9): only once retired. Their decisions stay,
        signed by their pseudonym."""
        if self.retired_on is None:
            raise NotRetired(f"reviewer {self.reviewer_id} is not retired; only a retired reviewer can be erased")
        self._erased(self.reviewer_id, reason)

    @event("Erased")
    def _erased(self, reviewer_id: str, reason: str, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.erased = True

    def note_decision(self, today: date) -> None:
        """Remember the day of a decision, when it is later than the last one noted."""
        if self.last_decision_on is None or today > self.last_decision_on:
            self._decision_noted(self.reviewer_id, today)

    @event("DecisionNoted")
    def _decision_noted(self, reviewer_id: str, on: date, actor: str = ACTING, os_user: str = ACTING) -> None:
        self.last_decision_on = on

    def check_may_decide(self, today: date) -> None:
        """Rule 4: appointed on or before today and not retired (retiring on D ends the term on D)."""
        if today < self.appointed_on:
            raise ReviewerNotActive(f"reviewer {self.reviewer_id} is appointed only from {self.appointed_on}")
        if self.retired_on is not None and today >= self.retired_on:
            raise ReviewerNotActive(f"reviewer {self.reviewer_id} retired on {self.retired_on}")
