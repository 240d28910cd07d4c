"""`projections run`: the long-running worker, as an operator runs it (a separate process).

It must apply new events soon after they are written (NOTIFY on PostgreSQL, polling on
SQLite), stop cleanly on SIGTERM with its position committed, resume from there, and step
aside while another process holds a projection's lock. The latency is printed, not asserted
(SPEC §7); the tests only bound how long they wait.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from storage.config import resolve
from storage.errors import Busy
from tests.support.children import EXE, Children
from tests.support.readmodels import Models

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(EXE is None, reason="the `studyledger` console script is not installed")]

WAIT = 30  # seconds the test waits for the worker before it fails


@pytest.fixture
def models(db_url: str, run) -> Iterator[Models]:  # `run` initialises the store
    view = Models(resolve(db_url))
    yield view
    view.close()


def positions(models: Models) -> set[int]:
    return {position for _, position in models.state().values()}


def wait_until(condition, timeout: float = WAIT) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"the worker did not get there within {timeout}s")
        time.sleep(0.02)
    return time.monotonic() - started


def register(run, pid: str) -> None:
    done = run("professional", "register", pid, "--name", "Anna de Vries", "--group", "teacher",
               "--registered-on", "2025-01-01")
    assert done.exit_code == 0, done.stderr


def start(children: Children, db_url: str):
    """A worker that has set up its signal handlers (it says so on its first line)."""
    worker = children.start(db_url, "projections", "run")
    assert worker.stdout.readline().startswith("Following the log"), worker.stderr.read()
    return worker


def stop(children: Children, worker) -> tuple[int, str, str]:
    worker.send_signal(signal.SIGTERM)
    done = children.finish(worker)
    return done.returncode, done.stdout, done.stderr


def test_worker_follows_the_log_and_stops_cleanly_on_sigterm(run, db_url: str, models: Models,
                                                            children: Children) -> None:
    register(run, "P-1")
    worker = start(children, db_url)
    wait_until(lambda: models.state() and positions(models) == {models.head()})

    latencies = []
    for n in range(2, 5):
        register(run, f"P-{n}")
        head = models.head()
        latencies.append(wait_until(lambda: positions(models) == {head}))
    print(f"worker latency on {models.store.engine}: {', '.join(f'{s * 1000:.0f} ms' for s in latencies)}")

    code, out, err = stop(children, worker)
    assert code == 0, err
    assert "Traceback" not in err
    assert out.strip().splitlines()[-1] == f"Stopped at event {models.head()}."
    assert "Anna" not in out + err  # the worker's log never carries personal data


def test_a_stopped_worker_resumes_from_its_position(run, db_url: str, models: Models, children: Children) -> None:
    register(run, "P-1")
    worker = start(children, db_url)
    wait_until(lambda: models.state() and positions(models) == {models.head()})
    assert stop(children, worker)[0] == 0
    stopped_at = models.head()

    for n in range(2, 6):
        register(run, f"P-{n}")
    assert positions(models) == {stopped_at}  # nobody caught up in between

    worker = start(children, db_url)
    wait_until(lambda: positions(models) == {models.head()})
    code, out, _ = stop(children, worker)
    assert code == 0
    # four registrations (their ids guarded against case variants by the key store, SPEC §9)
    assert f"Caught up to event {models.head()} (balances +4, memberships +4, claims +4)." in out


def between_rounds(models: Models, name: str) -> ExitStack:
    """The projection's lock, taken between two of the worker's rounds: it holds the lock during
    each, and a rebuild started then is refused (exit 3), so under load the first try may be too."""
    deadline = time.monotonic() + 20
    while True:
        held = ExitStack()
        try:
            held.enter_context(models.models.exclusive(name))
            return held
        except Busy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_the_worker_waits_while_another_process_holds_a_lock(run, db_url: str, models: Models,
                                                            children: Children) -> None:
    register(run, "P-1")
    worker = start(children, db_url)
    wait_until(lambda: models.state() and positions(models) == {models.head()})
    before = models.head()
    with between_rounds(models, "balances"):  # as a rebuild would
        register(run, "P-2")
        time.sleep(2)  # several of the worker's rounds
        assert models.state()["balances"][1] == before
        assert worker.poll() is None  # still running: a held lock is not a reason to stop
    wait_until(lambda: positions(models) == {models.head()})
    assert stop(children, worker)[0] == 0


def test_a_second_worker_is_harmless(run, db_url: str, models: Models, children: Children) -> None:
    register(run, "P-1")
    first = start(children, db_url)
    second = start(children, db_url)
    for n in range(2, 8):
        register(run, f"P-{n}")
    wait_until(lambda: models.state() and positions(models) == {models.head()})
    assert stop(children, first)[0] == 0
    assert stop(children, second)[0] == 0
    done = children.run(db_url, "projections", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("interval", ["nan", "0", "-1", "inf", "soon"])
def test_an_interval_that_is_not_a_positive_number_of_seconds_is_refused(run, interval: str) -> None:
    done = run("projections", "run", "--interval", interval)
    assert done.exit_code == 2, done.stderr
    assert "--interval" in done.stderr and len(done.stderr.strip().splitlines()) == 1
