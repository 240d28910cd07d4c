"""`studyledger reviewer appoint|retire|reinstate`."""

import click

from cli.context import REQUEST_ID, write


@click.group("reviewer")
def reviewer() -> None:
    """Reviewers of the register, who decide on claims."""


@reviewer.command("appoint")
@click.argument("id")
@click.option("--name", required=True, help="Full name.")
@click.option("--on", metavar="DATE", help="First day of the appointment (default: today).")
@REQUEST_ID
def appoint(**options: object) -> None:
    """Appoint reviewer ID."""
    write("reviewer appoint", options, lambda r: f"Reviewer {r['reviewer']} appointed on {r['on']}.")


@reviewer.command("retire")
@click.argument("id")
@click.option("--on", required=True, metavar="DATE", help="From this date the reviewer decides no more.")
@REQUEST_ID
def retire(**options: object) -> None:
    """Retire reviewer ID."""
    write("reviewer retire", options, lambda r: f"Reviewer {r['reviewer']} retires on {r['on']}.")


@reviewer.command("reinstate")
@click.argument("id")
@REQUEST_ID
def reinstate(**options: object) -> None:
    """Cancel the retirement of reviewer ID (a correction)."""
    write("reviewer reinstate", options, lambda r: f"Reviewer {r['reviewer']} reinstated.")


COMMANDS = [reviewer]
