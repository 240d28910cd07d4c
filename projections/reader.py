"""Read commands' entry point: catch up first (cheap when up to date), then answer.

When another process holds a projection's lock (a long rebuild, say), the answer comes
from the current read model as it stands and says how many events it is behind: figures
are never silently stale.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import OperationalError

from domain.errors import NotFound
from ledger.errors import Conflict, LedgerError, StorageFailure
from projections import queries
from projections.runner import Busy, ReadModels, rm_state


class Reader:
    def __init__(self, models: ReadModels):
        self.models = models
        self.clock = models.ledger.clock

    def _answer(self, name: str, query: Callable[[Connection, dict[str, Table]], dict[str, Any]]) -> dict[str, Any]:
        # Why the model may be behind, what to do about it, and the exit code that says so.
        behind: tuple[str, str, type[LedgerError]] = ("another process holds it", "retry shortly", Conflict)
        try:
            self.models.catch_up(name)
        except Busy:
            pass  # answer from the read model as it stands, and say how far behind it is
        except (OSError, OperationalError) as error:
            if not _read_only(error):
                raise
            # A read-only store (an auditor's copy) can still be read, with its lag stated.
            behind = ("the store is read-only", "run the command on a writable store", StorageFailure)
        head = self.models.head()
        engine = self.models.engine
        options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            generation, position = conn.execute(
                select(rm_state.c.generation, rm_state.c.position).where(rm_state.c.name == name)
            ).one()
            try:
                result = query(conn, self.models.tables(name, generation))
            except NotFound as error:
                if head <= position:
                    raise
                # Not in the read model, but perhaps in the events it has not applied yet.
                reason, advice, failure = behind
                raise failure(
                    f"The {name} read model says {error.message}, but it is {head - position} event(s) behind the "
                    f"ledger and cannot catch up now ({reason}): {advice}."
                ) from None
        if head > position:
            result["behind"] = {"events": head - position, "position": position, "head": head}
        return result

    def balance(self, professional: str, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock()
        return self._answer("balances", lambda c, t: queries.balance(c, t, professional, at or now.date(), known_at or now))

    def members(self, network: str, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock()
        return self._answer("memberships", lambda c, t: queries.members(c, t, network, at or now.date(), known_at or now))

    def network_map(self, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock()
        return self._answer("memberships", lambda c, t: queries.network_map(c, t, at or now.date(), known_at or now))

    def review_queue(self) -> dict[str, Any]:
        now = self.clock()
        return self._answer("claims", lambda c, t: queries.review_queue(c, t, now))

    def claim(self, ref: str) -> dict[str, Any]:
        claim_id = self.models.ledger.claim_id(ref)
        now = self.clock()
        return self._answer("claims", lambda c, t: queries.claim(c, t, claim_id.hex, now))


def _read_only(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, PermissionError) or "readonly" in text or "read-only" in text
