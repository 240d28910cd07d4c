"""`studyledger network register|close|join|leave|members`."""

from __future__ import annotations

import click

from cli.context import REQUEST_ID, emit, session, storage, validate, write


@click.group("network")
def network() -> None:
    """Professional networks and who belongs to them."""


@network.command("register")
@click.argument("id")
@click.option("--name", required=True, help="The network's name.")
@click.option("--theme", multiple=True, required=True, help="A theme the network works on (repeatable).")
@click.option("--group", multiple=True, required=True, help="A professional group it is for (repeatable).")
@click.option("--founded-on", metavar="DATE", help="Founding date (default: today).")
@REQUEST_ID
def register(**options: object) -> None:
    """Register network ID."""
    write("network register", options, lambda r: f"Network {r['network']} registered, founded on {r['founded_on']}.")


@network.command("close")
@click.argument("id")
@click.option("--on", required=True, metavar="DATE", help="The network is closed from this date.")
@REQUEST_ID
def close(**options: object) -> None:
    """Close network ID: no claims for activities from that date."""
    write("network close", options, lambda r: f"Network {r['network']} closed on {r['on']}.")


@network.command("join")
@click.argument("network")
@click.argument("professional")
@click.option("--on", required=True, metavar="DATE", help="First day of the membership.")
@REQUEST_ID
def join(**options: object) -> None:
    """PROFESSIONAL joins NETWORK."""
    write("network join", options, lambda r: f"{r['professional']} joined {r['network']} on {r['on']}.")


@network.command("leave")
@click.argument("network")
@click.argument("professional")
@click.option("--on", required=True, metavar="DATE", help="The membership no longer covers this date.")
@REQUEST_ID
def leave(**options: object) -> None:
    """PROFESSIONAL leaves NETWORK."""
    write("network leave", options, lambda r: f"{r['professional']} left {r['network']} on {r['on']}.")


@network.command("members")
@click.argument("network")
@click.option("--at", metavar="DATE", help="Membership on this date (default: today).")
@click.option("--known-at", metavar="INSTANT", help="As the register knew it at this instant (default: now).")
def members(network: str, at: str | None, known_at: str | None) -> None:
    """The professionals whose membership of NETWORK covered a date."""
    from ledger.schemas import Members

    values = validate("network members", {"network": network, "at": at, "known_at": known_at}, schema=Members())
    result = storage(lambda: session().ledger().members(**values))
    listed = "\n".join(f"  {m}" for m in result["members"]) or "  (none)"
    emit(result, f"Members of {result['network']} on {result['at']} ({len(result['members'])}):\n{listed}")


COMMANDS = [network]
