"""`studyledger professional register|deregister|reinstate`."""

import click

from cli.context import write
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


COMMANDS = [professional]
