"""The aggregates' @event methods trigger their events through `domain.base` (`_Triggering`, then
`LedgerAggregate.trigger_event`) rather than the library's per-call decorator machinery, and aggregates are
made (`Claim(...)`) through `domain.base._Creating` rather than the library's per-call work. The oracle is the
library itself: every @event method of every aggregate, called once each way on copies of one aggregate,
and every aggregate made each way, must give equal events and equal aggregates, and replaying the events
must give the live aggregate again. A new @event method fails the table check below until it is added to
the table."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, CommandMethodDecorator, MetaAggregate, UnboundCommandMethodDecorator, event

import domain
import domain.base
from domain.base import LedgerAggregate, _creation, _Triggering, _who, acting_as, recording_at
from domain.claim import Claim
from domain.credential import Credential
from domain.membership import Membership
from domain.network import Network
from domain.policy import DEFAULT_TERMS, Policy
from domain.professional import Professional
from domain.reviewer import Reviewer
from domain.signing_key import SigningKeys

CREATED = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
D1, D2 = date(2026, 1, 5), date(2026, 2, 9)

MAKE: dict[type, Any] = {
    Claim: lambda: Claim(professional_id="P-1", network_id="N-1", kind="question", activity_date=D1,
                         hours=Decimal("1.5"), description="d", outcome="o", practice_change=None),
    Credential: lambda: Credential(credential_id="C-1", professional_id="P-1", at=D2, known_at=CREATED,
                                   cycle_start=D1, cycle_end=D2, points="3.0", claims=2, public_key="k", digest="h"),
    Membership: lambda: Membership(network_id="N-1", professional_id="P-1", on=D1, tracks_claims=True),
    Network: lambda: Network(network_id="N-1", name="N", themes=["t"], groups=["g"], founded_on=D1,
                             tracks_members=True),
    Policy: Policy,
    Professional: lambda: Professional(professional_id="P-1", name="An", group="g", registered_on=D1,
                                       tracks_networks=True),
    Reviewer: lambda: Reviewer(reviewer_id="R-1", name="Bo", appointed_on=D1, tracks_decisions=True),
    SigningKeys: lambda: SigningKeys(public_key="k1", valid_from=CREATED, issuer_name="Register",
                                     issuer_url=None, register_uri="urn:x"),
}

# (class, @event method): the arguments, positional then keyword, as the aggregates' commands pass them.
DECIDED = dict(professional_id="P-1", network_id="N-1", kind="question", activity_date=D1, points=Decimal("2"))
CALLS: dict[tuple[type, str], tuple[tuple, dict]] = {
    (Claim, "_endorsed"): (("P-2", "it helped"), {}),
    (Claim, "_withdrawn"): ((), {}),
    (Claim, "_amended"): (({"description": "d2", "hours": Decimal("2")},), {"endorsements_cleared": True}),
    (Claim, "_approved"): ((), dict(DECIDED, rationale="good")),
    (Claim, "_rejected"): (("no",), {}),
    (Claim, "_returned"): ((), {"reason": "more detail"}),
    (Claim, "_revoked"): ((), dict(DECIDED, reason="error")),
    (Membership, "_rejoined"): (("N-1", "P-1", D2), {}),
    (Membership, "_left"): (("N-1", "P-1"), {"on": D2}),
    (Membership, "_leave_cancelled"): (("N-1", "P-1", D2), {}),
    (Membership, "_ended"): (("N-1", "P-1", D2, [[D1, None]]), {}),
    (Membership, "_restored"): (("N-1", "P-1", D2, [[D1, None]], [[D2, True]]), {}),
    (Membership, "_claim_noted"): (("claim-1",), {}),
    (Network, "_closed"): (("N-1", D2), {}),
    (Network, "_reopened"): (("N-1",), {"closed_on": D2}),
    (Network, "_member_noted"): (("P-1",), {}),
    (Policy, "_adopted"): ((D2, DEFAULT_TERMS.to_state()), {}),
    (Policy, "_cancelled"): ((D2,), {}),
    (Professional, "_deregistered"): (("P-1", D2), {}),
    (Professional, "_reinstated"): ((), {"professional_id": "P-1", "deregistered_on": D2}),
    (Professional, "_erased"): (("P-1", "request of 2026-03-01"), {}),
    (Professional, "_network_noted"): (("N-1",), {}),
    (Reviewer, "_retired"): (("R-1", D2), {}),
    (Reviewer, "_reinstated"): (("R-1", D2), {}),
    (Reviewer, "_erased"): (("R-1",), {"reason": "request"}),
    (Reviewer, "_decision_noted"): (("R-1", D2), {}),
    (SigningKeys, "_rotated"): (("k2", "k1", LATER), {}),
}


def _aggregate_classes() -> set[type]:
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    found, todo = set(), [LedgerAggregate]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def _library_trigger_event(self: LedgerAggregate, event_class: Any, **kwargs: Any) -> None:
    """`LedgerAggregate.trigger_event` as it was, on the library's own `trigger_event`."""
    if "os_user" in event_class.__dataclass_fields__:
        kwargs["actor"], kwargs["os_user"] = _who()
    Aggregate.trigger_event(self, event_class, **kwargs)


def _call_through_library(aggregate: LedgerAggregate, name: str, args: tuple, kwargs: dict,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    decorator = type(aggregate).__dict__[name].decorator
    with monkeypatch.context() as patched:
        patched.setattr(LedgerAggregate, "trigger_event", _library_trigger_event)
        decorator.__get__(aggregate, type(aggregate))(*args, **kwargs)


def _replayed(events: list) -> Any:
    aggregate = None
    for stored in events:
        aggregate = stored.mutate(aggregate)
    return aggregate


def test_every_event_method_of_every_aggregate_is_in_the_table_and_goes_the_fast_way():
    classes = _aggregate_classes()
    found = {(cls, name) for cls in classes for name, attr in vars(cls).items() if isinstance(attr, _Triggering)}
    assert found == set(CALLS)
    left = {(cls.__name__, name) for cls in classes for name, attr in vars(cls).items()
            if isinstance(attr, CommandMethodDecorator) and name != "__init__"}
    assert not left, f"@event methods still on the library's per-call path: {left}"
    assert {cls for cls in classes if cls.__module__.startswith("domain.")} == set(MAKE)


@pytest.mark.parametrize(("cls", "name"), list(CALLS), ids=[f"{c.__name__}.{n}" for c, n in CALLS])
def test_an_event_method_gives_the_events_and_state_the_library_gives(cls, name, monkeypatch):
    with recording_at(CREATED), acting_as("register", "clerk"):
        fast = MAKE[cls]()
    created = fast.collect_events()
    library = copy.deepcopy(fast)
    args, kwargs = CALLS[(cls, name)]

    with recording_at(LATER), acting_as("R-1", "reviewer"):
        getattr(fast, name)(*args, **kwargs)
        _call_through_library(library, name, args, kwargs, monkeypatch)

    (fast_event,), (library_event,) = fast.collect_events(), library.collect_events()
    assert type(fast_event) is type(library_event)
    assert vars(fast_event) == vars(library_event)
    assert list(vars(fast_event)) == list(vars(library_event))  # field order: how the event is stored
    assert (fast_event.originator_version, fast_event.timestamp, fast_event.actor) == (2, LATER, "R-1")
    assert vars(fast) == vars(library)
    assert vars(_replayed([*created, fast_event])) == vars(fast)


def test_a_second_event_follows_the_first_in_the_sequence():
    with recording_at(CREATED), acting_as("register", "clerk"):
        network = MAKE[Network]()
        network._member_noted("P-1")
        network._member_noted(professional_id="P-2")
    events = network.collect_events()
    assert [e.originator_version for e in events] == [1, 2, 3] == [1, 2, network.version]
    assert network.members == ["P-1", "P-2"] and network.modified_on == CREATED
    assert vars(_replayed(events)) == vars(network)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (("P-1", "register", "clerk", "extra"), {}, "too many or repeated"),
    (("P-1",), {"professional_id": "P-2"}, "too many or repeated"),
    ((), {}, "professional_id"),
    ((), {"professional_id": "P-1", "nickname": "x"}, "nickname"),
])
def test_a_wrong_call_is_a_type_error_and_triggers_nothing(args, kwargs, message):
    with recording_at(CREATED), acting_as("register", "clerk"):
        network = MAKE[Network]()
        network.collect_events()
        with pytest.raises(TypeError, match=message):
            network._member_noted(*args, **kwargs)
    assert (network.collect_events(), network.version, network.members) == ([], 1, [])


def test_read_from_the_class_an_event_method_is_the_librarys_decorator():
    assert isinstance(Network._member_noted, UnboundCommandMethodDecorator)
    assert Network._member_noted.event_decorator is vars(Network)["_member_noted"].decorator


# --- making an aggregate ------------------------------------------------------------------------


def _made_both_ways(make: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The aggregate `make()` gives, and the one the library's own `MetaAggregate.__call__` gives for the
    same call, random ids made of the same bytes."""
    def declined(*_: Any, **__: Any) -> None:
        raise AssertionError("made the library's way, not the fast way")

    monkeypatch.setattr(domain.base, "fresh_bytes", lambda n: bytes(range(n)))
    with recording_at(CREATED), acting_as("P-1", "nurse"):
        with monkeypatch.context() as fast_way:  # (the calls the fast way declines go to the library's)
            fast_way.setattr(MetaAggregate, "__call__", declined)
            fast = make()
        with monkeypatch.context() as library_way:
            library_way.setattr(domain.base._Creating, "__call__", MetaAggregate.__call__)
            library = make()
    return fast, library


@pytest.mark.parametrize("cls", list(MAKE), ids=[c.__name__ for c in MAKE])
def test_making_an_aggregate_gives_the_event_and_state_the_library_gives(cls, monkeypatch):
    fast, library = _made_both_ways(MAKE[cls], monkeypatch)
    (fast_event,), (library_event,) = fast.collect_events(), library.collect_events()
    assert type(fast_event) is type(library_event)
    assert vars(fast_event) == vars(library_event)
    assert list(vars(fast_event)) == list(vars(library_event))
    assert (fast_event.originator_version, fast_event.timestamp) == (1, CREATED)
    if "actor" in vars(fast_event):
        assert (fast_event.actor, fast_event.os_user) == ("P-1", "nurse")
    assert vars(fast) == vars(library)
    assert vars(_replayed([fast_event])) == vars(fast)


def test_every_aggregate_is_made_the_fast_way():
    assert {cls.__name__ for cls in _aggregate_classes()
            if cls.__module__.startswith("domain.") and _creation(cls) is None} == set()


@pytest.mark.parametrize(("args", "kwargs"), [
    (("R-1", "Bo", D1, True), {}),                                     # positional: the library's way
    ((), {"reviewer_id": "R-1", "name": "Bo", "appointed_on": D1}),   # a default left out: the fast way
])
def test_a_call_the_library_takes_gives_the_same_aggregate(args, kwargs):
    with recording_at(CREATED), acting_as("register", "clerk"):
        reviewer = Reviewer(*args, **kwargs)
    assert (reviewer.reviewer_id, reviewer.name, reviewer.version) == ("R-1", "Bo", 1)
    assert [type(e).__name__ for e in reviewer.collect_events()] == ["Appointed"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reviewer_id": "R-1", "name": "Bo"}, "appointed_on"),
    ({"reviewer_id": "R-1", "name": "Bo", "appointed_on": D1, "nickname": "x"}, "nickname"),
])
def test_a_wrong_call_makes_nothing_and_gets_the_librarys_type_error(kwargs, message):
    with recording_at(CREATED), acting_as("register", "clerk"):
        with pytest.raises(TypeError, match=message) as fast:
            Reviewer(**kwargs)
        with pytest.raises(TypeError) as library:
            MetaAggregate.__call__(Reviewer, **kwargs)
    assert str(fast.value) == str(library.value)


def test_an_aggregate_the_fast_way_does_not_plan_for_is_made_the_librarys_way():
    class Named(LedgerAggregate):
        """An __init__ that names the id: the library gives it the id, so only the library's way makes it."""

        @event("Named")
        def __init__(self, id: Any, name: str) -> None:  # noqa: A002 - the library's own name for it
            self.name, self.given_id = name, id

    assert _creation(Named) is None
    with recording_at(CREATED):
        named = Named(id=domain.base.natural_id("named", "x"), name="x")
    assert (named.name, named.given_id, named.id) == ("x", named.id, domain.base.natural_id("named", "x"))
