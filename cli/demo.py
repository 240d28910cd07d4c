"""`studyledger demo`: a small, realistic register in a new database, walked through."""

from __future__ import annotations

import click

from typing import Any

from cli.context import emit, session, storage, utc
from cli.help import Command, example

EXPLORE = """
Explore further (add --json for machine output):
  studyledger{db} review queue
  studyledger{db} claim list --professional T-1002
  studyledger{db} claim show demo-8
  studyledger{db} balance T-1003
  studyledger{db} balance T-1003 --at {last_year}
  studyledger{db} network members formatief-evalueren --at {two_years}
  studyledger{db} balance N-2003 --known-at {approved}   # as known when demo-10 was approved, before its revocation
  studyledger{db} audit history R-pgraaf
  studyledger{db} policy show
  studyledger --help"""


@click.command("demo", cls=Command, epilog=example("studyledger demo", "studyledger --db demo.db demo"))
def demo() -> None:
    """Build a demo register in a new database and walk through it.

    Run again on the store that holds the demo, it writes nothing and shows how to explore it;
    on a store that holds anything else it refuses (exit 2): give a new file with --db.
    """
    from datetime import timedelta

    from ledger.demo import script
    from ledger.errors import InvalidInput

    s = session()

    def build() -> tuple[list[str], list[dict]] | None:
        ledger = s.ledger(create=True)
        s.read_models().ensure()
        if ledger.recorder.max_notification_id():
            if _holds_the_demo(ledger):
                return None
            raise InvalidInput(
                f"The store at {s.store.where} already holds a register other than the demo; the demo needs a new "
                "database: choose one with --db, e.g. 'studyledger --db demo.db demo'."
            )
        today = ledger.clock().date()
        lines: list[str] = []
        routine: dict[str, int] = {}  # command path → routine steps not narrated one by one
        for narration, command, values in script(today):
            ledger.run(command, values)
            if narration:
                lines.extend(_summary(routine))
                lines.append(f"  {narration}")
            else:
                routine[command] = routine.get(command, 0) + 1
        lines.extend(_summary(routine))
        reader = s.reader()
        balances = [reader.balance(pid) for pid in ("T-1001", "T-1002", "T-1003", "T-1004", "T-1005", "N-2001", "N-2002", "N-2003")]
        return lines, balances

    built = storage(build)
    if built is None:  # the demo was built here before: nothing to do but show the way in
        explore = EXPLORE.format(**_hints(s))
        emit({"store": s.store.where, "steps": 0, "status": "already built"},
             f"The demo register is already in {s.store.where}; nothing was written.\n{explore}")
        return
    lines, balances = built
    today = balances[0]["at"]
    if s.json:
        import json

        click.echo(json.dumps({"store": s.store.where, "steps": len(lines), "balances": balances}, indent=2))
        return
    click.echo(f"Building a demo register in {s.store.where}:")
    click.echo("\n".join(lines))
    click.echo(f"\nBalances today ({today}), current cycle against the norm:")
    for b in balances:
        c = b["cycle"]
        click.echo(f"  {b['professional']:<8} total {b['total']:>5}   cycle {c['start']} – {c['end']}: "
                   f"{c['points']:>5} of {c['norm']} (shortfall {c['shortfall']})")
    click.echo(EXPLORE.format(**_hints(s)))


def _holds_the_demo(ledger: Any) -> bool:
    """Whether the store holds the demo register (its first claim, by its request id)."""
    from domain.errors import UnknownClaim

    try:
        ledger.claim_id("demo-1")
    except UnknownClaim:
        return False
    return True


def _hints(s: Any) -> dict[str, str]:
    """The values of EXPLORE: the store's --db, dates relative to the day the demo ran, and the
    instant demo-10 was approved (the demo records everything within a second: an instant from
    the log itself is the one that shows the revocation undone)."""
    from datetime import datetime, timedelta

    from ledger.audit import history

    events = storage(lambda: history(s.ledger(), "N-2003"))["events"]
    registered = next(e for e in events if e["type"] == "ProfessionalRegistered")
    approved = next(e for e in events if e["type"] == "ClaimApproved")["recorded_at"]
    day = datetime.fromisoformat(registered["recorded_at"]).date()  # the day the demo ran
    return {"db": _db_option(s.db), "last_year": str(day - timedelta(days=365)),
            "two_years": str(day - timedelta(days=730)), "approved": utc(approved)}


def _db_option(db: str | None) -> str:
    """` --db URL` for the hints, shell-quoted and without its password; nothing when the store
    came from STUDYLEDGER_DB (still set for the next command) or is the default."""
    import shlex

    from storage.config import without_password

    source = click.get_current_context().find_root().get_parameter_source("db")
    if db is None or source is not click.core.ParameterSource.COMMANDLINE:
        return ""
    return f" --db {shlex.quote(without_password(db))}"


ROUTINE = {"professional register": "professionals register", "network join": "network memberships start"}


def _summary(routine: dict[str, int]) -> list[str]:
    lines = [f"  {count} {ROUTINE[command]}." for command, count in routine.items()]
    routine.clear()
    return lines


COMMANDS = [demo]
