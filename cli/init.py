"""`studyledger init`: create the store (idempotent)."""

import click

from cli.context import emit, session, storage
from cli.help import Command, example


@click.command("init", cls=Command, epilog=example(
    "studyledger init", "studyledger --db /srv/register/studyledger.db init",
    "STUDYLEDGER_KEY_FILE=/etc/studyledger/register.key studyledger --db postgresql://studyledger@db.example/register init"))
def init() -> None:
    """Create the store: the event table and the read models' tables. Safe to run again.

    A new store is encrypted with the register key (SPEC §9) from STUDYLEDGER_KEY (base64) or the
    file STUDYLEDGER_KEY_FILE names; with neither, a new key is written, readable by you only, to
    the store's file name with `.key` added (for PostgreSQL, ./studyledger.key), and init says
    where. Keep the key apart from the store's backups: whoever holds both can read them.
    """
    from ledger.ids import backfill

    s = session()

    def create() -> None:
        ledger = s.ledger(create=True)
        backfill(ledger)  # a store written before ids were guarded against case variants gets its guards (idempotent)
        s.read_models().ensure()

    storage(create)
    key_made = s.ledger().key_made
    result = {"store": s.store.where, "engine": s.store.engine, "status": "ready"}
    if key_made is not None:
        result["key_file"] = key_made
    emit(result, f"Ledger ready at {s.store.where}.")
    if key_made is not None and not s.json:
        click.echo(f"A new register key was written to {key_made} (readable by you only): without it nobody's "
                   "personal data can be read. Keep a copy of it safe and apart from the store's backups.", err=True)


COMMANDS = [init]
