"""`studyledger balance P [--at D] [--known-at T]`."""

from __future__ import annotations

import click

from cli.complete import complete_people
from cli.context import session, storage, utc, validate
from cli.help import DATE_HELP, INSTANT_HELP, Command, example
from cli.output import chosen_format, format_option, output
from cli.plain import plain

CSV_COLUMNS = ["professional", "at", "known_at", "figure", "name", "points"]


@click.command("balance", cls=Command, epilog=example(
    "studyledger balance T-1003",
    "studyledger balance T-1003 --at 2025-12-31 --known-at 2026-01-15T09:00:00Z",
    "studyledger balance T-1003 --format csv"))
@click.argument("professional", shell_complete=complete_people)
@click.option("--at", metavar="DATE", help=f"Count activities up to and including this date (default: today). {DATE_HELP}")
@click.option("--known-at", metavar="INSTANT", help=f"Count only what was recorded by this instant (default: now). {INSTANT_HELP}")
@format_option(extra=" (one row per figure)")
def balance(professional: str, at: str | None, known_at: str | None, fmt: str | None) -> None:
    """A professional's study points: total, current cycle, by kind, network and theme.

    As known at an instant before PROFESSIONAL was registered, every figure is 0 and the
    header says that they were not yet on the register (`"cycle": null` in JSON).
    """
    fmt = chosen_format(fmt)
    raw = {"professional": professional, "at": at, "known_at": known_at}
    values = plain(raw, ("professional",), days=("at",), instants=("known_at",)) or _validate(raw)
    result = storage(lambda: _quick(values) or session().reader().balance(**values))
    output(result, fmt, lambda: render(result), CSV_COLUMNS, lambda: figures(result))


def _validate(raw: dict) -> dict:
    from ledger.schemas import Balance

    return validate(raw, Balance())


def _quick(values: dict) -> dict | None:
    """The answer without SQLAlchemy when the read model has nothing to apply that matters (projections.quick),
    else None. Not when a test passes its own ledger (and clock)."""
    from projections import quick

    s = session()
    return quick.balance(s.store, **values) if s.ledger_factory is None else None


def figures(b: dict) -> list[dict]:
    """The balance as rows: total, the cycle's points, norm and shortfall, then each kind, network and theme."""
    base = {"professional": b["professional"], "at": b["at"], "known_at": b["known_at"]}
    rows = [{**base, "figure": "total", "name": "", "points": b["total"]}]
    cycle = b["cycle"]
    if cycle:
        rows += [{**base, "figure": f"cycle {key}", "name": f"{cycle['start']}/{cycle['end']}", "points": cycle[key]}
                 for key in ("points", "norm", "shortfall")]
    for key in ("by_kind", "by_network", "by_theme"):
        rows += [{**base, "figure": key.replace("_", " "), "name": name, "points": amount}
                 for name, amount in b[key].items()]
    return rows


def render(b: dict) -> str:
    # In UTC, to the microsecond: two instants a fraction of a second apart may have different totals.
    header = f"Balance of {b['professional']} on {b['at']} (as known at {utc(b['known_at'])})"
    lines = [header, f"  total   {b['total']}"]
    cycle = b["cycle"]
    if cycle:
        lines.append(
            f"  cycle   {cycle['start']} – {cycle['end']}: {cycle['points']} of {cycle['norm']} "
            f"(shortfall {cycle['shortfall']})"
        )
    else:
        lines.append(f"  ({b['professional']} was not yet on the register as known then)")
    for title, key in (("by kind", "by_kind"), ("by network", "by_network"), ("by theme", "by_theme")):
        if b[key]:
            lines.append(f"  {title}:")
            lines += [f"    {name:<28} {amount:>8}" for name, amount in b[key].items()]
    return "\n".join(lines)


COMMANDS = [balance]
