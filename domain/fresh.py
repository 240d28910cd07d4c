"""Random bytes for the aggregates' random ids and the AES-GCM nonces of sealed texts."""

from __future__ import annotations

import os
import threading


class _Fresh:
    """Random bytes for random ids and AES-GCM nonces, read from the OS 4 KB at a time: a trip into the
    kernel for each id and each sealed text cost an import 3-4%. Never handed out twice: one thread
    at a time takes bytes, and a forked child forgets those its parent read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool, self._used = b"", 0

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._used + n > len(self._pool):
                self._pool, self._used = os.urandom(max(4096, n)), 0
            self._used += n
            return self._pool[self._used - n:self._used]


_FRESH = _Fresh()
os.register_at_fork(after_in_child=_FRESH.__init__)
fresh_bytes = _FRESH.take
