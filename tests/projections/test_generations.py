"""Dropping a generation of the read models (projections.generations), on SQLite and PostgreSQL.

A rebuild drops the generation before last an index or a table a transaction (a 1M register's
generation in one transaction spilled 224 MB of zeroed pages through SQLite's page cache): killed
in between, the next rebuild drops the rest.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, inspect

from projections.registry import PROJECTIONS
from projections.runner import ReadModels
from tests.support.readmodels import approve_a_claim


@pytest.fixture
def models(ledger: Any, run: Any) -> Any:
    """R-1's claim approved for 2 points; caught up (generation 1) and rebuilt (2): generation 1 is the one before last, filled."""
    approve_a_claim(ledger)
    models = ReadModels(ledger.event_log)
    models.catch_up()
    models.rebuild()
    yield models
    models.close()


def tables_of(models: ReadModels, generation: int) -> set[str]:
    return {name for name in inspect(models.engine).get_table_names() if name.endswith(f"_g{generation}")}


def test_a_generation_is_dropped_an_index_or_a_table_a_transaction(models: ReadModels) -> None:
    tables = models.tables("claims", 1)
    assert {t.name for t in tables.values()} <= tables_of(models, 1)
    assert models.generations.holds_rows("claims", 1)
    commits: list[object] = []
    event.listen(models.engine, "commit", commits.append)
    models.generations.drop("claims", 1)
    assert len(commits) == len(tables) + sum(len(t.indexes) for t in tables.values())
    assert not {t.name for t in tables.values()} & tables_of(models, 1)


def test_a_drop_killed_half_way_is_finished_by_the_next_rebuild(models: ReadModels, run: Any) -> None:
    tables = list(models.tables("claims", 1).values())
    with models.engine.begin() as conn:  # what a drop killed after its first tables leaves
        for table in tables[:2]:
            table.drop(conn)
    assert tables_of(models, 1)
    assert run("projections", "rebuild").exit_code == 0
    assert not tables_of(models, 1)  # generation 2 is now the one before last, 3 the current one
    assert {n for n in PROJECTIONS if models.state()[n][0] == 3} == set(PROJECTIONS)
    assert run("--json", "balance", "R-1").json()["total"] == "2"
    assert run("projections", "verify").exit_code == 0
