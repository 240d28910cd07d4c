"""The methods that `dataclasses` writes for each event class, compiled once rather than in every process.

The library makes every domain event class a frozen dataclass, and `dataclasses` writes the source
of each class's `__init__`, `__repr__`, `__eq__`, `__setattr__`, `__delattr__` and `__hash__` and
compiles it as the class is made: about 400 small functions for the aggregates' event classes,
25–30 ms of every write's start from the shell (SPEC §7), spent compiling the same texts again.

`install()` gives the `dataclasses` module an `exec` of its own (a module global that stands before
the built-in one there; it calls nothing else). Given a text, it runs the code object that text
compiled to before, compiling it now only if no earlier process did: `compile` with the same
file name, flags and optimisation level as the built-in `exec` uses, so the code is the same. The
code objects are kept beside the package's byte code (the `__pycache__` folder, or
`PYTHONPYCACHEPREFIX`'s), keyed by their full text, under the interpreter's magic number: a file of
another Python, a damaged or a foreign one is set aside and the texts compiled as before. Like
Python's own `.pyc` files, it is written (when a process has compiled something new, as it ends)
only where byte code may be written, never when `PYTHONDONTWRITEBYTECODE` is set, and a folder
that cannot be written leaves every process compiling as before.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import marshal
import os
import sys
from importlib.util import MAGIC_NUMBER, cache_from_source
from pathlib import Path
from types import CodeType
from typing import Any

LIMIT = 4096  # texts kept at most; past it, the file holds only what the last process used
HEADER = MAGIC_NUMBER + bytes([sys.flags.optimize])


class CodeCache:
    """Code objects by the text they were compiled from, read from `path` on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stored: dict[str, CodeType] | None = None
        self.used: dict[str, CodeType] = {}
        self.compiled = 0

    def load(self) -> dict[str, CodeType]:
        try:
            data = self.path.read_bytes()
            stored = marshal.loads(data[len(HEADER):]) if data.startswith(HEADER) else {}
        except (OSError, ValueError, EOFError, TypeError):
            stored = {}
        if not isinstance(stored, dict) or not all(
            isinstance(text, str) and isinstance(code, CodeType) for text, code in stored.items()
        ):
            stored = {}
        return stored

    def code(self, text: str) -> CodeType:
        if self.stored is None:
            self.stored = self.load()
        code = self.used.get(text) or self.stored.get(text)  # many classes share a text (`__setattr__`…)
        if code is None:
            # As the built-in exec compiles a text: no flags of this module's (its __future__ imports).
            code = compile(text, "<string>", "exec", dont_inherit=True)
            self.compiled += 1
        self.used[text] = code
        return code

    def exec(self, source: Any, globals: Any = None, locals: Any = None, /, **options: Any) -> None:
        if isinstance(source, str) and not options:
            source = self.code(source)
        builtins.exec(source, globals, locals, **options)

    def save(self) -> None:
        """Write what this process compiled, beside what was stored, if it compiled anything."""
        if not self.compiled or sys.dont_write_bytecode:
            return
        texts = {**(self.stored or {}), **self.used}
        if len(texts) > LIMIT:
            texts = dict(self.used)
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(HEADER + marshal.dumps(texts))
            os.replace(temporary, self.path)  # readers see the old file or the new one, never half of one
        except OSError:  # a folder that cannot be written (or a full disk): the next process compiles again
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)


def default_path() -> Path:
    return Path(cache_from_source(__file__)).with_suffix(".marshal")


def install() -> CodeCache:
    """Give `dataclasses` the caching `exec`; once per process (a later call returns the same cache)."""
    current = getattr(dataclasses, "exec", None)
    if current is not None and isinstance(getattr(current, "__self__", None), CodeCache):
        return current.__self__
    cache = CodeCache(default_path())
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]
    atexit.register(cache.save)
    return cache
