"""What a command from the shell loads (SPEC §7: a read at most 3× the time of `studyledger --help`).

A read whose read model has nothing to apply answers through the bare driver (projections.quick),
and its options and `--db` are checked without marshmallow when they have their plain form
(cli.plain): so its process must not import SQLAlchemy, the event store's library (nor the
aggregates, which import it) or marshmallow. The process is a real one — `python -c` running the
console script's `main` — and what it imported is read from its `sys.modules` as it exits, not timed.

The unit tests beside it keep the plain checks equal to the schemas they stand in for.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

# Modules a quick read must not load; each costs tens of milliseconds of the command's start.
NOT_ON_A_QUICK_READ = ("sqlalchemy", "eventsourcing", "marshmallow", "psycopg_pool", "domain.base", "ledger.app",
                       "ledger.commands", "projections.reader", "projections.runner",
                       # nor the other commands' modules (cli.main.COMMAND_MODULES)
                       "cli.audit", "cli.claim", "cli.credential", "cli.network", "cli.projections", "cli.review")

# Runs the console script's entry point as `studyledger ARGS…` and writes the names of the modules
# loaded by the time the process exits to the file named first.
PROBE = """
import atexit, gc, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps([gc.get_freeze_count(), *sorted(sys.modules)])))
sys.argv = ["studyledger", *sys.argv[2:]]
from cli.main import main
main()
"""


def loaded(db: str, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run `studyledger ARGS…` on `db` in a process of its own: its result and the modules it loaded."""
    done, frozen, modules = probed(db, tmp_path, *args)
    return done, modules


def probed(db: str, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], int, list[str]]:
    """`loaded`, and how many objects were frozen (gc.freeze) when the process began to exit."""
    from tests.support.children import child_env

    out = tmp_path / "modules.json"
    out.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, "-c", PROBE, str(out), *args], env=child_env(db), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    frozen, *modules = json.loads(out.read_text()) if out.exists() else [0]
    return done, frozen, modules


def among(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == n or m.startswith(n + ".") for n in names)]


@pytest.mark.processes
def test_a_read_from_the_shell_loads_neither_sqlalchemy_nor_the_library_nor_marshmallow(db_url: str,
                                                                                          tmp_path: Path) -> None:
    for args in (("init",), ("professional", "register", "P-1", "--name", "Ann", "--group", "nurse"),
                 ("balance", "P-1")):  # the last one catches the read model up: the next read is quick
        done, _ = loaded(db_url, tmp_path, *args)
        assert done.returncode == 0, done.stderr

    for args in (("balance", "P-1"), ("balance", "P-1", "--at", "2030-01-01", "--known-at", "2030-01-01"),
                 ("--json", "balance", "P-1")):
        done, modules = loaded(db_url, tmp_path, *args)
        assert done.returncode == 0, done.stderr
        assert "P-1" in done.stdout
        assert modules, "the probe did not record the modules"
        assert among(modules, NOT_ON_A_QUICK_READ) == [], f"studyledger {' '.join(args)} loaded them"

    # The probe sees them when they are loaded: the read of someone just registered catches up first.
    done, _ = loaded(db_url, tmp_path, "professional", "register", "P-2", "--name", "Bo", "--group", "nurse")
    assert done.returncode == 0, done.stderr
    done, modules = loaded(db_url, tmp_path, "balance", "P-2")
    assert done.returncode == 0, done.stderr
    assert among(modules, ("sqlalchemy", "projections.reader")) != []


@pytest.mark.processes
@pytest.mark.parametrize("args", [("--help",), ("professional", "register", "P-1", "--name", "Ann", "--group", "nurse"),
                                  ("balance", "P-9")])
def test_the_process_leaves_what_it_loaded_out_of_its_last_collections(db_url: str, tmp_path: Path,
                                                                       args: tuple[str, ...]) -> None:
    """The interpreter's collections at exit would walk every object the command loaded (40-50 ms of a
    write) only to free memory the process hands back: cli.main freezes them, on success and failure."""
    for command in (("init",), args):
        done, frozen, modules = probed(db_url, tmp_path, *command)
        assert done.returncode == (1 if command[0] == "balance" else 0), done.stderr
        assert frozen > 10_000, f"studyledger {' '.join(command)}: {frozen} objects frozen at exit"


# --- the plain checks are the schemas' ----------------------------------------------------------

IDS = ["P-1", "a", "A.b_c-9", "x" * 64, "x" * 65, "", " P-1", "P-1 ", "P 1", "P\n", "P-1\n", "é", "P\x00",
       "\ud800", "１", "P/1"]
DAYS = [None, "2026-12-02", "2024-02-29", "2025-02-29", "2026-02-30", "2026-13-01", "0000-01-01", "0001-01-01",
        "9999-12-31", "2026-1-01", "20261202", "2026-12-02T00:00:00Z", " 2026-12-02", "2026-12-02\n",
        "２０２６-12-02", "2026-12-0٢", ""]


@pytest.mark.parametrize("professional", IDS)
@pytest.mark.parametrize("at", DAYS[:6])
def test_a_balances_plain_values_are_what_its_schema_gives(professional: str, at: str | None) -> None:
    _same_as_the_schema({"professional": professional, "at": at, "known_at": None})


@pytest.mark.parametrize("day", DAYS)
def test_plain_dates_and_instants_are_what_the_schema_gives(day: str | None) -> None:
    _same_as_the_schema({"professional": "P-1", "at": day, "known_at": None})
    _same_as_the_schema({"professional": "P-1", "at": None, "known_at": day})
    _same_as_the_schema({"professional": "P-1", "at": day, "known_at": day})


def test_instants_with_a_time_are_left_to_the_schema() -> None:
    from cli.plain import plain

    raw = {"professional": "P-1", "at": None, "known_at": "2026-12-02T10:00:00Z"}
    assert plain(raw, ("professional",), days=("at",), instants=("known_at",)) is None
    assert _loaded(raw)["known_at"] == datetime(2026, 12, 2, 10, tzinfo=timezone.utc)


def _loaded(raw: dict[str, Any]) -> dict[str, Any] | None:
    from marshmallow import ValidationError

    from ledger.schemas import Balance

    try:
        return Balance().load({k: v for k, v in raw.items() if v is not None})  # as cli.context.validate
    except ValidationError:
        return None


def _same_as_the_schema(raw: dict[str, Any]) -> None:
    """plain() gives the schema's values, or None (the schema is asked); never a value the schema refuses."""
    from cli.plain import plain

    quick = plain(raw, ("professional",), days=("at",), instants=("known_at",))
    if quick is not None:
        assert quick == _loaded(raw), raw
        assert all(type(quick[k]) is type(v) for k, v in _loaded(raw).items())  # a date is not a datetime


def test_the_plain_cases_are_taken() -> None:
    """Not an empty stand-in: the forms a user types are answered without the schema."""
    from cli.plain import plain

    assert plain({"professional": "T-1003", "at": "2025-12-31", "known_at": "2026-01-15"},
                 ("professional",), days=("at",), instants=("known_at",)) == {
        "professional": "T-1003", "at": date(2025, 12, 31),
        "known_at": datetime(2026, 1, 15, 23, 59, 59, 999999, tzinfo=timezone.utc)}


SCHEMAS = ["bench", "_x", "a" * 63, "a" * 64, "Bench", "1x", "", "a-b", "a b", "x\x00", "é", "a;drop"]


def test_the_plain_schema_name_is_the_schemas() -> None:
    from cli.plain import PLAIN_SCHEMA
    from ledger.schemas import SCHEMA_NAME

    assert PLAIN_SCHEMA == SCHEMA_NAME.pattern


@pytest.mark.parametrize("schema", [None, *SCHEMAS])
@pytest.mark.parametrize("password", ["", "pw", "p\x00w"])
def test_plain_store_settings_are_ones_the_schema_accepts(schema: str | None, password: str) -> None:
    from marshmallow import ValidationError

    from cli.plain import plain_settings
    from ledger.schemas import StoreSettings
    from storage.config import resolve

    store = resolve("postgresql://u@h:5432/d")
    settings = {**store.settings, "POSTGRES_PASSWORD": password}
    if schema is not None:
        settings["POSTGRES_SCHEMA"] = schema
    given: dict[str, Any] = {"settings": {k: v for k, v in settings.items() if k != "POSTGRES_SCHEMA"}}
    if schema is not None:
        given["schema"] = schema
    try:
        StoreSettings().load(given)
        accepted = True
    except ValidationError:
        accepted = False
    assert plain_settings(settings) == accepted, (schema, password)
