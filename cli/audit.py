"""`studyledger audit history|verify|digest`: for auditors."""

from __future__ import annotations

import sys

import click

from cli.complete import complete_people
from cli.context import emit, Progress, session, storage, utc, validate
from cli.help import INSTANT_HELP, example, Group
from cli.output import chosen_format, format_option, output, table
from cli.exports import shown


@click.group("audit", cls=Group)
def audit() -> None:
    """Replay a professional's or a reviewer's history; prove the stored events are unchanged."""


HISTORY_COLUMNS = ["recorded_at", "type", "role", "actor", "os_user", "claim", "professional", "network", "kind",
                   "activity_date", "on", "hours", "points", "balance", "text"]


@audit.command("history", epilog=example(
    "studyledger audit history T-1003",
    "studyledger audit history R-hvos                      # a reviewer's decisions",
    "studyledger audit history T-1003 --known-at 2026-01-15T09:00:00Z --format csv > t1003.csv"))
@click.argument("professional", metavar="ID", shell_complete=complete_people)
@click.option("--known-at", metavar="INSTANT", help=f"The history as the register knew it at this instant. {INSTANT_HELP}")
@format_option(extra="; its points column sums to the balance")
def history(professional: str, known_at: str | None, fmt: str | None) -> None:
    """Every event concerning a professional or a reviewer ID, from the event log alone.

    For a professional: registration, memberships (with their dates), claims (with their
    activity dates), endorsements given and decisions received, with the running balance;
    the points column sums to `balance ID --known-at` the last row's instant. For a
    reviewer: appointment, retirement and every decision they took. Full claim ids, which
    `claim show` accepts; instants in UTC.
    """
    from ledger.audit import history as replay
    from ledger.schemas import History

    fmt = chosen_format(fmt)
    values = validate({"professional": professional, "known_at": known_at}, History())
    result = storage(lambda: replay(session().ledger(), values["professional"], values["known_at"]))
    output(result, fmt, lambda: render_history(result), HISTORY_COLUMNS, lambda: result["events"])


def render_history(result: dict) -> str:
    who = result.get("professional") or f"reviewer {result['reviewer']}"
    known = f" as known at {utc(result['known_at'])}" if result["known_at"] else ""
    if not result["recorded"]:
        return (f"No events concerning {shown(who)} were recorded by {utc(result['known_at'])}: "
                "not yet on the register then.")
    rows = [[utc(e["recorded_at"]), e["type"], e["role"], e["actor"] or "", e.get("claim") or "",
             e.get("network") or "", e.get("activity_date") or "", e.get("on") or "", e.get("points") or "",
             e["balance"]] for e in result["events"]]
    return (f"History of {shown(who)}{known} (instants in UTC):\n"
            + table(rows, ["recorded", "event", "as", "by", "claim", "network", "activity", "on", "points", "balance"],
                    right=("points", "balance")))


@audit.command("verify", epilog=example("studyledger audit verify",
                                        'studyledger audit verify --digest "$(studyledger audit digest)"',
                                        "studyledger --db new.db audit verify --migrated-from old.db"))
@click.option("--digest", metavar="X", help="A digest from 'audit digest': prove nothing up to it has changed since.")
@click.option("--migrated-from", "migrated_from", metavar="OLD",
              help="The store this one was migrated from ('migrate OLD NEW'): prove it is unchanged since.")
def verify(digest: str | None, migrated_from: str | None) -> None:
    """Check the hash chain and rules 1–10 over every stored event, and every projection against a fresh replay.

    Exit 0 when nothing is wrong, 1 naming every problem found. On a terminal a progress bar
    and the rate are shown on stderr. A migrated store says which store and digest it came from;
    with --migrated-from that store's own chain is checked and its digest compared.
    """
    from cli.migrate import store_named
    from ledger.audit import verify_chain, verify_rules
    from ledger.migrated import verify_migration
    from projections.verify import verify as verify_projections

    old = store_named(migrated_from) if migrated_from is not None else None  # a bad URL is exit 2 before anything

    def check() -> dict:
        ledger = session().ledger()
        head = ledger.recorder.max_notification_id() or 0
        # Three passes over the log: the chain, the rules, and the replay the projections are compared with.
        with Progress("Verifying", 3 * head) as progress:
            report, notes = verify_chain(ledger, digest, progress=progress.update)
            problems = list(report.problems)
            migration, linked, seen = verify_migration(ledger, old, session().ledger_factory)
            problems += linked
            notes += seen
            broken = verify_rules(ledger, progress=progress.update)  # also over a broken chain: an edited event may break a rule
            problems += [str(p) for p in broken]
            projections = None
            if report.ok:
                projections = verify_projections(session().read_models(), progress=progress.update)
                problems += projections["problems"]
        progress.done("Verified", report.events_checked)
        return {"ok": not problems, "events_checked": report.events_checked, "problems": problems, "notes": notes,
                "rules": [p.as_json() for p in broken], "projections_checked": projections is not None,
                **({"migrated_from": migration} if migration is not None else {})}

    result = storage(check)
    lines = [f"Checked the chain and rules 1–10 over {result['events_checked']} events"
             + (", and every projection." if result["projections_checked"] else ".")]
    lines += [f"  {n}" for n in result["notes"]]
    lines += [f"  PROBLEM: {p}" for p in result["problems"]] or ["  No problems: the figures can be trusted."]
    emit(result, "\n".join(lines))
    if not result["ok"]:
        sys.exit(1)


@audit.command("digest", epilog=example("studyledger audit digest > digest-$(date +%F).txt",
                                        'studyledger audit verify --digest "$(cat digest-2026-12-01.txt)"'))
def digest() -> None:
    """A short digest of the whole history so far: keep it elsewhere, check it later with verify --digest.

    Only the digest is printed on stdout; the advice goes to stderr.
    """
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
