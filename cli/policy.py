"""`studyledger policy adopt|cancel|show`: the register's versioned policy."""

from __future__ import annotations

import click

from cli.context import emit, session, storage, validate, write


@click.group("policy")
def policy() -> None:
    """The register's rules, versioned by the date from which they apply."""


@policy.command("adopt")
@click.option("--effective-from", required=True, metavar="DATE", help="First day the new terms apply (YYYY-MM-DD).")
@click.option("--points-per-hour", metavar="X", help="Suggested points per hour of activity.")
@click.option("--cap", multiple=True, metavar="KIND=N", help="Most points one claim of KIND may receive (repeatable).")
@click.option("--min-endorsements", metavar="N", help="Endorsements a claim needs before approval.")
@click.option("--cycle-years", metavar="N", help="Length of a registration cycle in years.")
@click.option("--norm", metavar="N", help="Points a professional should reach in one cycle.")
@click.option("--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing.")
def adopt(**options: object) -> None:
    """Adopt new terms; settings not given carry over from the latest version."""
    write("policy adopt", options, lambda r: f"Policy adopted, in force from {r['effective_from']}.\n" + describe(r))


@policy.command("cancel")
@click.option("--effective-from", required=True, metavar="DATE", help="The version to withdraw: the one taking effect then.")
@click.option("--request-id", metavar="KEY", help="Idempotency key: repeating the command with it writes nothing.")
def cancel(**options: object) -> None:
    """Withdraw a policy version that is not yet in force (a correction)."""
    write("policy cancel", options, lambda r: f"The policy version of {r['policy']} is cancelled.")


@policy.command("show")
@click.option("--at", metavar="DATE", help="The date whose terms to show (default: today).")
def show(at: str | None) -> None:
    """The terms in force on a date."""
    from ledger.app import terms_json
    from ledger.schemas import PolicyShow

    values = validate("policy show", {"at": at}, schema=PolicyShow())

    def read() -> dict:
        ledger = session().ledger()
        day = values.get("at") or ledger.clock().date()
        return {"at": day.isoformat(), **terms_json(ledger.policy_terms(day))}

    result = storage(read)
    emit(result, f"Policy in force on {result['at']}:\n" + describe(result))


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
