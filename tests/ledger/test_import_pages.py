"""An import is written page by page inside one transaction, with a bounded aggregate cache.

Pages and the cache are shrunk to a few events and aggregates here, so that every path runs
on a small register: aggregates dropped from the cache are read back through the import's
own (uncommitted) transaction, a bad line after several written pages rolls all of them
back, and the outcome equals the same lines imported in one page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from domain.errors import DomainError
from ledger import importer
from ledger.app import Ledger, open_ledger
from ledger.unit_of_work import IdFilter
from storage.config import resolve
from projections.runner import ReadModels
from projections.verify import verify
from tests.support.harness import count_events

pytestmark = pytest.mark.usefixtures("pages_written")  # each test here both ways

MEMBERS = [f"R-{n}" for n in range(1, 7)]


def register() -> list[dict[str, Any]]:
    """Six members of one network, each claiming; every claim endorsed by two others, then approved."""
    lines: list[dict[str, Any]] = [
        {"command": "reviewer appoint", "id": "REV-1", "name": "Reviewer", "on": "2024-01-01"},
        {"command": "network register", "id": "wound-care", "name": "Wondzorg", "theme": ["wound-care"],
         "group": ["nurse"], "founded_on": "2021-09-01"},
    ]
    for pid in MEMBERS:
        lines += [
            {"command": "professional register", "id": pid, "name": "N.", "group": "nurse", "registered_on": "2024-01-01"},
            {"command": "network join", "network": "wound-care", "professional": pid, "on": "2025-01-01"},
        ]
    for n, pid in enumerate(MEMBERS):
        claim = f"c-{pid}"
        lines.append({"command": "claim submit", "professional": pid, "network": "wound-care", "kind": "answer",
                      "on": "2025-03-04", "hours": "2", "description": "Vraag uit de praktijk",
                      "outcome": "Nieuwe aanpak", "request_id": claim})
        for other in (MEMBERS[(n + 1) % len(MEMBERS)], MEMBERS[(n + 2) % len(MEMBERS)]):
            lines.append({"command": "claim endorse", "claim": claim, "by": other, "statement": "Klopt"})
    for pid in MEMBERS:  # late references back to aggregates written pages ago
        lines.append({"command": "review approve", "claim": f"c-{pid}", "reviewer": "REV-1", "rationale": "Goed"})
    return lines


def as_text(lines: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(line) for line in lines]


@pytest.fixture
def tiny_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(importer, "PAGE_EVENTS", 3)
    monkeypatch.setattr(importer, "CACHE_LIMIT", 2)
    yield


def read_models_of(ledger: Ledger) -> Any:
    models = ReadModels(ledger.event_log)
    models.catch_up()
    return models


def balances(ledger: Ledger) -> dict[str, Any]:
    from projections.reader import Reader

    models = read_models_of(ledger)
    try:
        return {pid: Reader(models, ledger).balance(pid)["total"] for pid in MEMBERS}
    finally:
        models.close()


def test_small_pages_give_what_one_page_gives(db_url: str, ledger: Ledger, tiny_pages: None,
                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Any, clock: Any) -> None:
    result = importer.import_lines(ledger, as_text(register()))
    assert result == {"commands": len(register()), "events": count_events(ledger.store)}

    monkeypatch.setattr(importer, "PAGE_EVENTS", 10**6)
    monkeypatch.setattr(importer, "CACHE_LIMIT", 10**6)
    reference = open_ledger(resolve(str(tmp_path / "one-page.db")), create=True, clock=clock, os_user="tester")
    try:
        assert importer.import_lines(reference, as_text(register())) == result
        assert balances(ledger) == balances(reference)
        assert all(total != "0.00" for total in balances(ledger).values())  # the approvals were applied
    finally:
        reference.close()
    models = read_models_of(ledger)
    assert verify(models)["ok"]
    models.close()


@pytest.mark.parametrize("bad_at", ["late", "last"])
def test_a_bad_line_after_written_pages_leaves_the_store_untouched(db_url: str, ledger: Ledger, tiny_pages: None,
                                                                   bad_at: str) -> None:
    importer.import_lines(ledger, as_text(register()[:2]))  # the store is not empty
    before = count_events(ledger.store)
    lines = register()[2:]
    # A rule broken late: endorsing one's own claim, after many pages were written.
    bad = {"command": "claim endorse", "claim": "c-R-1", "by": "R-1", "statement": "Zelf"}
    lines.insert(len(lines) - 2 if bad_at == "late" else len(lines), bad)
    with pytest.raises(DomainError, match=f"Line {lines.index(bad) + 1} "):
        importer.import_lines(ledger, as_text(lines))
    assert count_events(ledger.store) == before
    # and the same lines without the bad one then go in whole
    lines.remove(bad)
    assert importer.import_lines(ledger, as_text(lines))["commands"] == len(lines)


def test_a_write_during_an_import_waits_for_it_and_neither_fails(store: Any, ledger: Ledger, clock: Any) -> None:
    """An import that has started reading holds the write lock (SQLite); a write meanwhile waits for it.

    In a plain deferred transaction the import held only a read snapshot while it read: a write
    committed then made the import's first insert fail at once on SQLite, after all its lines."""
    import threading

    importer.import_lines(ledger, as_text(register()[:1]))  # not empty: the import looks its ids up as it goes
    paused, go_on = threading.Event(), threading.Event()

    def lines() -> Iterator[str]:
        for n in range(20):
            if n == 10:
                paused.set()
                assert go_on.wait(30)
            yield json.dumps({"command": "professional register", "id": f"P-{n}", "name": "N.", "group": "nurse",
                              "registered_on": "2024-01-01"})

    outcome: dict[str, Any] = {}

    def attempt(name: str, work: Any) -> None:
        try:
            outcome[name] = work()
        except Exception as error:  # noqa: BLE001 — the test reports it
            outcome[name] = error

    importing = threading.Thread(target=attempt, args=("import", lambda: importer.import_lines(ledger, lines())))
    importing.start()
    assert paused.wait(30)  # ten lines read and looked up, nothing written yet
    other = open_ledger(store, clock=clock, os_user="other")
    writing = threading.Thread(target=attempt, args=("write", lambda: other.run(
        "professional register", {"id": "X-1", "name": "N.", "group": "nurse", "registered_on": None})))
    writing.start()
    writing.join(0.5)
    go_on.set()
    importing.join(60)
    writing.join(60)
    other.close()
    # one event each: a person's id is guarded against case variants by the key store (SPEC §9)
    assert outcome["import"] == {"commands": 20, "events": 20}, outcome
    assert isinstance(outcome["write"], dict), outcome
    assert count_events(ledger.store) == 1 + 20 + 1  # the reviewer before, the import, X-1


@pytest.mark.slow  # 200,000 ids
def test_the_id_filter_never_forgets_and_rarely_imagines() -> None:
    import uuid

    seen = [uuid.uuid5(uuid.NAMESPACE_URL, f"added-{n}") for n in range(100_000)]
    found = IdFilter()
    found.update(i.int for i in seen)
    assert all(i.int in found for i in seen)
    imagined = sum(uuid.uuid5(uuid.NAMESPACE_URL, f"never-{n}").int in found for n in range(100_000))
    assert imagined < 1_000  # under 1 %: each one costs only a look-up that finds nothing


def test_a_trimmed_cache_drops_claims_before_the_people_and_memberships_they_touch(
        db_url: str, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for the register's people, network and memberships but not its claims, no professional,
    reviewer, membership or network is read back from the store: only claims (each endorsed and decided
    later) and the requests that name them."""
    from ledger import unit_of_work

    monkeypatch.setattr(importer, "PAGE_EVENTS", 3)
    lasting = 2 * len(MEMBERS) + 3  # the professionals, their memberships, the network (and its id guard), the reviewer
    monkeypatch.setattr(importer, "CACHE_LIMIT", lasting + 2)
    monkeypatch.setattr(importer, "CACHE_KEEP", lasting)
    read_back: list[str] = []
    get = unit_of_work.Staging.get

    def counted(self: Any, aggregate_id: Any) -> Any:
        cached = aggregate_id.int in self._cache
        found = get(self, aggregate_id)
        if found is not None and not cached:
            read_back.append(type(found).__name__)
        return found

    monkeypatch.setattr(unit_of_work.Staging, "get", counted)
    importer.import_lines(ledger, as_text(register()))
    assert "Claim" in read_back and set(read_back) <= {"Claim", "Request"}, read_back
    assert all(total != "0.00" for total in balances(ledger).values())
