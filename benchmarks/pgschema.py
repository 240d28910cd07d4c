"""The PostgreSQL schemas a benchmark writes its stores into: one for each size, dropped and made afresh."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit


def sized(url: str, size: int) -> str:
    """The URL with its schema named after the size (`bench` → `bench_100000`): every size's store stays
    there while the others are measured, so their rounds can alternate."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query["schema"] = [f"{(query.get('schema') or ['bench'])[0]}_{size}"]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def drop_schema(url: str) -> None:
    """Drop the URL's schema with everything in it, if it is there."""
    import psycopg
    from psycopg import sql

    from storage.config import resolve

    s = resolve(url).settings
    with psycopg.connect(dbname=s["POSTGRES_DBNAME"], host=s["POSTGRES_HOST"], port=s["POSTGRES_PORT"],
                         user=s["POSTGRES_USER"], password=s["POSTGRES_PASSWORD"] or None, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(s["POSTGRES_SCHEMA"])))
