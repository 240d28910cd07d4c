"""Rule 8 on a store written before rule 8 (tests/data/ledger-v1.sqlite).

Its memberships, networks, professionals and reviewers never noted the claims, members and
decisions that rely on them: for those aggregates the ledger searches the log instead
(`Ledger._logged`). Each back-dated fact that would contradict the old history is refused, as
on a new store, and nothing is written.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger.app import open_ledger
from storage.config import resolve
from tests.support.harness import Clock, count_events

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def old(tmp_path: Path) -> Path:
    copy = tmp_path / "ledger-v1.sqlite"
    shutil.copy(DATA / "ledger-v1.sqlite", copy)  # never the committed file itself
    return copy


def refused(db: Path, *args: str, error: str) -> str:
    before = count_events(resolve(str(db)))
    factory = functools.partial(open_ledger, clock=Clock(), os_user="tester")
    outcome = CliRunner().invoke(cli, ["--db", str(db), *args], obj=factory, catch_exceptions=False)
    assert outcome.exit_code == 1, (outcome.stdout, outcome.stderr)
    assert outcome.stderr.startswith(f"Refused (rule 8, {error}): "), outcome.stderr
    assert count_events(resolve(str(db))) == before
    return outcome.stderr


def test_a_leave_before_an_old_approved_claim_is_refused(old: Path) -> None:
    # N-1 claimed an answer in wondzorg on 2024-03-04 (approved) and endorsed N-2's and N-3's claims
    refused(old, "network", "leave", "wondzorg", "N-1", "--on", "2024-03-01", error="LeaveContradictsClaims")


def test_a_leave_before_an_old_endorsement_is_refused(old: Path) -> None:
    # N-3 endorsed N-1's facilitation in diabetes (revoked: not live) and claimed in wondzorg only;
    # in wondzorg N-3's co-construction of 2024-05-02 was approved
    refused(old, "network", "leave", "wondzorg", "N-3", "--on", "2024-05-01", error="LeaveContradictsClaims")


def test_closing_a_network_before_its_old_claims_is_refused(old: Path) -> None:
    refused(old, "network", "close", "wondzorg", "--on", "2024-05-01", error="CloseContradictsClaims")


def test_deregistering_before_an_old_claim_is_refused(old: Path) -> None:
    # N-3's question of 2024-08-01 is still submitted
    refused(old, "professional", "deregister", "N-3", "--on", "2024-07-31", error="DeregistrationContradictsClaims")


def test_retiring_a_reviewer_before_their_old_decisions_is_refused(old: Path) -> None:
    # R-1 decided on 2025-03-03, the day the old store was written
    refused(old, "reviewer", "retire", "R-1", "--on", "2025-03-02", error="RetirementContradictsDecisions")
