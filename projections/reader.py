"""Read commands' entry point: catch up first (cheap when up to date), then answer.

When another process holds a projection's lock (a long rebuild, say), the answer comes
from the current read model as it stands and says how many events it is behind: figures
are never silently stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import OperationalError

from domain.errors import NotFound, UnknownProfessional
from projections import balances, memberships
from projections.bookkeeping import STANDING, Inconsistent, distrust, rm_applied, rm_state
from projections.claims import TEXTS as CLAIM_TEXTS
from projections.claims import queries as claims
from projections.runner import ReadModels
from storage.errors import Busy, Conflict, StorageError, StorageFailure
from storage.readmodels import snapshot


class Reader:
    def __init__(self, models: ReadModels, ledger: Any):
        self.models = models
        self.ledger = ledger  # the write application: its clock, claims by request id, claimants' names
        self.clock = ledger.clock

    def _answer(self, name: str, query: Callable[[Connection, dict[str, Table]], dict[str, Any]]) -> dict[str, Any]:
        # Why the model may be behind, what to do about it, and the exit code that says so.
        behind: tuple[str, str, type[StorageError]] = ("another process holds it", "retry shortly", Conflict)
        try:
            self.models.catch_up_to_read(name)
        except Busy:
            pass  # answer from the read model as it stands, and say how far behind it is
        except (OSError, OperationalError) as error:
            if not _read_only(error):
                raise
            # A read-only store (an auditor's copy) can still be read, with its lag stated.
            behind = ("the store is read-only", "run the command on a writable store", StorageFailure)
        with snapshot(self.models.engine) as conn:
            generation, position, head = _bookkeeping(conn, name, self.models.head)
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
        with self._erased(professional):
            return self._answer("balances",
                                lambda c, t: balances.balance(c, t, professional, at or now.date(), known_at or now))

    def credential_facts(self, professional: str, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        """P's balance and the approved claims of its cycle, read together (see projections.balances.facts)."""
        now = self.clock()
        with self._erased(professional):
            return self._answer("balances",
                                lambda c, t: balances.facts(c, t, professional, at or now.date(), known_at or now))

    @contextmanager
    def _erased(self, professional: str) -> Iterator[None]:
        """A professional the read model does not know may have been erased (SPEC §9): then say so
        (PersonErased, exit 1). Asked only then: the key store is not read for every balance."""
        try:
            yield
        except UnknownProfessional:
            self.ledger.check_not_erased(professional)
            raise

    def members(self, network: str, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock()
        return self._answer("memberships", lambda c, t: memberships.members(c, t, network, at or now.date(), known_at or now))

    def network_map(self, at: date | None = None, known_at: datetime | None = None) -> dict[str, Any]:
        now = self.clock()
        return self._answer("memberships", lambda c, t: memberships.network_map(c, t, at or now.date(), known_at or now))

    def review_queue(self, **filters: Any) -> dict[str, Any]:
        """The queue; filters: network, group, kind, older_than (days), limit (see projections.claims.queries)."""
        now = self.clock()
        result = self._answer("claims", lambda c, t: claims.review_queue(c, t, now, **filters))
        return self._named(result, result["claims"])

    def claim_list(self, **filters: Any) -> dict[str, Any]:
        """Claims by professional, network, status, kind; newest first, at most `limit`. An erased
        professional's claims are not found by their id (PersonErased): it names nobody any more."""
        if filters.get("professional") is not None:
            self.ledger.check_not_erased(filters["professional"])
        now = self.clock()
        result = self._answer("claims", lambda c, t: claims.claim_list(c, t, now, **filters))
        return self._named(result, result["claims"])

    def claim(self, ref: str) -> dict[str, Any]:
        claim_id = self.ledger.claim_id(ref)
        now = self.clock()
        result = self._answer("claims", lambda c, t: claims.claim(c, t, claim_id.hex, now))
        open_text = self.models.log.open_text  # the read model keeps texts sealed (SPEC §9)
        for name in CLAIM_TEXTS:
            result[name] = open_text(result[name])
        for entry in result["endorsements"]:
            entry["statement"] = open_text(entry["statement"])
        for decision in result["decisions"]:
            if "text" in decision:
                decision["text"] = open_text(decision["text"])
        return self._named(result, [result])

    def _named(self, result: dict[str, Any], claims: list[dict[str, Any]]) -> dict[str, Any]:
        """Each claimant's name, read from the ledger: names are personal data (SPEC §9) that the read
        models do not hold. None for a professional the ledger cannot name."""
        names: dict[str, str | None] = {}
        for claim in claims:
            who = claim["professional"]
            if who not in names:
                try:
                    names[who] = self.ledger.professional(who).name
                except NotFound:
                    names[who] = None
            claim["professional_name"] = names[who]
        return result


def _bookkeeping(conn: Connection, name: str, head: Callable[[], int]) -> tuple[int, int, int]:
    """(generation, position) of `name`, checked as the read's own transaction sees it (a catch-up that
    was busy or read-only did not check it): Inconsistent rather than an answer from untrusted tables;
    and the log's head. The head is read after the read's snapshot began: a position the snapshot
    holds was reached by then, so it is never beyond the head, whatever other processes do meanwhile."""
    row = conn.execute(select(rm_state.c.generation, rm_state.c.position, rm_applied.c.position)
                       .select_from(STANDING).where(rm_state.c.name == name)).one_or_none()
    if row is None:
        raise Inconsistent(name, "no position is recorded for it")
    generation, position, applied = row
    last = head()
    if (problem := distrust(name, position, applied, last)) is not None:
        raise problem
    return generation, position, last


def _read_only(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, PermissionError) or "readonly" in text or "read-only" in text
