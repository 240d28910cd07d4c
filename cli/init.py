"""`studyledger init`: create the store (idempotent)."""

import click

from cli.context import emit, session, storage


@click.command("init")
def init() -> None:
    """Create the store: the event table and the read models' tables. Safe to run again."""
    s = session()
    storage(lambda: (s.ledger(create=True), s.read_models().ensure()))
    emit({"store": s.store.where, "engine": s.store.engine, "status": "ready"}, f"Ledger ready at {s.store.where}.")


COMMANDS = [init]
