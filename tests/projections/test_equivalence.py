"""Catching up step by step and rebuilding at once give the same read models (SPEC §4).

The demo register (plus a few steps that reach the handlers the demo leaves out: an
amendment that clears endorsements, a network closed) is written one command at a time,
with a catch-up after every command; then all rows of every projection's current tables
are compared with the rows of one full rebuild. Also: rebuilds are repeatable, a catch-up
with nothing new applies nothing, `status` reports the lag, and `verify` — which must be
ok on untouched read models — names the projection and table of a row changed behind
its back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, event, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from ledger.app import Ledger, open_ledger
from projections import model, runner
from projections.runner import ReadModels
from projections.verify import verify
from projections.registry import PROJECTIONS
from storage.config import Store
from storage.readmodels import duplicate
from tests.support.demo import demo_steps
from tests.support.harness import Clock, count_events
from tests.support.snapshots import Snapshots

pytestmark = pytest.mark.slow  # every test starts from the demo written one command at a time

Snapshot = dict[tuple[str, str], list[tuple[Any, ...]]]


def write_demo(ledger: Ledger, clock: Clock, after_each: Callable[[], Any]) -> int:
    """Write the demo and the extra steps one command at a time; how many commands ran."""
    steps = demo_steps(clock.today)
    for command, values in steps:
        clock.tick(seconds=7)
        ledger.run(command, values)
        after_each()
    return len(steps)


def snapshot(models: ReadModels) -> Snapshot:
    """Every row of every projection's current tables, sorted."""
    rows: Snapshot = {}
    with models.engine.connect() as conn:
        for name, (generation, _) in sorted(models.state().items()):
            for key, table in models.tables(name, generation).items():
                rows[name, key] = sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
    return rows


def positions(models: ReadModels) -> dict[str, int]:
    return {name: position for name, (_, position) in models.state().items()}


def generations(models: ReadModels) -> dict[str, int]:
    return {name: generation for name, (generation, _) in models.state().items()}


def write_and_catch_up(store: Store, clock: Clock, stepwise: bool) -> None:
    """On a ledger and read models of their own (closed after): the demo written with a catch-up
    after every command (`stepwise`), or written and then caught up once."""
    app = open_ledger(store, create=True, clock=clock, os_user="tester")
    read_models = ReadModels(app.event_log)
    try:
        read_models.ensure()
        write_demo(app, clock, read_models.catch_up if stepwise else lambda: None)
        if not stepwise:
            read_models.catch_up()
    finally:
        read_models.close()
        app.close()


@pytest.fixture
def ledger(store: Store, clock: Clock, db_url: str, tmp_path: Path, snapshots: Snapshots,
           request: pytest.FixtureRequest) -> Any:
    """A ledger on the store of `stepwise` (if the test asks for it) or of `caught_up`: written
    and caught up by the first test of each engine (`write_and_catch_up`), a copy of that store
    (and of its clock) for the others. The store is made before the ledger is opened on it."""
    stepwise = "stepwise" in request.fixturenames

    def build() -> None:
        request.getfixturevalue("initialised_copy")  # a new store as `init` makes it
        write_and_catch_up(store, clock, stepwise)

    snapshots.register("equivalence-stepwise" if stepwise else "equivalence-caught-up", db_url, clock, build, tmp_path)
    app = open_ledger(store, create=True, clock=clock, os_user="tester")
    yield app
    app.close()


@pytest.fixture
def models(ledger: Ledger) -> Any:
    read_models = ReadModels(ledger.event_log)
    read_models.ensure()
    yield read_models
    read_models.close()


@pytest.fixture
def stepwise(models: ReadModels) -> ReadModels:
    """The demo written with a catch-up after every command (`ledger` wrote it, or copied it)."""
    return models


@pytest.fixture
def caught_up(models: ReadModels) -> ReadModels:
    """The demo written, then caught up once (`ledger` wrote it, or copied it)."""
    return models


def test_catch_up_after_every_command_equals_one_full_rebuild(stepwise: ReadModels) -> None:
    step_by_step = snapshot(stepwise)
    assert set(step_by_step) == {(name, key) for name in PROJECTIONS for key in stepwise.tables(name, 1)}
    assert all(step_by_step.values()), [key for key, rows in step_by_step.items() if not rows]  # nothing trivially equal
    before = positions(stepwise)
    stepwise.rebuild()
    assert positions(stepwise) == before
    assert snapshot(stepwise) == step_by_step


@pytest.mark.parametrize("limit", [runner.BACKLOG_LIMIT, 3], ids=["backlog held to the end", "backlog overflowing"])
def test_a_rebuild_page_by_page_equals_catching_up_after_every_command(
    stepwise: ReadModels, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Every decision and amendment falls in a later page than its claim, as in a register where claims
    are decided days after they are submitted: the rebuild holds those updates and deletes until its
    tables are indexed (or, past `limit`, indexes them early and goes on page by page). The endorsement
    given after the amendment that cleared the others must survive its held delete."""
    step_by_step = snapshot(stepwise)
    monkeypatch.setattr(runner, "PAGE_SIZE", 1)
    monkeypatch.setattr(runner, "BACKLOG_LIMIT", limit)
    stepwise.rebuild()
    assert snapshot(stepwise) == step_by_step


def test_a_rebuild_updates_and_deletes_rows_only_once_their_table_is_indexed(
    stepwise: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without an index, each update or delete of a row from an earlier page scans its table: a rebuild
    quadratic in the register's size. Its index must come first."""
    monkeypatch.setattr(runner, "PAGE_SIZE", 1)
    statements: list[str] = []
    event.listen(stepwise.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split())))
    stepwise.rebuild()
    claims, endorsements = (stepwise.tables("claims", 2)[t].name for t in ("claims", "endorsements"))
    changes = [i for i, s in enumerate(statements)
               if s.startswith(("UPDATE", "DELETE")) and (claims in s or endorsements in s)]
    assert any(statements[i].startswith("UPDATE") for i in changes)
    assert any(statements[i].startswith("DELETE") for i in changes)
    for table in (claims, endorsements):
        indexed = min(i for i, s in enumerate(statements) if s.startswith("CREATE") and "INDEX" in s and table in s)
        assert all(i > indexed for i in changes if table in statements[i]), table


def test_a_rebuild_whose_backlog_overflows_goes_on_loading_without_indexes(
    stepwise: ReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its limit the backlog is applied on indexed tables, whose indexes are then dropped again:
    the pages after it write only rows (kept indexed row by row, a register whose claims are decided
    late rebuilt in 3× the floor), every update or delete still finds an index, and the generation
    ends indexed."""
    monkeypatch.setattr(runner, "PAGE_SIZE", 1)
    monkeypatch.setattr(runner, "BACKLOG_LIMIT", 3)
    statements: list[str] = []
    event.listen(stepwise.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(" ".join(statement.split())))
    loads = model.insert_many  # COPY on PostgreSQL, which the event above does not see

    def load(conn: Any, table: Table, rows: list[Any]) -> None:
        statements.append(f"LOAD {table.name}")
        loads(conn, table, rows)

    monkeypatch.setattr(model, "insert_many", load)
    stepwise.rebuild()
    claims = stepwise.tables("claims", 2)["claims"].name
    index = "ux_claims_g2"
    made = [i for i, s in enumerate(statements) if s.startswith("CREATE UNIQUE INDEX") and index in s]
    dropped = [i for i, s in enumerate(statements) if s.startswith("DROP INDEX") and index in s]
    assert len(made) >= 3 and len(dropped) == len(made) - 1, (made, dropped)  # overflowed more than once
    assert all(m < d < n for m, d, n in zip(made, dropped, made[1:]))
    inserts = [i for i, s in enumerate(statements) if s == f"LOAD {claims}"]
    assert any(dropped[0] < i < made[1] for i in inserts), "no claim loaded between two overflows"
    for i, s in enumerate(statements):
        if s.startswith(("UPDATE", "DELETE")) and claims in s:
            assert max((m for m in made if m < i), default=-1) > max((d for d in dropped if d < i), default=-1), s
    with stepwise.engine.connect() as conn:
        assert index in {ix["name"] for ix in inspect(conn).get_indexes(claims)}


@pytest.mark.parametrize("rebuilt", [False, True], ids=["caught up", "rebuilt"])
@pytest.mark.parametrize("table", ["claims", "keys"])
def test_a_second_row_for_a_claim_is_refused(caught_up: ReadModels, rebuilt: bool, table: str) -> None:
    """The claims and their request keys are keyed by unique indexes (built after loading in a rebuild):
    a catch-up that would write a claim's row twice is refused as a collision (storage.readmodels.duplicate)."""
    if rebuilt:
        caught_up.rebuild()
    t = caught_up.tables("claims", generations(caught_up)["claims"])[table]
    with caught_up.engine.connect() as conn:
        row = conn.execute(select(t).limit(1)).first()
    assert row is not None
    with pytest.raises(IntegrityError) as refused, caught_up.engine.begin() as conn:
        conn.execute(insert(t).values(**row._mapping))
    assert duplicate(refused.value)


def test_catch_up_after_every_command_leaves_every_projection_at_the_head(stepwise: ReadModels, store: Any) -> None:
    assert set(positions(stepwise).values()) == {count_events(store)}


def test_catch_up_after_every_command_keeps_generation_one(stepwise: ReadModels) -> None:
    assert generations(stepwise) == {name: 1 for name in PROJECTIONS}


def test_verify_is_ok_after_catching_up_step_by_step(stepwise: ReadModels) -> None:
    result = verify(stepwise)
    assert result["ok"], result["problems"]
    assert result["problems"] == []


def test_one_catch_up_at_the_end_equals_one_full_rebuild(caught_up: ReadModels) -> None:
    once = snapshot(caught_up)
    caught_up.rebuild()
    assert snapshot(caught_up) == once


def test_rebuild_twice_gives_the_same_rows(caught_up: ReadModels) -> None:
    caught_up.rebuild()
    first = snapshot(caught_up)
    caught_up.rebuild()
    assert snapshot(caught_up) == first


def test_each_rebuild_moves_to_the_next_generation(caught_up: ReadModels) -> None:
    caught_up.rebuild()
    assert generations(caught_up) == {name: 2 for name in PROJECTIONS}
    caught_up.rebuild()
    assert generations(caught_up) == {name: 3 for name in PROJECTIONS}


def test_rebuild_of_one_projection_moves_only_that_one(caught_up: ReadModels) -> None:
    rows = snapshot(caught_up)
    caught_up.rebuild("claims")
    assert generations(caught_up) == {"balances": 1, "memberships": 1, "claims": 2}
    assert snapshot(caught_up) == rows


def test_catch_up_after_a_rebuild_continues_where_the_rebuild_stopped(
    ledger: Ledger, clock: Clock, caught_up: ReadModels
) -> None:
    caught_up.rebuild()
    clock.tick(days=1)
    ledger.register_professional(id="T-1009", name="Wim Peters", group="teacher-secondary", registered_on=clock.today)
    ledger.join_network(network="formatief-evalueren", professional="T-1009", on=clock.today)
    ledger.return_claim(claim="demo-12", reviewer="R-pgraaf", reason="Please name the outcome in your practice.")
    caught_up.catch_up()
    continued = snapshot(caught_up)
    caught_up.rebuild()
    assert snapshot(caught_up) == continued


def test_catch_up_with_nothing_new_applies_nothing(caught_up: ReadModels) -> None:
    rows = snapshot(caught_up)
    result = caught_up.catch_up()
    assert result["applied"] == {name: 0 for name in PROJECTIONS}
    assert snapshot(caught_up) == rows


def test_status_shows_no_lag_after_catch_up(caught_up: ReadModels, store: Any) -> None:
    status = caught_up.status()
    assert status["head"] == count_events(store)
    assert {p["name"]: p["lag"] for p in status["projections"]} == {name: 0 for name in PROJECTIONS}


def test_status_lag_counts_the_events_written_since_the_catch_up(
    ledger: Ledger, clock: Clock, caught_up: ReadModels, store: Any
) -> None:
    before = count_events(store)
    clock.tick(days=1)
    ledger.register_professional(id="T-1009", name="Wim Peters", group="teacher-secondary", registered_on=clock.today)
    ledger.appoint_reviewer(id="R-new", name="Nieuwe Beoordelaar", on=clock.today)  # an event no projection reads
    ledger.join_network(network="formatief-evalueren", professional="T-1009", on=clock.today, request_id="join-9")
    written = count_events(store) - before
    # the registration and the appointment (2: their ids' guards are in the key store, SPEC §9); the join,
    # noted by the network and the professional, with its request record (4)
    assert written == 6
    status = caught_up.status()
    assert status["head"] == before + written
    assert {p["name"]: p["lag"] for p in status["projections"]} == {name: written for name in PROJECTIONS}
    caught_up.catch_up()
    assert {p["name"]: p["lag"] for p in caught_up.status()["projections"]} == {name: 0 for name in PROJECTIONS}


def test_catch_up_reports_the_events_it_passed(ledger: Ledger, clock: Clock, caught_up: ReadModels) -> None:
    clock.tick(days=1)
    ledger.register_professional(id="T-1009", name="Wim Peters", group="teacher-secondary", registered_on=clock.today)
    ledger.appoint_reviewer(id="R-new", name="Nieuwe Beoordelaar", on=clock.today)
    assert caught_up.catch_up()["applied"] == {name: 2 for name in PROJECTIONS}  # (their id guards: in the key store)


def test_verify_is_ok_after_a_rebuild(caught_up: ReadModels) -> None:
    caught_up.rebuild()
    result = verify(caught_up)
    assert result["ok"], result["problems"]


def test_verify_catches_up_before_it_compares(ledger: Ledger, clock: Clock, caught_up: ReadModels) -> None:
    clock.tick(days=1)
    ledger.register_professional(id="T-1009", name="Wim Peters", group="teacher-secondary", registered_on=clock.today)
    result = verify(caught_up)
    assert result["ok"], result["problems"]
    assert result["position"] == caught_up.head()


def _first(table: Table) -> Any:
    """The row of `table` written first (the least position)."""
    return table.c.position == select(func.min(table.c.position)).scalar_subquery()


TAMPERING: dict[str, tuple[str, str, Callable[[Table], Any]]] = {
    "a posting's points": (
        "balances", "postings", lambda t: update(t).where(_first(t)).values(cents=t.c.cents + 1)),
    "a posting deleted": (
        "balances", "postings", lambda t: delete(t).where(_first(t))),
    "a membership change turned around": (
        "memberships", "changes", lambda t: update(t).where(_first(t)).values(joined=~t.c.joined)),
    "a claim's status": (
        "claims", "claims", lambda t: update(t).where(t.c.status == "approved").values(status="rejected")),
    "an endorsement deleted": (
        "claims", "endorsements", lambda t: delete(t).where(_first(t))),
    "a network's closing date": (
        "memberships", "networks", lambda t: update(t).where(t.c.closed_on.is_not(None)).values(closed_on=None)),
}


@pytest.mark.parametrize("change", list(TAMPERING))
def test_verify_names_the_table_of_a_row_changed_behind_its_back(caught_up: ReadModels, change: str) -> None:
    projection, table, statement = TAMPERING[change]
    generation = generations(caught_up)[projection]
    with caught_up.engine.begin() as conn:
        assert conn.execute(statement(caught_up.tables(projection, generation)[table])).rowcount >= 1
    result = verify(caught_up)
    assert result["ok"] is False
    assert result["problems"]
    assert all(p.startswith(f"{projection}.{table}: ") for p in result["problems"]), result["problems"]


def test_rebuild_repairs_a_row_changed_behind_its_back(caught_up: ReadModels) -> None:
    rows = snapshot(caught_up)
    projection, table, statement = TAMPERING["a posting's points"]
    with caught_up.engine.begin() as conn:
        conn.execute(statement(caught_up.tables(projection, 1)[table]))
    assert snapshot(caught_up) != rows
    caught_up.rebuild(projection)
    assert snapshot(caught_up) == rows
    assert verify(caught_up)["ok"]
