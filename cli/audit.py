"""`studyledger audit history|verify|digest`: for auditors."""

from __future__ import annotations

import sys

import click

from cli.context import emit, session, storage, table, validate
from cli.exports import shown


@click.group("audit")
def audit() -> None:
    """Replay a professional's history; prove the stored events are unchanged."""


@audit.command("history")
@click.argument("professional")
@click.option("--known-at", metavar="INSTANT", help="The history as the register knew it at this instant.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default=None,
              help="table (default), json, or csv for a spreadsheet.")
def history(professional: str, known_at: str | None, fmt: str | None) -> None:
    """Every event concerning PROFESSIONAL, from the event log alone, with the running balance."""
    import json

    from cli.exports import write_csv
    from ledger.audit import history as replay
    from ledger.schemas import Balance

    values = validate("audit history", {"professional": professional, "known_at": known_at}, schema=Balance())
    result = storage(lambda: replay(session().ledger(), values["professional"], values["known_at"]))
    fmt = fmt or ("json" if session().json else "table")
    columns = ["recorded_at", "type", "role", "actor", "os_user", "claim", "network", "points", "balance", "text"]
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        write_csv(sys.stdout, columns, result["events"])  # formulas neutralised
    else:
        rows = [[e["recorded_at"][:19], e["type"], e["role"], e["actor"], (e.get("claim") or "")[:8],
                 e.get("network") or "", e.get("points") or "", e["balance"]] for e in result["events"]]
        click.echo(f"History of {shown(professional)}:\n"
                   + table(rows, ["recorded", "event", "as", "by", "claim", "network", "points", "balance"]))


@audit.command("verify")
@click.option("--digest", metavar="X", help="A digest from 'audit digest': prove nothing up to it has changed since.")
def verify(digest: str | None) -> None:
    """Check the hash chain over every stored event, and every projection against a fresh replay."""
    from ledger.audit import verify_chain, verify_rules
    from projections.verify import verify as verify_projections

    def check() -> dict:
        report, notes = verify_chain(session().ledger(), digest)
        problems = list(report.problems)
        broken = verify_rules(session().ledger())  # also over a broken chain: an edited event may break a rule
        problems += [str(p) for p in broken]
        projections = None
        if report.ok:
            projections = verify_projections(session().read_models())
            problems += projections["problems"]
        return {"ok": not problems, "events_checked": report.events_checked, "problems": problems, "notes": notes,
                "rules": [p.as_json() for p in broken], "projections_checked": projections is not None}

    result = storage(check)
    lines = [f"Checked the chain and rules 1–10 over {result['events_checked']} events"
             + (", and every projection." if result["projections_checked"] else ".")]
    lines += [f"  {n}" for n in result["notes"]]
    lines += [f"  PROBLEM: {p}" for p in result["problems"]] or ["  No problems: the figures can be trusted."]
    emit(result, "\n".join(lines))
    if not result["ok"]:
        sys.exit(1)


@audit.command("digest")
def digest() -> None:
    """A short digest of the whole history so far: keep it elsewhere, check it later with verify --digest."""
    from ledger.audit import verify_chain
    from ledger.errors import LedgerError
    from ledger.integrity import digest as make_digest

    def take() -> dict:
        report, _ = verify_chain(session().ledger())
        if not report.ok:
            raise LedgerError("The stored events do not match their seals, so no digest was taken: "
                              + report.problems[0] + ".")
        return {"digest": make_digest(report.head, report.seal), "events": report.events_checked}

    result = storage(take)
    # The digest alone on stdout, so that `audit verify --digest "$(studyledger audit digest)"` works (SPEC §8).
    emit(result, result["digest"])
    if not session().json:
        click.echo(f"(over {result['events']} events; keep it somewhere else — printed, mailed, published — and "
                   "check it later with 'studyledger audit verify --digest …')", err=True)


COMMANDS = [audit]
