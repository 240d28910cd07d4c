"""A credential the register issued: who asked, when, for which professional and cycle.

The credential itself goes to the professional; the ledger keeps what it said (the cycle,
the points, how many claims) and a SHA-256 digest of the signed document, so an auditor can
tell a genuine copy and `audit history` shows every issue.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import event

from domain.base import ACTING, LedgerAggregate, natural_id


class Credential(LedgerAggregate):
    @staticmethod
    def create_id(credential_id: str, **_: Any) -> Any:
        return natural_id("credential", credential_id)

    @event("Issued")
    def __init__(
        self,
        credential_id: str,
        professional_id: str,
        at: date,
        known_at: datetime,
        cycle_start: date,
        cycle_end: date,
        points: str,
        claims: int,
        public_key: str,
        digest: str,
        actor: str = ACTING,
        os_user: str = ACTING,
    ) -> None:
        self.credential_id = credential_id
        self.professional_id = professional_id
        self.cycle_start = cycle_start
        self.cycle_end = cycle_end
        self.points = points
        self.digest = digest
