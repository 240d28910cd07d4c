"""A read from the shell without SQLAlchemy or the event store's library: `balance` when its
read model has nothing left to apply.

A read command catches its read model up first (projections.reader), and then the answer is
a few SELECTs; but opening the read models the usual way imports SQLAlchemy and the library
(about 0.3 s, a hundred times the query). So a read first asks, through the driver alone
(storage.quick: sqlite3 or psycopg) and inside one read transaction: is the projection's bookkeeping sound,
and would the events after its position (a few, read and decoded here) leave this answer
unchanged — none of them P's own, a policy's, or a network's that the answer counts? Only
then does it answer here, from the same transaction: the answer a catch-up would have given.
Anything else — events that matter, many events, bookkeeping to check or repair, a store
that is missing, locked, read-only or failing — returns None, and the caller takes the
usual path, which catches up, explains, or fails as it always has.

The answer is the one `projections.balances.balance` gives, field for field: a test compares
the two on generated registers (tests/projections/test_quick.py).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

from projections.units import micros
from storage.quick import QuickRead, open_read

if TYPE_CHECKING:
    from storage.config import Store

PENDING_MAX = 200  # events not applied yet that a quick read looks through; beyond, it catches up
# The stored topics the balances read model applies. It derives them from its handlers' event classes;
# written out here because importing those classes imports the library, which a quick read avoids.
# A test keeps the two equal (tests/projections/test_quick.py).
NETWORK_REGISTERED = "domain.network:Network.Registered"
POLICY_VERSIONS = ("domain.policy:Policy.Adopted", "domain.policy:Policy.Cancelled")
TOPICS = {
    "balances": ("domain.claim:Claim.Approved", "domain.claim:Claim.Revoked",
                 "domain.professional:Professional.Registered", NETWORK_REGISTERED, *POLICY_VERSIONS),
}


def balance(store: Store, professional: str, at: date | None = None, known_at: datetime | None = None,
            now: datetime | None = None) -> dict[str, Any] | None:
    """P's balance as `projections.balances.balance` gives it, or None: take the usual path."""
    now = now or datetime.now(timezone.utc)
    at = at or now.date()
    known_at = known_at or now
    with open_read(store) as read:
        if read is None:
            return None
        found = _current(read, "balances")
        if found is None:
            return None
        generation, pending = found
        # Events not applied yet change P's balance only if they are P's own (its registration, its
        # claims' decisions), a policy version (everyone's), or the registration of a network
        # whose themes the answer counts (checked below, once those networks are known).
        networks = set()
        for topic, state in pending:
            if topic in POLICY_VERSIONS or state.get("professional_id") == professional:
                return None
            if topic == NETWORK_REGISTERED:
                networks.add(state["network_id"])
        result = _balance(read, f"_g{generation}", professional, at, known_at)
        if result is None or networks.intersection(result["by_network"]):
            return None
        return result


def _balance(read: QuickRead, suffix: str, professional: str, at: date, known_at: datetime) -> dict[str, Any] | None:
    from domain.balance import Tally, statement
    from domain.terms import PolicyTerms, in_force, versions_known
    from domain.values import cycle_containing

    known_us = micros(known_at)
    registration = read.registration(suffix, professional)
    if registration is None:
        return None  # the usual path says it is unknown, in its own words
    registered_on, registered_us = registration
    entries = []
    for day, terms in read.policies(suffix, known_us):
        state = json.loads(terms)
        entries.append((day, PolicyTerms.from_state(day, state) if state is not None else None))
    terms = in_force(versions_known(entries), at)
    start, end = cycle_containing(registered_on, at, terms.cycle_years)
    tally = Tally.of_cents(read.postings(suffix, professional, start, at, known_us))
    themes: dict[str, list[str]] = {}
    if tally.by_network:
        for network, theme in read.themes(suffix, sorted(tally.by_network)):
            themes.setdefault(network, []).append(theme)
    return statement(professional, at, known_at, tally, themes, recorded=registered_us <= known_us,
                     cycle=(start, end), norm=terms.norm)


def _current(read: QuickRead, name: str) -> tuple[int, list[tuple[str, dict[str, Any]]]] | None:
    """The read model's generation and the events after its position that it applies (topic, raw state),
    if its bookkeeping is sound and those are few; else None."""
    row = read.bookkeeping(name)
    if row is None:
        return None
    generation, position, applied = row
    head = read.head()
    if applied != position or position > head:
        return None  # the usual path says what is wrong
    pending: list[tuple[str, dict[str, Any]]] = []
    if position < head:
        from projections.decode import raw_state

        rows = read.pending(position, TOPICS[name], PENDING_MAX + 1)
        if len(rows) > PENDING_MAX:
            return None  # many events to apply: the usual path catches up
        if any(b'"~' in state for _, state in rows):
            return None  # people named by pseudonym (an encrypted store): only the ledger can read them
        pending = [(topic, raw_state(state)) for topic, state in rows]
    return generation, pending
