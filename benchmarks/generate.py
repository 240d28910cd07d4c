"""A seeded generator of a synthetic register, as import lines (SPEC §3 JSON Lines).

Professionals in groups, networks around themes, memberships (some leave and re-join),
claims of every kind with endorsements and decisions (approvals, rejections, returns with
amendments, withdrawals, revocations). The same seed and size give the same lines.

    python -m benchmarks.generate --events 100000 --seed 7 > register.jsonl

By default a claim's endorsements and decisions follow it at once; `--later` spreads them over
the claims after it, as a register decides days later.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

GROUPS = ["teacher-primary", "teacher-secondary", "teacher-vocational", "nurse", "physiotherapist", "social-worker"]
THEMES = ["formative-assessment", "feedback", "digital-didactics", "wound-care", "dementia-care", "inclusion",
          "reading", "mathematics", "safety", "ethics", "palliative-care", "rehabilitation"]
KINDS = ["question", "answer", "co-construction", "facilitation"]
TODAY = date(2026, 6, 1)


def lines(events: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Import lines whose commands write about `events` events in all."""
    rng = random.Random(seed)
    professionals = max(6, events // 40)
    networks = max(2, professionals // 25)
    start = TODAY - timedelta(days=4 * 365)
    written = 0

    yield {"command": "policy adopt", "effective_from": str(start - timedelta(days=30)), "min_endorsements": 1}
    yield {"command": "reviewer appoint", "id": "REV-1", "name": "Reviewer One", "on": str(start)}
    yield {"command": "reviewer appoint", "id": "REV-2", "name": "Reviewer Two", "on": str(start)}
    written += 4  # the policy book opens and adopts; two appointments
    for n in range(networks):
        yield {"command": "network register", "id": f"net-{n}", "name": f"Network {n}",
               "theme": rng.sample(THEMES, 2), "group": rng.sample(GROUPS, 2), "founded_on": str(start - timedelta(days=60))}
    written += networks
    members: dict[int, list[str]] = {n: [] for n in range(networks)}
    membership_of: dict[str, list[int]] = {}
    for p in range(professionals):
        pid = f"P-{p}"
        yield {"command": "professional register", "id": pid, "name": f"Professional {p}",
               "group": rng.choice(GROUPS), "registered_on": str(start - timedelta(days=rng.randrange(0, 400)))}
        joined = rng.sample(range(networks), min(networks, rng.choice((1, 1, 2, 3))))
        membership_of[pid] = joined
        for n in joined:
            yield {"command": "network join", "network": f"net-{n}", "professional": pid, "on": str(start)}
            members[n].append(pid)
        written += 1 + len(joined)
    # A few memberships end and start again, before the claims (which fall in the last 3 years).
    for pid in rng.sample(sorted(membership_of), max(1, professionals // 20)):
        n = membership_of[pid][0]
        yield {"command": "network leave", "network": f"net-{n}", "professional": pid, "on": str(start + timedelta(days=30))}
        yield {"command": "network join", "network": f"net-{n}", "professional": pid, "on": str(start + timedelta(days=200))}
        written += 2
    c = 0
    while written < events:
        pid = f"P-{rng.randrange(professionals)}"
        n = rng.choice(membership_of[pid])
        peers = [m for m in members[n] if m != pid]
        if not peers:
            continue
        key = f"c-{c}"
        c += 1
        kind = rng.choice(KINDS)
        day = TODAY - timedelta(days=rng.randrange(1, 3 * 365))
        yield {"command": "claim submit", "professional": pid, "network": f"net-{n}", "kind": kind, "on": str(day),
               "hours": str(rng.choice(("0.5", "1", "1.5", "2", "3", "4", "6", "8"))),
               "description": f"Contribution {c} to network {n}", "outcome": "What it resulted in.",
               "request_id": key}
        written += 2  # the claim, and the record of its request id
        for peer in rng.sample(peers, min(len(peers), rng.choice((1, 1, 2)))):
            yield {"command": "claim endorse", "claim": key, "by": peer, "statement": "I was there."}
            written += 1
        roll = rng.random()
        reviewer = rng.choice(("REV-1", "REV-2"))
        if roll < 0.70:
            yield {"command": "review approve", "claim": key, "reviewer": reviewer, "rationale": "Clear outcome."}
            written += 1
            if rng.random() < 0.03:
                yield {"command": "review revoke", "claim": key, "reviewer": reviewer, "reason": "Counted twice."}
                written += 1
        elif roll < 0.80:
            yield {"command": "review reject", "claim": key, "reviewer": reviewer, "reason": "Attendance only."}
            written += 1
        elif roll < 0.90:
            yield {"command": "review return", "claim": key, "reviewer": reviewer, "reason": "Add the outcome."}
            yield {"command": "claim amend", "claim": key, "by": pid, "outcome": "The outcome, described."}
            yield {"command": "review approve", "claim": key, "reviewer": reviewer, "rationale": "Now complete."}
            written += 3
        elif roll < 0.93:
            yield {"command": "claim withdraw", "claim": key, "by": pid}
            written += 1
        # else: left waiting in the review queue


def later(events: int, seed: int = 7, spread: int = 500) -> Iterator[dict[str, Any]]:
    """`lines`, with each claim's endorsements, decisions and amendments coming after up to `spread`
    other claims each, one after the other (a register decides days after a claim is submitted),
    and half the amendments moving the activity date back a day, which clears the endorsements
    (SPEC rule 3) and so is followed by a new one."""
    rng = random.Random(seed + 1)
    held: list[tuple[int, int, dict[str, Any]]] = []  # (due after this many claims, order, line)
    claims = order = due = 0
    endorser = submitted_on = ""
    for line in lines(events, seed):
        command = line["command"]
        if "claim" not in line:  # anything but a claim's follow-up: the held ones that are due first
            if command == "claim submit":
                claims += 1
                due, submitted_on = claims, line["on"]
                while held and held[0][0] <= claims:
                    yield heapq.heappop(held)[2]
            yield line
            continue
        if command == "claim endorse":
            endorser = line["by"]
        due += rng.randrange(1, spread)
        if command == "claim amend" and rng.random() < 0.5:
            moved = date.fromisoformat(submitted_on) - timedelta(days=1)
            heapq.heappush(held, (due, order := order + 1, {**line, "on": str(moved)}))
            line = {"command": "claim endorse", "claim": line["claim"], "by": endorser, "statement": "Seen again."}
        heapq.heappush(held, (due, order := order + 1, line))
    while held:
        yield heapq.heappop(held)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--later", action="store_true", help="claims decided later (see `later`)")
    args = parser.parse_args()
    for line in (later if args.later else lines)(args.events, args.seed):
        sys.stdout.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
