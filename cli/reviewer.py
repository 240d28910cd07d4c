"""`studyledger reviewer appoint|retire|reinstate|erase`."""

import click

from cli.context import write
from cli.help import DATE_HELP, REQUEST_ID, example, Group
from cli.professional import erasing


@click.group("reviewer", cls=Group)
def reviewer() -> None:
    """Reviewers of the register, who decide on claims."""


@reviewer.command("appoint", epilog=example('studyledger reviewer appoint R-1 --name "Hanneke Vos" --on 2024-01-01'))
@click.argument("id")
@click.option("--name", required=True, help="Full name.")
@click.option("--on", metavar="DATE", help=f"First day of the appointment (default: today). {DATE_HELP}")
@REQUEST_ID
def appoint(**options: object) -> None:
    """Appoint reviewer ID."""
    write(options, lambda r: f"Reviewer {r['reviewer']} appointed on {r['on']}.")


@reviewer.command("retire", epilog=example("studyledger reviewer retire R-1 --on 2027-01-01"))
@click.argument("id")
@click.option("--on", required=True, metavar="DATE", help=f"From this date the reviewer decides no more. {DATE_HELP}")
@REQUEST_ID
def retire(**options: object) -> None:
    """Retire reviewer ID."""
    write(options, lambda r: f"Reviewer {r['reviewer']} retires on {r['on']}.")


@reviewer.command("reinstate", epilog=example("studyledger reviewer reinstate R-1"))
@click.argument("id")
@REQUEST_ID
def reinstate(**options: object) -> None:
    """Cancel the retirement of reviewer ID (a correction)."""
    write(options, lambda r: f"Reviewer {r['reviewer']} reinstated.")


@reviewer.command("erase", epilog=example(
    'studyledger reviewer erase R-1 --reason "Retired in 2027; retention period over"'))
@click.argument("id")
@click.option("--reason", required=True, metavar="TEXT", help="Why; kept, encrypted with the register's key: do not name the person in it.")
@REQUEST_ID
def erase(**options: object) -> None:
    """Erase the personal data of retired reviewer ID (SPEC §9).

    Their key and the link from ID to their events are destroyed: their name and the rationales and
    reasons they wrote can no longer be read. Their decisions stay, and every point they awarded:
    signed "an erased reviewer". A professional with the same ID, deregistered, is erased with them.
    Cannot be undone.
    """
    erasing(options, "Reviewer")


COMMANDS = [reviewer]
