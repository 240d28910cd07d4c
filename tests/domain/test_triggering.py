"""The aggregates' @event methods trigger their events through `domain.base` (`_Triggering`, then
`LedgerAggregate.trigger_event`) rather than the library's per-call decorator machinery. The oracle is the
library itself: every @event method of every aggregate, called once each way on copies of one aggregate,
must give equal events and equal aggregates, and replaying the events must give the live aggregate again.
A new @event method fails the table check below until it is added to the table."""

from __future__ import annotations

import copy
import importlib
import pkgutil
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.domain import Aggregate, CommandMethodDecorator, UnboundCommandMethodDecorator

import domain
from domain.base import LedgerAggregate, _Triggering, _who, acting_as, recording_at
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
