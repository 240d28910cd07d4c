"""SPEC §2, the two time axes, through the CLI on SQLite and PostgreSQL.

`--at D` is the activity (valid) date: a posting counts when its activity date is ≤ D, a
membership covers D when it was joined on or before D and not left on or before D.
`--known-at T` is the recording time: only what was recorded at or before T counts.

Every command runs at its own recording instant: the test clock moves a day between
commands, and each test keeps the instants it needs from `clock.now`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.support.snapshots import Snapshots

ACTIVITY = "2026-06-01"  # before the clock's first day, 2026-06-15
DAY_BEFORE_ACTIVITY = "2026-05-31"
AFTER_ACTIVITY = "2026-06-10"  # after the activity, before any decision is recorded


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


def z(instant: datetime) -> str:
    """An instant as ISO 8601 in UTC, written with Z."""
    return instant.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class Register:
    """The CLI of one test's store, with the clock moving a day before each command."""

    def __init__(self, run: Any, clock: Any):
        self.run = run
        self.clock = clock

    def write(self, *args: str) -> datetime:
        """Run a write command one day after the previous one; its recording instant."""
        self.clock.tick(days=1)
        ok(self.run(*args))
        return self.clock.now

    def json(self, *args: str) -> Any:
        return ok(self.run("--json", *args)).json()

    def total(self, professional: str, *options: str) -> str:
        return self.json("balance", professional, *options)["total"]

    def members(self, network: str, *options: str) -> list[str]:
        return self.json("network", "members", network, *options)["members"]

    def setup(self) -> None:
        """P-1 and P-2 in network N (joined 2025-01-01), reviewer V-1."""
        self.write("professional", "register", "P-1", "--name", "Pia", "--group", "nurse", "--registered-on", "2024-01-01")
        self.write("professional", "register", "P-2", "--name", "Piet", "--group", "nurse", "--registered-on", "2024-01-01")
        self.write("reviewer", "appoint", "V-1", "--name", "Vera", "--on", "2024-01-01")
        self.write("network", "register", "N", "--name", "Net", "--theme", "wound-care", "--group", "nurse",
                   "--founded-on", "2020-01-01")
        self.write("network", "join", "N", "P-1", "--on", "2025-01-01")
        self.write("network", "join", "N", "P-2", "--on", "2025-01-01")

    def endorsed_claim(self, on: str = ACTIVITY, hours: str = "3") -> str:
        """An answer claim by P-1 on `on`, endorsed by P-2: ready for a decision."""
        self.clock.tick(days=1)
        claim = ok(self.run("claim", "submit", "--professional", "P-1", "--network", "N", "--kind", "answer",
                            "--on", on, "--hours", hours, "--description", "Advised on a wound",
                            "--outcome", "A protocol")).stdout.strip()
        self.write("claim", "endorse", claim, "--by", "P-2", "--statement", "I was there")
        return claim

    def approve(self, claim: str, points: str) -> datetime:
        return self.write("review", "approve", claim, "--reviewer", "V-1", "--points", points, "--rationale", "Good")

    def revoke(self, claim: str) -> datetime:
        return self.write("review", "revoke", claim, "--reviewer", "V-1", "--reason", "Counted twice")


@pytest.fixture
def reg(run: Any, clock: Any, db_url: str, tmp_path: Path, snapshots: Snapshots) -> Register:
    """P-1, P-2, N and V-1 (`Register.setup`): written by the first test of each engine, a copy of
    it (its clock too) for the others. The tests that look at the setup's own instants write it."""
    register = Register(run, clock)
    snapshots.register("time-axes", db_url, clock, register.setup, tmp_path)
    return register


# --- balance: activity date and recording instant ------------------------------------


def test_approval_recorded_after_the_date_counts_for_an_earlier_activity(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")
    assert approved_at.date().isoformat() > AFTER_ACTIVITY  # recorded after D…
    assert reg.total("P-1", "--at", AFTER_ACTIVITY) == "3"  # …and still counted for D


def test_known_at_before_the_approval_was_recorded_leaves_it_out(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(approved_at - timedelta(seconds=1))) == "0"
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(approved_at - timedelta(microseconds=1))) == "0"


def test_known_at_the_approval_instant_itself_counts_it(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(approved_at)) == "3"


def test_known_at_given_as_a_date_means_the_whole_of_that_day(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")  # recorded at noon UTC
    day = approved_at.date()
    assert reg.total("P-1", "--known-at", day.isoformat()) == "3"
    assert reg.total("P-1", "--known-at", (day - timedelta(days=1)).isoformat()) == "0"
    known_at = reg.json("balance", "P-1", "--known-at", day.isoformat())["known_at"]
    assert known_at == f"{day.isoformat()}T23:59:59.999999+00:00"


def test_known_at_echoes_the_instant_asked_for(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")
    shown = reg.json("balance", "P-1", "--at", AFTER_ACTIVITY, "--known-at", z(approved_at))
    assert datetime.fromisoformat(shown["known_at"]) == approved_at
    assert shown["at"] == AFTER_ACTIVITY


def test_known_at_in_another_time_zone_means_the_same_instant(reg: Register) -> None:
    approved_at = reg.approve(reg.endorsed_claim(), "3")
    before = (approved_at - timedelta(microseconds=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    at = approved_at.astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", before) == "0"
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", at) == "3"


def test_revocation_lowers_the_corrected_balance(reg: Register) -> None:
    kept = reg.endorsed_claim(hours="2")
    reg.approve(kept, "2")
    revoked = reg.endorsed_claim()
    reg.approve(revoked, "3")
    assert reg.total("P-1", "--at", AFTER_ACTIVITY) == "5"
    reg.revoke(revoked)
    assert reg.total("P-1", "--at", AFTER_ACTIVITY) == "2"


def test_known_at_before_the_revocation_keeps_the_figure_as_it_was(reg: Register) -> None:
    kept = reg.endorsed_claim(hours="2")
    reg.approve(kept, "2")
    revoked = reg.endorsed_claim()
    approved_at = reg.approve(revoked, "3")
    revoked_at = reg.revoke(revoked)
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(revoked_at - timedelta(microseconds=1))) == "5"
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(approved_at - timedelta(microseconds=1))) == "2"
    assert reg.total("P-1", "--at", AFTER_ACTIVITY, "--known-at", z(revoked_at)) == "2"


def test_revocation_is_shown_by_kind_network_and_theme_too(reg: Register) -> None:
    claim = reg.endorsed_claim()
    reg.approve(claim, "3")
    revoked_at = reg.revoke(claim)
    before = reg.json("balance", "P-1", "--at", AFTER_ACTIVITY, "--known-at", z(revoked_at - timedelta(seconds=1)))
    after = reg.json("balance", "P-1", "--at", AFTER_ACTIVITY)
    assert (before["by_kind"], before["by_network"], before["by_theme"]) == ({"answer": "3"}, {"N": "3"}, {"wound-care": "3"})
    assert after["by_kind"].get("answer", "0") == "0"
    assert after["by_network"].get("N", "0") == "0"
    assert after["by_theme"].get("wound-care", "0") == "0"


def test_the_activity_day_itself_counts(reg: Register) -> None:
    reg.approve(reg.endorsed_claim(), "3")
    assert reg.total("P-1", "--at", ACTIVITY) == "3"


def test_the_day_before_the_activity_does_not_count(reg: Register) -> None:
    reg.approve(reg.endorsed_claim(), "3")
    assert reg.total("P-1", "--at", DAY_BEFORE_ACTIVITY) == "0"


def test_the_last_day_of_the_calendar_counts_every_activity(reg: Register) -> None:
    reg.approve(reg.endorsed_claim(), "3")
    shown = reg.json("balance", "P-1", "--at", "9999-12-31")
    assert shown["total"] == "3"
    assert shown["cycle"]["end"] == "9999-12-31"  # the cycle that would run past the calendar ends with it


def test_the_first_day_of_the_calendar_counts_nothing(reg: Register) -> None:
    reg.approve(reg.endorsed_claim(), "3")
    assert reg.total("P-1", "--at", "0001-01-01") == "0"


def test_human_output_shows_the_known_at_instant_asked_for(reg: Register) -> None:
    for asked in ("2026-06-20T14:00:00+02:00", "2026-06-20T12:00:00Z", "2026-06-20T07:30:00-04:30"):
        shown = ok(reg.run("balance", "P-1", "--known-at", asked)).stdout
        found = re.search(r"as known at (\S+)\)", shown)
        assert found, shown
        assert datetime.fromisoformat(found.group(1)) == datetime.fromisoformat(asked), (asked, shown)


def test_human_output_shows_the_default_known_at_as_now_in_utc(reg: Register) -> None:
    shown = ok(reg.run("balance", "P-1")).stdout
    assert f"as known at {reg.clock.now:%Y-%m-%dT%H:%M:%S}Z)" in shown


def test_known_at_before_the_registration_was_recorded_shows_no_cycle(run: Any, clock: Any) -> None:
    reg = Register(run, clock)
    before = clock.now
    reg.write("professional", "register", "P-1", "--name", "Pia", "--group", "nurse", "--registered-on", "2024-01-01")
    assert reg.json("balance", "P-1", "--known-at", z(before))["cycle"] is None
    assert reg.json("balance", "P-1")["cycle"]["start"] == "2024-01-01"


# --- network members: the membership's dates and when they were recorded --------------


def test_membership_left_on_a_date_does_not_cover_that_date(reg: Register) -> None:
    reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    assert reg.members("N", "--at", "2025-03-10") == ["P-2"]


def test_membership_left_on_a_date_covers_the_day_before(reg: Register) -> None:
    reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    assert reg.members("N", "--at", "2025-03-09") == ["P-1", "P-2"]


def test_membership_covers_its_joining_day_but_not_the_day_before(reg: Register) -> None:
    assert reg.members("N", "--at", "2025-01-01") == ["P-1", "P-2"]
    assert reg.members("N", "--at", "2024-12-31") == []


def test_leaving_and_rejoining_leaves_a_gap(reg: Register) -> None:
    reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    reg.write("network", "join", "N", "P-1", "--on", "2025-05-01")
    assert reg.members("N", "--at", "2025-03-09") == ["P-1", "P-2"]
    assert reg.members("N", "--at", "2025-03-10") == ["P-2"]
    assert reg.members("N", "--at", "2025-04-30") == ["P-2"]
    assert reg.members("N", "--at", "2025-05-01") == ["P-1", "P-2"]
    assert reg.members("N", "--at", "2026-01-01") == ["P-1", "P-2"]


def test_rejoining_on_the_day_of_leaving_covers_that_day(reg: Register) -> None:
    reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    reg.write("network", "join", "N", "P-1", "--on", "2025-03-10")
    assert reg.members("N", "--at", "2025-03-10") == ["P-1", "P-2"]


def test_known_at_before_the_leave_was_recorded_still_shows_the_member(reg: Register) -> None:
    left_at = reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    assert reg.members("N", "--at", "2025-06-01", "--known-at", z(left_at - timedelta(microseconds=1))) == ["P-1", "P-2"]
    assert reg.members("N", "--at", "2025-06-01", "--known-at", z(left_at)) == ["P-2"]


def test_known_at_between_leave_and_rejoin_shows_the_gap_without_the_rejoin(reg: Register) -> None:
    reg.write("network", "leave", "N", "P-1", "--on", "2025-03-10")
    rejoined_at = reg.write("network", "join", "N", "P-1", "--on", "2025-05-01")
    assert reg.members("N", "--at", "2025-06-01", "--known-at", z(rejoined_at - timedelta(seconds=1))) == ["P-2"]
    assert reg.members("N", "--at", "2025-06-01") == ["P-1", "P-2"]


def test_known_at_before_the_join_was_recorded_shows_no_member(run: Any, clock: Any) -> None:
    reg = Register(run, clock)
    reg.write("professional", "register", "P-1", "--name", "Pia", "--group", "nurse", "--registered-on", "2024-01-01")
    reg.write("network", "register", "N", "--name", "Net", "--theme", "t", "--group", "nurse", "--founded-on", "2020-01-01")
    joined_at = reg.write("network", "join", "N", "P-1", "--on", "2025-01-01")
    assert reg.members("N", "--at", "2025-06-01", "--known-at", z(joined_at - timedelta(microseconds=1))) == []
    assert reg.members("N", "--at", "2025-06-01", "--known-at", z(joined_at)) == ["P-1"]


def test_members_output_names_the_network_and_both_times(reg: Register) -> None:
    known = reg.clock.now
    shown = reg.json("network", "members", "N", "--at", "2025-06-01", "--known-at", z(known))
    assert shown["network"] == "N"
    assert shown["at"] == "2025-06-01"
    assert datetime.fromisoformat(shown["known_at"]) == known
