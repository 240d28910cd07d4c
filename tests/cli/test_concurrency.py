"""Eight processes submitting, endorsing and deciding on shared claims at once (SPEC §6).

SPEC §6 asks it of PostgreSQL; it runs on SQLite too, where the writers queue for the file.

Each child is a separate OS process with its own connections, running the real CLI. They
start each phase together (a barrier) and work on the same claims, so they collide:

1. each submits a claim of its own;
2. each endorses the seven other claims — eight writers on eight claims;
3. each tries to approve every claim — eight reviewers' CLIs deciding the same claims.

A command that exits 3 (a concurrent change) is retried, as the exit code invites; every
other outcome is final. A `projections run` worker follows the log throughout.

Shown: no lost update (every acknowledged endorsement is in the claim), every claim decided
exactly once (one approval acknowledged and one stored; the others refused with exit 1),
conflicts happened and each retried command then succeeded or was refused by a rule, and
the worker's read models equal a full rebuild row for row.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ledger.app import Ledger
from storage.config import resolve
from tests.support.children import EXE, Children
from tests.support.readmodels import Models

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(EXE is None, reason="the `studyledger` console script is not installed")]

PROCESSES = 8
TODAY = datetime.now(timezone.utc).date()  # the children run on the real clock
SINCE = (TODAY - timedelta(days=400)).isoformat()
ON = (TODAY - timedelta(days=30)).isoformat()
RETRIES = 50


def professional(i: int) -> str:
    return f"P-{i}"


def invoke(db: str, *args: str) -> tuple[int, str]:
    """One CLI command in this process: (exit code, stderr). A traceback fails the child."""
    from click.testing import CliRunner

    from cli.main import cli

    outcome = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert "Traceback" not in outcome.stderr, outcome.stderr
    return outcome.exit_code, outcome.stderr


def until_final(db: str, *args: str) -> dict[str, Any]:
    """Run a command, retrying while it exits 3: the codes seen, in order."""
    codes = []
    for _ in range(RETRIES):
        code, stderr = invoke(db, *args)
        codes.append(code)
        if code != 3:
            return {"args": args, "codes": codes, "stderr": stderr}
        assert "Safe to retry" in stderr or "retry" in stderr.lower(), stderr
    return {"args": args, "codes": codes, "stderr": "gave up"}


def child(db: str, i: int, barrier: Any, results: Any) -> None:
    done: list[dict[str, Any]] = []
    me = professional(i)
    barrier.wait()
    done.append(until_final(db, "claim", "submit", "--professional", me, "--network", "samen-leren", "--kind",
                            "answer", "--on", ON, "--hours", "2", "--description", "Vraag uit de klas",
                            "--outcome", "Nieuwe werkvorm", "--request-id", f"c-{i}"))
    barrier.wait()
    for j in range(1, PROCESSES + 1):
        if j != i:
            done.append(until_final(db, "claim", "endorse", f"c-{j}", "--by", me, "--statement", "Herkenbaar"))
    barrier.wait()
    reviewer = f"REV-{i % 2 + 1}"
    for k in range(PROCESSES):
        j = (i + k) % PROCESSES + 1  # each starts at a different claim, so they meet on every one
        done.append(until_final(db, "review", "approve", f"c-{j}", "--reviewer", reviewer, "--rationale", "Akkoord"))
    results.put((i, done))


def setup_register(db: str) -> None:
    steps = [
        ("init",),
        ("policy", "adopt", "--effective-from", SINCE, "--min-endorsements", "2"),
        ("reviewer", "appoint", "REV-1", "--name", "Reviewer Een", "--on", SINCE),
        ("reviewer", "appoint", "REV-2", "--name", "Reviewer Twee", "--on", SINCE),
        ("network", "register", "samen-leren", "--name", "Samen leren", "--theme", "didactiek",
         "--group", "teacher", "--founded-on", SINCE),
    ]
    for i in range(1, PROCESSES + 1):
        steps += [
            ("professional", "register", professional(i), "--name", f"Leraar {i}", "--group", "teacher",
             "--registered-on", SINCE),
            ("network", "join", "samen-leren", professional(i), "--on", SINCE),
        ]
    for step in steps:
        code, stderr = invoke(db, *step)
        assert code == 0, (step, stderr)


def test_eight_processes_on_shared_claims(db_url: str) -> None:
    db = db_url
    setup_register(db)
    children = Children()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    try:
        worker = children.start(db, "projections", "run")
        assert worker.stdout.readline().startswith("Following the log")
        procs = [context.Process(target=child, args=(db, i, barrier, results)) for i in range(1, PROCESSES + 1)]
        for proc in procs:
            proc.start()
        outcomes = dict(results.get(timeout=600) for _ in procs)
        for proc in procs:
            proc.join(60)
            assert proc.exitcode == 0

        commands = [c for done in outcomes.values() for c in done]
        conflicts = sum(c["codes"].count(3) for c in commands)
        print(f"{len(commands)} commands by {PROCESSES} processes, {conflicts} conflicts (exit 3) retried")
        assert conflicts > 0, "the processes never collided: the test showed nothing"
        for c in commands:
            final = c["codes"][-1]
            assert set(c["codes"][:-1]) <= {3}, c
            if c["args"][:2] == ("review", "approve"):
                assert final in (0, 1), c
                if final == 1:
                    assert "already" in c["stderr"] or "decided" in c["stderr"] or "approved" in c["stderr"], c
            else:
                assert final == 0, c

        approvals = {j: [c for c in commands if c["args"][:3] == ("review", "approve", f"c-{j}") and c["codes"][-1] == 0]
                     for j in range(1, PROCESSES + 1)}
        assert all(len(won) == 1 for won in approvals.values()), {j: len(w) for j, w in approvals.items()}

        stored = stored_facts(db)
        for j in range(1, PROCESSES + 1):
            claim = stored[f"c-{j}"]
            assert claim["approved"] == 1
            assert sorted(claim["endorsers"]) == sorted(professional(i) for i in range(1, PROCESSES + 1) if i != j)

        view = Models(resolve(db))
        try:
            deadline = time.monotonic() + 60
            while {p for _, p in view.state().values()} != {view.head()}:
                assert time.monotonic() < deadline, "the worker did not catch up"
                time.sleep(0.05)
            worker.send_signal(signal.SIGTERM)
            assert children.finish(worker).returncode == 0
            followed = view.snapshot()
            view.models.rebuild()
            rebuilt = view.snapshot()
        finally:
            view.close()
        assert followed == rebuilt
    finally:
        children.close()


def stored_facts(db: str) -> dict[str, dict[str, Any]]:
    """From the events themselves: per claim (by request id), its endorsers and how many approvals were stored."""
    ledger = Ledger(resolve(db))
    try:
        facts: dict[str, dict[str, Any]] = {}
        ids = {ledger.claim_id(f"c-{j}"): f"c-{j}" for j in range(1, PROCESSES + 1)}
        for event in ledger.event_log.all_events():
            ref = ids.get(event.originator_id)
            if ref is None:
                continue
            fact = facts.setdefault(ref, {"endorsers": [], "approved": 0})
            kind = type(event).__name__
            if kind == "Endorsed":
                fact["endorsers"].append(event.by)
            elif kind == "Approved":
                fact["approved"] += 1
        return facts
    finally:
        ledger.close()
