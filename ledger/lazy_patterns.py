"""marshmallow's e-mail patterns, compiled when first used rather than when marshmallow is imported.

`marshmallow.validate` compiles `Email`'s two patterns as it is imported. The domain pattern holds
the character range U+00A1–U+FFFF without regard to case, and the `re` module spends 25–30 ms
folding the case of every character in it: a tenth of a write's start from the shell (SPEC §7), for
a validator that no schema of this project uses. While that one module is executed, `re.compile`
gives a `LazyPattern`, which compiles the pattern with the same flags on the first use of one of
its public attributes (`match`, `pattern`…); `re.compile` is itself again as soon as the module
has run, or has failed to. Every other module, and every later call, compiles as before (another
thread compiling a pattern during those milliseconds gets a `LazyPattern` too, which answers alike).

`install()` is called by `ledger/__init__.py`, so that any process that imports the application
imports marshmallow this way; where marshmallow was imported before, nothing changes.
"""

from __future__ import annotations

import re
import sys
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType
from typing import Any

MODULE = "marshmallow.validate"
_compile = re.compile


class LazyPattern:
    """A pattern to compile, standing in for its compiled form until one of its attributes is asked."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: Any, flags: Any) -> None:
        self._pattern, self._flags, self._compiled = pattern, flags, None

    def compiled(self) -> re.Pattern[Any]:
        if self._compiled is None:
            self._compiled = _compile(self._pattern, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # as ABCMeta asks of each class attribute for `__isabstractmethod__`
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"LazyPattern({self._pattern!r}, {self._flags!r})"


class _Loader:
    """The module's own loader, running the module with `re.compile` deferred."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def __getattr__(self, name: str) -> Any:  # create_module, get_source…: the module's own loader's
        return getattr(self.loader, name)

    def exec_module(self, module: ModuleType) -> None:
        re.compile = LazyPattern  # type: ignore[assignment]
        try:
            self.loader.exec_module(module)
        finally:
            re.compile = _compile


class _Finder:
    """Finds `marshmallow.validate` as the import system would, and gives it the loader above."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != MODULE:
            return None
        spec = PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)  # type: ignore[assignment]
        return spec


def install() -> None:
    """Defer the patterns of `marshmallow.validate` if it is imported later; once per process."""
    if MODULE not in sys.modules and not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
