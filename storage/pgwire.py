"""A read-only PostgreSQL connection that speaks the wire protocol itself, for the quick balance
(storage.quick): `import psycopg` alone takes more CPU than the whole of `studyledger --help` (it
loads every submodule, asyncio, ctypes and importlib.metadata among them); this needs socket and
struct (and hashlib, hmac, base64, secrets when a password is asked for).

It connects only where that does what libpq would with the same settings, and raises Unsupported
elsewhere, for the caller to connect with psycopg: a host over TCP (not a socket folder, not a list
of hosts); no PG* environment variable (libpq reads them: a service, a password file, TLS, GSS…)
and no Kerberos credential cache (libpq would try GSS encryption first); a server that declines TLS
(libpq's default sslmode "prefer" would use it); authentication by trust or, with a password given,
by password, md5 or SCRAM-SHA-256 with the server's signature checked (without a password libpq
would read ~/.pgpass); columns of the types the quick read selects. The server's errors raise
ServerError, a lost connection or an unreadable answer WireError: the quick read gives up, and the
usual path, which meets the same problem, reports it.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

PROTOCOL = 196608  # 3.0
SSL_REQUEST = 80877103


class WireError(Exception):
    """The connection broke or said what this module cannot read: give up the quick read."""


class Unsupported(WireError):
    """A connection this module does not make (libpq would do something else): psycopg makes it."""


class ServerError(WireError):
    """An ErrorResponse from the server; its message."""


def _pack(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstring(text: str) -> bytes:
    return text.encode("utf-8") + b"\x00"


def _fields(body: bytes) -> dict[str, str]:
    """The fields of an ErrorResponse, by their one-letter codes."""
    return {chr(part[0]): part[1:].decode("utf-8", "replace") for part in body.split(b"\x00") if part}


def _decode(oid: int, value: bytes) -> Any:
    """A text-format value of type `oid` as psycopg would give it."""
    if oid in (20, 21, 23, 26):  # int8, int2, int4, oid
        return int(value)
    if oid in (25, 1043, 1042, 19):  # text, varchar, bpchar, name
        return value.decode("utf-8")
    if oid == 1700:  # numeric (what SUM of a bigint gives)
        return Decimal(value.decode("ascii"))
    if oid == 1082:  # date: DateStyle ISO is asked for at startup
        return date.fromisoformat(value.decode("ascii"))
    if oid == 17 and value.startswith(b"\\x"):  # bytea, bytea_output hex (asked for at startup)
        return bytes.fromhex(value[2:].decode("ascii"))
    if oid == 16:  # bool
        return value == b"t"
    raise Unsupported(f"a column of type {oid}")


def scram_final(password: str, first_bare: str, server_first: str, nonce: str) -> tuple[str, bytes]:
    """(client-final-message, the server signature to expect) of SCRAM-SHA-256 (RFC 5802, RFC 7677)."""
    import hashlib
    import hmac
    from base64 import b64decode, b64encode

    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    if not attrs["r"].startswith(nonce) or len(attrs["r"]) <= len(nonce):
        raise ServerError("SCRAM: the server's nonce does not extend the client's")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    message = f"{first_bare},{server_first},{without_proof}".encode("utf-8")
    signature = hmac.new(stored_key, message, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    expected = hmac.new(server_key, message, hashlib.sha256).digest()
    return f"{without_proof},p={b64encode(proof).decode('ascii')}", expected


class Connection:
    """One connection; `cursor()`, `execute`, `fetchone`, `fetchall`, `rollback` and `close` as
    storage.quick uses psycopg's. Like psycopg's, the first statement opens a transaction."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.stream = sock.makefile("rb")
        self.status = b"I"  # ReadyForQuery's: I idle, T in a transaction, E failed transaction
        self.parameters: dict[str, str] = {}
        self.rows: list[tuple[Any, ...]] = []

    def cursor(self) -> Connection:
        return self

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Connection:
        """Run one statement with psycopg's %s placeholders, values sent as text for the server to type."""
        if self.status == b"I":
            self._simple("BEGIN")
        pieces = sql.split("%s")
        if len(pieces) != len(params) + 1:
            raise WireError("as many %s as parameters")
        text = "".join(piece + (f"${n}" if n <= len(params) else "") for n, piece in enumerate(pieces, 1))
        values = b"".join(b"\xff\xff\xff\xff" if v is None else struct.pack("!i", len(t)) + t
                          for v in params for t in [b"" if v is None else _text(v)])
        # Parse, Bind (every value and result as text), Describe, Execute, Sync: one round trip.
        self._send(_pack(b"P", b"\x00" + _cstring(text) + b"\x00\x00")
                   + _pack(b"B", b"\x00\x00" + b"\x00\x00" + struct.pack("!h", len(params)) + values + b"\x00\x01\x00\x00")
                   + _pack(b"D", b"P\x00") + _pack(b"E", b"\x00\x00\x00\x00\x00") + _pack(b"S", b""))
        self.rows = self._results()
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def rollback(self) -> None:
        if self.status != b"I":
            self._simple("ROLLBACK")

    def close(self) -> None:
        try:
            self.sock.sendall(_pack(b"X", b""))  # Terminate
        except OSError:
            pass
        self.stream.close()
        self.sock.close()

    def _send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as error:
            raise WireError(f"the connection broke: {error}") from error

    def _receive(self) -> tuple[bytes, bytes]:
        try:
            head = self.stream.read(5)
            if len(head) < 5:
                raise WireError("the server closed the connection")
            kind, size = head[:1], struct.unpack("!i", head[1:])[0]
            body = self.stream.read(size - 4)
        except OSError as error:
            raise WireError(f"the connection broke: {error}") from error
        if len(body) < size - 4:
            raise WireError("the server closed the connection")
        return kind, body

    def _simple(self, sql: str) -> None:
        self._send(_pack(b"Q", _cstring(sql)))
        self._results()

    def _results(self) -> list[tuple[Any, ...]]:
        """The rows of the answer, read up to ReadyForQuery; the first error raises ServerError there."""
        rows: list[tuple[Any, ...]] = []
        types: list[int] = []
        error: dict[str, str] | None = None
        while True:
            kind, body = self._receive()
            if kind == b"T":
                count = struct.unpack_from("!h", body)[0]
                offset, types = 2, []
                for _ in range(count):
                    offset = body.index(b"\x00", offset) + 1
                    types.append(struct.unpack_from("!i", body, offset + 6)[0])
                    offset += 18
            elif kind == b"D":
                rows.append(self._row(body, types))
            elif kind == b"E":
                error = error or _fields(body)
            elif kind == b"Z":
                self.status = body[:1]
                if error is not None:
                    raise ServerError(error.get("M", "error"))
                return rows
            elif kind == b"S":
                name, value = body.split(b"\x00")[:2]
                self.parameters[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
            # 1 ParseComplete, 2 BindComplete, n NoData, C CommandComplete, N notice, A notification: nothing to keep

    @staticmethod
    def _row(body: bytes, types: list[int]) -> tuple[Any, ...]:
        count, offset, values = struct.unpack_from("!h", body)[0], 2, []
        if count != len(types):
            raise WireError("a row that does not match its description")
        for oid in types:
            size = struct.unpack_from("!i", body, offset)[0]
            offset += 4
            if size < 0:
                values.append(None)
                continue
            try:
                values.append(_decode(oid, body[offset:offset + size]))
            except (ValueError, UnicodeDecodeError) as error:  # e.g. a date 'infinity'
                raise WireError(f"a value of type {oid} that cannot be read: {error}") from error
            offset += size
        return tuple(values)


def _text(value: Any) -> bytes:
    if isinstance(value, bool) or not isinstance(value, (str, int, date)):
        raise WireError(f"a parameter of type {type(value).__name__}")
    return (value.isoformat() if isinstance(value, date) else str(value)).encode("utf-8")


def _kerberos_cache() -> bool:
    """Whether a Kerberos credential cache may exist: then libpq would try GSS encryption first."""
    return "KRB5CCNAME" in os.environ or os.path.exists(f"/tmp/krb5cc_{os.getuid()}")


def connect(*, host: str, port: int | str, dbname: str, user: str, password: str | None, options: str | None,
            connect_timeout: float) -> Connection:
    """A connection as libpq would make it with these settings, or Unsupported (see the module's text)."""
    if any(name.startswith("PG") for name in os.environ) or _kerberos_cache():
        raise Unsupported("libpq reads settings from the environment")
    if not host or host.startswith("/") or "," in host or (password and not (password.isascii() and password.isprintable())):
        raise Unsupported("a socket folder, a list of hosts, or a password SASLprep may change")
    sock = socket.create_connection((host, int(port)), timeout=connect_timeout)
    connection = Connection(sock)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(struct.pack("!ii", 8, SSL_REQUEST))
        if connection.stream.read(1) != b"N":
            raise Unsupported("the server offers TLS")
        parameters = {"user": user, "database": dbname, "client_encoding": "UTF8", "DateStyle": "ISO",
                      "bytea_output": "hex", **({"options": options} if options else {})}
        body = struct.pack("!i", PROTOCOL) + b"".join(_cstring(k) + _cstring(v) for k, v in parameters.items()) + b"\x00"
        sock.sendall(struct.pack("!i", len(body) + 4) + body)
        _authenticate(connection, user, password or "")
        connection._results()  # ParameterStatus, BackendKeyData, up to ReadyForQuery
        if connection.parameters.get("client_encoding") != "UTF8":
            raise Unsupported("the server does not send UTF-8")
        sock.settimeout(None)  # as psycopg: the timeout bounds the connecting only
        return connection
    except BaseException:
        connection.close()
        raise


def _authenticate(connection: Connection, user: str, password: str) -> None:
    """Answer the server's requests up to AuthenticationOk; a SCRAM exchange must end with the server's
    signature checked (libpq's check)."""
    scram: tuple[str, str, bytes | None] | None = None  # (nonce, client-first-bare, the signature to expect)
    signed = False
    while True:
        kind, body = connection._receive()
        if kind == b"E":
            raise ServerError(_fields(body).get("M", "error"))
        if kind != b"R":
            raise WireError(f"unexpected message {kind!r} while authenticating")
        code = struct.unpack_from("!i", body)[0]
        if code == 0:  # AuthenticationOk
            if scram is not None and not signed:
                raise ServerError("SCRAM: the server ended the exchange without its signature")
            return
        if not password and code in (3, 5, 10):
            raise Unsupported("a password is asked for and none is given (libpq would read ~/.pgpass)")
        if code == 3:  # cleartext password
            connection._send(_pack(b"p", _cstring(password)))
        elif code == 5:  # md5
            import hashlib

            inner = hashlib.md5((password + user).encode("utf-8")).hexdigest().encode("ascii")
            connection._send(_pack(b"p", _cstring("md5" + hashlib.md5(inner + body[4:8]).hexdigest())))
        elif code == 10 and b"SCRAM-SHA-256" in body[4:].split(b"\x00") and scram is None:  # SASL: its mechanisms
            import secrets
            from base64 import b64encode

            nonce = b64encode(secrets.token_bytes(18)).decode("ascii")
            first = f"n,,n=,r={nonce}"  # the user is the startup packet's: none here, as libpq
            connection._send(_pack(b"p", _cstring("SCRAM-SHA-256") + struct.pack("!i", len(first)) + first.encode()))
            scram = (nonce, first[3:], None)
        elif code == 11 and scram is not None and scram[2] is None:  # SASLContinue: server-first-message
            final, expected = scram_final(password, scram[1], body[4:].decode("utf-8"), scram[0])
            connection._send(_pack(b"p", final.encode("utf-8")))
            scram = (scram[0], scram[1], expected)
        elif code == 12 and scram is not None and scram[2] is not None and not signed:  # SASLFinal: its signature
            import hmac
            from base64 import b64decode

            attrs = dict(part.split("=", 1) for part in body[4:].decode("utf-8").split(","))
            if "v" not in attrs or not hmac.compare_digest(b64decode(attrs["v"]), scram[2]):
                raise ServerError("SCRAM: the server's signature is not the expected one")
            signed = True
        else:
            raise Unsupported(f"authentication method {code}")
