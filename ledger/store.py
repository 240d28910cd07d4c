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
from urllib.parse import parse_qs, unquote, urlsplit

from ledger.errors import InvalidInput

DEFAULT_DB = "studyledger.db"
ENV_VAR = "STUDYLEDGER_DB"


@dataclass(frozen=True)
class Store:
    engine: str  # "sqlite" or "postgresql"
    settings: dict[str, str] = field(repr=False)  # the eventsourcing library's environment; may hold a password
    sqlalchemy_url: Any = field(repr=False)  # for the read models (str or sqlalchemy URL); may hold a password
    where: str  # safe to print: no password
    path: Path | None = None  # the SQLite file
    password: str = field(default="", repr=False)

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
        raise InvalidInput(
            f"--db must be a file path, sqlite:///path or postgresql://…; '{scheme}://' is not supported."
        )
    return _sqlite(url)


def _sqlite(path_text: str) -> Store:
    if not path_text:
        raise InvalidInput("--db names no SQLite file.")
    path = Path(path_text).expanduser().resolve()
    return Store(
        engine="sqlite",
        settings={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": "ledger.integrity:SealingSQLiteApplicationRecorder",
        },
        sqlalchemy_url=f"sqlite:///{path}",
        where=str(path),
        path=path,
    )


def _postgresql(url: str) -> Store:
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise InvalidInput("--db has a PostgreSQL port that is not a number.") from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidInput("--db must name a PostgreSQL database: postgresql://user@host:port/dbname.")
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
        "APPLICATION_RECORDER_TOPIC": "ledger.integrity_postgres:SealingPostgresApplicationRecorder",
    }
    if schema:
        settings["POSTGRES_SCHEMA"] = schema
    from sqlalchemy.engine import URL

    sa_url = URL.create(  # escapes what the password and names hold
        "postgresql+psycopg", username=user, password=password or None, host=host, port=port, database=dbname,
        query={"options": f"-csearch_path={schema}"} if schema else {},
    )
    return Store(
        engine="postgresql",
        settings=settings,
        sqlalchemy_url=sa_url,
        where=f"postgresql://{user}@{host}:{port}/{dbname}" + (f" (schema {schema})" if schema else ""),
        password=password,
    )
