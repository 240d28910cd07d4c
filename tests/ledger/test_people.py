"""People in an encrypted store (SPEC §9), seen from the stored bytes.

Events name people by a random pseudonym, never by their register id or a value derived from
it without a key: two stores give the same register id different aggregate ids. The bytes of
the events table hold none of anybody's register id, name or texts — on both engines — while the
ledger, with its key, still reads them, still refuses ids that differ only in case (rule 1),
and still replays or refuses a repeated --request-id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.errors import AlreadyRegistered, RequestIdReused
from domain.professional import Professional
from domain.reviewer import Reviewer
from ledger.app import Ledger, open_ledger
from storage.config import resolve
from tests.support.harness import Clock, count_events
from tests.support.tampering import RawStore

# Distinctive enough that finding one in the stored bytes is no coincidence.
PEOPLE = {"Zorro-7731": "Wilhelmina Quaxelbrook", "Yeti-4420": "Bartholomeus Ijzerdraad",
          "Vex-0918": "Cunegonde Vlinderslag"}
TEXTS = ["glimmering protocol of the seventh ward", "a tincture of marigold every morning",
         "Quaxelbrook's own handover sheet", "saw it with my own eyes in the mossgreen room",
         "counted under the moonlit rationale", "rejected for the umbral reason", "returned for the gossamer reason"]


def fill(ledger: Ledger, clock: Clock) -> str:
    """Two professionals and a reviewer with every kind of text; the network id (not personal) `lantern-net`."""
    (p1, n1), (p2, n2), (v1, n3) = PEOPLE.items()
    ledger.register_professional(id=p1, name=n1, group="nurse", registered_on=date(2024, 1, 1))
    ledger.register_professional(id=p2, name=n2, group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id=v1, name=n3, on=date(2024, 1, 1))
    ledger.register_network(id="lantern-net", name="Lantern", theme=["care"], group=["nurse"], founded_on=date(2020, 1, 1))
    for p in (p1, p2):
        ledger.join_network(network="lantern-net", professional=p, on=date(2024, 2, 1))
    claim = ledger.submit_claim(professional=p1, network="lantern-net", kind="answer", on=date(2025, 3, 1),
                                hours=Decimal("2"), description=TEXTS[0], outcome=TEXTS[1],
                                practice_change=TEXTS[2], request_id="first-claim")["claim"]
    ledger.endorse_claim(claim=claim, by=p2, statement=TEXTS[3])
    ledger.approve_claim(claim=claim, reviewer=v1, rationale=TEXTS[4])
    other = ledger.submit_claim(professional=p2, network="lantern-net", kind="question", on=date(2025, 3, 2),
                                hours=Decimal("1"), description="d", outcome="o")["claim"]
    ledger.reject_claim(claim=other, reviewer=v1, reason=TEXTS[5])
    third = ledger.submit_claim(professional=p2, network="lantern-net", kind="question", on=date(2025, 3, 3),
                                hours=Decimal("1"), description="d", outcome="o")["claim"]
    ledger.return_claim(claim=third, reviewer=v1, reason=TEXTS[6])
    ledger.amend_claim(claim=third, by=p2, description=TEXTS[0] + " amended")
    ledger.deregister_professional(id=p2, on=date(2026, 1, 1))
    return claim


def stored_bytes(db_url: str) -> bytes:
    """Every stored event as the database holds it: originator id, topic and state."""
    return b"\n".join(b"%s %s %s" % (str(r.originator_id).encode(), str(r.topic).encode(), r.state)
                      for r in RawStore(db_url).rows())


def test_stored_events_hold_no_register_id_name_or_text_of_anybody(ledger: Ledger, clock: Clock, db_url: str) -> None:
    claim = fill(ledger, clock)
    stored = stored_bytes(db_url)
    assert b"lantern-net" in stored  # a network is no person: the search does find what is there
    words = ["glimmering", "seventh ward", "marigold", "handover", "mossgreen", "moonlit", "umbral", "gossamer",
             "Quaxelbrook", "Ijzerdraad", "Vlinderslag", "Wilhelmina", "Cunegonde"]  # any part of a text or name
    secrets = [*PEOPLE, *PEOPLE.values(), *TEXTS, *words]
    found = [s for s in secrets if s.encode() in stored or s.lower().encode() in stored]
    assert found == []
    # and the ledger, with its key, reads them all
    assert ledger.repository.get(ledger.id_of(Professional, "Zorro-7731")).name == "Wilhelmina Quaxelbrook"
    assert ledger.professional("Yeti-4420").deregistered_on == date(2026, 1, 1)
    from domain.claim import Claim

    read = ledger.find(Claim, ledger.claim_id(claim))
    assert read is not None and (read.description, read.practice_change) == (TEXTS[0], TEXTS[2])


def test_id_guards_and_request_records_hold_no_register_id(ledger: Ledger, clock: Clock, db_url: str) -> None:
    fill(ledger, clock)
    rows = RawStore(db_url).rows()
    taken = [r for r in rows if str(r.topic).endswith("RegisteredId.Taken")]
    assert taken, "the network's id is guarded by an event"
    assert all(b'"network"' in r.state for r in taken)  # a person's id is guarded by the key store instead
    requests = [r for r in rows if str(r.topic).endswith("Request.Recorded")]
    assert len(requests) == 1
    assert not any(p.encode() in requests[0].state for p in PEOPLE)
    assert b"first-claim" in requests[0].state  # the caller's key itself is what finds the record


def test_pseudonyms_are_random_two_stores_give_one_register_id_other_aggregate_ids(tmp_path: Path, clock: Clock) -> None:
    ids, pseudonyms = [], []
    for name in ("a.db", "b.db"):
        app = open_ledger(resolve(str(tmp_path / name)), create=True, clock=clock, os_user="tester")
        try:
            assert app.people is not None
            app.register_professional(id="R-1", name="Same", group="nurse", registered_on=date(2024, 1, 1))
            app.appoint_reviewer(id="R-1", name="Same", on=date(2024, 1, 1))
            ids.append((app.id_of(Professional, "R-1"), app.id_of(Reviewer, "R-1")))
            pseudonyms.append(app.people.pseudonym("R-1"))
            assert app.professional("R-1").name == "Same"
        finally:
            app.close()
    assert ids[0][0] != ids[1][0] and ids[0][1] != ids[1][1]
    assert pseudonyms[0] != pseudonyms[1] and "R-1" not in pseudonyms[0]
    # nor is the aggregate id the one a plain store derives from the register id alone
    assert ids[0][0] != Professional.create_id("R-1")


def test_ids_differing_only_in_case_are_refused_in_an_encrypted_store(ledger: Ledger, db_url: str) -> None:
    assert ledger.people is not None
    ledger.register_professional(id="Q-1", name="Quinn", group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="rv-1", name="Rita", on=date(2024, 1, 1))
    before = count_events(ledger.store)
    with pytest.raises(AlreadyRegistered) as refused:
        ledger.register_professional(id="q-1", name="Other", group="nurse", registered_on=date(2024, 1, 1))
    assert "Q-1" in str(refused.value)
    with pytest.raises(AlreadyRegistered):
        ledger.appoint_reviewer(id="RV-1", name="Other", on=date(2024, 1, 1))
    with pytest.raises(AlreadyRegistered):
        ledger.register_professional(id="Q-1", name="Again", group="nurse", registered_on=date(2024, 1, 1))
    assert count_events(ledger.store) == before
    assert RawStore(db_url).execute("SELECT COUNT(*) FROM studyledger_people")[0][0] == 2  # nobody enrolled
    ledger.appoint_reviewer(id="Q-1", name="Quinn", on=date(2024, 1, 1))  # one person in two roles: allowed


def test_a_request_id_replays_the_same_content_and_refuses_other_content(run: Any, store: Any) -> None:
    args = ("professional", "register", "K-1", "--name", "Kim", "--group", "nurse", "--request-id", "reg-k1")
    first = run("--json", *args)
    assert first.exit_code == 0, first.stderr
    events = count_events(store)
    again = run("--json", *args)
    assert again.exit_code == 0, again.stderr
    shown = again.json()
    assert shown["replayed"]["request_id"] == "reg-k1"
    assert {k: v for k, v in shown.items() if k != "replayed"} == first.json()  # the first result, read back
    assert count_events(store) == events
    other = run("--json", *args[:4], "Kim Other", *args[5:])
    assert other.exit_code == 1 and "RequestIdReused" in other.stderr
    assert count_events(store) == events
    assert run("--json", "balance", "K-1").json()["professional"] == "K-1"


def test_a_request_id_is_refused_for_other_content_in_process(ledger: Ledger) -> None:
    ledger.register_professional(id="K-2", name="Kai", group="nurse", request_id="reg-k2")
    assert ledger.register_professional(id="K-2", name="Kai", group="nurse", request_id="reg-k2")["replayed"]
    with pytest.raises(RequestIdReused):
        ledger.register_professional(id="K-3", name="Kai", group="nurse", request_id="reg-k2")
