"""`studyledger review queue|approve|reject|return|revoke`: a reviewer's day."""

from __future__ import annotations

import click

from cli.complete import complete_claims
from cli.context import plural, session, storage, utc, validate, write
from cli.help import REQUEST_ID, example, Group
from cli.output import chosen_format, format_option, output, table

REVIEWER = click.option("--reviewer", required=True, metavar="ID", help="The deciding reviewer.")
REASON = click.option("--reason", required=True, metavar="TEXT", help="Why; the claimant reads it.")
CLAIM_HELP = "CLAIM is a claim id or the --request-id it was submitted with."

QUEUE_COLUMNS = ["claim", "request_id", "professional", "professional_name", "network", "network_name", "kind",
                 "activity_date", "hours", "endorsements", "min_endorsements", "suggested_points", "submitted_at"]


@click.group("review", cls=Group)
def review() -> None:
    """Reviewers work through the queue and decide on claims."""


@review.command("queue", epilog=example(
    "studyledger review queue",
    "studyledger review queue --network wondzorg --older-than 14 --limit 20",
    "studyledger review queue --group teacher-secondary --kind co-construction --format csv > queue.csv"))
@click.option("--network", metavar="ID", help="Only claims in this network.")
@click.option("--group", metavar="GROUP", help="Only claims of professionals of this group (e.g. nurse).")
@click.option("--kind", metavar="KIND", help="Only claims of this kind: question | answer | co-construction | facilitation.")
@click.option("--older-than", metavar="DAYS", help="Only claims submitted more than DAYS days ago.")
@click.option("--limit", metavar="N", help="At most N claims (the oldest); the header says how many match.")
@format_option()
def queue(fmt: str | None, **filters: object) -> None:
    """Claims waiting for a decision, oldest first, with their endorsements and suggested points.

    The claim column holds the full id (`claim show` accepts it), or use the request id.
    """
    from ledger.schemas import ReviewQueue

    fmt = chosen_format(fmt)
    values = validate(filters, ReviewQueue())
    result = storage(lambda: session().reader().review_queue(**values))
    output(result, fmt, lambda: render_queue(result), QUEUE_COLUMNS, lambda: result["claims"])


def render_queue(result: dict) -> str:
    claims = result["claims"]
    if not claims:
        return "No claims are waiting for a decision." if not result["total"] else ""
    rows = [[utc(c["submitted_at"])[:10], c["claim"], c["request_id"] or "", c["professional"],
             c["professional_name"] or "", c["network"], c["kind"], c["activity_date"], c["hours"],
             f"{c['endorsements']} ({c['min_endorsements']} needed)", c["suggested_points"]]
            for c in claims]
    shown = (f"{plural(result['total'], 'claim')} waiting" if len(claims) == result["total"]
             else f"The oldest {len(claims)} of {result['total']} claims waiting (--limit)")
    return (f"{shown}, oldest first:\n"
            + table(rows, ["submitted", "claim", "request id", "professional", "name", "network", "kind", "activity",
                           "hours", "endorsements", "suggested"], right=("hours", "suggested")))


def _points(result: dict) -> str:
    return plural(result["points"], "point")


@review.command("approve", epilog=example(
    'studyledger review approve demo-11 --reviewer R-pgraaf --rationale "Protocol in use in all science classes."',
    'studyledger review approve demo-12 --reviewer R-hvos --points 1.5 --rationale "Short walkthrough."'))
@click.argument("claim", shell_complete=complete_claims)
@REVIEWER
@click.option("--points", metavar="X", help="Points to award, at most two decimals (default: the suggested points).")
@click.option("--rationale", required=True, metavar="TEXT", help="Why these points.")
@REQUEST_ID
def approve(**options: object) -> None:
    """Approve CLAIM and award points.

    CLAIM is a claim id or the --request-id it was submitted with.
    """
    write(options, lambda r: f"Claim {r['claim']} approved: {_points(r)}.")


@review.command("reject", epilog=example(
    'studyledger review reject demo-12 --reviewer R-hvos --reason "Attendance alone is not a contribution."'))
@click.argument("claim", shell_complete=complete_claims)
@REVIEWER
@REASON
@REQUEST_ID
def reject(**options: object) -> None:
    """Reject CLAIM.

    CLAIM is a claim id or the --request-id it was submitted with.
    """
    write(options, lambda r: f"Claim {r['claim']} rejected.")


@review.command("return", epilog=example(
    'studyledger review return demo-12 --reviewer R-hvos --reason "What do you now do differently?"'))
@click.argument("claim", shell_complete=complete_claims)
@REVIEWER
@REASON
@REQUEST_ID
def return_(**options: object) -> None:
    """Return CLAIM to the claimant for amendment.

    CLAIM is a claim id or the --request-id it was submitted with.
    """
    write(options, lambda r: f"Claim {r['claim']} returned to the claimant.")


@review.command("revoke", epilog=example(
    'studyledger review revoke demo-1 --reviewer R-pgraaf --reason "Counted twice."'))
@click.argument("claim", shell_complete=complete_claims)
@REVIEWER
@REASON
@REQUEST_ID
def revoke(**options: object) -> None:
    """Revoke an approved CLAIM: its points are debited again.

    CLAIM is a claim id or the --request-id it was submitted with.
    """
    write(options, lambda r: f"Claim {r['claim']} revoked: {_points(r)}.")


COMMANDS = [review]
