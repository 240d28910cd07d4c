"""The quick read (projections.quick) answers exactly what the usual read answers, or nothing.

The demo register is written one command at a time; after each command, the balance of every
professional, at several dates and known-at instants, is asked of the quick path (before any
catch-up) and of the Reader (which catches up first): wherever the quick path answers, the
answers are equal. It must also answer while events it may skip are pending, and decline
when its read model's bookkeeping is unsound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from ledger.app import Ledger
from projections import quick
from projections.bookkeeping import rm_applied
from projections.reader import Reader
from projections.registry import PROJECTIONS
from projections.runner import ReadModels
from tests.support.demo import demo_steps
from tests.support.harness import Clock


@pytest.fixture
def models(ledger: Ledger) -> Any:
    read_models = ReadModels(ledger.event_log)
    read_models.ensure()
    yield read_models
    read_models.close()


def test_quick_topics_are_the_projections_own(models: ReadModels) -> None:
    assert sorted(quick.TOPICS["balances"]) == sorted(PROJECTIONS["balances"].topics)


@pytest.mark.slow  # the demo one command at a time, many balances after each
def test_quick_balance_equals_the_readers_after_every_command(ledger: Ledger, clock: Clock,
                                                               models: ReadModels) -> None:
    reader = Reader(models, ledger)
    steps = demo_steps(clock.today)
    people = [v["id"] for c, v in steps if c == "professional register"]
    answered = behind = 0
    for number, (command, values) in enumerate(steps):
        clock.tick(seconds=7)
        ledger.run(command, values)
        if number % 3:  # ask every third command: catches up by one to three commands at a time
            continue
        now = clock()
        asks = [(p, at, known) for p in people[::2]
                for at in (now.date(), now.date() - timedelta(days=400))
                for known in (now, now - timedelta(seconds=30))]
        quick_answers = [quick.balance(ledger.store, p, at, known, now=now) for p, at, known in asks]
        head = models.head()
        pending = min(position for _, position in models.state().values()) < head
        for (p, at, known), fast in zip(asks, quick_answers):
            try:
                usual = reader.balance(p, at, known)
            except Exception:  # noqa: BLE001 - not registered yet: the quick path must not answer either
                assert fast is None
                continue
            usual.pop("behind", None)
            if fast is not None:
                assert fast == usual, (command, p, at, known)
                assert list(fast) == list(usual)  # --json prints the keys in this order
                answered += 1
                behind += pending
    assert answered > 50
    assert behind > 10  # it answered while events it could skip were pending


def test_quick_balance_declines_unsound_bookkeeping(ledger: Ledger, clock: Clock, models: ReadModels) -> None:
    ledger.run("professional register", {"id": "P-1", "name": "P", "group": "nurse", "registered_on": clock.today})
    models.catch_up()
    assert quick.balance(ledger.store, "P-1", now=clock()) is not None
    with models.engine.begin() as conn:
        # the position one behind what the model says it applied (the registration: one event)
        conn.execute(update(rm_applied).where(rm_applied.c.name == "balances").values(position=rm_applied.c.position - 1))
    assert quick.balance(ledger.store, "P-1", now=clock()) is None


def test_quick_balance_declines_when_the_professional_has_pending_events(ledger: Ledger, clock: Clock,
                                                                         models: ReadModels) -> None:
    models.catch_up()
    ledger.run("professional register", {"id": "P-1", "name": "P", "group": "nurse", "registered_on": clock.today})
    assert quick.balance(ledger.store, "P-1", now=clock()) is None
    assert Reader(models, ledger).balance("P-1")["total"] == "0"
    assert quick.balance(ledger.store, "P-1", now=clock()) is not None


def test_quick_balance_declines_a_missing_store(tmp_path: Any) -> None:
    from storage.config import resolve

    assert quick.balance(resolve(str(tmp_path / "none.db")), "P-1") is None
