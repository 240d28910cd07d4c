"""A wrong PostgreSQL password: exit 4, one sentence, and the password in no output.

The test database trusts local connections (any password is accepted), so the refusal comes
from a stand-in server on a free port that speaks just enough of the PostgreSQL protocol: it
asks for the password in clear text, keeps what it was sent (proof the password was really
used), and answers as PostgreSQL does — FATAL 28P01 "password authentication failed".
"""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.children import EXE, child_env
from tests.cli.test_processes import assert_one_sentence

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(EXE is None, reason="the `studyledger` console script is not installed")]

SECRET = "Wachtw00rd-van-het-register"


class RefusingServer:
    """Accepts connections, asks each for its password, refuses it."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.passwords: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._refuse, args=(conn,), daemon=True).start()

    def _refuse(self, conn: socket.socket) -> None:
        with conn:
            try:
                while True:  # SSL and GSS encryption requests first: "N", not supported
                    length, code = struct.unpack("!ii", _read(conn, 8))
                    if code in (80877103, 80877104):
                        conn.sendall(b"N")
                        continue
                    _read(conn, length - 8)  # the startup message's parameters
                    break
                conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
                kind, length = struct.unpack("!ci", _read(conn, 5))
                assert kind == b"p"
                self.passwords.append(_read(conn, length - 4).rstrip(b"\0").decode())
                fields = b"".join(key + value.encode() + b"\0" for key, value in [
                    (b"S", "FATAL"), (b"V", "FATAL"), (b"C", "28P01"),
                    (b"M", 'password authentication failed for user "register"'),
                ]) + b"\0"
                conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
            except (OSError, AssertionError, struct.error):
                pass

    def close(self) -> None:
        self.listener.close()


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


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
