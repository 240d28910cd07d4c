"""An import into an encrypted store asks the key store once, whole (People.indexed), and refuses what
the command line refuses: an id already registered, a case variant of one, an erased person's id."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from domain.claim import Claim
from domain.errors import DomainError
from ledger import importer
from ledger.app import Ledger
from storage.keystore import KeyStore
from tests.support.harness import count_events

pytestmark = pytest.mark.usefixtures("pages_written")  # each test here both ways

REGISTER = {"command": "professional register", "name": "N.", "group": "nurse", "registered_on": "2024-01-01"}


def people_before(ledger: Ledger) -> None:
    """P-1 and P-2 registered, P-9 registered, deregistered and erased; a network P-1 is a member of."""
    for pid in ("P-1", "P-2", "P-9"):
        ledger.run("professional register", {"id": pid, "name": f"Name of {pid}", "group": "nurse",
                                             "registered_on": date(2024, 1, 1)})
    ledger.run("network register", {"id": "net", "name": "Net", "theme": ["t"], "group": ["nurse"],
                                    "founded_on": date(2024, 1, 1)})
    ledger.run("network join", {"network": "net", "professional": "P-1", "on": date(2024, 2, 1)})
    ledger.run("professional deregister", {"id": "P-9", "on": date(2024, 3, 1)})
    ledger.run("professional erase", {"id": "P-9", "reason": "Retention period ended."})


def no_single_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """While an import runs, the key store's one-row look-ups are not used: the index answers."""
    def refused(*_: Any) -> None:
        raise AssertionError("an import asked the key store row by row")

    for name in ("by_link", "by_folded", "erased"):
        monkeypatch.setattr(KeyStore, name, refused)


@pytest.mark.parametrize(("pid", "refusal"), [("P-1", "already"), ("p-2", "only in case"), ("P-9", "erased"),
                                               ("p-9", "erased")])
def test_an_import_refuses_ids_taken_by_people_registered_or_erased_before_it(
        ledger: Ledger, pid: str, refusal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    people_before(ledger)
    before = count_events(ledger.store)
    lines = [{**REGISTER, "id": "P-3"}, {**REGISTER, "id": pid}]
    ledger.people.forget()  # nothing cached from registering them: the import must find them in the key store
    no_single_lookups(monkeypatch)
    with pytest.raises(DomainError) as refused:
        importer.import_lines(ledger, [json.dumps(line) for line in lines])
    assert refused.value.message.startswith("Line 2 (professional register): ")
    assert refusal in refused.value.message
    assert count_events(ledger.store) == before


def test_an_import_names_people_registered_before_it_by_their_pseudonyms(ledger: Ledger,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    people_before(ledger)
    ledger.people.forget()
    no_single_lookups(monkeypatch)
    lines = [{"command": "network join", "network": "net", "professional": "P-2", "on": "2025-01-01"},
             {"command": "claim submit", "professional": "P-1", "network": "net", "kind": "question",
              "on": "2025-02-01", "hours": "1", "description": "A question from practice.", "outcome": "An answer.",
              "request_id": "c-1"},
             {"command": "claim endorse", "claim": "c-1", "by": "P-2", "statement": "I was there."}]
    before = count_events(ledger.store)
    done = importer.import_lines(ledger, [json.dumps(line) for line in lines])
    assert done == {"commands": 3, "events": count_events(ledger.store) - before}
    monkeypatch.undo()
    claim = ledger.find(Claim, ledger.claim_id("c-1"))
    assert claim is not None
    assert (claim.professional_id, [e["by"] for e in claim.endorsements]) == ("P-1", ["P-2"])
    assert ledger.membership("net", "P-2") is not None
