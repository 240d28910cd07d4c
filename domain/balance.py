"""A professional's balance: the one fold of postings into totals, and the one way it is shown.

A posting is an approval (its points, > 0) or a revocation (minus them) of one of P's claims,
with the claim's kind and network. Every path that shows a balance adds its postings to a
`Tally` and shows it with `statement`: the balances read model's query (rows summed in SQL),
the quick path without SQLAlchemy, the in-memory replay that `projections verify` compares
with, and the running total of `audit history`. Pure: no storage, no library.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain.values import format_points

ZERO = Decimal(0)


class Tally:
    """Postings added up: by kind, by network, in all, and within the cycle asked about."""

    __slots__ = ("by_kind", "by_network", "total", "in_cycle")

    def __init__(self) -> None:
        self.by_kind: dict[str, Decimal] = {}
        self.by_network: dict[str, Decimal] = {}
        self.total = ZERO
        self.in_cycle = ZERO

    def add(self, kind: str, network: str, points: Decimal, in_cycle: Decimal = ZERO) -> None:
        """`points` posted for a claim of `kind` in `network`, of which `in_cycle` fall within the cycle."""
        self.by_kind[kind] = self.by_kind.get(kind, ZERO) + points
        self.by_network[network] = self.by_network.get(network, ZERO) + points
        self.total += points
        self.in_cycle += in_cycle

    @classmethod
    def of_cents(cls, rows: Iterable[tuple[str, str, int, int | None]]) -> Tally:
        """From rows of (kind, network, cents, cents within the cycle or None), as SQL sums them."""
        tally = cls()
        for kind, network, cents, cycle_cents in rows:
            tally.add(kind, network, Decimal(cents) / 100, Decimal(cycle_cents or 0) / 100)
        return tally


def statement(professional: str, at: date, known_at: datetime, tally: Tally, themes: Mapping[str, Iterable[str]],
              *, recorded: bool, cycle: tuple[date, date] | None, norm: Decimal) -> dict[str, Any]:
    """The balance as every reader shows it (SPEC §2).

    `themes`: each network's themes (a posting counts for every theme of its network); `recorded`:
    whether P's registration was recorded by `known_at`; `cycle`: (first day, last day) of the cycle
    containing `at` — shown only when recorded (before that the register knew no cycle for P); `norm`:
    the points the policy in force asks of a cycle.
    """
    by_theme: dict[str, Decimal] = {}
    for network, amount in tally.by_network.items():
        for theme in themes.get(network, ()):
            by_theme[theme] = by_theme.get(theme, ZERO) + amount
    return {
        "professional": professional,
        "at": at.isoformat(),
        "known_at": known_at.isoformat(),
        "total": format_points(tally.total),
        "recorded": recorded,
        "cycle": None if not recorded or cycle is None else {
            "start": cycle[0].isoformat(),
            "end": cycle[1].isoformat(),
            "points": format_points(tally.in_cycle),
            "norm": format_points(norm),
            "shortfall": format_points(max(ZERO, norm - tally.in_cycle)),
        },
        "by_kind": _shown(tally.by_kind),
        "by_network": _shown(tally.by_network),
        "by_theme": _shown(by_theme),
    }


def _shown(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {key: format_points(amounts[key]) for key in sorted(amounts)}
