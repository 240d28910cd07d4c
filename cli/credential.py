"""`studyledger credential issue|verify`: Open Badges 3.0 credentials of a professional's points (SPEC §10)."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from typing import Any

import click

from cli.context import command_from, emit, session, storage, validate
from cli.help import DATE_HELP, INSTANT_HELP, REQUEST_ID, example, Group
from cli.keys import KEY_FILE


@click.group("credential", cls=Group)
def credential() -> None:
    """Signed Open Badges 3.0 credentials that a professional carries elsewhere."""


@credential.command("issue", epilog=example("studyledger credential issue T-1003 --at 2026-12-31 --out t-1003.json"))
@click.argument("professional")
@click.option("--at", metavar="DATE", help=f"The cycle containing this date, activities up to it (default: today). {DATE_HELP}")
@click.option("--known-at", metavar="INSTANT", help=f"As the register knew it at this instant (default: now). {INSTANT_HELP}")
@click.option("--out", metavar="FILE", help="Write the credential to FILE (default: stdout).")
@KEY_FILE
@REQUEST_ID
def issue(**options: Any) -> None:
    """An OpenBadgeCredential of PROFESSIONAL's study points in a cycle, signed (eddsa-rdfc-2022)."""
    from marshmallow import Schema

    from ledger.fields import KeyFile

    out = options.pop("out", None)  # where the CLI writes the credential: no part of the command
    issue_credential = command_from(options)
    out = validate({"out": out}, Schema.from_dict({"out": KeyFile(load_default=None)})())["out"]
    s = session()

    def run() -> dict:
        from ledger.keys import reading_facts

        with reading_facts(s.reader().credential_facts):
            return s.ledger().handle(issue_credential)

    target = _open_out(out) if out else None
    try:
        result = storage(run)
    except BaseException:
        if target is not None:
            target.close()
            os.unlink(out)  # nothing written by a failed command
        raise
    text = json.dumps(result["document"], indent=2, ensure_ascii=False)
    if target is None:
        click.echo(text)
        return
    with target:
        target.write(text + "\n")
    summary = {k: v for k, v in result.items() if k != "document"}
    emit({**summary, "out": out}, f"Credential {result['credential']} for {result['professional']}: {result['points']} "
                                   f"points in the cycle {result['cycle']['start']} – {result['cycle']['end']}, "
                                   f"{result['claims']} claim(s) as evidence; written to {out}.")


def _open_out(path: str) -> Any:
    from ledger.errors import InvalidInput

    try:
        return open(path, "x", encoding="utf-8")
    except FileExistsError:
        raise InvalidInput(f"Invalid input: --out {path} exists already; nothing was written.") from None
    except OSError as error:
        raise InvalidInput(f"Invalid input: --out {path}: cannot write there ({error.strerror}).") from None


@credential.command("verify", epilog=example("studyledger credential verify t-1003.json",
                                             "studyledger credential verify t-1003.json --keys keys.json"))
@click.argument("file", metavar="FILE")
@click.option("--keys", "keys_file", metavar="FILE",
              help="The register's keys as 'studyledger keys show --format json' printed them, instead of the store.")
def verify(file: str, keys_file: str | None) -> None:
    """Check FILE: the OB 3.0 schema, the proof, and that the register's key was valid at validFrom.

    Exit 0 valid, 1 invalid (with the reason), 2 unreadable.
    """
    from ledger.credentials.verify import verify as judge

    document = _read_json(file, "FILE")
    if keys_file is not None:
        keys = _keys_from_export(_read_json(keys_file, "--keys"), keys_file)
        now = datetime.now(timezone.utc)
    else:
        from ledger.keys import key_table

        keys = storage(lambda: key_table(session().ledger()))
        now = session().ledger().clock()
    verdict = judge(document, keys, now)
    result = {"file": file, **verdict.as_json()}
    if verdict.valid:
        emit(result, f"Valid: {verdict.reason}.")
        return
    if session().json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(f"Invalid ({verdict.check}): {verdict.reason}.", err=True)
    sys.exit(1)


def _read_json(path: str, name: str) -> Any:
    from ledger.errors import InvalidInput

    try:
        with open(path, "rb") as handle:
            data = handle.read(16 * 1024 * 1024 + 1)
    except OSError as error:
        raise InvalidInput(f"Unreadable: {name} {path}: {error.strerror}.") from None
    if len(data) > 16 * 1024 * 1024:
        raise InvalidInput(f"Unreadable: {name} {path} is larger than 16 MB.")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = f"line {error.lineno}" if isinstance(error, json.JSONDecodeError) else type(error).__name__
        raise InvalidInput(f"Unreadable: {name} {path} is not JSON ({reason}).") from None


def _keys_from_export(data: Any, path: str) -> list[dict[str, Any]]:
    from ledger.errors import InvalidInput

    try:
        return [{"public_key": str(k["public_key"]), "valid_from": _aware(k["valid_from"]),
                 "valid_until": _aware(k["valid_until"]) if k.get("valid_until") else None} for k in data["keys"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidInput(f"Unreadable: --keys {path} is not the output of 'studyledger keys show --format json'.") from None


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("no time zone")
    return value


COMMANDS = [credential]
