"""`studyledger network register|close|reopen|join|leave|members|map`."""

from __future__ import annotations

import click

from cli.context import REQUEST_ID, emit, session, storage, table, validate, write


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


@network.command("reopen")
@click.argument("id")
@REQUEST_ID
def reopen(**options: object) -> None:
    """Cancel the closing of network ID (a correction)."""
    write("network reopen", options, lambda r: f"Network {r['network']} reopened.")


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
@click.option("--on", metavar="DATE", help="The membership no longer covers this date.")
@click.option("--cancel", is_flag=True, default=None, help="Cancel the last leave instead (a correction).")
@REQUEST_ID
def leave(**options: object) -> None:
    """PROFESSIONAL leaves NETWORK (or, with --cancel, the last leave is undone)."""
    write("network leave", options, lambda r: f"{r['professional']} left {r['network']} on {r['on']}."
          if r["status"] == "left" else f"The leave of {r['network']} by {r['professional']} on {r['on']} is cancelled.")


@network.command("members")
@click.argument("network")
@click.option("--at", metavar="DATE", help="Membership on this date (default: today).")
@click.option("--known-at", metavar="INSTANT", help="As the register knew it at this instant (default: now).")
def members(network: str, at: str | None, known_at: str | None) -> None:
    """The professionals whose membership of NETWORK covered a date."""
    from ledger.schemas import Members

    values = validate("network members", {"network": network, "at": at, "known_at": known_at}, schema=Members())
    result = storage(lambda: session().reader().members(**values))
    listed = "\n".join(f"  {m}" for m in result["members"]) or "  (none)"
    emit(result, f"Members of {result['network']} on {result['at']} ({len(result['members'])}):\n{listed}")


COMMANDS = [network]


@network.command("map")
@click.option("--at", metavar="DATE", help="The map on this date (default: today).")
@click.option("--known-at", metavar="INSTANT", help="As the register knew it at this instant (default: now).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "dot"]), default=None,
              help="table (default), json, or dot for Graphviz: studyledger network map --format dot | dot -Tpng > map.png")
def map_(at: str | None, known_at: str | None, fmt: str | None) -> None:
    """Which networks exist for which professional groups, around which themes, with member counts."""
    import json

    from ledger.schemas import When

    values = validate("network map", {"at": at, "known_at": known_at}, schema=When())
    result = storage(lambda: session().reader().network_map(**values))
    fmt = fmt or ("json" if session().json else "table")
    if fmt == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif fmt == "dot":
        click.echo(dot(result))
    else:
        rows = [[n["id"], n["name"], ", ".join(n["themes"]), ", ".join(n["groups"]), str(n["members"]),
                 "open" if n["open"] else f"closed {n['closed_on']}"] for n in result["networks"]]
        click.echo(f"Networks on {result['at']}:\n" + (table(rows, ["network", "name", "themes", "groups", "members", ""])
                                                       or "  (none)"))


def dot(result: dict) -> str:
    """A Graphviz picture of the map, every name and id escaped (see `cli.exports.network_dot`)."""
    from cli.exports import network_dot

    return network_dot(result)
