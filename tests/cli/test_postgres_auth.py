"""A wrong PostgreSQL password: exit 4, one sentence, and the password in no output.

The test database trusts local connections (any password is accepted), so the refusal comes
from a stand-in server on a free port that speaks just enough of the PostgreSQL protocol: it
asks for the password in clear text, keeps what it was sent (proof the password was really
used), and answers as PostgreSQL does — FATAL 28P01 "password authentication failed".
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.children import EXE, assert_one_sentence, child_env
from tests.support.pgserver import RefusingServer

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(EXE is None, reason="the `studyledger` console script is not installed")]

SECRET = "Wachtw00rd-van-het-register"


@pytest.fixture
def server() -> Iterator[RefusingServer]:
    refusing = RefusingServer()
    yield refusing
    refusing.close()


@pytest.mark.parametrize("args", [["init"], ["review", "queue"], ["projections", "run"],
                                  ["professional", "register", "N-1", "--name", "Naam", "--group", "nurse"]])
@pytest.mark.parametrize("json_output", [False, True])
def test_a_wrong_password_is_exit_4_and_never_shown(server: RefusingServer, args: list[str], json_output: bool,
                                                    tmp_path: Path) -> None:
    url = f"postgresql://register:{SECRET}@127.0.0.1:{server.port}/register?schema=demo"
    done = subprocess.run([str(EXE), *(["--json"] if json_output else []), "--db", url, *args],
                          capture_output=True, text=True, timeout=60, env=child_env(), cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert done.stdout == ""
    assert SECRET in server.passwords  # the password was sent to the server...
    assert SECRET not in done.stderr  # ...and appears in no output
    message = json.loads(done.stderr)["error"]["message"] if json_output else done.stderr
    assert "password authentication failed" in message
    if not json_output:
        assert_one_sentence(done.stderr)
    assert list(tmp_path.iterdir()) == []  # no SQLite file as a fallback
