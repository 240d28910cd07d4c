"""Rotating the register key (SPEC §9): `keys rewrap --new-key-file FILE` and `keys new-register-key FILE`.

The store of each test is made with the tests' shared register key (tests/conftest.py); each test
points STUDYLEDGER_KEY_FILE at a copy of it of its own, so that what it does to key files stays in
its folder.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.support.tampering import RawStore

DATA = Path(__file__).resolve().parents[1] / "data"
NAME, TEXT, STATEMENT = "Wilhelmina Quackenbush", "Asked about silver dressings", "She showed me her protocol"


@pytest.fixture
def old_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's copy of the register key its store was made with, named by STUDYLEDGER_KEY_FILE."""
    shared = os.environ.get("STUDYLEDGER_KEY_FILE")
    assert shared, "tests/conftest.py names the tests' register key"
    copy = tmp_path / "old.key"
    shutil.copyfile(shared, copy)
    os.chmod(copy, 0o600)
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(copy))
    monkeypatch.delenv("STUDYLEDGER_KEY", raising=False)
    return copy


@pytest.fixture
def register(old_key: Path, run: Any) -> Any:
    """Two nurses in one network, one claim of the first endorsed by the second, with a name and texts."""
    assert ok(run("professional", "register", "R-1", "--name", NAME, "--group", "nurse",
                  "--registered-on", "2024-01-01"))
    assert ok(run("professional", "register", "R-2", "--name", "Nurse Two", "--group", "nurse",
                  "--registered-on", "2024-01-01"))
    assert ok(run("network", "register", "wound-care", "--name", "Wondzorg", "--theme", "wound-care",
                  "--group", "nurse", "--founded-on", "2021-09-01"))
    for pid in ("R-1", "R-2"):
        assert ok(run("network", "join", "wound-care", pid, "--on", "2025-01-01"))
    assert ok(run("claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", "answer",
                  "--on", "2025-03-04", "--hours", "2", "--description", TEXT, "--outcome", "A new protocol",
                  "--request-id", "c-1"))
    assert ok(run("claim", "endorse", "c-1", "--by", "R-2", "--statement", STATEMENT))
    return run


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def one_sentence(result: Any, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip()


def new_key(run: Any, path: Path) -> Path:
    ok(run("keys", "new-register-key", str(path), db=None))
    return path


def stored(db_url: str) -> tuple[list[Any], list[Any]]:
    """The stored events and seals, byte for byte."""
    raw = RawStore(db_url)
    return raw.rows(), raw.seal_rows()


def wrapped(db_url: str) -> list[tuple[Any, ...]]:
    """The key store's wrapped keys, as stored."""
    raw = RawStore(db_url)
    return sorted(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in
                  raw.execute("SELECT name, value FROM studyledger_keyring")
                  + raw.execute("SELECT pseudonym, wrapped FROM studyledger_people"))


def test_after_a_rewrap_only_the_new_key_opens_the_store(register: Any, db_url: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch, old_key: Path) -> None:
    run = register
    shown = ok(run("--json", "claim", "show", "c-1")).json()
    digest = ok(run("audit", "digest")).stdout.strip()
    events_before, keys_before = stored(db_url), wrapped(db_url)
    fresh = new_key(run, tmp_path / "new.key")

    result = ok(run("keys", "rewrap", "--new-key-file", str(fresh)))
    assert result.stdout.startswith(f"Re-wrapped the keys of 2 people and the register's own with the key in {fresh}")
    assert f"put it in place of {old_key}" in result.stdout

    assert stored(db_url) == events_before  # no event written, none changed: the chain and digest stand
    after = wrapped(db_url)
    assert len(after) == len(keys_before) == 4 and not set(after) & set(keys_before)  # every key re-wrapped
    refused = one_sentence(run("balance", "R-1"), 4)
    assert refused.startswith(f"The register key from the key file {old_key} (STUDYLEDGER_KEY_FILE) does not open")

    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(fresh))
    assert ok(run("--json", "claim", "show", "c-1")).json() == shown
    assert shown["professional"] == "R-1" and shown["endorsements"][0]["statement"] == STATEMENT
    assert ok(run("--json", "audit", "history", "R-1")).json()["events"][0]["name"] == NAME
    assert ok(run("audit", "digest")).stdout.strip() == digest
    assert "the digest matches" in ok(run("audit", "verify", "--digest", digest)).stdout
    assert ok(run("projections", "rebuild"))
    assert ok(run("projections", "verify"))


def test_a_rewrap_can_follow_a_rewrap_and_new_people_get_the_new_key(register: Any, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run = register
    second, third = new_key(run, tmp_path / "second.key"), new_key(run, tmp_path / "third.key")
    ok(run("keys", "rewrap", "--new-key-file", str(second)))
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(second))
    ok(run("professional", "register", "R-3", "--name", "Nurse Three", "--group", "nurse"))
    assert "key of" not in ok(run("keys", "rewrap", "--new-key-file", str(third))).stdout  # three people now
    one_sentence(run("balance", "R-3"), 4)
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(third))
    assert ok(run("--json", "claim", "show", "c-1")).json()["endorsements"][0]["statement"] == STATEMENT
    assert ok(run("--json", "balance", "R-3")).json()["professional"] == "R-3"


def test_the_current_key_may_come_from_the_variable(register: Any, db_url: str, tmp_path: Path, old_key: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    run = register
    monkeypatch.delenv("STUDYLEDGER_KEY_FILE")
    monkeypatch.setenv("STUDYLEDGER_KEY", old_key.read_text().strip())
    fresh = new_key(run, tmp_path / "new.key")
    result = ok(run("--json", "keys", "rewrap", "--new-key-file", str(fresh))).json()
    assert result == {"status": "rewrapped", "people": 2, "key_file": str(fresh),
                      "old_key": "the variable STUDYLEDGER_KEY", "old_key_file": None,
                      "checkpointed": None if db_url.startswith("postgresql") else True}
    one_sentence(run("balance", "R-1"), 4)
    monkeypatch.setenv("STUDYLEDGER_KEY", fresh.read_text().strip())
    assert ok(run("--json", "balance", "R-1")).json()["professional"] == "R-1"


def test_on_sqlite_the_keys_wrapped_with_the_old_key_are_left_nowhere_in_the_files(register: Any, db_url: str,
                                                                                  tmp_path: Path) -> None:
    if db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL keeps dead tuples until VACUUM: the README says what that means")
    run = register
    old = [value for _, value in wrapped(db_url)]
    assert all(len(value) == 12 + 32 + 16 for value in old)  # nonce, key, tag: what a search must not find
    import sqlite3

    other = sqlite3.connect(db_url)  # another process's connection, idle: the last to close no longer
    try:                             # checkpoints and removes the write-ahead log
        other.execute("SELECT count(*) FROM stored_events").fetchone()
        ok(run("keys", "rewrap", "--new-key-file", str(new_key(run, tmp_path / "new.key"))))
        files = [Path(db_url), Path(db_url + "-wal")]
        content = b"".join(f.read_bytes() for f in files if f.exists())
    finally:
        other.close()
    assert [value for _, value in wrapped(db_url)][0] in content  # the search finds what is there…
    assert not [value for value in old if value in content]       # …and none of what was


BAD_KEYS = {
    "empty": b"",
    "too short": base64.b64encode(b"k" * 31) + b"\n",
    "too long": base64.b64encode(b"k" * 33),
    "not base64": b"this is not a key at all, but it is text\n",
    "binary": b"\xff\xfe" * 22,
}


@pytest.mark.parametrize("content", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_new_key_file_that_is_not_a_key_is_invalid_input(register: Any, db_url: str, tmp_path: Path,
                                                           content: bytes) -> None:
    run = register
    bad = tmp_path / "bad.key"
    bad.write_bytes(content)
    before = wrapped(db_url)
    message = one_sentence(run("keys", "rewrap", "--new-key-file", str(bad)), 2)
    assert message.startswith(f"Invalid input: --new-key-file {bad}")
    assert ("cannot read it (it is not text)" if content.startswith(b"\xff") else "must hold 32 bytes in base64") in message
    assert wrapped(db_url) == before
    ok(run("balance", "R-1"))  # the old key opens the store as before


def test_a_missing_new_key_file_or_the_key_in_use_is_invalid_input(register: Any, db_url: str, tmp_path: Path,
                                                                   old_key: Path) -> None:
    run = register
    before = wrapped(db_url)
    assert one_sentence(run("keys", "rewrap", "--new-key-file", str(tmp_path / "nowhere.key")), 2) == (
        f"Invalid input: --new-key-file {tmp_path / 'nowhere.key'}: there is no such file.")
    assert "it is a folder" in one_sentence(run("keys", "rewrap", "--new-key-file", str(tmp_path)), 2)
    same = tmp_path / "same.key"
    shutil.copyfile(old_key, same)
    assert "holds the key in use already" in one_sentence(run("keys", "rewrap", "--new-key-file", str(same)), 2)
    assert one_sentence(run("--json", "keys", "rewrap", "--new-key-file", str(same)), 2).startswith('{"error": ')
    assert wrapped(db_url) == before
    ok(run("balance", "R-1"))


def test_a_bad_new_key_file_is_named_before_the_store_is_opened(run: Any, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(tmp_path / "no-current.key"))
    one_sentence(run("balance", "R-1"), 4)  # the store cannot be opened…
    assert one_sentence(run("keys", "rewrap", "--new-key-file", str(tmp_path / "x")), 2).startswith(
        "Invalid input: --new-key-file")    # …but the input is refused first
    fresh = new_key(run, tmp_path / "new.key")
    assert "register key was not found" in one_sentence(run("keys", "rewrap", "--new-key-file", str(fresh)), 4)


def test_a_wrong_current_key_is_a_storage_failure_and_changes_nothing(register: Any, db_url: str, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run = register
    before = wrapped(db_url)
    other, fresh = new_key(run, tmp_path / "other.key"), new_key(run, tmp_path / "new.key")
    monkeypatch.setenv("STUDYLEDGER_KEY_FILE", str(other))
    assert "does not open this store" in one_sentence(run("keys", "rewrap", "--new-key-file", str(fresh)), 4)
    assert wrapped(db_url) == before


def test_a_store_made_before_encryption_has_no_register_key_to_rotate(tmp_path: Path, old_key: Path,
                                                                      run: Any) -> None:
    plain = tmp_path / "v1.sqlite"
    shutil.copyfile(DATA / "ledger-v1.sqlite", plain)
    before = stored(str(plain))
    fresh = new_key(run, tmp_path / "new.key")
    refused = one_sentence(run("keys", "rewrap", "--new-key-file", str(fresh), db=str(plain)), 1)
    assert "made before personal data were encrypted" in refused and "studyledger migrate OLD NEW" in refused
    assert RawStore(str(plain)).execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'studyledger_key%'") \
        == [(0,)]
    assert stored(str(plain)) == before


def test_a_new_register_key_is_private_random_and_never_overwrites(run: Any, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        first = new_key(run, tmp_path / "a.key")
        second = new_key(run, tmp_path / "b.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    keys = [base64.b64decode(p.read_text().strip(), validate=True) for p in (first, second)]
    assert [len(k) for k in keys] == [32, 32] and keys[0] != keys[1]

    content = first.read_bytes()
    assert one_sentence(run("keys", "new-register-key", str(first), db=None), 1) == (
        f"Refused: a file exists at {first} already; nothing was written.")
    assert first.read_bytes() == content
    missing = tmp_path / "no-such-folder" / "k.key"
    assert one_sentence(run("keys", "new-register-key", str(missing), db=None), 2) == (
        f"Invalid input: FILE {missing}: the folder does not exist.")
    assert not missing.parent.exists()
    assert ok(run("--json", "keys", "new-register-key", str(tmp_path / "c.key"), db=None)).json() == {
        "key_file": str(tmp_path / "c.key"), "status": "written"}
