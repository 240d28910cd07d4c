"""Where the events live: `--db` / `STUDYLEDGER_DB` turned into the store's settings.

A plain file path or `sqlite:///path` selects the built-in SQLite module (the embedded
default: `./studyledger.db`); `postgresql://user:password@host:port/dbname[?schema=S]`
selects PostgreSQL. Nothing connects here: this only reads the URL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from storage.errors import InvalidAddress

DEFAULT_DB = "studyledger.db"
ENV_VAR = "STUDYLEDGER_DB"
# A store path that is a symbolic link is refused unless the operator sets this to 1: a link
# planted where the store is expected would make `init` create (or turn any file the user may
# write into) a database elsewhere.
ALLOW_SYMLINK_VAR = "STUDYLEDGER_ALLOW_SYMLINK"


@dataclass(frozen=True)
class Store:
    engine: str  # "sqlite" or "postgresql"
    settings: dict[str, str] = field(repr=False)  # the eventsourcing library's environment; may hold a password
    where: str  # safe to print: no password
    path: Path | None = None  # the SQLite file
    password: str = field(default="", repr=False)

    @property
    def sqlalchemy_url(self) -> Any:
        """For the read models (str or SQLAlchemy URL); may hold a password. Built when asked: a command
        that never opens the read models never imports SQLAlchemy."""
        if self.path is not None:
            return f"sqlite:///{self.path}"
        from sqlalchemy.engine import URL

        s = self.settings
        schema = s.get("POSTGRES_SCHEMA", "")
        return URL.create(  # escapes what the password and names hold
            "postgresql+psycopg", username=s["POSTGRES_USER"], password=self.password or None,
            host=s["POSTGRES_HOST"], port=int(s["POSTGRES_PORT"]), database=s["POSTGRES_DBNAME"],
            query={"options": f"-csearch_path={schema}"} if schema else {},
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,) if self.password else ()

    def exists(self) -> bool:
        """False only when an SQLite file is certainly missing (PostgreSQL is asked later)."""
        return self.path is None or self.path.exists()


def resolve(db: str | None) -> Store:
    """The store named by `db`, else by STUDYLEDGER_DB, else ./studyledger.db."""
    url = db or os.environ.get(ENV_VAR) or DEFAULT_DB
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return _postgresql(url)
    if url.startswith("sqlite:///"):
        return _sqlite(url[len("sqlite:///") :])
    if "://" in url:
        scheme = url.split("://", 1)[0]
        raise InvalidAddress(
            f"--db must be a file path, sqlite:///path or postgresql://…; '{scheme}://' is not supported."
        )
    return _sqlite(url)


def _sqlite(path_text: str) -> Store:
    if not path_text:
        raise InvalidAddress("--db names no SQLite file.")
    given = Path(path_text).expanduser()
    if given.is_symlink() and os.environ.get(ALLOW_SYMLINK_VAR) != "1":
        raise InvalidAddress(
            f"--db {given} is a symbolic link, and a store is not opened through one "
            f"(name the file itself, or set {ALLOW_SYMLINK_VAR}=1 to allow it); nothing was written."
        )
    path = given.resolve()
    return Store(
        engine="sqlite",
        settings={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": "storage.sqlite:SealingSQLiteApplicationRecorder",
        },
        where=str(path),
        path=path,
    )


def _postgresql(url: str) -> Store:
    try:
        parts = urlsplit(url)
        parts.hostname, parts.username, parts.password  # each may raise ValueError (e.g. "[::1" unclosed)
    except ValueError:  # the URL itself is not repeated: it may hold a password
        raise InvalidAddress("--db is not a valid PostgreSQL URL: postgresql://user:password@host:port/dbname.") from None
    try:
        port = parts.port or 5432
    except ValueError:
        raise InvalidAddress("--db has a PostgreSQL port that is not a number.") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidAddress("--db must name a PostgreSQL database: postgresql://user@host:port/dbname.")
    user = unquote(parts.username or "postgres")
    password = unquote(parts.password or "")
    host = parts.hostname or "localhost"
    schema = (parse_qs(parts.query).get("schema") or [""])[0]
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "APPLICATION_RECORDER_TOPIC": "storage.postgres:SealingPostgresApplicationRecorder",
    }
    if schema:
        settings["POSTGRES_SCHEMA"] = schema
    return Store(
        engine="postgresql",
        settings=settings,
        where=f"postgresql://{user}@{host}:{port}/{dbname}" + (f" (schema {schema})" if schema else ""),
        password=password,
    )


def without_password(url: str) -> str:
    """`url` with the password of a PostgreSQL URL left out (anything else as it is): safe to print."""
    if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
    except ValueError:
        return url.split("://", 1)[0] + "://…"
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}@{hostport}" if user else hostport))
