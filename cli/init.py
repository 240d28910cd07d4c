"""`studyledger init`: create the store (idempotent)."""

import click

from cli.context import emit, session, storage
from cli.help import Command, example


@click.command("init", cls=Command, epilog=example(
    "studyledger init", "studyledger --db /srv/register/studyledger.db init",
    "studyledger --db postgresql://studyledger@db.example/register init"))
def init() -> None:
    """Create the store: the event table and the read models' tables. Safe to run again."""
    from ledger.ids import backfill

    s = session()
    # A store written before ids were guarded against case variants gets its guards now (idempotent).
    storage(lambda: (backfill(s.ledger(create=True)), s.read_models().ensure()))
    emit({"store": s.store.where, "engine": s.store.engine, "status": "ready"}, f"Ledger ready at {s.store.where}.")


COMMANDS = [init]
