"""`studyledger keys init|rotate|show`: the register's Ed25519 signing key (SPEC §10); `keys rewrap` and
`keys new-register-key`: the register key that wraps the per-person keys (SPEC §9, ledger/rewrap.py)."""

from __future__ import annotations

import click

from cli.context import command_from, emit, session, storage
from cli.help import REQUEST_ID, example, Group
from cli.output import chosen_format, format_option, output, table

KEY_FILE = click.option(
    "--key-file", envvar="STUDYLEDGER_SIGNING_KEY", metavar="PATH", default="studyledger-signing.key",
    show_default=True, help="The private key file (mode 0600); or STUDYLEDGER_SIGNING_KEY.",
)


@click.group("keys", cls=Group)
def keys() -> None:
    """The register's key pair that signs its credentials; the public keys are recorded as events."""


@keys.command("init", epilog=example(
    'studyledger keys init --key-file /etc/studyledger/signing.key --issuer-name "Register of Teachers"'))
@KEY_FILE
@click.option("--issuer-name", metavar="NAME", help="The register's name in its credentials (default: Studyledger register).")
@click.option("--issuer-url", metavar="URL", help="The register's web address, shown in its credentials.")
@REQUEST_ID
def init(**options: object) -> None:
    """Make the register's key pair: the private key into --key-file, the public key into the ledger."""
    init_keys = command_from(options)
    result = storage(lambda: session().ledger().handle(init_keys))
    emit(result, f"Signing key {result['public_key']} recorded, valid from {result['valid_from']}.\n"
                 f"The private key is in {result['key_file']} (mode 0600): keep it safe and out of backups "
                 "anyone else can read.")


@keys.command("rotate", epilog=example("studyledger keys rotate --key-file /etc/studyledger/signing.key"))
@KEY_FILE
@REQUEST_ID
def rotate(**options: object) -> None:
    """Record a new key pair (into --key-file) and the end of the old key's validity."""
    rotate_keys = command_from(options)
    result = storage(lambda: session().ledger().handle(rotate_keys))
    emit(result, f"Signing key {result['public_key']} recorded, valid from {result['valid_from']}; "
                 f"{result['retired']} is no longer valid from then on.")


@keys.command("show", epilog=example("studyledger keys show", "studyledger keys show --format json > keys.json"))
@format_option()
def show(fmt: str | None) -> None:
    """The register's keys with their validity: what a verifier outside the register needs."""
    from ledger.keys import key_json, key_table

    fmt = chosen_format(fmt)
    result = {"keys": [key_json(k) for k in storage(lambda: key_table(session().ledger()))]}
    rows = [[k["public_key"], k["valid_from"][:19], (k["valid_until"] or "")[:19] or "(in use)"] for k in result["keys"]]
    output(result, fmt, lambda: table(rows, ["public key (did:key:…)", "valid from", "valid until"]) if rows
           else "The register has no signing key; run 'studyledger keys init'.",
           ["public_key", "valid_from", "valid_until"], lambda: result["keys"])


@keys.command("new-register-key", epilog=example("studyledger keys new-register-key /etc/studyledger/register-2027.key"))
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
def new_register_key(file: str) -> None:
    """Write a new random register key (SPEC §9) to FILE, mode 0600, never over an existing file."""
    from pathlib import Path

    from ledger.rewrap import write_key_file

    path = write_key_file(Path(file))
    emit({"key_file": str(path), "status": "written"},
         f"A new register key is in {path} (mode 0600). 'studyledger keys rewrap --new-key-file {path}' "
         "puts it in use; keep a copy apart from the database's backups.")


@keys.command("rewrap", epilog=example(
    "studyledger keys new-register-key /etc/studyledger/register-2027.key",
    "studyledger keys rewrap --new-key-file /etc/studyledger/register-2027.key",
    "export STUDYLEDGER_KEY_FILE=/etc/studyledger/register-2027.key"))
@click.option("--new-key-file", required=True, metavar="FILE", help="The new register key (32 bytes in base64).")
def rewrap(new_key_file: str) -> None:
    """Rotate the register key (SPEC §9): wrap every person's key with the key in --new-key-file instead.

    The current key is read as for every command (STUDYLEDGER_KEY, STUDYLEDGER_KEY_FILE or the
    default file); afterwards only the new key opens the store. No event is written: the chain and
    the digest are unchanged. Run it while no other studyledger process uses the store."""
    from pathlib import Path

    from ledger.rewrap import read_key_file, rewrap as rewrap_keys

    path = Path(new_key_file)
    new_key = read_key_file(path)  # the input first: a bad file is exit 2 before the store is opened
    result = storage(lambda: rewrap_keys(session().ledger(), new_key, path))
    instead = f" in place of {result['old_key_file']}" if result["old_key_file"] else " instead of STUDYLEDGER_KEY"
    whose = "the key of 1 person" if result["people"] == 1 else f"the keys of {result['people']} people"
    emit(result, f"Re-wrapped {whose} and the register's own with the key in {path}: "
                 f"the old register key ({result['old_key']}) opens nothing in this store any more.\n"
                 f"Use {path} from now on (STUDYLEDGER_KEY_FILE, or put it{instead}), and destroy every copy "
                 "of the old key: backups made before still open with it.")
    if result["checkpointed"] is False and not session().json:
        click.echo("Note: readers kept the write-ahead log from being emptied; the keys wrapped with the old key "
                   "stay in it until SQLite writes over them: with no other process on the store, run "
                   f"sqlite3 {session().store.path} 'PRAGMA wal_checkpoint(TRUNCATE)'.", err=True)


COMMANDS = [keys]
