"""The read-model purge of an erased person (projections.erasure) reaches every generation of every
read model's tables: the current one, the one a rebuild keeps, and what a killed rebuild left."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select, text

from ledger.app import Ledger
from ledger.commands import command_at
from projections import erasure
from projections.runner import ReadModels
from projections.verify import verify
from tests.support.harness import Clock

PID = "ZQ-8841"
TEXTS = ("Xylophonic bandaging", "Flabbergasted ward", "Marmalade statement")


def build(ledger: Ledger, clock: Clock) -> str:
    for pid in (PID, "P-2"):
        ledger.register_professional(id=pid, name=f"Name of {pid}", group="nurse", registered_on=date(2024, 1, 1))
    ledger.appoint_reviewer(id="V-1", name="Vera", on=date(2024, 1, 1))
    ledger.register_network(id="wc", name="Wound care", theme=["wound-care"], group=["nurse"],
                            founded_on=date(2021, 9, 1))
    for pid in (PID, "P-2"):
        ledger.join_network(network="wc", professional=pid, on=date(2025, 1, 1))
    claim = ledger.submit_claim(professional=PID, network="wc", kind="answer", on=date(2025, 3, 4),
                                hours=Decimal(2), description=TEXTS[0], outcome=TEXTS[1], request_id="k-1")["claim"]
    ledger.endorse_claim(claim=claim, by="P-2", statement="seen")
    ledger.approve_claim(claim=claim, reviewer="V-1", rationale="fine")
    other = ledger.submit_claim(professional="P-2", network="wc", kind="question", on=date(2025, 3, 5),
                                hours=Decimal(1), description="d", outcome="o")["claim"]
    ledger.endorse_claim(claim=other, by=PID, statement=TEXTS[2])
    ledger.deregister_professional(id=PID, on=date(2025, 12, 31))
    clock.tick(minutes=1)
    return claim


def cells(models: ReadModels) -> list[tuple[str, str]]:
    """(table, cell as text) of every read-model table there is."""
    found = []
    with models.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            if name.startswith("rm_"):
                for row in conn.execute(text(f'SELECT * FROM "{name}"')):
                    found += [(name, str(value)) for value in row]
    return found


def test_the_purge_reaches_every_generation_and_equals_a_replay(ledger: Ledger, clock: Clock) -> None:
    build(ledger, clock)
    models = ReadModels(ledger.event_log)
    try:
        models.catch_up()
        models.rebuild()  # generation 2 current, generation 1 kept
        # What a killed rebuild left: generation 3 of the claims, holding the person's rows.
        tables = models.generations.create("claims", 3)
        with models.engine.begin() as conn:
            for key, table in tables.items():
                current = models.tables("claims", 2)[key]
                conn.execute(table.insert().from_select(list(current.c.keys()), select(current)))
        held = [(t, v) for t, v in cells(models) if v == PID or v in TEXTS]
        assert {t.rsplit("_g", 1)[1] for t, _ in held} == {"1", "2", "3"}  # the purge has something to do

        result = erasure.erase(ledger, models, command_at("professional erase")(id=PID, reason="GDPR"))
        assert result["status"] == "erased"
        assert [(t, v) for t, v in cells(models) if PID in v or any(x in v for x in TEXTS)] == []
        assert verify(models)["problems"] == []
    finally:
        models.close()


def test_the_purge_finds_the_generations_of_each_read_model() -> None:
    from projections.registry import PROJECTIONS

    present = {"rm_claims_g1", "rm_claims_g4", "rm_endorsements_g7", "rm_postings_g2", "rm_claims_gx", "rm_state"}
    assert erasure.generations(PROJECTIONS["claims"], present) == [1, 4, 7]
    assert erasure.generations(PROJECTIONS["balances"], present) == [2]
    assert erasure.generations(PROJECTIONS["memberships"], present) == []


def test_nothing_is_purged_when_the_ledger_refuses(ledger: Ledger, clock: Clock) -> None:
    build(ledger, clock)
    models = ReadModels(ledger.event_log)
    try:
        models.catch_up()
        before = sorted(cells(models))
        command: Any = command_at("professional erase")(id="P-2", reason="GDPR")  # not deregistered
        try:
            erasure.erase(ledger, models, command)
        except Exception as error:  # noqa: BLE001 - the refusal itself is the CLI tests' business
            assert type(error).__name__ == "NotDeregistered"
        else:
            raise AssertionError("a registered professional was erased")
        assert sorted(cells(models)) == before
    finally:
        models.close()


def test_a_null_in_a_not_null_column_is_no_collision_of_rows() -> None:
    """Read models made before the texts were nullable get None after an erasure: that must surface as
    what it is, not as rows 'colliding with rows it already holds' (storage.readmodels.duplicate)."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import IntegrityError

    from storage.readmodels import duplicate

    engine = create_engine("sqlite://")
    caught = []
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (a TEXT PRIMARY KEY, b TEXT NOT NULL)"))
        conn.execute(text("INSERT INTO t VALUES ('x', 'y')"))
        for sql in ("INSERT INTO t VALUES ('x', 'z')", "INSERT INTO t VALUES ('q', NULL)"):
            try:
                conn.execute(text(sql))
            except IntegrityError as error:
                caught.append(duplicate(error))
    assert caught == [True, False]
