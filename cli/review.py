"""`studyledger review queue|approve|reject|return|revoke`: a reviewer's day."""

from __future__ import annotations

import click

from cli.context import REQUEST_ID, emit, session, storage, table, write

REVIEWER = click.option("--reviewer", required=True, metavar="ID", help="The deciding reviewer.")
REASON = click.option("--reason", required=True, metavar="TEXT", help="Why; the claimant reads it.")


@click.group("review")
def review() -> None:
    """Reviewers decide on claims."""


@review.command("queue")
def queue() -> None:
    """Claims waiting for a decision, oldest first."""
    result = storage(lambda: session().reader().review_queue())
    rows = [
        [c["submitted_at"][:10], c["claim"], c["professional"], c["network"], c["kind"],
         f"{c['endorsements']}/{c['min_endorsements']}", c["suggested_points"]]
        for c in result["claims"]
    ]
    human = table(rows, ["submitted", "claim", "professional", "network", "kind", "endorsed", "suggested"])
    emit(result, human or "No claims are waiting for a decision.")


@review.command("approve")
@click.argument("claim")
@REVIEWER
@click.option("--points", metavar="X", help="Points to award (default: the suggested points).")
@click.option("--rationale", required=True, metavar="TEXT", help="Why these points.")
@REQUEST_ID
def approve(**options: object) -> None:
    """Approve CLAIM and award points."""
    write("review approve", options, lambda r: f"Claim {r['claim']} approved: {r['points']} points.")


@review.command("reject")
@click.argument("claim")
@REVIEWER
@REASON
@REQUEST_ID
def reject(**options: object) -> None:
    """Reject CLAIM."""
    write("review reject", options, lambda r: f"Claim {r['claim']} rejected.")


@review.command("return")
@click.argument("claim")
@REVIEWER
@REASON
@REQUEST_ID
def return_(**options: object) -> None:
    """Return CLAIM to the claimant for amendment."""
    write("review return", options, lambda r: f"Claim {r['claim']} returned to the claimant.")


@review.command("revoke")
@click.argument("claim")
@REVIEWER
@REASON
@REQUEST_ID
def revoke(**options: object) -> None:
    """Revoke an approved CLAIM: its points are debited again."""
    write("review revoke", options, lambda r: f"Claim {r['claim']} revoked: {r['points']} points.")


COMMANDS = [review]
