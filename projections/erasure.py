"""Erasing a person (SPEC §9), as the read side carries it out: the ledger's erasure, then the purge
of every read model row that held their personal data, then (SQLite) a checkpoint.

The ledger destroys the person's key and link with their `Erased` events (ledger/commands/people.py).
From then on every decode names them "an erased professional #…" (or reviewer) and gives their
texts as None: so a fresh replay does. The read models, though, were written while the key was
there: they hold the register id and the texts in plain. `purge` puts them where a replay would:
the register id replaced by the placeholder in every person column, the person's own texts set
to NULL, the --request-ids of their claims dropped (the first result that names the claim was
sealed with their key). Every generation of the tables is purged, not only the current one: a
rebuild keeps the generation before, and a killed rebuild may have left the next one.

The pseudonym that makes the placeholder is read BEFORE the erasure: afterwards nothing links the
register id to it (the placeholder shows it, as every decode does, but leads to nobody). The erasure, the catch-up and the purge run while this process
holds every read model's lock, taken before anything is written: a catch-up elsewhere cannot apply
an event with the old register id after the purge, and if the locks cannot be had, nothing is
erased (exit 3, safe to retry). What a catch-up decodes later gives the placeholder anyway.
"""

from __future__ import annotations

import re
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, inspect

from domain.personal import PROFESSIONAL, REVIEWER, erased
from projections.registry import PROJECTIONS
from storage.errors import Busy
from storage.readmodels import writing

if TYPE_CHECKING:
    from projections.model import ReadModel
    from projections.runner import ReadModels

LOCK_WAIT = 30.0  # seconds to wait for a running catch-up to finish before refusing (exit 3)


@dataclass(frozen=True)
class Erasure:
    """Whom to purge: the register id the read models hold, and what a replay now names them."""

    register_id: str
    professional: str  # their placeholder where they acted as a professional
    reviewer: str      # and as a reviewer

    @classmethod
    def of(cls, register_id: str, pseudonym: str) -> Erasure:
        return cls(register_id, erased(PROFESSIONAL, pseudonym), erased(REVIEWER, pseudonym))


def erase(ledger: Any, models: ReadModels, command: Any) -> dict[str, Any]:
    """Carry out an erase command (EraseProfessional, EraseReviewer) on `ledger` (the write application) and
    purge the person from the read models."""
    people = ledger.people
    pseudonym = people.pseudonym(command.id) if people is not None else None
    names = list(PROJECTIONS)
    with _locks(models, names):
        result = ledger.handle(command)
        if pseudonym is None or result.get("replayed"):
            return result  # nothing of theirs was erased now (a repeated --request-id)
        try:
            models.catch_up_locked(names)
        finally:
            purge(models, Erasure.of(command.id, pseudonym))
    if models.log.store.path is not None:  # SQLite: the purged and deleted bytes out of the write-ahead log
        from storage.sqlite import checkpoint

        result = {**result, "checkpointed": checkpoint(models.log.store.path)}
    return result


def _locks(models: ReadModels, names: list[str]) -> ExitStack:
    """Every read model's lock, waiting up to LOCK_WAIT for a catch-up or rebuild to end; Busy after that."""
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        stack = ExitStack()
        try:
            stack.enter_context(models.locked(names))
            return stack
        except Busy:
            stack.close()
            if time.monotonic() >= deadline:
                raise Busy("A catch-up or rebuild of the read models is running and did not end within "
                           f"{LOCK_WAIT:g} s; nobody was erased. Safe to retry.") from None
            time.sleep(0.2)


def purge(models: ReadModels, who: Erasure) -> int:
    """Purge `who` from every generation of every read model's tables, in one transaction; how many generations."""
    done = 0
    with writing(models.engine) as conn:
        present = set(inspect(conn).get_table_names())
        for name, model in PROJECTIONS.items():
            for generation in generations(model, present):
                tables = {key: table for key, table in models.tables(name, generation).items() if table.name in present}
                model.purge(conn, tables, who)
                done += 1
    return done


def generations(model: ReadModel, present: set[str]) -> list[int]:
    """The generations of which at least one table of `model` exists."""
    found: set[int] = set()
    for table in model.tables(MetaData(), "").values():
        pattern = re.compile(re.escape(table.name) + r"_g(\d+)")
        found.update(int(m.group(1)) for m in map(pattern.fullmatch, present) if m)
    return sorted(found)
