"""`studyledger claim submit|endorse|withdraw|amend|show`."""

from __future__ import annotations

import click

from cli.context import REQUEST_ID, emit, session, storage, table, validate, write

KINDS_HELP = "question | answer | co-construction | facilitation"


@click.group("claim")
def claim() -> None:
    """Contribution claims: what a professional did in a network."""


@claim.command("submit")
@click.option("--professional", required=True, metavar="ID", help="The claimant.")
@click.option("--network", required=True, metavar="ID", help="The network the contribution was made in.")
@click.option("--kind", required=True, metavar="KIND", help=KINDS_HELP)
@click.option("--on", required=True, metavar="DATE", help="The activity date.")
@click.option("--hours", required=True, metavar="H", help="Hours spent (more than 0, at most 40).")
@click.option("--description", required=True, metavar="TEXT", help="What the contribution was.")
@click.option("--outcome", required=True, metavar="TEXT", help="What did it result in?")
@click.option("--practice-change", metavar="TEXT", help="What do you now do differently in your work?")
@REQUEST_ID
def submit(**options: object) -> None:
    """Submit a claim; prints the claim id."""
    write("claim submit", options, lambda r: r["claim"])


@claim.command("endorse")
@click.argument("claim")
@click.option("--by", required=True, metavar="ID", help="The endorsing peer, a member of the claim's network.")
@click.option("--statement", required=True, metavar="TEXT", help="What the peer vouches for.")
@REQUEST_ID
def endorse(**options: object) -> None:
    """A peer endorses CLAIM (an id or the request id it was submitted with)."""
    write("claim endorse", options, lambda r: f"Claim {r['claim']} endorsed ({r['endorsements']} endorsement(s)).")


@claim.command("withdraw")
@click.argument("claim")
@click.option("--by", required=True, metavar="ID", help="The claimant.")
@REQUEST_ID
def withdraw(**options: object) -> None:
    """The claimant withdraws CLAIM."""
    write("claim withdraw", options, lambda r: f"Claim {r['claim']} withdrawn.")


@claim.command("amend")
@click.argument("claim")
@click.option("--by", required=True, metavar="ID", help="The claimant.")
@click.option("--kind", metavar="KIND", help=KINDS_HELP)
@click.option("--on", metavar="DATE", help="The activity date.")
@click.option("--hours", metavar="H", help="Hours spent.")
@click.option("--description", metavar="TEXT")
@click.option("--outcome", metavar="TEXT")
@click.option("--practice-change", metavar="TEXT")
@REQUEST_ID
def amend(**options: object) -> None:
    """The claimant amends a submitted or returned CLAIM; it is submitted again.

    Changing the kind or the activity date clears the endorsements.
    """
    write("claim amend", options, lambda r: f"Claim {r['claim']} amended and submitted again.")


@claim.command("show")
@click.argument("claim")
def show(claim: str) -> None:
    """A claim with its endorsements and decisions."""
    from ledger.schemas import ClaimShow

    values = validate("claim show", {"claim": claim}, schema=ClaimShow())
    result = storage(lambda: session().reader().claim(values["claim"]))
    emit(result, render(result))


def render(c: dict) -> str:
    from cli.exports import shown  # stored text may hold control characters: shown as escapes

    lines = [
        f"Claim {c['claim']}  [{c['status']}]",
        f"  professional     {c['professional']}",
        f"  network          {c['network']}",
        f"  kind             {c['kind']}",
        f"  activity date    {c['activity_date']}   hours {c['hours']}",
        f"  description      {shown(c['description'])}",
        f"  outcome          {shown(c['outcome'])}",
        f"  practice change  {shown(c['practice_change'] or '-')}",
        f"  points           {c['points'] or '-'} (suggested {c['suggested_points']})",
        f"  submitted at     {c['submitted_at']}",
    ]
    if c["endorsements"]:
        lines += ["", "Endorsements:", table([[e["by"], e["recorded_at"][:19], e["statement"]] for e in c["endorsements"]],
                                             ["by", "recorded", "statement"])]
    if c["decisions"]:
        lines += ["", "Decisions:", table(
            [[d["decision"], d["by"], d["recorded_at"][:19], d.get("points") or "", d.get("text") or ""] for d in c["decisions"]],
            ["decision", "by", "recorded", "points", "text"])]
    return "\n".join(lines)


COMMANDS = [claim]
