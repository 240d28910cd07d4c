"""Counting long work as it goes by, for a progress bar: pure, shared by the ledger's and the read side's checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def counted(items: Iterable[T], progress: Callable[[int], None] | None, every: int = 1000) -> Iterator[T]:
    """`items` as they are, telling `progress` how many went by, every `every` items and at the end."""
    if progress is None:
        yield from items
        return
    n = 0
    for item in items:
        yield item
        n += 1
        if n == every:
            progress(n)
            n = 0
    if n:
        progress(n)
