"""Shell completion of ids: claims (by request id or id) and professionals, from the claims read model."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from cli.context import Session


def complete_claims(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Request ids of claims (then claim ids) starting with `incomplete`, from the claims read model."""
    def query(conn: Any, t: dict) -> list[str]:
        from sqlalchemy import select

        keys, claims = t["keys"], t["claims"]
        found = [r for (r,) in conn.execute(select(keys.c.request_id).where(keys.c.request_id.startswith(
            incomplete, autoescape=True)).order_by(keys.c.request_id).limit(200))]
        if len(incomplete) >= 8 and not found:  # an id: as the tables print it, with its dashes
            prefix = incomplete.replace("-", "")
            found = [f"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}" for (c,) in conn.execute(
                select(claims.c.claim).where(claims.c.claim.startswith(prefix, autoescape=True)).limit(200))]
        return found

    return _complete(ctx, query)


def complete_people(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Registered professionals' ids starting with `incomplete`."""
    def query(conn: Any, t: dict) -> list[str]:
        from sqlalchemy import select

        names = t["directory"]
        return [i for (i,) in conn.execute(select(names.c.id).where(names.c.role == "professional").where(
            names.c.id.startswith(incomplete, autoescape=True)).where(
            names.c.id.not_like("% %")).order_by(names.c.id).limit(200))]  # not an erased person's placeholder

    return _complete(ctx, query)


def _complete(ctx: click.Context, query: Callable[[Any, dict], list[str]]) -> list[str]:
    """`query` over the claims read model as it stands (no catch-up: completing writes nothing), or
    nothing at all when the store cannot be read: a completion never prints an error."""
    try:
        root = ctx.find_root()
        db = root.params.get("db") or os.environ.get("STUDYLEDGER_DB")
        completing = Session(db=db, json=False)
        try:
            models = completing.read_models()
            generation = models.state()["claims"][0]
            with models.engine.connect() as conn:
                return query(conn, models.tables("claims", generation))
        finally:
            completing.close()
    except Exception:  # noqa: BLE001 - no store, no read model, no permission: nothing to offer
        if os.environ.get("STUDYLEDGER_DEBUG"):
            raise
        return []
