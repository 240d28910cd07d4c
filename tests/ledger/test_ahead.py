"""A long import's lines parsed ahead in a second process (ledger.ahead) mean what they mean when
parsed in the importing process: the same commands, in the same order, under the same line numbers;
the first bad line stops the import with the same message after the lines before it; a rule broken
by a line parsed ahead, or the parser dying, leaves the store as it was and no process behind.

The thresholds are set low here, so that a few dozen lines cross every boundary: the lines parsed
here first, those parsed here while the parser starts, the first chunk sent and later ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import lines as generated
from domain.errors import DomainError
from ledger import ahead
from ledger.app import open_ledger
from ledger.errors import InvalidInput
from ledger.importer import import_lines, parse_line
from ledger.requests import fingerprint
from storage.config import resolve
from tests.support.children import helpers
from tests.support.harness import count_events

pytestmark = pytest.mark.processes

HERE, MEANWHILE, CHUNK = 4, 3, 5  # lines 1-4 parsed here, 5-7 here while the parser starts, then chunks of 5


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ahead, "AHEAD_AFTER", HERE)
    monkeypatch.setattr(ahead, "MEANWHILE", MEANWHILE)
    monkeypatch.setattr(ahead, "CHUNK", CHUNK)


def register(count: int = 40) -> list[str]:
    """Lines of a generated register, with blank lines among them (they keep their numbers)."""
    found = [json.dumps(line) for line in generated(count * 3, 3)][:count]
    for at in (2, 9, 17):
        found.insert(at, "   ")
    return found


def here(lines: list[str]) -> list[tuple[int, Any]]:
    return [(n, parse_line(n, line)) for n, line in enumerate(lines, start=1) if line.strip()]


def parsers() -> list[int]:
    """The import parser processes this process has running."""
    return helpers(b"ledger.ahead")


def test_lines_parsed_ahead_are_the_commands_parsed_here() -> None:
    lines = register()
    assert len(lines) > HERE + MEANWHILE + 3 * CHUNK
    commands = list(ahead.parsed(lines, parse_line))
    assert commands == here(lines)
    assert [type(c) for _, c in commands] == [type(c) for _, c in here(lines)]
    assert parsers() == []


def test_commands_with_a_request_id_come_with_the_fingerprint_of_what_they_ask() -> None:
    """Worked out where the line is parsed (in the parser process for most lines) and pickled along: the
    importing process finds it in the command and does not work it out again."""
    commands = list(ahead.parsed(register(), parse_line))
    keyed = [command for _, command in commands if command.request_id is not None]
    assert len(keyed) >= 3 and any(n > HERE + MEANWHILE for n, c in commands if c.request_id is not None)
    for command in keyed:
        assert vars(command)["fingerprint"] == fingerprint(command.path, command.content())
    assert all("fingerprint" not in vars(command) for _, command in commands if command.request_id is None)


@pytest.mark.parametrize("at", [1, HERE + 2, HERE + MEANWHILE + 1, HERE + MEANWHILE + CHUNK + 3, 44])  # 44: the last
def test_the_first_bad_line_stops_after_the_lines_before_it(at: int) -> None:
    lines = register()
    assert len(lines) == 43
    lines.insert(at - 1, '{"command": "network join", "network": "n", "professional": "P 1", "on": "2025-01-01"}')
    lines.insert(at + 1, '{"command": "claim delete"}')  # a later bad line is never reached
    with pytest.raises(InvalidInput) as here_refused:
        parse_line(at, lines[at - 1])
    taken: list[tuple[int, Any]] = []
    with pytest.raises(InvalidInput) as refused:
        for pair in ahead.parsed(lines, parse_line):
            taken.append(pair)
    assert str(refused.value) == str(here_refused.value)
    assert str(refused.value).startswith(f"Line {at} (network join): ")
    assert taken == here(lines[:at - 1])
    assert parsers() == []


def test_a_rule_broken_by_a_line_parsed_ahead_writes_nothing(ledger: Any, store: Any) -> None:
    lines = register()
    events = count_events(store)
    lines.insert(30, next(line for line in lines if '"professional register"' in line))  # again: rule 1
    with pytest.raises(DomainError) as raised:
        import_lines(ledger, lines)
    assert raised.value.message.startswith("Line 31 (professional register): ")
    assert count_events(store) == events
    assert parsers() == []


def test_a_parser_that_dies_fails_the_import_and_writes_nothing(ledger: Any, store: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    take, answers = ahead._take, 0

    def dying(parser: Any) -> Any:  # the parser is killed before its second answer is read
        nonlocal answers
        answers += 1
        if answers == 2:
            parser.kill()
            parser.wait()
        return take(parser)

    monkeypatch.setattr(ahead, "_take", dying)
    with pytest.raises(RuntimeError, match="parser process ended"):
        import_lines(ledger, register())
    assert count_events(store) == 0
    assert parsers() == []


def test_an_import_through_the_parser_writes_what_one_without_it_writes(ledger: Any, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lines = register()
    through = import_lines(ledger, lines)
    monkeypatch.setattr(ahead, "AHEAD_AFTER", 10**9)
    without = open_ledger(resolve(str(tmp_path / "without.db")), create=True)
    assert import_lines(without, lines) == through
    assert through["commands"] == len(here(lines))
    assert topics(without) == topics(ledger)
    without.close()


def topics(ledger: Any) -> list[str]:
    return [n.topic for n in ledger.recorder.select_notifications(start=1, limit=100_000)]


def test_the_cli_names_a_bad_line_parsed_ahead(run: Any, store: Any, tmp_path: Path) -> None:
    lines = register()
    lines.insert(24, '{"command": "claim submit", "professional": "P-1"}')
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("import", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("Line 25 (claim submit): Invalid input: network is required;")
    assert result.stderr.count("\n") == 1  # one sentence, no traceback
    assert count_events(store) == 0


def test_the_parser_gets_no_key_and_nothing_from_the_current_folder(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("STUDYLEDGER_KEY", "the-register-key-itself")
    monkeypatch.setenv("PGPASSWORD", "the-database-password")
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "__init__.py").write_text("raise SystemExit(7)\n")  # not our ledger
    monkeypatch.chdir(tmp_path)
    environments: list[bytes] = []
    take = ahead._take

    def watching(parser: Any) -> Any:
        environments.append(Path(f"/proc/{parser.pid}/environ").read_bytes())
        return take(parser)

    monkeypatch.setattr(ahead, "_take", watching)
    lines = register()
    assert list(ahead.parsed(lines, parse_line)) == here(lines)
    assert environments
    assert all(b"the-register-key-itself" not in e and b"the-database-password" not in e for e in environments)


def test_without_a_second_process_every_line_is_parsed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(ahead.subprocess, "Popen", refused)
    lines = register()
    assert list(ahead.parsed(lines, parse_line)) == here(lines)
