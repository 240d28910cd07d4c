"""Property: on any history, the SQL read models answer exactly as the in-memory replay.

Hypothesis generates histories of two to four professionals in one or two networks:
joins, leaves and re-joins on random dates; claims by them on random dates, endorsed by
a peer, then approved (random points up to the cap, or the suggested points), approved
and later revoked, rejected, returned and amended (new date or kind, which clears the
endorsements) and approved, withdrawn, or left waiting; networks closed and policy
versions adopted (other cycle lengths, norms and points per hour). The steps of these
threads are interleaved at random, with the clock moved between commands by nothing (two
commands at one instant), by microseconds, or by up to days, and with catch-ups of the
read models at random points between them. A command a rule refuses writes nothing and
is skipped.

Then, for random pairs (D, T) — D on, just before and just after the dates the history
uses; T on, just before and just after each command's recording instant and between
commands — `Reader.balance` and `Reader.members` must equal `Replay.balance` and
`Replay.members`, and `verify` is ok.

Each example gets a store of its own: a fresh SQLite file in a temporary folder, or a
fresh PostgreSQL schema dropped afterwards. It is made inside the test because
function-scoped fixtures are not reset between Hypothesis examples.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.policy import DEFAULT_TERMS
from domain.values import KINDS, add_years, points
from ledger.app import Ledger, open_ledger
from storage.config import resolve
from projections.reader import Reader
from projections.replay import Replay
from projections.runner import ReadModels
from projections.verify import verify
from tests.support.harness import POSTGRES_URL, Clock, drop_schema

BASE = date(2025, 1, 1)  # the history's dates lie in BASE - 30 … BASE + SPAN days
SPAN = 40
REVIEWERS = ("V-1", "V-2")
THEMES = (["care", "wounds"], ["wounds"])

Step = tuple[str, tuple[Any, ...]]  # (command name, its arguments)

days = st.integers(0, SPAN).map(lambda n: BASE + timedelta(days=n))
early_days = st.integers(0, SPAN // 3).map(lambda n: BASE + timedelta(days=n))
ticks = st.one_of(
    st.just(timedelta(0)),  # two commands recorded at one instant
    st.integers(1, 5).map(lambda us: timedelta(microseconds=us)),
    st.integers(1, 3 * 86_400).map(lambda s: timedelta(seconds=s)),
)


@st.composite
def membership_thread(draw: Any, network: int, professional: int) -> list[Step]:
    """A join, perhaps a leave after it, perhaps a re-join on or after the leave."""
    joined = draw(early_days)
    steps: list[Step] = [("join", (network, professional, joined))]
    if draw(st.booleans()):
        left = joined + timedelta(days=draw(st.integers(1, SPAN)))
        steps.append(("leave", (network, professional, left)))
        if draw(st.booleans()):
            steps.append(("join", (network, professional, left + timedelta(days=draw(st.integers(0, 10))))))
    return steps


Plan = dict[tuple[int, int], list[Step]]  # (network, professional) → its membership thread


def covered_days(thread: list[Step]) -> list[date]:
    """The days of the history's window a membership thread covers."""
    window = [BASE + timedelta(days=n) for n in range(SPAN + 1)]
    changes = [(on, name == "join") for name, (_, _, on) in thread]
    return [d for d in window if [joined for on, joined in changes if on <= d][-1:] == [True]]


@st.composite
def claim_thread(draw: Any, number: int, plan: Plan, registered: list[date], networks: int) -> list[Step]:
    """A claim submitted, endorsed by a peer, then decided (or not).

    Mostly by a member on a day the membership covers (now and then the first day of the
    claimant's first cycle, their registration date), endorsed by a peer who was a member
    then too; sometimes by anyone on any day (a rule then refuses it).
    """
    professionals = len(registered)
    valid = [pair for pair, thread in plan.items() if covered_days(thread)]
    if valid and draw(st.integers(0, 4)):
        n, p = draw(st.sampled_from(valid))
        covered = covered_days(plan[n, p])
        on = registered[p] if registered[p] in covered and draw(st.booleans()) else draw(st.sampled_from(covered))
        peers = [q for (m, q), thread in plan.items() if m == n and q != p and on in covered_days(thread)]
    else:
        n, p, on, peers = draw(st.integers(0, networks - 1)), draw(st.integers(0, professionals - 1)), draw(days), []
    endorser = draw(st.sampled_from(peers)) if peers else (p + draw(st.integers(1, professionals - 1))) % professionals
    kind = draw(st.sampled_from(KINDS))
    steps: list[Step] = [
        ("submit", (number, p, n, kind, on, Decimal(draw(st.integers(1, 40))) / 2)),
        ("endorse", (number, endorser)),
    ]
    reviewer = draw(st.sampled_from(REVIEWERS))

    def approval() -> Step:
        share = draw(st.none() | st.integers(1, 100))  # None: the suggested points
        awarded = None if share is None else max(points(DEFAULT_TERMS.cap(kind) * share / 100), Decimal("0.01"))
        return ("approve", (number, reviewer, awarded))

    fate = draw(st.sampled_from(["approve", "approve", "revoke", "revoke", "reject", "amend", "withdraw", "wait"]))
    if fate in ("approve", "revoke"):
        steps.append(approval())
        if fate == "revoke":
            steps.append(("revoke", (number, reviewer)))
    elif fate == "reject":
        steps.append(("reject", (number, reviewer)))
    elif fate == "amend":
        steps.append(("return", (number, reviewer)))
        steps.append(("amend", (number, draw(st.none() | days), draw(st.none() | st.sampled_from(KINDS)))))
        steps.append(("endorse", (number, endorser)))  # again: a new date or kind cleared the endorsements
        steps.append(approval())
    elif fate == "withdraw":
        steps.append(("withdraw", (number,)))
    return steps


@st.composite
def histories(draw: Any) -> dict[str, Any]:
    registered = draw(st.lists(st.integers(-30, SPAN // 2).map(lambda n: BASE + timedelta(days=n)), min_size=2, max_size=4))
    n_professionals, n_networks = len(registered), draw(st.integers(1, 2))
    plan: Plan = {}
    for network in range(n_networks):
        for professional in range(n_professionals):
            if draw(st.integers(0, 5)):  # most professionals are in most networks
                plan[network, professional] = draw(membership_thread(network, professional))
    threads = list(plan.values())
    n_claims = draw(st.integers(1, 8))
    threads += [draw(claim_thread(number, plan, registered, n_networks)) for number in range(n_claims)]
    for _ in range(draw(st.integers(0, 2))):
        threads.append([("policy", (draw(days), draw(st.integers(1, 4)), Decimal(draw(st.integers(0, 20_000))) / 100,
                                    Decimal(draw(st.sampled_from([1, 2, 3]))) / 2))])
    if draw(st.integers(0, 3)) == 0:
        threads.append([("close", (draw(st.integers(0, n_networks - 1)), draw(days)))])
    threads += [[("catch-up", ())] for _ in range(draw(st.integers(0, 3)))]
    # Interleave the threads: each step gets a key, a thread's keys ascending; memberships mostly first.
    keyed = []
    for number, thread in enumerate(threads):
        low, high = (0, 400) if thread[0][0] == "join" else (200, 1000)
        keys = sorted(draw(st.lists(st.integers(low, high), min_size=len(thread), max_size=len(thread))))
        keyed += zip(keys, [number] * len(thread), range(len(thread)), thread)
    steps = [step for *_, step in sorted(keyed, key=lambda k: k[:3])]
    return {"registered": registered, "networks": n_networks,
            "steps": [(step, draw(ticks)) for step in steps]}


@dataclass
class Built:
    """A history as applied: what the queries pick their dates and instants from."""

    professionals: list[str]
    networks: list[str]
    claims: dict[int, str] = field(default_factory=dict)  # claim number → its id
    claimants: dict[int, str] = field(default_factory=dict)
    dates: set[date] = field(default_factory=set)
    instants: list[datetime] = field(default_factory=list)
    refused: int = 0


@contextmanager
def fresh_store(engine: str) -> Iterator[Any]:
    """A store no other example uses: a new SQLite file or a new PostgreSQL schema."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield resolve(os.path.join(folder, "ledger.db"))
        return
    assert POSTGRES_URL
    schema = "p_" + uuid.uuid4().hex[:12]
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield resolve(f"{POSTGRES_URL}{separator}schema={schema}")
    finally:
        drop_schema(POSTGRES_URL, schema)


def attempt(clock: Clock, built: Built, gap: timedelta, call: Callable[[], Any]) -> Any:
    """Run one command after `gap`; a refused command writes nothing and is skipped."""
    clock.now += gap
    try:
        result = call()
    except DomainError:
        built.refused += 1
        return None
    built.instants.append(clock.now)
    return result


def build(ledger: Ledger, models: ReadModels, clock: Clock, history: dict[str, Any]) -> Built:
    professionals = [f"P-{i}" for i in range(len(history["registered"]))]
    networks = [f"N-{i}" for i in range(history["networks"])]
    built = Built(professionals, networks)
    built.dates.update(history["registered"])
    built.dates.update(add_years(day, years) for day in history["registered"] for years in (1, 2, 3, 4))  # cycle ends
    second = timedelta(seconds=1)
    for reviewer in REVIEWERS:
        attempt(clock, built, second, lambda: ledger.appoint_reviewer(id=reviewer, name="Reviewer", on=date(2024, 1, 1)))
    for i, network in enumerate(networks):
        attempt(clock, built, second, lambda: ledger.register_network(
            id=network, name=f"Network {i}", theme=THEMES[i], group=["nurse"], founded_on=date(2024, 6, 1)))
    for professional, registered_on in zip(professionals, history["registered"]):
        attempt(clock, built, second, lambda: ledger.register_professional(
            id=professional, name="Professional", group="nurse", registered_on=registered_on))

    for (name, args), gap in history["steps"]:
        if name == "catch-up":
            models.catch_up()
            continue
        if name in ("endorse", "approve", "revoke", "reject", "return", "amend", "withdraw") and args[0] not in built.claims:
            continue  # its claim was refused
        call = command(ledger, built, name, args)
        result = attempt(clock, built, gap, call)
        if name == "submit" and result is not None:
            built.claims[args[0]] = result["claim"]
            built.claimants[args[0]] = professionals[args[1]]
    return built


def command(ledger: Ledger, built: Built, name: str, args: tuple[Any, ...]) -> Callable[[], Any]:
    """The ledger call for one step, and the dates it brings into the history."""
    if name in ("join", "leave"):
        n, p, on = args
        built.dates.add(on)
        method = ledger.join_network if name == "join" else ledger.leave_network
        return lambda: method(network=built.networks[n], professional=built.professionals[p], on=on)
    if name == "submit":
        _, p, n, kind, on, hours = args
        built.dates.add(on)
        return lambda: ledger.submit_claim(professional=built.professionals[p], network=built.networks[n], kind=kind,
                                           on=on, hours=hours, description="Did something", outcome="It helped")
    if name == "policy":
        on, cycle_years, norm, per_hour = args
        built.dates.add(on)
        return lambda: ledger.adopt_policy(effective_from=on, cycle_years=cycle_years, norm=norm,
                                           points_per_hour=per_hour)
    if name == "close":
        n, on = args
        built.dates.add(on)
        return lambda: ledger.close_network(id=built.networks[n], on=on)
    claim = built.claims[args[0]]
    if name == "endorse":
        return lambda: ledger.endorse_claim(claim=claim, by=built.professionals[args[1]], statement="Saw it")
    if name == "approve":
        return lambda: ledger.approve_claim(claim=claim, reviewer=args[1], rationale="Fine", points=args[2])
    if name in ("revoke", "reject", "return"):
        method = {"revoke": ledger.revoke_claim, "reject": ledger.reject_claim, "return": ledger.return_claim}[name]
        return lambda: method(claim=claim, reviewer=args[1], reason="Because")
    claimant = built.claimants[args[0]]
    if name == "withdraw":
        return lambda: ledger.withdraw_claim(claim=claim, by=claimant)
    assert name == "amend", name
    _, on, kind = args
    if on is not None:
        built.dates.add(on)
    return lambda: ledger.amend_claim(claim=claim, by=claimant, on=on, kind=kind, outcome="It helped more")


def instants_to_ask(built: Built, clock: Clock) -> list[datetime]:
    """Before the first command; on, just before and just after each one; between commands."""
    us = timedelta(microseconds=1)
    asked = {built.instants[0] - timedelta(days=1)}
    for this, following in zip(built.instants, built.instants[1:] + [clock.now + timedelta(days=1)]):
        asked.update({this - us, this, this + us, this + (following - this) / 2})
    return sorted(asked)


def dates_to_ask(built: Built) -> list[date]:
    """On, the day before and the day after every date of the history; long before and after."""
    asked = {BASE - timedelta(days=400), BASE + timedelta(days=SPAN + 1500)}
    for day in built.dates:
        asked.update({day - timedelta(days=1), day, day + timedelta(days=1)})
    return sorted(asked)


def without_behind(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "behind"}


def bucket(n: int) -> str:
    return "0" if n == 0 else "1-2" if n <= 2 else "3-9" if n < 10 else "10+"


def describe(replay: Replay, built: Built) -> None:
    """What the history held, for --hypothesis-show-statistics: the examples must not be trivial."""
    event(f"postings: {bucket(len(replay.postings))}")
    event(f"revocations: {bucket(sum(p.points < 0 for p in replay.postings))}")
    event(f"membership changes: {bucket(len(replay.changes))}")
    event(f"leaves: {bucket(sum(not c.joined for c in replay.changes))}")
    event(f"policy versions: {len(replay.policies)}")
    event(f"refused commands: {bucket(built.refused)}")


def check_history(engine: str, history: dict[str, Any], data: Any) -> None:
    clock = Clock()
    with fresh_store(engine) as store:
        ledger = open_ledger(store, create=True, clock=clock, os_user="tester")
        models = ReadModels(ledger.event_log)
        try:
            built = build(ledger, models, clock, history)
            replay = Replay.of(ledger.event_log.all_events())
            describe(replay, built)
            reader = Reader(models, ledger)
            pairs = data.draw(st.lists(
                st.tuples(st.sampled_from(dates_to_ask(built)), st.sampled_from(instants_to_ask(built, clock))),
                min_size=4, max_size=8,
            ), label="(at, known_at) pairs")
            pairs += [
                (None, None),  # the defaults: today, as known now
                (date.max, clock.now + timedelta(days=1)),  # the ends of the calendar
                (date.min, built.instants[0]),
            ]
            for asked_at, asked_known_at in pairs:
                at, known_at = asked_at or clock.today, asked_known_at or clock.now
                for professional in built.professionals:
                    assert without_behind(reader.balance(professional, asked_at, asked_known_at)) == \
                        replay.balance(professional, at, known_at), (professional, at, known_at)
                for network in built.networks:
                    expected = {"network": network, "at": at.isoformat(), "known_at": known_at.isoformat(),
                                "recorded": replay.networks[network].recorded_at <= known_at,
                                "members": replay.members(network, at, known_at)}
                    assert without_behind(reader.members(network, asked_at, asked_known_at)) == expected, \
                        (network, at, known_at)
            checked = verify(models)
            assert checked["ok"], checked["problems"]
        finally:
            models.close()
            ledger.close()


PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no explain: minutes, no news
)


@pytest.mark.slow
@PROPERTY
@given(history=histories(), data=st.data())
def test_read_models_answer_as_the_replay_on_sqlite(history: dict[str, Any], data: Any) -> None:
    check_history("sqlite", history, data)


@pytest.mark.slow
@pytest.mark.postgres
@settings(PROPERTY, max_examples=40)  # a schema per example costs more: keeps the run under a minute
@given(history=histories(), data=st.data())
def test_read_models_answer_as_the_replay_on_postgresql(history: dict[str, Any], data: Any) -> None:
    check_history("postgresql", history, data)
