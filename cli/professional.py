"""`studyledger professional register|deregister|reinstate|erase`."""

from typing import Any

import click

from cli.context import command_from, emit, replay_note, session, storage, write
from cli.help import DATE_HELP, REQUEST_ID, example, Group


@click.group("professional", cls=Group)
def professional() -> None:
    """Professionals on the register."""


@professional.command("register", epilog=example(
    'studyledger professional register T-1 --name "Anouk de Vries" --group teacher-secondary --registered-on 2023-09-01'))
@click.argument("id")
@click.option("--name", required=True, help="Full name.")
@click.option("--group", required=True, help="Professional group, e.g. teacher-secondary or nurse.")
@click.option("--registered-on", metavar="DATE", help=f"Registration date (default: today); cycles count from it. {DATE_HELP}")
@REQUEST_ID
def register(**options: object) -> None:
    """Register professional ID."""
    write(options, lambda r: f"Professional {r['professional']} registered on {r['registered_on']}.")


@professional.command("deregister", epilog=example("studyledger professional deregister T-1 --on 2026-08-31"))
@click.argument("id")
@click.option("--on", required=True, metavar="DATE", help=f"Last day on the register. {DATE_HELP}")
@REQUEST_ID
def deregister(**options: object) -> None:
    """Deregister professional ID: no new claims or endorsements after that date."""
    write(options, lambda r: f"Professional {r['professional']} deregistered on {r['on']}."
          + (f" Memberships ended: {', '.join(r['memberships_ended'])}." if r.get("memberships_ended") else ""))


@professional.command("reinstate", epilog=example("studyledger professional reinstate T-1"))
@click.argument("id")
@REQUEST_ID
def reinstate(**options: object) -> None:
    """Cancel the deregistration of professional ID (a correction); the memberships it ended come back."""
    write(options, lambda r: f"Professional {r['professional']} reinstated."
          + (f" Memberships restored: {', '.join(r['memberships_restored'])}." if r.get("memberships_restored") else ""))


@professional.command("erase", epilog=example(
    'studyledger professional erase T-1 --reason "Asked to be forgotten (GDPR art. 17), request 2026-114"'))
@click.argument("id")
@click.option("--reason", required=True, metavar="TEXT", help="Why; kept, encrypted with the register's key: do not name the person in it.")
@REQUEST_ID
def erase(**options: object) -> None:
    """Erase the personal data of deregistered professional ID (SPEC §9).

    Their key and the link from ID to their events are destroyed: their name and texts (also the
    statements they wrote on others' claims) can no longer be read, and the read models keep none
    of it. Every figure stays: points, memberships and counts are shown as "an erased professional".
    A reviewer with the same ID, retired, is erased with them. Cannot be undone.
    """
    erasing(options, "Professional")


def erasing(raw: dict[str, Any], noun: str) -> None:
    """Carry out an erase command and purge the read models in this same run (projections.erasure)."""
    from projections.erasure import erase as erase_person

    s = session()
    result = storage(lambda: erase_person(s.ledger(), s.read_models(), command_from(raw)))
    roles = result.get("roles") or []
    both = " (as professional and as reviewer)" if len(roles) > 1 else ""
    emit(result, f"{noun} {raw['id']} erased{both}: their key and link are destroyed; their figures stay, "
                 f"named 'an erased {noun.lower()}'.")
    if result.get("replayed") and not s.json:
        click.echo(replay_note(result), err=True)
    if result.get("checkpointed") is False and not s.json:
        click.echo("Note: readers kept the write-ahead log from being emptied; what was erased stays in it until "
                   "SQLite writes over it: with no other process on the store, run "
                   f"sqlite3 {s.store.path} 'PRAGMA wal_checkpoint(TRUNCATE)'.", err=True)


COMMANDS = [professional]
