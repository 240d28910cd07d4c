"""Writers killed at random moments lose no acknowledged command (SPEC §7 "Nothing lost").

A child process opens the ledger and carries out write commands in a loop, through the
Ledger application as the CLI does (each line validated by the command's schema, storage
errors turned into the ledger's): claim submit, endorse, approve / reject / return, revoke,
and every fourth round an `import` of a batch of claims. Every command has a --request-id;
after a command returns, the child writes its request ids (and the result) as one line on a
pipe and flushes it — that line is the acknowledgement. The parent SIGKILLs the child at a
seeded random moment once it is writing, KILLS times per engine (a fresh child each time),
and runs a projections catch-up half-way through.

Then: every acknowledged request id is stored with the result the child was given (the
request record is written in the command's own transaction, so it stands for the command's
events); every claim in the log has its request record and vice versa (no half-written
command); SQLite's `PRAGMA integrity_check` is ok; `audit verify` passes; `projections
catch-up` and `projections verify` leave the read models equal to a fresh replay.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger.app import Ledger
from ledger.requests import Request
from tests.support.children import EXE, NO_EXE, child_env
from tests.support.faults import (
    ACTIVITY_ON,
    PROFESSIONALS,
    REPO,
    TIMEOUT,
    make_store,
    sl,
    wait_for,
)

pytestmark = [pytest.mark.processes, pytest.mark.skipif(EXE is None, reason=NO_EXE)]

KILLS = 10
SEED = 20260615

CHILD = r"""
import json, random, sys
from ledger.app import open_ledger
from storage.errors import storage_errors
from ledger.importer import import_lines, parse_line
from storage.config import resolve

db, prefix, seed, activity_on = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
professionals = sys.argv[5].split(",")
store = resolve(db)
ledger = open_ledger(store)
rng = random.Random(seed)
KINDS = ["question", "answer", "co-construction", "facilitation"]


def ack(command, keys, result):
    sys.stdout.write(json.dumps({"command": command, "keys": keys, "result": result}) + "\n")
    sys.stdout.flush()


def run(line):
    command = parse_line(1, json.dumps(line))
    with storage_errors(store.where, store.secrets):
        ack(command.path, [line["request_id"]], ledger.handle(command))


def claim(key, claimant):
    return {"command": "claim submit", "professional": claimant, "network": "wound-care", "kind": rng.choice(KINDS),
            "on": activity_on, "hours": rng.choice(["1", "1.5", "2", "3.25"]), "description": f"Advice {key}",
            "outcome": "A plan the ward now uses", "request_id": key}


n = 0
while True:
    n += 1
    key = f"{prefix}-{n}"
    claimant, endorser = rng.sample(professionals, 2)
    run(claim(key, claimant))
    run({"command": "claim endorse", "claim": key, "by": endorser, "statement": "I saw it work", "request_id": key + "-e"})
    decision = rng.choice(["approve", "approve", "reject", "return"])
    reason = "rationale" if decision == "approve" else "reason"
    run({"command": f"review {decision}", "claim": key, "reviewer": "rev-1", reason: "Considered",
         "request_id": f"{key}-{decision}"})
    if decision == "approve" and rng.random() < 0.3:
        run({"command": "review revoke", "claim": key, "reviewer": "rev-1", "reason": "Second look",
             "request_id": key + "-revoke"})
    if n % 4 == 0:
        keys = [f"{key}-b{j}" for j in range(40)]
        lines = [json.dumps(claim(k, rng.choice(professionals))) for k in keys]
        with storage_errors(store.where, store.secrets):
            ack("import", keys, import_lines(ledger, lines))
"""


def _child(db: str, prefix: str, seed: int, stderr: Path) -> subprocess.Popen[str]:
    with stderr.open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-c", CHILD, db, prefix, str(seed), ACTIVITY_ON, ",".join(PROFESSIONALS)],
            stdout=subprocess.PIPE, stderr=err, text=True, stdin=subprocess.DEVNULL, cwd=REPO,
            env=child_env(PYTHONPATH=str(REPO)),
        )


def test_writers_killed_at_random_moments_lose_no_acknowledged_command(db_url: str, tmp_path: Path) -> None:
    store = make_store(db_url)
    rng = random.Random(SEED)
    acks: list[dict] = []
    kills = torn = 0
    started = time.monotonic()
    for k in range(KILLS):
        child = _child(db_url, f"k{k}", rng.randrange(1 << 30), tmp_path / f"child-{k}.err")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)  # type: ignore[arg-type]
        reader.start()
        try:
            wait_for(lambda: bool(lines) or child.poll() is not None, TIMEOUT, "the writer's first acknowledgement")
            time.sleep(rng.uniform(0, 0.6))
            assert child.poll() is None, f"the writer ended by itself: {(tmp_path / f'child-{k}.err').read_text()}"
            child.send_signal(signal.SIGKILL)
            kills += 1
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=TIMEOUT)
            reader.join(timeout=TIMEOUT)
        assert child.returncode == -signal.SIGKILL, (tmp_path / f"child-{k}.err").read_text()
        for line in lines:
            if line.endswith("\n"):
                acks.append(json.loads(line))
            else:
                torn += 1  # cut off mid-line by the kill: not an acknowledgement
        if k == KILLS // 2:  # read models part-way, so the last catch-up starts from the middle
            done = sl(db_url, "projections", "catch-up")
            assert done.returncode == 0, done.stderr
    writing = time.monotonic() - started

    if store.path is not None:
        with sqlite3.connect(store.path) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    acknowledged = [(a["command"], key, a["result"] if a["command"] != "import" else None)
                    for a in acks for key in a["keys"]]
    lost: list[str] = []
    ledger = Ledger(store)
    try:
        for command, key, result in acknowledged:
            found = ledger.find(Request, Request.create_id(key))
            if found is None:
                lost.append(key)
                continue
            assert found.command == ("claim submit" if command == "import" else command), (key, found.command)
            if result is not None:
                assert found.result == result, (key, found.result, result)
        # No half-written command: each claim submitted by a child has its request record, and
        # each request record of a submit its claim.
        submitted, recorded, keys = set(), set(), set()
        for event in ledger.event_log.all_events():
            name = type(event).__qualname__
            if name == "Claim.Submitted":
                submitted.add(str(event.originator_id))
            elif name == "Request.Recorded":
                keys.add(event.request_id)
                if event.command == "claim submit":
                    recorded.add(event.result["claim"])
        events = ledger.recorder.max_notification_id()
    finally:
        ledger.close()
    assert not lost, f"{len(lost)} acknowledged commands are missing: {lost[:10]}"
    assert submitted == recorded, (
        f"claims without a request record: {sorted(submitted - recorded)[:5]}; "
        f"request records without a claim: {sorted(recorded - submitted)[:5]}")

    checks = {}
    for args in (("projections", "catch-up"), ("projections", "verify"), ("audit", "verify")):
        done = sl(db_url, *args)
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}: {done.stdout} {done.stderr}"
        checks[" ".join(args)] = done.stdout.strip().splitlines()[0]
    print(f"\nkilled writers on {store.engine}: {kills} kills in {writing:.1f}s, {len(acks)} acknowledgements "
          f"({len(acknowledged)} commands, of them {sum(c == 'import' for c, _, _ in acknowledged)} in imports), "
          f"{torn} torn lines, {len(lost)} lost; {len(keys - {key for _, key, _ in acknowledged})} commands stored "
          f"but never acknowledged (killed between commit and acknowledgement); {len(submitted)} claims, "
          f"log head {events}; {checks}")
    assert kills == KILLS
    assert len(acknowledged) >= KILLS, "the writers acknowledged almost nothing: the kills tested little"
