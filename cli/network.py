"""`studyledger network register|close|reopen|join|leave|members|map`."""

from __future__ import annotations

import sys

import click

from cli.context import session, storage, utc, validate, write
from cli.help import DATE_HELP, INSTANT_HELP, REQUEST_ID, example, Group
from cli.output import chosen_format, format_option, output, table


@click.group("network", cls=Group)
def network() -> None:
    """Professional networks and who belongs to them."""


@network.command("register", epilog=example(
    "studyledger network register formatief --name \"Formatief evalueren\" --theme formative-assessment \\",
    "    --group teacher-secondary --founded-on 2021-09-01"))
@click.argument("id")
@click.option("--name", required=True, help="The network's name.")
@click.option("--theme", multiple=True, required=True, help="A theme the network works on (repeatable).")
@click.option("--group", multiple=True, required=True, help="A professional group it is for (repeatable).")
@click.option("--founded-on", metavar="DATE", help=f"Founding date (default: today). {DATE_HELP}")
@REQUEST_ID
def register(**options: object) -> None:
    """Register network ID."""
    write(options, lambda r: f"Network {r['network']} registered, founded on {r['founded_on']}.")


@network.command("close", epilog=example("studyledger network close formatief --on 2027-06-30"))
@click.argument("id")
@click.option("--on", required=True, metavar="DATE", help=f"The network is closed from this date. {DATE_HELP}")
@REQUEST_ID
def close(**options: object) -> None:
    """Close network ID: no claims for activities from that date."""
    write(options, lambda r: f"Network {r['network']} closed on {r['on']}.")


@network.command("reopen", epilog=example("studyledger network reopen formatief"))
@click.argument("id")
@REQUEST_ID
def reopen(**options: object) -> None:
    """Cancel the closing of network ID (a correction)."""
    write(options, lambda r: f"Network {r['network']} reopened.")


@network.command("join", epilog=example("studyledger network join formatief T-1 --on 2024-01-01"))
@click.argument("network")
@click.argument("professional")
@click.option("--on", required=True, metavar="DATE", help=f"First day of the membership. {DATE_HELP}")
@REQUEST_ID
def join(**options: object) -> None:
    """PROFESSIONAL joins NETWORK."""
    write(options, lambda r: f"{r['professional']} joined {r['network']} on {r['on']}.")


@network.command("leave", epilog=example("studyledger network leave formatief T-1 --on 2026-01-01",
                                           "studyledger network leave formatief T-1 --cancel"))
@click.argument("network")
@click.argument("professional")
@click.option("--on", metavar="DATE", help=f"The membership no longer covers this date. {DATE_HELP}")
@click.option("--cancel", is_flag=True, default=None, help="Cancel the last leave instead (a correction).")
@REQUEST_ID
def leave(**options: object) -> None:
    """PROFESSIONAL leaves NETWORK (or, with --cancel, the last leave is undone)."""
    write(options, lambda r: f"{r['professional']} left {r['network']} on {r['on']}."
          if r["status"] == "left" else f"The leave of {r['network']} by {r['professional']} on {r['on']} is cancelled.")


@network.command("members", epilog=example(
    "studyledger network members formatief-evalueren --at 2025-01-01",
    "studyledger network members wondzorg --at 2025-01-01 --known-at 2026-01-15T09:00:00Z --format csv"))
@click.argument("network")
@click.option("--at", metavar="DATE", help=f"Membership on this date (default: today). {DATE_HELP}")
@click.option("--known-at", metavar="INSTANT", help=f"As the register knew it at this instant (default: now). {INSTANT_HELP}")
@format_option()
def members(network: str, at: str | None, known_at: str | None, fmt: str | None) -> None:
    """The professionals whose membership of NETWORK covered a date.

    As known at an instant before NETWORK was registered, the list is empty and says so.
    """
    from ledger.schemas import Members

    fmt = chosen_format(fmt)
    values = validate({"network": network, "at": at, "known_at": known_at}, Members())
    result = storage(lambda: session().reader().members(**values))
    output(result, fmt, lambda: render_members(result), ["network", "at", "known_at", "professional"],
           lambda: [{**result, "professional": m} for m in result["members"]])


def render_members(result: dict) -> str:
    listed = "\n".join(f"  {m}" for m in result["members"]) or (
        "  (none)" if result.get("recorded", True) else f"  (none: {result['network']} was not yet registered then)")
    return (f"Members of {result['network']} on {result['at']}, as known at {utc(result['known_at'])} "
            f"({len(result['members'])}):\n{listed}")


COMMANDS = [network]


@network.command("map", epilog=example(
    "studyledger network map --at 2025-01-01",
    "studyledger network map --theme wound-care --group nurse",
    "studyledger network map --grid --format csv > themes-by-group.csv",
    "studyledger network map --format svg > network-map.svg      # needs Graphviz (dot)"))
@click.option("--at", metavar="DATE", help=f"The map on this date (default: today). {DATE_HELP}")
@click.option("--known-at", metavar="INSTANT", help=f"As the register knew it at this instant (default: now). {INSTANT_HELP}")
@click.option("--theme", multiple=True, metavar="THEME", help="Only networks with this theme (repeatable: any of them).")
@click.option("--group", multiple=True, metavar="GROUP", help="Only networks for this group (repeatable: any of them).")
@click.option("--grid", is_flag=True, help="A theme × group table instead: networks and members for each pair.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "dot", "svg", "png"]), default=None,
              help="table (default), json, csv, dot for Graphviz, or svg/png drawn by Graphviz's dot program "
                   "(which must be installed).")
def map_(at: str | None, known_at: str | None, theme: tuple[str, ...], group: tuple[str, ...], grid: bool,
         fmt: str | None) -> None:
    """Which networks exist for which professional groups, around which themes, with member counts.

    At 60 networks a picture is a tangle: --theme and --group pick the networks to show,
    and --grid counts them per theme and group instead.
    """
    from ledger.errors import InvalidInput
    from ledger.schemas import When

    fmt = chosen_format(fmt)
    if grid and fmt in ("dot", "svg", "png"):
        raise InvalidInput(f"Invalid input: --grid is a table; it has no --format {fmt}.")
    values = validate({"at": at, "known_at": known_at}, When())
    result = filtered(storage(lambda: session().reader().network_map(**values)), set(theme), set(group))
    if grid:
        cells = theme_by_group(result)
        result = {**result, "grid": cells}
        output(result, fmt, lambda: render_grid(result), ["theme", "group", "networks", "members", "ids"],
               lambda: cells)
    elif fmt in ("dot", "svg", "png"):
        if fmt == "dot":
            click.echo(dot(result))
        else:
            drawn = graphviz(dot(result), fmt)
            sys.stdout.buffer.write(drawn)
            sys.stdout.flush()
    else:
        output(result, fmt, lambda: render_map(result), ["id", "name", "themes", "groups", "members", "open", "closed_on"],
               lambda: [{**n, "themes": " ".join(n["themes"]), "groups": " ".join(n["groups"])} for n in result["networks"]])


def filtered(result: dict, themes: set[str], groups: set[str]) -> dict:
    """The map of only the networks with one of `themes` and one of `groups` (all when none given)."""
    if not themes and not groups:
        return result
    kept = [n for n in result["networks"]
            if (not themes or themes & set(n["themes"])) and (not groups or groups & set(n["groups"]))]
    ids = {n["id"] for n in kept}
    return {**result, "networks": kept,
            "themes": {k: [i for i in v if i in ids] for k, v in result["themes"].items() if set(v) & ids},
            "groups": {k: [i for i in v if i in ids] for k, v in result["groups"].items() if set(v) & ids},
            "filter": {"themes": sorted(themes), "groups": sorted(groups)}}


def theme_by_group(result: dict) -> list[dict]:
    """One cell per (theme, group) that some network has: how many networks, their members, their ids."""
    cells = []
    for theme_ in sorted(result["themes"]):
        for group_ in sorted(result["groups"]):
            found = [n for n in result["networks"] if theme_ in n["themes"] and group_ in n["groups"]]
            if found:
                cells.append({"theme": theme_, "group": group_, "networks": len(found),
                              "members": sum(n["members"] for n in found), "ids": " ".join(n["id"] for n in found)})
    return cells


def _header(result: dict) -> str:
    return f"on {result['at']}, as known at {utc(result['known_at'])}"


def render_map(result: dict) -> str:
    rows = [[n["id"], n["name"], ", ".join(n["themes"]), ", ".join(n["groups"]), str(n["members"]),
             "open" if n["open"] else f"closed {n['closed_on']}"] for n in result["networks"]]
    return f"Networks {_header(result)}:\n" + (
        table(rows, ["network", "name", "themes", "groups", "members", ""], right=("members",)) or "  (none)")


def render_grid(result: dict) -> str:
    """Themes down, groups across; each cell `networks/members`."""
    groups = sorted(result["groups"])
    by_pair = {(c["theme"], c["group"]): c for c in result["grid"]}
    rows = [[t] + [f"{by_pair[(t, g)]['networks']} / {by_pair[(t, g)]['members']}" if (t, g) in by_pair else ""
                   for g in groups] for t in sorted(result["themes"])]
    return (f"Networks / members by theme and group {_header(result)}:\n"
            + (table(rows, ["theme", *groups], right=groups) or "  (none)"))


def graphviz(source: str, fmt: str) -> bytes:
    """The picture drawn by Graphviz's `dot`; exit 2 when it is not installed."""
    import shutil
    import subprocess

    from ledger.errors import InvalidInput

    program = shutil.which("dot")
    if program is None:
        raise InvalidInput(f"--format {fmt} needs Graphviz's dot program, which is not installed (e.g. apt install "
                           "graphviz); --format dot prints the picture's source instead.")
    done = subprocess.run([program, f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        raise InvalidInput(f"Graphviz's dot could not draw the map (exit {done.returncode}).")
    return done.stdout


def dot(result: dict) -> str:
    """A Graphviz picture of the map, every name and id escaped (see `cli.exports.network_dot`)."""
    from cli.exports import network_dot

    return network_dot(result)
