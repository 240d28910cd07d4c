"""`studyledger claim submit|endorse|withdraw|amend|show|list`."""

from __future__ import annotations

import click

from cli.complete import complete_claims, complete_people
from cli.context import plural, session, storage, utc, validate, write
from cli.help import DATE_HELP, REQUEST_ID, example, Group
from cli.output import chosen_format, format_option, output, table

KINDS_HELP = "question | answer | co-construction | facilitation"
LIST_COLUMNS = ["claim", "request_id", "professional", "professional_name", "network", "network_name", "kind",
                "activity_date", "hours", "status", "points", "endorsements", "submitted_at"]
SHOW_COLUMNS = ["claim", "request_id", "professional", "professional_name", "network", "network_name", "kind",
                "status", "activity_date", "hours", "points", "suggested_points", "submitted_at", "description",
                "outcome", "practice_change"]


@click.group("claim", cls=Group)
def claim() -> None:
    """Contribution claims: what a professional did in a network."""


@claim.command("submit", epilog=example(
    "studyledger claim submit --professional T-1 --network formatief --kind question --on 2026-03-04 --hours 1.5 \\",
    '    --description "Asked how others give feedback on drafts" --outcome "Combined two rubrics" \\',
    "    --request-id t1-2026-03-04"))
@click.option("--professional", required=True, metavar="ID", help="The claimant.")
@click.option("--network", required=True, metavar="ID", help="The network the contribution was made in.")
@click.option("--kind", required=True, metavar="KIND", help=KINDS_HELP)
@click.option("--on", required=True, metavar="DATE", help=f"The activity date. {DATE_HELP}")
@click.option("--hours", required=True, metavar="H", help="Hours spent (more than 0, at most 40).")
@click.option("--description", required=True, metavar="TEXT", help="What the contribution was.")
@click.option("--outcome", required=True, metavar="TEXT", help="What did it result in?")
@click.option("--practice-change", metavar="TEXT", help="What do you now do differently in your work?")
@REQUEST_ID
def submit(**options: object) -> None:
    """Submit a claim; prints the claim id.

    With --request-id KEY the claim can be referred to by KEY as well as by its id.
    """
    write(options, lambda r: r["claim"])


@claim.command("endorse", epilog=example('studyledger claim endorse demo-11 --by T-1004 --statement "I was there."'))
@click.argument("claim", shell_complete=complete_claims)
@click.option("--by", required=True, metavar="ID", help="The endorsing peer, a member of the claim's network.")
@click.option("--statement", required=True, metavar="TEXT", help="What the peer vouches for.")
@REQUEST_ID
def endorse(**options: object) -> None:
    """A peer endorses CLAIM (an id or the request id it was submitted with)."""
    write(options,
          lambda r: f"Claim {r['claim']} endorsed; it has {plural(r['endorsements'], 'endorsement')} now.")


@claim.command("withdraw", epilog=example("studyledger claim withdraw t1-2026-03-04 --by T-1"))
@click.argument("claim", shell_complete=complete_claims)
@click.option("--by", required=True, metavar="ID", help="The claimant.")
@REQUEST_ID
def withdraw(**options: object) -> None:
    """The claimant withdraws CLAIM (an id or the request id it was submitted with)."""
    write(options, lambda r: f"Claim {r['claim']} withdrawn.")


@claim.command("amend", epilog=example(
    'studyledger claim amend demo-8 --by T-1002 --practice-change "Students assess each other\'s drafts first."'))
@click.argument("claim", shell_complete=complete_claims)
@click.option("--by", required=True, metavar="ID", help="The claimant.")
@click.option("--kind", metavar="KIND", help=KINDS_HELP)
@click.option("--on", metavar="DATE", help=f"The activity date. {DATE_HELP}")
@click.option("--hours", metavar="H", help="Hours spent.")
@click.option("--description", metavar="TEXT")
@click.option("--outcome", metavar="TEXT")
@click.option("--practice-change", metavar="TEXT")
@REQUEST_ID
def amend(**options: object) -> None:
    """The claimant amends a submitted or returned CLAIM; it is submitted again.

    Changing the kind or the activity date clears the endorsements.
    """
    write(options, lambda r: f"Claim {r['claim']} amended and submitted again.")


@claim.command("show", epilog=example("studyledger claim show demo-11",
                                      "studyledger claim show 3f2a9c4e-1b7d-4e0a-9c55-0d8e6b1f2a77 --format json"))
@click.argument("claim", shell_complete=complete_claims)
@format_option(extra=" (one row, without endorsements and decisions)")
def show(claim: str, fmt: str | None) -> None:
    """A claim with its endorsements and decisions.

    CLAIM is its id (as `claim list` and `review queue` print it) or the --request-id it was
    submitted with.
    """
    from ledger.schemas import ClaimShow

    fmt = chosen_format(fmt)
    values = validate({"claim": claim}, ClaimShow())
    result = storage(lambda: session().reader().claim(values["claim"]))
    output(result, fmt, lambda: render(result), SHOW_COLUMNS, lambda: [result])


@claim.command("list", epilog=example("studyledger claim list --professional T-1002",
                                      "studyledger claim list --status returned --network formatief-evalueren",
                                      "studyledger claim list --kind answer --limit 50 --format csv > answers.csv"))
@click.option("--professional", metavar="ID", shell_complete=complete_people, help="Only this professional's claims.")
@click.option("--network", metavar="ID", help="Only claims in this network.")
@click.option("--status", metavar="STATUS",
              help="Only claims with this status: submitted | approved | rejected | returned | withdrawn | revoked.")
@click.option("--kind", metavar="KIND", help=f"Only claims of this kind: {KINDS_HELP}.")
@click.option("--limit", metavar="N", help="At most N claims (the newest); the header says how many match.")
@format_option()
def list_(fmt: str | None, **filters: object) -> None:
    """Find claims: by professional, network, status and kind, newest first.

    The claim column holds the full id, which `claim show` and the review commands accept.
    """
    from ledger.schemas import ClaimList

    fmt = chosen_format(fmt)
    values = validate(filters, ClaimList())
    result = storage(lambda: session().reader().claim_list(**values))
    output(result, fmt, lambda: render_list(result), LIST_COLUMNS, lambda: result["claims"])


def render_list(result: dict) -> str:
    claims = result["claims"]
    if not claims:
        return "No claims match." if not result["total"] else ""
    rows = [[utc(c["submitted_at"])[:10], c["claim"], c["request_id"] or "", c["professional"],
             c["professional_name"] or "", c["network"], c["kind"], c["activity_date"], c["hours"], c["status"],
             c["points"] or ""] for c in claims]
    shown = (f"{plural(result['total'], 'claim')}" if len(claims) == result["total"]
             else f"The newest {len(claims)} of {result['total']} claims (--limit)")
    return (f"{shown}, newest first:\n"
            + table(rows, ["submitted", "claim", "request id", "professional", "name", "network", "kind", "activity",
                           "hours", "status", "points"], right=("hours", "points")))


def render(c: dict) -> str:
    from cli.exports import shown  # stored text may hold control characters: shown as escapes

    name = f" ({shown(c['professional_name'])})" if c.get("professional_name") else ""
    lines = [
        f"Claim {c['claim']}  [{c['status']}]",
        f"  request id       {shown(c['request_id'] or '-')}",
        f"  professional     {c['professional']}{name}",
        f"  network          {c['network']}",
        f"  kind             {c['kind']}",
        f"  activity date    {c['activity_date']}   hours {c['hours']}",
        wrapped("description", _text(c["description"])),
        wrapped("outcome", _text(c["outcome"])),
        wrapped("practice change", c["practice_change"] or ("-" if c["description"] is not None else ERASED)),
        f"  points           {c['points'] or '-'} (suggested {c['suggested_points']})",
        f"  submitted at     {utc(c['submitted_at'])}",
    ]
    if c["endorsements"]:
        lines += ["", "Endorsements:", table([[e["by"], utc(e["recorded_at"]), _text(e["statement"])] for e in c["endorsements"]],
                                             ["by", "recorded", "statement"])]
    if c["decisions"]:
        lines += ["", "Decisions:", table(
            [[d["decision"], d["by"], utc(d["recorded_at"]), d.get("points") or "",
              d.get("text") or (ERASED if d["decision"] not in ("withdrawn", "amended") else "")]
             for d in c["decisions"]],
            ["decision", "by", "recorded", "points", "text"], right=("points",))]
    return "\n".join(lines)


ERASED = "(erased)"  # a text whose author was erased (SPEC §9): JSON gives null


def _text(text: str | None) -> str:
    return ERASED if text is None else text


def wrapped(label: str, text: str) -> str:
    """`  label            text`, the text wrapped to the terminal's width under its first line."""
    import shutil
    import textwrap

    from cli.exports import shown

    indent = " " * 19
    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    return textwrap.fill(shown(text), width=width, initial_indent=f"  {label:<17}", subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


COMMANDS = [claim]
