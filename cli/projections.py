"""`studyledger projections status|catch-up|rebuild|verify`: the operators' commands."""

from __future__ import annotations

import math
import signal
import sys
import threading

import click

from cli.context import emit, Progress, session, storage
from cli.help import example, Group
from cli.output import chosen_format, format_option, output, table


@click.group("projections", cls=Group)
def projections() -> None:
    """Read models: how far they are, catching up, rebuilding, verifying.

    Exit codes for a monitor: 0 done; 1 verify found a difference; 3 another catch-up or
    rebuild of the projection is running (harmless for overlapping cron runs); 4 the store
    is unavailable.
    """


@projections.command("status", epilog=example("studyledger projections status", "studyledger projections status --format csv"))
@format_option()
def status(fmt: str | None) -> None:
    """Each projection's position and how many events it is behind."""
    fmt = chosen_format(fmt)
    result = storage(lambda: session().read_models().status())
    rows = [[p["name"], str(p["generation"]), str(p["position"]), str(p["lag"])] for p in result["projections"]]
    output(result, fmt, lambda: f"Ledger head: event {result['head']}\n"
           + table(rows, ["projection", "generation", "position", "lag"], right=("generation", "position", "lag")),
           ["head", "name", "generation", "position", "lag"],
           lambda: [{"head": result["head"], **p} for p in result["projections"]])


@projections.command("catch-up", epilog=example("studyledger projections catch-up", "studyledger projections catch-up claims"))
@click.argument("name", required=False)
def catch_up(name: str | None) -> None:
    """Apply new events to every projection (or NAME).

    NAME is one of balances, memberships, claims. Exit 3 when another catch-up or rebuild of
    it is running (harmless for a scheduler).
    """
    result = storage(lambda: session().read_models().catch_up(_known(name)))
    applied = ", ".join(f"{n} +{k}" for n, k in result["applied"].items())
    emit(result, f"Caught up to event {result['head']} ({applied}).")


@projections.command("rebuild", epilog=example("studyledger projections rebuild", "studyledger projections rebuild claims"))
@click.argument("name", required=False)
def rebuild(name: str | None) -> None:
    """Replay every event into fresh tables (all projections, or NAME) and switch over atomically.

    NAME is one of balances, memberships, claims. On a terminal a progress bar and the rate
    are shown on stderr. Exit 3 when another catch-up or rebuild of it is running.
    """
    models = session().read_models()

    def run() -> dict:
        with Progress("Rebuilding", models.head()) as progress:
            result = models.rebuild(_known(name), progress=progress.update)
        progress.done("Replayed", result["head"])
        return result

    result = storage(run)
    emit(result, f"Rebuilt {', '.join(result['rebuilt'])} from {result['head']} events.")


def _known(name: str | None) -> str | None:
    """NAME as given, if it names a projection (exit 2 otherwise)."""
    from ledger.errors import InvalidInput
    from projections.registry import PROJECTIONS

    if name is not None and name not in PROJECTIONS:
        raise InvalidInput(f"There is no projection '{name}'; the projections are {', '.join(PROJECTIONS)}.")
    return name


@projections.command("run", epilog=example("studyledger projections run", "studyledger projections run --interval 2"))
@click.option("--interval", type=click.FloatRange(0.05, 3600), default=None, metavar="SECONDS",
              help="How often to look for new events without a notification "
                   "(default 0.5 on SQLite; 10 on PostgreSQL, which also wakes on NOTIFY).")
def run(interval: float | None) -> None:
    """Follow the log and keep every projection caught up until stopped (SIGTERM or Ctrl-C).

    Stops between two pages, with everything applied so far committed; started again, it
    resumes from there. Prints a line whenever it applied events, never any personal data.
    """
    from ledger.errors import InvalidInput
    from projections.worker import follow

    if interval is not None and not math.isfinite(interval):  # click's FloatRange lets NaN through
        raise InvalidInput("Invalid input: --interval must be a number of seconds.")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    def report(result: dict) -> None:
        applied = ", ".join(f"{n} +{k}" for n, k in result["applied"].items() if k)
        click.echo(f"Caught up to event {result['head']} ({applied}).", err=session().json)

    models = session().read_models()
    click.echo("Following the log; stop with SIGTERM or Ctrl-C.", err=session().json)
    position = storage(lambda: follow(models, stop.is_set, interval, report))
    emit({"stopped": True, "position": position}, f"Stopped at event {position}.")


@projections.command("verify", epilog=example("studyledger projections verify || studyledger projections rebuild"))
def verify() -> None:
    """Compare every projection with a fresh in-memory replay of the events; exit 1 on a difference.

    On a terminal a progress bar and the rate are shown on stderr.
    """
    from projections.verify import verify as check

    def run() -> dict:
        models = session().read_models()
        with Progress("Replaying", models.head()) as progress:
            result = check(models, progress=progress.update)
        progress.done("Replayed", result["position"])
        return result

    result = storage(run)
    lines = [f"Checked {', '.join(result['projections'])} at event {result['position']}:"]
    lines += [f"  {p}" for p in result["problems"]] or ["  no differences."]
    emit(result, "\n".join(lines))
    if not result["ok"]:
        sys.exit(1)


COMMANDS = [projections]
