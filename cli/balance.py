"""`studyledger balance P [--at D] [--known-at T]`."""

from __future__ import annotations

import click

from cli.context import emit, session, storage, validate


@click.command("balance")
@click.argument("professional")
@click.option("--at", metavar="DATE", help="Count activities up to and including this date (default: today).")
@click.option("--known-at", metavar="INSTANT", help="Count only what was recorded by this instant (default: now).")
def balance(professional: str, at: str | None, known_at: str | None) -> None:
    """A professional's study points: total, current cycle, by kind, network and theme."""
    from ledger.schemas import Balance

    values = validate("balance", {"professional": professional, "at": at, "known_at": known_at}, schema=Balance())
    result = storage(lambda: session().reader().balance(**values))
    emit(result, render(result))


def render(b: dict) -> str:
    from datetime import datetime

    # To the second, with the offset --known-at was given in (a "Z" alone would misstate any other).
    known_at = datetime.fromisoformat(b["known_at"]).isoformat(timespec="seconds").replace("+00:00", "Z")
    lines = [f"Balance of {b['professional']} on {b['at']} (as known at {known_at})", f"  total   {b['total']}"]
    cycle = b["cycle"]
    if cycle:
        lines.append(
            f"  cycle   {cycle['start']} – {cycle['end']}: {cycle['points']} of {cycle['norm']} "
            f"(shortfall {cycle['shortfall']})"
        )
    for title, key in (("by kind", "by_kind"), ("by network", "by_network"), ("by theme", "by_theme")):
        if b[key]:
            lines.append(f"  {title}:")
            lines += [f"    {name:<28} {amount}" for name, amount in b[key].items()]
    return "\n".join(lines)


COMMANDS = [balance]
