"""An import and a rebuild run the cyclic collector less often (storage.bulk), and only while they run."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ledger import importer
from ledger.app import Ledger
from ledger.errors import InvalidInput
from projections.runner import ReadModels
from storage import bulk


LINES = [json.dumps(line) for line in (
    {"command": "reviewer appoint", "id": "REV-1", "name": "Reviewer", "on": "2024-01-01"},
    {"command": "network register", "id": "wound-care", "name": "Wondzorg", "theme": ["wound-care"],
     "group": ["nurse"], "founded_on": "2021-09-01"},
    {"command": "professional register", "id": "R-1", "name": "N.", "group": "nurse", "registered_on": "2024-01-01"},
    {"command": "network join", "network": "wound-care", "professional": "R-1", "on": "2025-01-01"},
)]


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    """The process's thresholds, set to CPython's defaults for the test and put back after it."""
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_the_block_raises_the_youngest_threshold_and_restores_all_three_even_on_failure(thresholds: Any) -> None:
    with pytest.raises(RuntimeError), bulk.fewer_collections():
        assert gc.isenabled()
        assert gc.get_threshold() == (bulk.YOUNGEST, 10, 10)
        raise RuntimeError("a failing import")
    assert gc.get_threshold() == thresholds


def test_a_higher_threshold_set_by_the_process_is_kept(thresholds: Any) -> None:
    gc.set_threshold(bulk.YOUNGEST * 2, 10, 10)
    with bulk.fewer_collections():
        assert gc.get_threshold()[0] == bulk.YOUNGEST * 2


def seen_while(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[tuple[int, int, int]]:
    """The thresholds in force each time `owner.name` is called."""
    seen: list[tuple[int, int, int]] = []
    original = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return seen


def test_an_import_runs_inside_it_and_a_failed_one_restores_the_thresholds(
        ledger: Ledger, thresholds: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = seen_while(monkeypatch, ledger, "handle")
    importer.import_lines(ledger, LINES)
    assert seen and set(seen) == {(bulk.YOUNGEST, 10, 10)}
    assert gc.get_threshold() == thresholds
    with pytest.raises(InvalidInput):
        importer.import_lines(ledger, [json.dumps({"command": "claim submit"})])
    assert gc.get_threshold() == thresholds


def test_a_rebuild_runs_inside_it(ledger: Ledger, thresholds: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    importer.import_lines(ledger, LINES)
    models = ReadModels(ledger.event_log)
    seen = seen_while(monkeypatch, models, "_advance")
    models.rebuild()
    assert seen == [(bulk.YOUNGEST, 10, 10)]
    assert gc.get_threshold() == thresholds
