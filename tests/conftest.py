"""Shared fixtures: a store on every engine, a controllable clock, and the CLI runner; the markers.
(What tests import lives in tests/support/: no test module imports another, nor this file.)

`store` is parametrised over SQLite (a file in the test's temporary folder) and PostgreSQL
(a schema of its own in the database named by STUDYLEDGER_TEST_POSTGRES_URL, dropped after
the test). Without that variable the PostgreSQL half is skipped with the reason.

Markers (registered in pyproject.toml): a test is marked `processes` when it starts child
processes, `postgres` when it needs the server (the PostgreSQL half of `store` is, by its
parameter), `slow` when it is a long in-process run; every test with none of these three is
`unit` (given below, at collection). A `postgres` test is skipped, with the reason, when
STUDYLEDGER_TEST_POSTGRES_URL is not set.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import open_ledger
from storage.config import Store, resolve
from tests.support.harness import POSTGRES_URL, Clock, Result, drop_schema
from tests.support.pgcopy import InitialisedSchema
from tests.support.snapshots import Snapshots

# One register key for every store the tests make (SPEC §9): a copy of a store, or a PostgreSQL
# schema, opens with it wherever it is. Tests of the key's own handling set or unset it themselves.
_KEY_FOLDER = Path(tempfile.mkdtemp(prefix="studyledger-test-key-"))
if not os.environ.get("STUDYLEDGER_KEY") and not os.environ.get("STUDYLEDGER_KEY_FILE"):
    os.environ["STUDYLEDGER_KEY_FILE"] = str(_KEY_FOLDER / "register.key")
    (_KEY_FOLDER / "register.key").write_text("cmVnaXN0ZXIta2V5LWZvci10aGUtdGVzdHMtb25seSE=\n")
    os.chmod(_KEY_FOLDER / "register.key", 0o600)

NO_POSTGRES = "PostgreSQL tests need STUDYLEDGER_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
NOT_UNIT = ("processes", "postgres", "slow")


def pytest_configure(config: pytest.Config) -> None:
    # The tests' temporary folders (their SQLite stores) in memory where there is a tmpfs, unless
    # TMPDIR says where: on a disk, SQLite's fsync at every commit is most of an in-process test's time.
    # Not on a small one (a container's /dev/shm is often 64 MB): a run keeps a few hundred MB there.
    shm = "/dev/shm"
    if "TMPDIR" not in os.environ and os.path.isdir(shm) and os.access(shm, os.W_OK) \
            and shutil.disk_usage(shm).free >= 2 * 1024**3:
        tempfile.tempdir = shm


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(name) for name in NOT_UNIT):
            item.add_marker(pytest.mark.unit)
        elif item.get_closest_marker("postgres") and not POSTGRES_URL:
            item.add_marker(pytest.mark.skip(reason=NO_POSTGRES))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """A `--db` URL of a store no other test uses."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    assert POSTGRES_URL
    schema = "t_" + uuid.uuid4().hex[:12]
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}schema={schema}"
    drop_schema(POSTGRES_URL, schema)


@pytest.fixture(params=["here", "by a writer process"])
def pages_written(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """An import's pages written by the importing process, or by a writer process (storage.writer)
    whatever the input's size: a module's import tests run both ways."""
    from ledger import importer

    if request.param != "here":
        monkeypatch.setattr(importer, "WRITER_FROM", 0)
    return str(request.param)


@pytest.fixture
def store(db_url: str) -> Store:
    return resolve(db_url)


@pytest.fixture
def children() -> Any:
    """Long-running `studyledger` children of the test, all killed when it ends."""
    from tests.support.children import Children

    kids = Children()
    try:
        yield kids
    finally:
        kids.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store: Store, clock: Clock, request: pytest.FixtureRequest) -> Any:
    """An initialised, empty ledger on `store`, on the test's clock."""
    if "run" in request.fixturenames:  # `run` inits the store: the copy of an init'd one will do for both
        request.getfixturevalue("initialised_copy")
    app = open_ledger(store, create=True, clock=clock, os_user="tester")
    yield app
    app.close()


@pytest.fixture
def run(db_url: str, clock: Clock, initialised_copy: bool) -> Any:
    """Invoke `studyledger --db <the test's store> ARGS…` in process, on the test's clock."""
    factory = functools.partial(open_ledger, clock=clock, os_user="tester")

    def invoke(*args: str, db: str | None = db_url) -> Result:
        runner = CliRunner()
        prefix = ["--db", db] if db is not None else []
        outcome = runner.invoke(cli, [*prefix, *args], obj=factory, catch_exceptions=False)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    if not initialised_copy:
        result = invoke("init")
        assert result.exit_code == 0, result.stderr
    return invoke


@pytest.fixture
def initialised_copy(db_url: str, request: pytest.FixtureRequest) -> bool:
    """Whether the test's store, new, was made a copy of what `init` makes of every new store (it
    writes no event). SQLite: the files, a few milliseconds instead of `init`'s twenty. PostgreSQL:
    the schema, replayed in one transaction from a dump of one `init` made (`initialised_schema`),
    a fifth of `init`'s time; not when the test names another register key, nor when its schema
    exists already."""
    if db_url.startswith("postgresql"):
        made = request.getfixturevalue("initialised_schema")
        return made is not None and made.copy_to(resolve(db_url).settings["POSTGRES_SCHEMA"])
    initialised = request.getfixturevalue("initialised")
    if os.path.exists(db_url):
        return False
    for made in initialised.iterdir():
        shutil.copy2(made, Path(db_url).parent / made.name)
    return True


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    """Registers built once per session on SQLite, copied into each test that starts from one."""
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


@pytest.fixture(scope="session")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `ledger.db` (and whatever `init` puts beside it) as `init` left it."""
    folder = tmp_path_factory.mktemp("initialised")
    outcome = CliRunner().invoke(cli, ["--db", str(folder / "ledger.db"), "init"],
                                 obj=functools.partial(open_ledger, clock=Clock(), os_user="tester"),
                                 catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.stderr
    return folder


@pytest.fixture(scope="session")
def initialised_schema() -> Any:
    """What `init` makes of a new PostgreSQL schema, as SQL that makes it again under another name
    (tests/support/pgcopy.py); None without pg_dump, or if a copy would not be `init`'s exactly."""
    assert POSTGRES_URL
    return InitialisedSchema.make(POSTGRES_URL, lambda url: CliRunner().invoke(
        cli, ["--db", url, "init"], obj=functools.partial(open_ledger, clock=Clock(), os_user="tester"),
        catch_exceptions=False))
