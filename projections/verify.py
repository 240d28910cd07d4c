"""`projections verify`: every read model compared row for row with a fresh in-memory replay.

The replay (`projections.replay.Replay`) decodes events through the library's own mapper
and folds them with code of its own, so a fault in the projections' fast decoder or
handlers shows up as a difference. Each read model's check (its `check` method, in its own
module) compares its rows with the replay and lists the problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from domain.progress import counted
from projections.bookkeeping import Inconsistent, rm_state
from projections.registry import PROJECTIONS
from projections.replay import Replay
from projections.runner import ReadModels

# What folding events that were changed, moved or removed outside the ledger raises (a claim approved
# before it was submitted: KeyError); storage errors are none of these.
UNREPLAYABLE: tuple[type[BaseException], ...] = (LookupError, AssertionError, TypeError, ValueError, AttributeError)


def verify(models: ReadModels, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Catch up, then compare every projection with a replay of the same events.

    Always a verdict: a projection whose bookkeeping cannot be trusted, or events that cannot be
    replayed in their stored order, are problems found, not failures of the check. `progress(n)`
    is told of every n events replayed."""
    names = list(PROJECTIONS)
    with models.locked(names):
        models.ensure()
        head = models.horizon()
        untrusted = list(models.problems(names, head).values())
        if not untrusted:
            try:
                position = models.catch_up_locked(names)["head"]
            except Inconsistent as error:  # found while applying: rows already there
                untrusted = [error]
        if untrusted:
            return {"ok": False, "position": head, "projections": names,
                    "problems": [f"{error.name}: its bookkeeping is inconsistent ({error.detail}); "
                                 f"run 'studyledger projections rebuild {error.name}'" for error in untrusted]}
        assert all(p == position for _, p in models.state().values()), "a catch-up leaves all at one position"
        try:
            replay = Replay.of(counted(models.log.all_events(stop=position), progress))
            replay.open_text = models.log.open_text
        except UNREPLAYABLE as error:
            return {"ok": False, "position": position, "projections": names,
                    "problems": [f"the events cannot be replayed in their stored order ({type(error).__name__}: "
                                 f"{(str(error).splitlines() or [''])[0][:200]}); they were changed outside the "
                                 "ledger: run 'studyledger audit verify'"]}
        problems: list[str] = []
        with models.engine.connect() as conn, conn.begin():
            generations = dict(conn.execute(select(rm_state.c.name, rm_state.c.generation)).all())
            for name, model in PROJECTIONS.items():
                problems += model.check(conn, models.tables(name, generations[name]), replay)
    return {"ok": not problems, "position": position, "projections": list(PROJECTIONS), "problems": problems}
