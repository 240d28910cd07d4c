"""Rotating the register key while another process has the store open (SPEC §9).

`keys rewrap` re-wraps every person's key in one transaction. A process that opened the store
with the old key and then enrols a person would wrap that person's key with the old key, which
nobody holds any more after the rotation: their data would be lost. Its enrolment is refused
instead (a conflict, exit 3: nothing written), and the same command succeeds with the new key.
"""

from __future__ import annotations

import base64
import os
from datetime import date

import pytest

from ledger.app import open_ledger
from storage.errors import Conflict, StorageFailure


def test_a_process_holding_the_old_key_cannot_enrol_after_a_rotation(ledger, store, clock, monkeypatch, tmp_path) -> None:
    old = ledger  # opened (and the store made) with the tests' register key
    old.register_professional(id="P-1", name="Before", group="nurse", registered_on=date(2024, 1, 1))
    new_key = os.urandom(32)
    rotating = open_ledger(store, clock=clock)
    assert rotating.people.rotate(new_key) == 1
    head = old.event_log.head()

    with pytest.raises(Conflict, match="rotated"):
        old.register_professional(id="P-2", name="After", group="nurse", registered_on=date(2024, 1, 1))
    assert old.event_log.head() == head  # nothing written

    with pytest.raises(StorageFailure, match="does not open"):
        open_ledger(store, clock=clock)  # the old key (the tests' key file) opens nothing now
    key_file = tmp_path / "new.key"
    key_file.write_text(base64.b64encode(new_key).decode())
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(key_file))
    fresh = open_ledger(store, clock=clock)
    fresh.register_professional(id="P-2", name="After", group="nurse", registered_on=date(2024, 1, 1))
    assert fresh.professional("P-1").name == "Before" and fresh.professional("P-2").name == "After"
