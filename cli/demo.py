"""`studyledger demo`: a small, realistic register in a new database, walked through."""

from __future__ import annotations

import click

from cli.context import session, storage

EXPLORE = """
Explore further (add --json for machine output):
  studyledger{db} review queue
  studyledger{db} claim show demo-8
  studyledger{db} balance T-1003
  studyledger{db} balance T-1003 --at {last_year}
  studyledger{db} network members formatief-evalueren --at {two_years}
  studyledger{db} policy show
  studyledger --help"""


@click.command("demo")
def demo() -> None:
    """Build a demo register in a new database and walk through it."""
    from datetime import timedelta

    from ledger.demo import script
    from ledger.errors import InvalidInput

    s = session()

    def build() -> tuple[list[str], list[dict]]:
        ledger = s.ledger(create=True)
        s.read_models().ensure()
        if ledger.recorder.max_notification_id():
            raise InvalidInput(
                f"The store at {s.store.where} already holds events; the demo needs a new database "
                "(choose one with --db, e.g. --db demo.db)."
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

    lines, balances = storage(build)
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
    from datetime import date

    day = date.fromisoformat(today)
    db = _db_option(s.db)
    click.echo(EXPLORE.format(db=db, last_year=day - timedelta(days=365), two_years=day - timedelta(days=730)))


def _db_option(db: str | None) -> str:
    """` --db URL` for the hints, shell-quoted and without its password; nothing when the store
    came from STUDYLEDGER_DB (still set for the next command) or is the default."""
    import shlex

    from ledger.store import without_password

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
