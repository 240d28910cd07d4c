"""`studyledger migrate OLD NEW`: move a store made before personal data were encrypted (SPEC §9)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from cli.context import Session, emit, session
from cli.help import Command, example

if TYPE_CHECKING:
    from storage.config import Store


def store_named(text: str) -> Store:
    """The store a URL or path names, checked as `--db` is (exit 2 if it cannot name one)."""
    return Session(db=text, json=False).store


@click.command("migrate", cls=Command, epilog=example(
    "studyledger migrate studyledger.db studyledger-encrypted.db",
    "studyledger migrate old.db postgresql://studyledger@db.example/register?schema=encrypted",
    "studyledger --db studyledger-encrypted.db audit verify --migrated-from studyledger.db"))
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
def migrate(old: str, new: str) -> None:
    """Move a store made before personal data were encrypted into a NEW, encrypted store.

    OLD and NEW are named as --db is (a file path, sqlite:///path or postgresql://…); --db itself
    is not used. OLD is only read: its chain is checked and its digest taken, then its events are
    replayed, in order and with their recording instants, into NEW, which must hold no events.
    NEW's first event records OLD's digest: 'audit verify --migrated-from OLD' checks it later.
    People are named by pseudonym in NEW and their texts encrypted with keys of their own; the
    register key is read as for any store (STUDYLEDGER_KEY_FILE, or made beside a new SQLite file).
    Nothing is written to NEW unless all of it is. The read models are built by the first read
    (or 'projections catch-up').

    Exit 1 if NEW holds events, OLD is encrypted already or fails its chain check.
    """
    from ledger.migrate import migrate as move
    from storage.errors import storage_errors

    old_store, new_store = store_named(old), store_named(new)
    started = time.monotonic()
    with storage_errors(new_store.where, (*old_store.secrets, *new_store.secrets)):
        result = move(old_store, new_store, session().ledger_factory)
    result["seconds"] = round(time.monotonic() - started, 3)
    lines = [f"Migrated {result['events']} events from {result['old']} into {result['new']} "
             f"({result['people']} people, now named by pseudonym) in {result['seconds']} s.",
             f"  Its first event records the old store's digest {result['old_digest']}; check the link with "
             f"'studyledger --db NEW audit verify --migrated-from OLD'.",
             "  The read models are built by the first read, or now by 'studyledger --db NEW projections catch-up'."]
    if result["key_made"]:
        lines.append(f"  A new register key was written to {result['key_made']}: keep it safe and apart from the "
                     "store; without it the personal data cannot be read.")
    emit(result, "\n".join(lines))


COMMANDS = [migrate]
