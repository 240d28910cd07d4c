"""Who acted is set once per command (domain.base.acting_as), as the recording instant is: every event
that records an actor and an OS user takes them from there, in the fields stored events have always had."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.base import Naming, acting_as, carrying_out, people_naming, recording_at
from domain.network import Network
from domain.policy import Policy

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)


def test_events_record_the_actor_and_os_user_of_the_block_they_are_triggered_in():
    with recording_at(NOW), acting_as("register", "clerk"):
        network = Network(network_id="N-1", name="N", themes=["t"], groups=["g"], founded_on=date(2026, 1, 1))
    with recording_at(NOW), acting_as("P-1", "nurse"):
        network.note_member("P-1")
    created, noted = network.collect_events()
    assert (created.actor, created.os_user, noted.actor, noted.os_user) == ("register", "clerk", "P-1", "nurse")
    assert list(vars(noted)) == ["originator_id", "originator_version", "timestamp", "professional_id", "actor", "os_user"]


def test_an_event_that_records_who_acted_needs_someone_acting():
    with pytest.raises(AssertionError, match="acting_as"):
        Network(network_id="N-1", name="N", themes=["t"], groups=["g"], founded_on=date(2026, 1, 1))
    assert not hasattr(Policy().collect_events()[0], "actor")  # an event without those fields needs nobody


class _Initials(Naming):
    def person(self, register_id: str) -> str:
        return register_id[:1]


def test_a_command_s_block_sets_the_instant_who_acted_and_the_naming_and_puts_back_what_was_there():
    outer, inner = Naming(), _Initials()
    later = NOW.astimezone(timezone(timedelta(hours=2))) + timedelta(days=1)  # given with an offset: kept in UTC
    with recording_at(NOW), acting_as("register", "clerk"):
        with carrying_out(later, "P-1", "nurse", inner):
            assert people_naming() is inner
            network = Network(network_id="N-1", name="N", themes=["t"], groups=["g"], founded_on=date(2026, 1, 1))
        assert people_naming() is not inner
        network.note_member("P-2")
    created, noted = network.collect_events()
    assert (created.timestamp, created.timestamp.tzinfo, created.actor, created.os_user) == (
        NOW + timedelta(days=1), timezone.utc, "P-1", "nurse")
    assert (noted.timestamp, noted.actor, noted.os_user) == (NOW, "register", "clerk")
    assert type(outer) is type(people_naming())
