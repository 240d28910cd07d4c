"""The projections' fast decoder agrees with the library's mapper on every event type.

A store is filled with at least one event of every type the domain has (an amendment both
with and without cleared endorsements; a request record; an erased professional and an erased
reviewer). For each stored event, every field of the domain event the mapper builds must
equal — in value and in type — the field `decode_state` gives, and the one `value()` gives for
the raw state, the way handlers read it, once the state has been through the log's
`unprotect` as the runner does (projections/runner.py: people by register id, texts opened,
an erased person's name and texts as the mapper gives them). The covered types must be all
event classes of the domain's aggregates, so a new event type without a decode test here fails.

The store is encrypted (SPEC §9: the test key of tests/conftest.py); a store made before §9
(a copy of tests/data/ledger-v1.sqlite) has no `unprotect`, and decodes as it always did.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import sqlite3
from pathlib import Path
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

import domain
from domain.base import LedgerAggregate
from ledger.app import Ledger, open_ledger
from storage.config import resolve
from projections.decode import decode_state, raw_state, state_reader, value
from projections.registry import PROJECTIONS
from tests.support.harness import Clock, count_events

ORIGINATOR_FIELDS = {"originator_id", "originator_version"}  # stored in the record, not in the state


def event_name(topic: str) -> str:
    """`domain.claim:Claim.Approved` → `Claim.Approved`: how these tests name an event type in messages."""
    return topic.rpartition(":")[2]


def every_event_type(ledger: Ledger, clock: Clock) -> None:
    """At least one event of every type, and the decoder's harder cases."""

    def step() -> None:
        clock.tick(seconds=1, microseconds=123_457)  # instants with microseconds

    step(); migrated(ledger, clock())  # Migration.Migrated: first, as `studyledger migrate` writes it
    step(); ledger.adopt_policy(effective_from=date(2024, 1, 1), points_per_hour=Decimal("1.5"),  # Opened, Adopted
                                cap=[("answer", Decimal("4.25"))], norm=Decimal("160.5"), request_id="policy-1")
    step(); ledger.register_professional(id="P-1", name="Ånna Ölander ✓", group="nurse", registered_on=date(2024, 1, 2))
    step(); ledger.register_professional(id="P-2", name="Bram", group="nurse", registered_on=date(2024, 1, 2))
    step(); ledger.register_professional(id="P-3", name="Cees", group="nurse", registered_on=date(2024, 1, 2))
    step(); ledger.appoint_reviewer(id="V-1", name="Vera", on=date(2024, 1, 1))
    step(); ledger.appoint_reviewer(id="V-2", name="Wim", on=date(2024, 1, 1))
    step(); ledger.register_network(id="N", name="Net \"quoted\"", theme=["wound-care", "diabetes"],
                                    group=["nurse"], founded_on=date(2020, 2, 29))
    step(); ledger.register_network(id="M", name="Other", theme=["x"], group=["nurse"], founded_on=date(2020, 1, 1))
    for who in ("P-1", "P-2", "P-3"):
        step(); ledger.join_network(network="N", professional=who, on=date(2025, 1, 1))
    step(); ledger.join_network(network="M", professional="P-1", on=date(2025, 1, 1))
    step(); ledger.leave_network(network="M", professional="P-1", on=date(2025, 2, 1))  # Left
    step(); ledger.join_network(network="M", professional="P-1", on=date(2025, 3, 1))  # Rejoined

    def claim(hours: str, practice_change: str | None = None, **extra: Any) -> str:
        step()
        return ledger.submit_claim(professional="P-1", network="N", kind="answer", on=date(2025, 6, 1),
                                   hours=Decimal(hours), description="Shared a protocol", outcome="Used on two wards",
                                   practice_change=practice_change, **extra)["claim"]

    def endorse(c: str, by: str = "P-2") -> None:
        step(); ledger.endorse_claim(claim=c, by=by, statement="I saw it")

    approved = claim("2.5", "I now photograph every wound", request_id="claim-1")
    endorse(approved)
    step(); ledger.approve_claim(claim=approved, reviewer="V-1", rationale="Good", points=Decimal("2.25"))
    step(); ledger.revoke_claim(claim=approved, reviewer="V-2", reason="Counted twice")
    rejected = claim("1")
    step(); ledger.reject_claim(claim=rejected, reviewer="V-1", reason="Attendance only")
    returned = claim("3")
    endorse(returned)
    step(); ledger.return_claim(claim=returned, reviewer="V-1", reason="Name the outcome")
    step(); ledger.amend_claim(claim=returned, by="P-1", outcome="Protocol adopted", hours=Decimal("3.75"),
                               practice_change="Weekly checks")  # Amended, endorsements kept
    step(); ledger.amend_claim(claim=returned, by="P-1", on=date(2025, 5, 31), kind="question")  # … cleared
    endorse(returned, "P-3")
    step(); ledger.approve_claim(claim=returned, reviewer="V-1", rationale="Now complete")  # suggested points
    withdrawn = claim("0.5")
    step(); ledger.withdraw_claim(claim=withdrawn, by="P-1")
    step(); ledger.close_network(id="M", on=date(2026, 1, 1))
    step(); ledger.deregister_professional(id="P-3", on=date(2026, 6, 1))
    step(); ledger.retire_reviewer(id="V-2", on=date(2026, 7, 1))  # after their decisions (rule 8)
    # the corrections
    step(); ledger.reinstate_professional(id="P-3")  # Reinstated, Restored
    step(); ledger.reinstate_reviewer(id="V-2")
    step(); ledger.reopen_network(id="M")
    step(); ledger.leave_network(network="M", professional="P-1", on=date(2025, 12, 1))
    step(); ledger.leave_network(network="M", professional="P-1", cancel=True)  # LeaveCancelled
    step(); ledger.adopt_policy(effective_from=date(2090, 1, 1), norm=Decimal("200"))
    step(); ledger.cancel_policy(effective_from=date(2090, 1, 1))  # Cancelled
    signing_keys_and_a_credential(ledger, step)
    erasures(ledger, step)


def erasures(ledger: Ledger, step: Any) -> None:
    """SPEC §9: a professional with a claim and an endorsement, a reviewer with a decision, both
    erased — their earlier events then decode with the erased placeholder and unreadable texts."""
    step(); ledger.register_professional(id="P-4", name="Dirk Vergeten", group="nurse", registered_on=date(2024, 1, 2))
    step(); ledger.appoint_reviewer(id="V-3", name="Xandra Vergeten", on=date(2024, 1, 1))
    step(); ledger.join_network(network="N", professional="P-4", on=date(2025, 1, 1))
    step(); own = ledger.submit_claim(professional="P-4", network="N", kind="question", on=date(2025, 6, 2),
                                      hours=Decimal("1"), description="Dirk's question", outcome="Dirk's outcome")["claim"]
    step(); ledger.endorse_claim(claim=own, by="P-1", statement="P-1 on Dirk's question")
    step(); ledger.reject_claim(claim=own, reviewer="V-3", reason="Xandra's reason")
    step(); other = ledger.submit_claim(professional="P-1", network="N", kind="question", on=date(2025, 6, 3),
                                        hours=Decimal("1"), description="Asked", outcome="Answered")["claim"]
    step(); ledger.endorse_claim(claim=other, by="P-4", statement="Dirk's statement")
    step(); ledger.withdraw_claim(claim=other, by="P-1")
    step(); ledger.deregister_professional(id="P-4", on=date(2026, 6, 1))
    step(); ledger.erase_professional(id="P-4", reason="Asked to be forgotten")  # Professional.Erased
    step(); ledger.retire_reviewer(id="V-3", on=date(2026, 7, 1))
    step(); ledger.erase_reviewer(id="V-3", reason="Retention limit")  # Reviewer.Erased


def migrated(ledger: Ledger, now: datetime) -> None:
    """The first event of a store moved by `studyledger migrate` (ledger/migrated.py), saved as migrate does."""
    from domain.base import acting_as, recording_at
    from domain.values import REGISTER
    from ledger.migrated import Migration

    with recording_at(now), acting_as(REGISTER, "tester"):
        ledger.save(Migration(old_digest="sl1-42-" + "0" * 32, old_events=42, old_store="old.db", migrated_at=now))


def signing_keys_and_a_credential(ledger: Ledger, step: Any) -> None:
    """SPEC §10: SigningKeys.Initialised and .Rotated, Credential.Issued (on figures given, not read)."""
    import tempfile
    from pathlib import Path

    from ledger.keys import reading_facts

    cycle = {"start": "2024-01-02", "end": "2028-01-01", "points": "2.25", "norm": "160.5", "shortfall": "158.25"}

    def facts(professional: str, at: date, known_at: datetime) -> dict[str, Any]:
        when = {"professional": professional, "at": at.isoformat(), "known_at": known_at.isoformat()}
        evidence = [{"claim": "0b8f3c2e-6f43-4a51-9a3e-5d1f0c7f2a10", "kind": "question", "network": "N",
                     "themes": ["diabetes", "wound-care"], "activity_date": "2025-05-31", "points": "2.25"}]
        return {**when, "balance": {**when, "cycle": cycle}, "evidence": evidence}

    with tempfile.TemporaryDirectory() as folder:
        key_file = str(Path(folder) / "register.key")
        step(); ledger.init_keys(key_file=key_file, issuer_name="Register ✓", issuer_url="https://register.example/")
        step(); ledger.rotate_keys(key_file=key_file)
        with reading_facts(facts):
            step(); ledger.issue_credential(professional="P-1", key_file=key_file, at=date(2025, 6, 30))


@pytest.fixture
def notifications(ledger: Ledger, clock: Clock) -> list[Any]:
    assert ledger.people is not None and ledger.event_log.unprotect is not None, "an encrypted store"
    every_event_type(ledger, clock)
    return ledger.recorder.select_notifications(1, 10_000)


@pytest.fixture
def plain(tmp_path: Path) -> Any:
    """A store made before SPEC §9 (a copy of tests/data/ledger-v1.sqlite): no key store, no `unprotect`."""
    copy = tmp_path / "ledger-v1.sqlite"
    shutil.copy(Path(__file__).parents[1] / "data" / "ledger-v1.sqlite", copy)
    app = open_ledger(resolve(str(copy)))
    assert app.people is None and app.event_log.unprotect is None
    yield app
    app.close()


def aggregate_classes() -> list[type]:
    """Every aggregate class of the domain package, the ledger's request records and a migrated store's first event."""
    for module in pkgutil.iter_modules(domain.__path__):
        importlib.import_module(f"domain.{module.name}")
    importlib.import_module("ledger.requests")
    importlib.import_module("ledger.migrated")
    found, todo = [], [LedgerAggregate]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(("domain.", "ledger.")):
                found.append(sub)
    return found


def event_classes() -> set[str]:
    """The stored topics of every event class an aggregate of the domain can record.

    Each aggregate class has an `Event` base and a generated `Created` base besides the
    event classes of its methods; `Created` counts only when no named event creates it.
    """
    topics = set()
    for aggregate in aggregate_classes():
        events = {name: cls for name, cls in vars(aggregate).items()
                  if isinstance(cls, type) and issubclass(cls, DomainEvent) and name != "Event"}
        creators = [cls for name, cls in events.items() if name != "Created" and issubclass(cls, LedgerAggregate.Created)]
        if creators:
            events.pop("Created", None)
        topics |= {get_topic(cls) for cls in events.values()}
    return topics


def same(decoded: Any, expected: Any) -> bool:
    """Equal and of the same type, all the way down (Decimal('2.5') is not the float 2.5)."""
    if type(decoded) is not type(expected):
        return False
    if isinstance(expected, dict):
        return decoded.keys() == expected.keys() and all(same(decoded[k], expected[k]) for k in expected)
    if isinstance(expected, (list, tuple)):
        return len(decoded) == len(expected) and all(same(a, b) for a, b in zip(decoded, expected))
    return bool(decoded == expected)


def value_of(raw: Any) -> Any:
    """A raw field the way handlers read it: value() on it, and on each item of a dict or list it holds
    (a membership's change rows are lists of [date, joined] pairs)."""
    if type(raw) is dict and "_type_" not in raw:
        return {k: value(v) for k, v in raw.items()}
    if type(raw) is list:
        return [value_of(v) for v in raw]
    return value(raw)


def mapped_fields(ledger: Ledger, notification: Any) -> dict[str, Any]:
    """The domain event's fields as the library's mapper builds them, less those not in the state."""
    domain_event = ledger.mapper.to_domain_event(notification)
    return {k: v for k, v in domain_event.__dict__.items() if k not in ORIGINATOR_FIELDS}


def decoded(ledger: Ledger, notification: Any) -> dict[str, Any]:
    """`decode_state`, then the log's `unprotect` where the store has one: as the read side reads a state."""
    state = decode_state(notification.state)
    unprotect = ledger.event_log.unprotect
    return unprotect(notification.topic, state) if unprotect is not None else state


def raw(ledger: Ledger, notification: Any) -> dict[str, Any]:
    """`raw_state`, then the log's `unprotect` where the store has one: what the runner hands a handler."""
    state = raw_state(notification.state)
    unprotect = ledger.event_log.unprotect
    return unprotect(notification.topic, state) if unprotect is not None else state


def check_decode_state(ledger: Ledger, notifications: list[Any]) -> None:
    for n in notifications:
        expected = mapped_fields(ledger, n)
        state = decoded(ledger, n)
        assert state.keys() == expected.keys(), event_name(n.topic)
        for field, wanted in expected.items():
            assert same(state[field], wanted), (event_name(n.topic), field, state[field], wanted)


def check_value(ledger: Ledger, notifications: list[Any]) -> None:
    for n in notifications:
        expected = mapped_fields(ledger, n)
        state = raw(ledger, n)
        assert state.keys() == expected.keys(), event_name(n.topic)
        for field, wanted in expected.items():
            assert same(value_of(state[field]), wanted), (event_name(n.topic), field, state[field], wanted)


def test_the_store_holds_every_event_type_of_the_domain(notifications: list[Any]) -> None:
    assert {n.topic for n in notifications} == event_classes()


def test_the_event_types_found_include_the_known_ones() -> None:
    names = {event_name(topic) for topic in event_classes()}
    assert {
        "Policy.Opened", "Policy.Adopted", "Professional.Registered", "Professional.Deregistered",
        "Reviewer.Appointed", "Reviewer.Retired", "Network.Registered", "Network.Closed",
        "Membership.Joined", "Membership.Rejoined", "Membership.Left", "Claim.Submitted", "Claim.Endorsed",
        "Claim.Amended", "Claim.Withdrawn", "Claim.Approved", "Claim.Rejected", "Claim.Returned", "Claim.Revoked",
        "Request.Recorded",
    } <= names


def test_amendments_with_and_without_cleared_endorsements_are_stored(ledger: Ledger, notifications: list[Any]) -> None:
    amended = [ledger.mapper.to_domain_event(n) for n in notifications if event_name(n.topic) == "Claim.Amended"]
    assert sorted(e.endorsements_cleared for e in amended) == [False, True]
    assert {type(v) for e in amended for v in e.changes.values()} >= {str, date, Decimal}


def test_decode_state_gives_every_field_of_the_mapped_event(ledger: Ledger, notifications: list[Any]) -> None:
    check_decode_state(ledger, notifications)


def test_value_gives_every_field_of_the_raw_state_as_the_mapped_event(ledger: Ledger, notifications: list[Any]) -> None:
    check_value(ledger, notifications)


def test_without_unprotect_the_stored_state_names_nobody(ledger: Ledger, notifications: list[Any]) -> None:
    """What makes the two checks above more than a comparison of a state with itself: in the stored
    state people are pseudonyms and texts sealed, and only `unprotect` gives them back."""
    named = set()
    for n in notifications:
        if event_name(n.topic) == "Professional.Registered":
            stored, mapped = decode_state(n.state), mapped_fields(ledger, n)
            assert stored["professional_id"].startswith("~") and stored["name"] != mapped["name"]
            named.add(mapped["professional_id"])
    assert named >= {"P-1", "P-2", "P-3"}  # and P-4, erased: see below


def test_an_erased_person_decodes_alike_on_both_paths(ledger: Ledger, notifications: list[Any]) -> None:
    """P-4's and V-3's events name them by the erased placeholder on both paths, their texts unreadable."""
    mapped = [mapped_fields(ledger, n) for n in notifications]
    submitted = [m for m in mapped if m.get("kind") == "question" and str(m.get("professional_id")).startswith("an erased")]
    assert len(submitted) == 1 and submitted[0]["description"] is None
    rejected = [m for m in mapped if m.get("reason") is None and "actor" in m
                and str(m["actor"]).startswith("an erased reviewer")]
    assert rejected, "V-3's rejection names an erased reviewer, its reason unreadable"
    assert not any(value == "P-4" or value == "V-3" for m in mapped for value in m.values())


def read_side_fields(topic: str) -> dict[str, str]:
    """The person fields the read models read in events of `topic` (their `people`), as the runner joins them."""
    fields: dict[str, str] = {}
    for model in PROJECTIONS.values():
        fields.update(model.person_fields.get(topic, {}))
    return fields


def test_the_read_side_gives_the_person_fields_it_reads_as_unprotect_does(ledger: Ledger,
                                                                         notifications: list[Any]) -> None:
    """`state_reader` (what the runner hands a handler) turns the person fields the read models declare, as
    the log's `unprotect` does (erased people included), and leaves every other field as stored."""
    people = ledger.mapper.people
    checked = set()
    for n in notifications:
        fields = read_side_fields(n.topic)
        state = state_reader(people, fields)(n.state)
        stored, unprotected = raw_state(n.state), raw(ledger, n)
        assert state.keys() == stored.keys(), event_name(n.topic)
        for field in stored:
            wanted = unprotected[field] if field in fields else stored[field]
            assert same(state[field], wanted), (event_name(n.topic), field, state[field], wanted)
            if field in fields and stored[field] != wanted:
                checked.add((event_name(n.topic), field))
    assert {("Claim.Submitted", "professional_id"), ("Claim.Endorsed", "by"), ("Claim.Approved", "actor"),
            ("Claim.Approved", "professional_id"), ("Request.Recorded", "result"),
            ("Membership.Joined", "professional_id")} <= checked
    assert any(str(state_reader(people, read_side_fields(n.topic))(n.state).get("actor")).startswith("an erased reviewer")
               for n in notifications if event_name(n.topic) == "Claim.Rejected"), "V-3, erased, named as unprotect does"


def test_the_read_side_knows_a_pseudonym_as_the_mapper_writes_it() -> None:
    from ledger.personal import PSEUDONYM
    from projections import decode

    assert decode.PSEUDONYM == PSEUDONYM


def test_every_person_field_a_handler_reads_is_declared() -> None:
    """A handler reads a person field only if its read model declares it in `people`: run on a state whose
    undeclared person fields are left as pseudonyms, every handler's rows hold no pseudonym."""
    from domain.personal import ACTOR_ROLES, PEOPLE

    for model in PROJECTIONS.values():
        for event_class, handler in model.handlers.items():
            declared = model.people.get(event_class, ())
            person_fields = {*PEOPLE.get(event_class, {}), "actor"}
            assert set(declared) - {"result"} <= person_fields, (model.name, event_class)
            for undeclared in person_fields - set(declared):
                assert undeclared not in _read_by(handler), (model.name, event_class.__qualname__, undeclared)
    assert ACTOR_ROLES  # (roles of the actors declared: see projections.decode.roles)


def _read_by(handler: Any) -> set[str]:
    """The string constants in the code of a handler and of the read side's functions it calls or closes over."""
    seen, todo, names = set(), [handler], set()
    while todo:
        function = todo.pop()
        code = getattr(function, "__code__", None)
        if code is None or code in seen:
            continue
        seen.add(code)
        names |= {c for c in code.co_consts if isinstance(c, str)}
        called = [function.__globals__.get(name) for name in code.co_names]
        called += [cell.cell_contents for cell in (function.__closure__ or ())]
        todo.extend(f for f in called if callable(f) and getattr(f, "__module__", "").startswith("projections."))
    return names


def test_the_tagged_values_handlers_read_directly_read_as_value_gives_them() -> None:
    """instant_us and points_cents (each read twice in a row: the last is remembered) against value()."""
    from projections.decode import instant_us, points_cents
    from projections.units import cents, micros

    for text in ("2026-12-02T15:08:03.562690+00:00", "2026-12-02T15:08:03.562690+00:00",
                 "1969-07-20T20:17:40.000001+00:00", "2026-12-02T10:38:03.562690-04:30"):
        item = {"_type_": "datetime_iso", "_data_": text}
        assert instant_us(item) == micros(value(item))
    for text in ("8.00", "8.00", "-2.5", "0.25", "1E+1", "12"):
        item = {"_type_": "decimal_str", "_data_": text}
        assert points_cents(item) == cents(value(item))


@given(day=st.dates())
def test_a_date_s_text_is_what_the_read_models_store_for_it(transcoder: Any, day: date) -> None:
    """Handlers write a tagged date's text as it is, where the driver would store the date as its
    ISO text (SQLite, through SQLAlchemy's Date and storage.readmodels' adapter) or parse it
    (PostgreSQL's COPY)."""
    stored = raw_state(transcoder.encode({"on": day}))["on"]
    assert stored["_data_"] == day.isoformat() == sqlite3.adapters[(date, sqlite3.PrepareProtocol)](day)


@given(amount=st.decimals(allow_nan=False, allow_infinity=False))
def test_an_amount_s_text_is_its_decimal_s_text(transcoder: Any, amount: Decimal) -> None:
    """The claims read model stores a claim's hours as the tagged text itself (str(Decimal(text)) == text)."""
    stored = raw_state(transcoder.encode({"hours": amount}))["hours"]
    assert stored["_data_"] == str(value(stored))


def test_a_store_made_before_personal_data_were_encrypted_decodes_as_the_mapper(plain: Ledger) -> None:
    stored = plain.recorder.select_notifications(1, 10_000)
    assert len({n.topic for n in stored}) >= 10
    check_decode_state(plain, stored)
    check_value(plain, stored)


def test_the_originator_is_the_mapped_event_s(ledger: Ledger, notifications: list[Any]) -> None:
    for n in notifications:
        domain_event = ledger.mapper.to_domain_event(n)
        assert (n.originator_id, n.originator_version) == (domain_event.originator_id, domain_event.originator_version)
        assert isinstance(n.originator_id, UUID)


def test_timestamps_decode_to_aware_instants_with_their_microseconds(notifications: list[Any]) -> None:
    stamps = [decode_state(n.state)["timestamp"] for n in notifications]
    assert all(isinstance(t, datetime) and t.utcoffset() is not None and t.utcoffset().total_seconds() == 0 for t in stamps)
    assert all(t.microsecond != 0 for t in stamps)


# --- beyond the events stored above: any value the transcoder writes -------------------

scalars = (
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text()
    | st.dates() | st.decimals(allow_nan=False, allow_infinity=False) | st.uuids()
    | st.datetimes(timezones=st.none() | st.just(timezone.utc) | st.just(timezone(timedelta(hours=-4, minutes=-30))))
)
nested = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text().filter(lambda k: k not in ("_type_", "_data_")), children, max_size=4),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def transcoder(tmp_path_factory: Any) -> Any:
    """The ledger's own transcoder (the library's JSON transcoder with the ledger's transcodings)."""
    app = open_ledger(resolve(str(tmp_path_factory.mktemp("transcoder") / "ledger.db")), create=True)
    try:
        return app.mapper.transcoder
    finally:
        app.close()


def test_the_transcoder_registers_only_the_types_these_tests_generate(transcoder: Any) -> None:
    assert set(transcoder.types) == {UUID, Decimal, datetime, date}


@given(state=nested)
def test_decode_state_agrees_with_the_transcoder_on_nested_values(transcoder: Any, state: Any) -> None:
    stored = transcoder.encode({"field": state})
    assert same(decode_state(stored), transcoder.decode(stored))


@given(item=scalars)
def test_value_agrees_with_the_transcoder_on_every_kind_of_field(transcoder: Any, item: Any) -> None:
    stored = transcoder.encode({"field": item})
    assert same(value(raw_state(stored)["field"]), transcoder.decode(stored)["field"])


# --- the integers the decoder reads exactly are the only ones a policy may hold -------


@pytest.mark.parametrize("option", ["--min-endorsements", "--cycle-years"])
@pytest.mark.parametrize("number", [str(2**64), "1" + "0" * 400])
def test_policy_integers_beyond_what_the_decoder_reads_exactly_are_refused(
    run: Any, store: Any, option: str, number: str
) -> None:
    result = run("policy", "adopt", "--effective-from", "2024-01-01", option, number)
    assert result.exit_code == 2, result.stderr
    assert "must be at most" in result.stderr
    assert count_events(store) == 0


def test_the_largest_policy_integers_decode_exactly(run: Any, ledger: Ledger) -> None:
    result = run("policy", "adopt", "--effective-from", "2024-01-01", "--min-endorsements", "1000",
                 "--cycle-years", "100", "--request-id", "largest")
    assert result.exit_code == 0, result.stderr
    stored = ledger.recorder.select_notifications(1, 100)
    assert {event_name(n.topic) for n in stored} >= {"Policy.Adopted", "Request.Recorded"}
    for n in stored:
        assert same(decoded(ledger, n), mapped_fields(ledger, n)), event_name(n.topic)
