"""The methods `dataclasses` writes, compiled once and kept beside the byte code (ledger/dataclass_code.py).

What is checked: a class made from kept code behaves as one made by the built-in `exec` (its
annotations too: the kept code must not take this module's `from __future__` flags); a damaged,
foreign or unwritable cache leaves every class compiled as before; nothing is written where byte
code may not be; and a new process that imports the application compiles nothing the last one did.
"""

from __future__ import annotations

import dataclasses
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger import dataclass_code
from ledger.dataclass_code import HEADER, CodeCache


def make(cache: CodeCache | None) -> type:
    """A frozen dataclass with a default and a typed field, made through `cache` (None: the built-in exec)."""
    installed = dataclasses.exec  # type: ignore[attr-defined]  # this process's cache, from `import ledger`
    dataclasses.exec = cache.exec if cache else exec  # type: ignore[attr-defined]
    try:
        return dataclasses.make_dataclass("Sample", [("name", str), ("points", int, dataclasses.field(default=3))],
                                          frozen=True)
    finally:
        dataclasses.exec = installed  # type: ignore[attr-defined]


def behaviour(cls: type) -> dict[str, Any]:
    one, same, other = cls("a"), cls("a"), cls("b", 5)
    try:
        one.name = "changed"
        frozen = False
    except dataclasses.FrozenInstanceError:
        frozen = True
    return {"repr": [repr(one), repr(other)], "eq": [one == same, one == other], "hash": hash(one) == hash(same),
            "frozen": frozen, "annotations": cls.__init__.__annotations__, "defaults": cls.__init__.__defaults__}


@pytest.fixture
def writable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def test_a_class_from_kept_code_behaves_as_one_compiled_by_exec(tmp_path: Path, writable: None) -> None:
    path = tmp_path / "code.marshal"
    first = CodeCache(path)
    made = behaviour(make(first))
    assert first.compiled == len(first.used) > 0
    first.save()
    assert path.read_bytes().startswith(HEADER)

    second = CodeCache(path)
    from_kept = behaviour(make(second))
    assert second.compiled == 0 and set(second.used) == set(first.used)
    expected = behaviour(make(None))
    assert made == from_kept == expected
    assert from_kept["annotations"] == {"name": str, "points": int, "return": None}  # types, not strings
    for text, code in second.used.items():
        # What the built-in exec compiles the text to, called from `dataclasses` (which has no __future__ flags).
        assert code == compile(text, "<string>", "exec", dont_inherit=True)


@pytest.mark.parametrize("content", [
    b"not a cache at all",
    HEADER + b"\xff\x00 damaged",
    b"\x00\x00\x0d\x0a" + marshal.dumps({}),  # another Python's magic number
    HEADER + marshal.dumps(["a list, not a dict"]),
    HEADER + marshal.dumps({"def f(): pass": "a string, not code"}),
], ids=["foreign", "damaged", "other-python", "not-a-dict", "not-code"])
def test_a_damaged_or_foreign_cache_is_set_aside_and_the_texts_compiled(
        content: bytes, tmp_path: Path, writable: None) -> None:
    path = tmp_path / "code.marshal"
    path.write_bytes(content)
    cache = CodeCache(path)
    assert behaviour(make(cache)) == behaviour(make(None))
    assert cache.compiled == len(cache.used) > 0
    cache.save()  # and replaced by a sound one
    assert CodeCache(path).load().keys() == cache.used.keys()


def test_nothing_is_written_where_byte_code_may_not_be(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cache = CodeCache(tmp_path / "code.marshal")
    make(cache)
    cache.save()
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_leaves_no_error_and_no_file(tmp_path: Path, writable: None) -> None:
    (tmp_path / "a-file").write_text("in the way of the folder")
    cache = CodeCache(tmp_path / "a-file" / "code.marshal")
    make(cache)
    cache.save()  # mkdir fails: the next process compiles again
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_past_the_limit_the_file_holds_only_what_the_last_process_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writable: None) -> None:
    path = tmp_path / "code.marshal"
    stale = {f"def __create_fn__():\n def f{i}(): pass\n return f{i}": compile("pass", "<string>", "exec")
             for i in range(5)}
    path.write_bytes(HEADER + marshal.dumps(stale))
    monkeypatch.setattr(dataclass_code, "LIMIT", 8)
    cache = CodeCache(path)
    make(cache)
    cache.save()
    assert CodeCache(path).load().keys() == cache.used.keys()


def test_exec_of_code_or_with_options_is_the_built_in_one(tmp_path: Path) -> None:
    cache = CodeCache(tmp_path / "code.marshal")
    namespace: dict[str, Any] = {}
    cache.exec(compile("x = 1", "<string>", "exec"), namespace)
    cache.exec("y = 2", namespace, None, closure=None)
    assert (namespace["x"], namespace["y"]) == (1, 2)
    assert cache.used == {} and cache.compiled == 0


CHILD = """
import dataclasses, json
import ledger.app  # the application: every aggregate's event classes
from ledger.dataclass_code import CodeCache, install
cache = dataclasses.exec.__self__
print(json.dumps({
    "installed": isinstance(cache, CodeCache) and install() is cache,  # a second install changes nothing
    "path": str(cache.path),
    "compiled": cache.compiled,
    "used": len(cache.used),
    "same_code": all(code == compile(text, "<string>", "exec") for text, code in cache.used.items()),
}))
"""


def run_child(prefix: Path, *, write: bool) -> dict[str, Any]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120,
                          check=True)
    return json.loads(done.stdout)


def test_a_new_process_compiles_nothing_the_last_one_compiled(tmp_path: Path) -> None:
    first = run_child(tmp_path, write=True)
    assert first["installed"] is True  # by `import ledger`
    assert Path(first["path"]).is_relative_to(tmp_path) and Path(first["path"]).is_file()
    assert first["used"] > 200  # the aggregates' event classes: about 400 methods, 240 different texts
    second = run_child(tmp_path, write=True)
    assert (second["compiled"], second["used"], second["same_code"]) == (0, first["used"], True)


def test_without_byte_code_nothing_is_kept_and_every_process_compiles(tmp_path: Path) -> None:
    first = run_child(tmp_path, write=False)
    assert not Path(first["path"]).exists()
    assert first["compiled"] == first["used"] > 200  # each text compiled once in the process
