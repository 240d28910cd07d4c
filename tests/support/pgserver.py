"""A stand-in PostgreSQL server that asks for the password and refuses it.

The test database trusts local connections (any password is accepted), so a refusal must come
from elsewhere: this server, on a free port, speaks just enough of the protocol. It asks for
the password in clear text, keeps what it was sent (proof the password was really used), and
answers as PostgreSQL does — FATAL 28P01 "password authentication failed". Used by the tests
of the CLI as a process (tests/cli/test_postgres_auth.py) and in process (tests/test_security.py).
"""

from __future__ import annotations

import socket
import struct
import threading


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
