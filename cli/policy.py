"""`studyledger policy adopt|cancel|show`: the register's versioned policy."""

from __future__ import annotations

import click

from cli.context import session, storage, validate, write
from cli.help import DATE_HELP, example, Group
from cli.output import chosen_format, format_option, output


@click.group("policy", cls=Group)
def policy() -> None:
    """The register's rules, versioned by the date from which they apply."""


@policy.command("adopt", epilog=example(
    "studyledger policy adopt --effective-from 2026-01-01 --cap co-construction=10 --min-endorsements 2"))
@click.option("--effective-from", required=True, metavar="DATE", help=f"First day the new terms apply. {DATE_HELP}")
@click.option("--points-per-hour", metavar="X", help="Suggested points per hour of activity.")
@click.option("--cap", multiple=True, metavar="KIND=N", help="Most points one claim of KIND may receive (repeatable).")
@click.option("--min-endorsements", metavar="N", help="Endorsements a claim needs before approval.")
@click.option("--cycle-years", metavar="N", help="Length of a registration cycle in years.")
@click.option("--norm", metavar="N", help="Points a professional should reach in one cycle.")
@click.option("--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing.")
def adopt(**options: object) -> None:
    """Adopt new terms; settings not given carry over from the latest version."""
    write(options, lambda r: f"Policy adopted, in force from {r['effective_from']}.\n" + describe(r))


@policy.command("cancel", epilog=example("studyledger policy cancel --effective-from 2062-01-01"))
@click.option("--effective-from", required=True, metavar="DATE", help=f"The version to withdraw: the one taking effect then. {DATE_HELP}")
@click.option("--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing.")
def cancel(**options: object) -> None:
    """Withdraw a policy version that is not yet in force (a correction)."""
    write(options, lambda r: f"The policy version of {r['policy']} is cancelled.")


@policy.command("show", epilog=example("studyledger policy show --at 2025-06-01", "studyledger policy show --format csv"))
@click.option("--at", metavar="DATE", help=f"The date whose terms to show (default: today). {DATE_HELP}")
@format_option()
def show(at: str | None, fmt: str | None) -> None:
    """The terms in force on a date."""
    from ledger.commands.policy import terms_json
    from ledger.schemas import PolicyShow

    fmt = chosen_format(fmt)
    values = validate({"at": at}, PolicyShow())

    def read() -> dict:
        ledger = session().ledger()
        day = values.get("at") or ledger.clock().date()
        return {"at": day.isoformat(), **terms_json(ledger.policy_terms(day))}

    result = storage(read)
    output(result, fmt, lambda: f"Policy in force on {result['at']}:\n" + describe(result),
           ["at", "setting", "value"], lambda: settings(result))


def settings(terms: dict) -> list[dict]:
    """The terms as rows of (setting, value), caps as cap.KIND."""
    rows = [{"setting": "effective_from", "value": terms["effective_from"] or ""}]
    rows += [{"setting": k, "value": terms[k]} for k in ("points_per_hour", "min_endorsements", "cycle_years", "norm")]
    rows += [{"setting": f"cap.{kind}", "value": cap} for kind, cap in terms["caps"].items()]
    return [{"at": terms["at"], **row} for row in rows]


def describe(terms: dict) -> str:
    caps = ", ".join(f"{kind} {cap}" for kind, cap in terms["caps"].items())
    return "\n".join([
        f"  effective from    {terms['effective_from'] or 'built-in default'}",
        f"  points per hour   {terms['points_per_hour']}",
        f"  caps              {caps}",
        f"  min endorsements  {terms['min_endorsements']}",
        f"  cycle             {terms['cycle_years']} years",
        f"  norm              {terms['norm']} points per cycle",
    ])


COMMANDS = [policy]
