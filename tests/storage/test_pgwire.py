"""storage.pgwire, the quick balance's own PostgreSQL connection: it answers as psycopg does, it
authenticates as libpq does (SCRAM's server signature checked), and it declines — for psycopg to
connect — wherever libpq would do something else (TLS offered, PG* variables, no password to give).

A small scripted server in a thread plays the server's part where the test database cannot (it
trusts every local connection and has no TLS); the test database answers the rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from storage import pgwire
from tests.support.harness import POSTGRES_URL

SALT = b"0123456789abcdef"


def test_scram_is_rfc_7677s_example() -> None:
    final, signature = pgwire.scram_final(
        "pencil", "n=user,r=rOprNGfwEbeRWgbNEkqO",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "rOprNGfwEbeRWgbNEkqO")
    assert final == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    assert base64.b64encode(signature).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


# --- a scripted server -------------------------------------------------------------------------


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def auth(code: int, rest: bytes = b"") -> bytes:
    return message(b"R", struct.pack("!i", code) + rest)


READY = message(b"S", b"client_encoding\x00UTF8\x00") + message(b"K", b"\x00" * 8) + message(b"Z", b"I")


class Peer:
    """The server's end of one connection."""

    def __init__(self, sock: socket.socket):
        self.sock, self.stream = sock, sock.makefile("rb")

    def startup(self) -> dict[str, str]:
        size = struct.unpack("!i", self.stream.read(4))[0]
        body = self.stream.read(size - 4)
        words = body[4:].split(b"\x00")
        return {words[i].decode(): words[i + 1].decode() for i in range(0, len(words) - 2, 2)}

    def request(self) -> int:
        """An SSLRequest (or GSSENCRequest): its code."""
        return struct.unpack("!ii", self.stream.read(8))[1]

    def receive(self) -> tuple[bytes, bytes]:
        kind = self.stream.read(1)
        size = struct.unpack("!i", self.stream.read(4))[0]
        return kind, self.stream.read(size - 4)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


@pytest.fixture
def server() -> Iterator[Callable[[Callable[[Peer], None]], dict[str, Any]]]:
    """serve(script) → connect()'s settings for a server on localhost that runs `script` once."""
    listener = socket.create_server(("127.0.0.1", 0))
    threads: list[threading.Thread] = []
    failures: list[BaseException] = []

    def serve(script: Callable[[Peer], None]) -> dict[str, Any]:
        def run() -> None:
            sock, _ = listener.accept()
            with sock:
                try:
                    script(Peer(sock))
                except BaseException as error:  # noqa: BLE001 - reported by the test
                    failures.append(error)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return {"host": "127.0.0.1", "port": listener.getsockname()[1], "dbname": "d", "user": "u",
                "password": None, "options": "-csearch_path=s", "connect_timeout": 5}

    yield serve
    for thread in threads:
        thread.join(10)
    listener.close()
    if failures:
        raise failures[0]


@pytest.fixture(autouse=True)
def no_pg_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in [n for n in os.environ if n.startswith("PG")]:
        monkeypatch.delenv(name)
    monkeypatch.setattr(pgwire, "_kerberos_cache", lambda: False)


def test_a_query_by_trust_answers_what_psycopg_would(server: Any) -> None:
    def script(peer: Peer) -> None:
        assert peer.request() == pgwire.SSL_REQUEST
        peer.send(b"N")
        params = peer.startup()
        assert params == {"user": "u", "database": "d", "client_encoding": "UTF8", "DateStyle": "ISO",
                          "bytea_output": "hex", "options": "-csearch_path=s"}
        peer.send(auth(0) + READY)
        kinds = []
        while not kinds or kinds[-1] != b"S":  # BEGIN, then Parse … Sync
            kind, body = peer.receive()
            kinds.append(kind)
            if kind == b"Q":
                assert body == b"BEGIN\x00"
                peer.send(message(b"C", b"BEGIN\x00") + message(b"Z", b"T"))
                kinds.clear()
            if kind == b"P":
                assert b"WHERE a = $1 AND b <= $2 AND c = $3" in body
            if kind == b"B":
                assert b"P-1" in body and b"2026-12-02" in body and b"17" in body
        assert kinds == [b"P", b"B", b"D", b"E", b"S"]
        columns = [(b"i", 20), (b"n", 1700), (b"t", 1043), (b"d", 1082), (b"b", 17), (b"z", 23), (b"f", 16)]
        description = struct.pack("!h", len(columns)) + b"".join(
            name + b"\x00" + struct.pack("!ihihih", 0, 0, oid, 0, -1, 0) for name, oid in columns)
        values = [b"12345678901", b"-2.50", "Zoë".encode(), b"2024-02-29", b"\\x00ff22", None, b"t"]
        row = struct.pack("!h", len(values)) + b"".join(
            struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v for v in values)
        peer.send(message(b"1", b"") + message(b"2", b"") + message(b"T", description) + message(b"D", row)
                  + message(b"C", b"SELECT 1\x00") + message(b"Z", b"T"))
        assert peer.receive()[0] == b"Q"  # ROLLBACK
        peer.send(message(b"C", b"ROLLBACK\x00") + message(b"Z", b"I"))
        assert peer.receive()[0] == b"X"

    connection = pgwire.connect(**server(script))
    rows = connection.cursor().execute("SELECT * FROM x WHERE a = %s AND b <= %s AND c = %s",
                                       ("P-1", date(2026, 12, 2), 17)).fetchall()
    assert rows == [(12345678901, Decimal("-2.50"), "Zoë", date(2024, 2, 29), b"\x00\xff\x22", None, True)]
    connection.rollback()
    connection.close()


def test_md5_sends_the_salted_double_hash(server: Any) -> None:
    def script(peer: Peer) -> None:
        peer.request()
        peer.send(b"N")
        peer.startup()
        peer.send(auth(5, b"salt"))
        kind, body = peer.receive()
        inner = hashlib.md5(b"secretu").hexdigest().encode()
        assert (kind, body) == (b"p", b"md5" + hashlib.md5(inner + b"salt").hexdigest().encode() + b"\x00")
        peer.send(auth(0) + READY)
        peer.receive()

    pgwire.connect(**{**server(script), "password": "secret"}).close()


def scram_server(signature: Callable[[bytes], bytes]) -> Callable[[Peer], None]:
    """A server that checks the client's SCRAM proof for the password "secret" and signs with `signature(right)`."""
    def script(peer: Peer) -> None:
        peer.request()
        peer.send(b"N")
        peer.startup()
        peer.send(auth(10, b"SCRAM-SHA-256\x00\x00"))
        kind, body = peer.receive()
        assert body.startswith(b"SCRAM-SHA-256\x00")
        first_bare = body[len(b"SCRAM-SHA-256\x00") + 4:].decode()[3:]
        nonce = dict(p.split("=", 1) for p in first_bare.split(","))["r"] + "server"
        server_first = f"r={nonce},s={base64.b64encode(SALT).decode()},i=4096"
        peer.send(auth(11, server_first.encode()))
        kind, body = peer.receive()
        without_proof, proof = body.decode().rsplit(",p=", 1)
        salted = hashlib.pbkdf2_hmac("sha256", b"secret", SALT, 4096)
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        said = f"{first_bare},{server_first},{without_proof}".encode()
        expected = bytes(a ^ b for a, b in zip(
            client_key, hmac.new(hashlib.sha256(client_key).digest(), said, hashlib.sha256).digest()))
        assert base64.b64decode(proof) == expected, "the client's proof"
        right = hmac.new(hmac.new(salted, b"Server Key", hashlib.sha256).digest(), said, hashlib.sha256).digest()
        peer.send(auth(12, b"v=" + base64.b64encode(signature(right))))
        peer.send(auth(0) + READY)
        peer.receive()
    return script


def test_scram_proves_the_password_and_checks_the_servers_signature(server: Any) -> None:
    pgwire.connect(**{**server(scram_server(lambda right: right)), "password": "secret"}).close()


def test_a_server_that_signs_wrongly_is_refused(server: Any) -> None:
    with pytest.raises(pgwire.ServerError, match="signature"):
        pgwire.connect(**{**server(scram_server(lambda right: bytes(32))), "password": "secret"})


def test_a_server_offering_tls_is_left_to_psycopg(server: Any) -> None:
    def script(peer: Peer) -> None:
        assert peer.request() == pgwire.SSL_REQUEST
        peer.send(b"S")

    with pytest.raises(pgwire.Unsupported, match="TLS"):
        pgwire.connect(**server(script))


def test_a_password_asked_for_and_not_given_is_left_to_psycopg(server: Any) -> None:
    """libpq would look in ~/.pgpass."""
    def script(peer: Peer) -> None:
        peer.request()
        peer.send(b"N")
        peer.startup()
        peer.send(auth(10, b"SCRAM-SHA-256\x00\x00"))

    with pytest.raises(pgwire.Unsupported, match="pgpass"):
        pgwire.connect(**server(script))


def test_other_methods_are_left_to_psycopg(server: Any) -> None:
    def script(peer: Peer) -> None:
        peer.request()
        peer.send(b"N")
        peer.startup()
        peer.send(auth(7))  # GSS

    with pytest.raises(pgwire.Unsupported, match="method 7"):
        pgwire.connect(**{**server(script), "password": "secret"})


@pytest.mark.parametrize("name", ["PGSSLMODE", "PGPASSFILE", "PGSERVICE", "PGOPTIONS"])
def test_pg_variables_are_left_to_psycopg(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(name, "x")
    with pytest.raises(pgwire.Unsupported):  # before any connection is made
        pgwire.connect(host="127.0.0.1", port=1, dbname="d", user="u", password=None, options=None, connect_timeout=1)


@pytest.mark.parametrize("host", ["/var/run/postgresql", "a,b", ""])
def test_sockets_and_lists_of_hosts_are_left_to_psycopg(host: str) -> None:
    with pytest.raises(pgwire.Unsupported):
        pgwire.connect(host=host, port=5432, dbname="d", user="u", password=None, options=None, connect_timeout=1)


# --- the test database ---------------------------------------------------------------------------

QUERY = ("SELECT %s::bigint + 1, SUM(x) FILTER (WHERE x >= %s), %s::varchar, %s::date, "
         "convert_to(%s, 'UTF8'), NULL::int, %s::date > '2000-01-01' FROM (VALUES (1::bigint), (250::bigint)) v(x)")
PARAMS = (2**40, 100, "Zoë 🙂", date(2024, 2, 29), "bytes\x01", date(2026, 12, 2))


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL tests need STUDYLEDGER_TEST_POSTGRES_URL")
def test_the_test_database_answers_pgwire_as_it_answers_psycopg() -> None:
    import psycopg

    from storage.config import resolve

    s = resolve(POSTGRES_URL).settings
    settings = {"dbname": s["POSTGRES_DBNAME"], "host": s["POSTGRES_HOST"], "port": s["POSTGRES_PORT"],
                "user": s["POSTGRES_USER"], "password": s["POSTGRES_PASSWORD"] or None, "connect_timeout": 5,
                "options": None}
    try:
        wire = pgwire.connect(**settings)
    except pgwire.Unsupported as why:
        pytest.skip(f"the test database is one pgwire leaves to psycopg: {why}")
    with psycopg.connect(**settings) as driver:
        expected = driver.execute(QUERY, PARAMS).fetchall()
    try:
        assert wire.cursor().execute(QUERY, PARAMS).fetchall() == expected
        assert wire.status == b"T"  # the first statement opened a transaction, as psycopg's does
        with pytest.raises(pgwire.ServerError, match="no_such_table"):
            wire.execute("SELECT * FROM no_such_table")
    finally:
        wire.rollback()
        wire.close()
