"""A read whose read model is behind and cannot catch up never refuses what it has not seen yet.

SPEC §4: reads never show silently stale data. When another process holds the projection, a
professional registered in the events the model has not applied is not "unknown": the read
exits 3 (retry shortly) and says how far behind the model is.
"""

from __future__ import annotations

from typing import Any

import pytest

from storage.config import resolve
from storage.errors import Busy
from tests.support.readmodels import Models


def test_an_unapplied_registration_is_not_called_unknown(run: Any, db_url: str) -> None:
    assert run("professional", "register", "P-1", "--name", "Een", "--group", "nurse").exit_code == 0
    assert run("balance", "P-1").exit_code == 0  # the read models are caught up
    assert run("professional", "register", "P-2", "--name", "Twee", "--group", "nurse").exit_code == 0
    view = Models(resolve(db_url))
    try:
        with view.models.exclusive("balances"):  # as a long rebuild would
            stale = run("balance", "P-1")
            unseen = run("balance", "P-2")
            unknown = run("balance", "P-3")
    finally:
        view.close()
    assert stale.exit_code == 0 and "behind" in stale.stderr
    assert unseen.exit_code == 3, unseen.stderr
    # 1: the registration (its guard against ids differing only in case is in the key store, SPEC §9)
    assert "1 event(s) behind" in unseen.stderr and "no professional 'P-2'" in unseen.stderr
    assert unknown.exit_code == 3  # cannot know either: the unapplied events might hold P-3
    assert run("balance", "P-2").exit_code == 0
    assert run("balance", "P-3").exit_code == 1  # caught up: now it is known that there is none


def test_a_read_with_nothing_to_apply_takes_no_lock(run: Any, db_url: str) -> None:
    """A read model at the log's head is read without its lock (a rebuild holding it does not make the
    answer "behind"); one event later the read needs the lock again, and says it is behind without it."""
    assert run("professional", "register", "P-1", "--name", "Een", "--group", "nurse").exit_code == 0
    assert run("network", "register", "wc", "--name", "Wondzorg", "--theme", "wound-care",
               "--group", "nurse").exit_code == 0
    assert run("network", "join", "wc", "P-1", "--on", "2026-06-15").exit_code == 0
    assert run("network", "members", "wc").exit_code == 0  # caught up
    view = Models(resolve(db_url))
    try:
        with view.models.exclusive("memberships"):
            settled = run("--json", "network", "members", "wc")
            assert view.models.catch_up_to_read("memberships")["applied"] == {"memberships": 0}
            with pytest.raises(Busy):  # an operator's catch-up still says another run holds the lock
                view.models.catch_up("memberships")
            assert run("professional", "register", "P-2", "--name", "Twee", "--group", "nurse").exit_code == 0
            assert run("network", "join", "wc", "P-2", "--on", "2026-06-15").exit_code == 0
            behind = run("--json", "network", "members", "wc")
    finally:
        view.close()
    assert settled.exit_code == 0 and "behind" not in settled.json(), settled.stderr
    assert settled.json()["members"] == ["P-1"]
    assert behind.exit_code == 0 and behind.json()["behind"]["events"] > 0, behind.stdout
    assert behind.json()["members"] == ["P-1"]
    caught_up = run("--json", "network", "members", "wc").json()
    assert "behind" not in caught_up and caught_up["members"] == ["P-1", "P-2"]


def test_a_catch_up_by_another_process_during_a_read_is_not_called_inconsistent(run: Any, db_url: str) -> None:
    """The head a read compares its read model's position with is read after the read's snapshot began.
    Here, once the read has caught up, another process writes and catches up as the read asks for the
    head: the read's snapshot still stands where it stood, and its answer is that snapshot's, never a
    position "beyond the head" (exit 4)."""
    from projections.reader import Reader

    assert run("professional", "register", "P-1", "--name", "Een", "--group", "nurse").exit_code == 0
    reading, other = Models(resolve(db_url)), Models(resolve(db_url))
    try:
        models = reading.models
        catch_up, head = models.catch_up_to_read, models.head
        caught_up: list[bool] = []
        moved: list[int] = []

        def catch_up_once(name: str | None = None) -> dict[str, Any]:
            done = catch_up(name)
            caught_up.append(True)
            return done

        def head_as_another_process_moves_on() -> int:
            found = head()
            if caught_up and not moved:
                moved.append(run("professional", "register", "P-2", "--name", "Twee", "--group", "nurse").exit_code)
                other.models.catch_up()
            return found

        models.catch_up_to_read, models.head = catch_up_once, head_as_another_process_moves_on  # type: ignore[method-assign]
        answer = Reader(models, reading.ledger).balance("P-1")
        assert moved == [0] and other.models.state()["balances"][1] == head()  # the other process moved on
        assert answer["professional"] == "P-1" and "behind" not in answer
    finally:
        reading.close()
        other.close()
