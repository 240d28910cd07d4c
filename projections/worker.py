"""`projections run`: follow the log and keep every read model caught up until told to stop.

On PostgreSQL the worker LISTENs on the channel the library's recorder NOTIFYs in every
transaction that inserts events, so it wakes as soon as a write commits; it still looks every
`interval` seconds in case a notification was lost with a dropped connection. SQLite has no
notifications: the worker looks every `interval` seconds (default 0.5 s). Each round is an
ordinary catch-up — pages committed with their positions — so a worker that is stopped or
killed resumes from where its last page ended.

The locks are taken per round, not for the worker's lifetime: a nightly `projections rebuild`
or a reader's own catch-up can run between rounds. A round that finds a projection locked
waits for the next one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from projections.runner import Busy
from projections.views import PROJECTIONS

if TYPE_CHECKING:
    from projections.runner import ReadModels

DEFAULT_INTERVAL = {"sqlite": 0.5, "postgresql": 10.0}
TICK = 0.2  # longest wait between looks at the stop flag, in seconds


def follow(
    models: ReadModels,
    stopped: Callable[[], bool],
    interval: float | None = None,
    report: Callable[[dict[str, Any]], None] = lambda _: None,
) -> int:
    """Catch up, then wait for new events and catch up again, until `stopped()`; return the position reached."""
    store = models.ledger.store
    interval = DEFAULT_INTERVAL[store.engine] if interval is None else interval
    names = list(PROJECTIONS)
    position = 0
    with _wakeups(models) as woken:
        due = 0.0
        while not stopped():
            if time.monotonic() >= due or woken():
                due = time.monotonic() + interval
                try:
                    with models.locked(names):
                        result = models.catch_up_locked(names, stopped=stopped)
                except Busy:
                    due = time.monotonic() + TICK  # a rebuild or a reader holds a lock: look again soon
                    continue
                position = result["head"]
                if any(result["applied"].values()):
                    report(result)
    return position


@contextmanager
def _wakeups(models: ReadModels) -> Iterator[Callable[[], bool]]:
    """A function that waits up to TICK for a sign of new events and says whether one came."""
    if models.ledger.store.engine == "sqlite":
        def nothing() -> bool:
            time.sleep(TICK)
            return False

        yield nothing
        return
    from psycopg import sql

    from ledger.app import postgres_connection

    with postgres_connection(models.ledger.store) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(models.ledger.recorder.channel_name)))

        def woken() -> bool:
            return any(True for _ in conn.notifies(timeout=TICK, stop_after=1))

        yield woken
