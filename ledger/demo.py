"""The demo register: secondary-school teachers in networks on formative assessment and on
digital didactics, nurses in a wound-care network; two years of claims of every kind.

Dates are relative to the day the demo runs, so every activity lies in the past. The
script is a list of commands — the same command paths and values an import line carries —
so the demo walks the very path reviewers and imports take.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

Step = tuple[str, str, dict[str, Any]]  # (narration, or "" for routine steps; command path; values)

TEACHERS = [
    ("T-1001", "Anouk de Vries"), ("T-1002", "Bram Jansen"), ("T-1003", "Fatima El Amrani"),
    ("T-1004", "Joost Bakker"), ("T-1005", "Lotte Visser"), ("T-1006", "Sanne Mulder"),
    ("T-1007", "Daan Smit"), ("T-1008", "Noor Hendriks"),
]
NURSES = [("N-2001", "Eva Dekker"), ("N-2002", "Mehmet Yilmaz"), ("N-2003", "Ingrid Post"), ("N-2004", "Kees van Dijk")]


def script(today: date) -> list[Step]:
    def ago(days: int) -> date:
        return today - timedelta(days=days)

    steps: list[Step] = [
        ("The register adopts its policy: 1 point an hour, caps per kind, one endorsement needed.",
         "policy adopt", {"effective_from": ago(1200)}),
        ("A year ago it raised the cap for co-construction to 10 points.",
         "policy adopt", {"effective_from": ago(365), "cap": [("co-construction", Decimal(10))]}),
    ]
    for pid, name in TEACHERS:
        steps.append(("", "professional register",
                      {"id": pid, "name": name, "group": "teacher-secondary", "registered_on": ago(1100)}))
    for pid, name in NURSES:
        steps.append(("", "professional register",
                      {"id": pid, "name": name, "group": "nurse", "registered_on": ago(1000)}))
    steps += [
        ("Hanneke Vos is appointed reviewer.", "reviewer appoint", {"id": "R-hvos", "name": "Hanneke Vos", "on": ago(1100)}),
        ("Pieter de Graaf is appointed reviewer.", "reviewer appoint", {"id": "R-pgraaf", "name": "Pieter de Graaf", "on": ago(900)}),
        ("A network on formative assessment is registered.", "network register",
         {"id": "formatief-evalueren", "name": "Formatief evalueren in de bovenbouw",
          "theme": ["formative-assessment", "feedback"], "group": ["teacher-secondary"], "founded_on": ago(1500)}),
        ("A network on digital didactics is registered.", "network register",
         {"id": "digitale-didactiek", "name": "Digitale didactiek", "theme": ["digital-didactics"],
          "group": ["teacher-secondary", "teacher-vocational"], "founded_on": ago(1000)}),
        ("Nurses register a wound-care network.", "network register",
         {"id": "wondzorg", "name": "Wondzorg Midden-Nederland", "theme": ["wound-care"], "group": ["nurse"],
          "founded_on": ago(1400)}),
    ]
    for pid, _ in TEACHERS[:6]:
        steps.append(("", "network join",
                      {"network": "formatief-evalueren", "professional": pid, "on": ago(1000)}))
    for pid, _ in TEACHERS[3:]:
        steps.append(("", "network join",
                      {"network": "digitale-didactiek", "professional": pid, "on": ago(950)}))
    for pid, _ in NURSES:
        steps.append(("", "network join", {"network": "wondzorg", "professional": pid, "on": ago(900)}))
    steps += [
        ("T-1002 leaves formatief-evalueren for a year abroad…", "network leave",
         {"network": "formatief-evalueren", "professional": "T-1002", "on": ago(600)}),
        ("…and re-joins on coming back.", "network join",
         {"network": "formatief-evalueren", "professional": "T-1002", "on": ago(250)}),
        ("N-2004 leaves wondzorg.", "network leave", {"network": "wondzorg", "professional": "N-2004", "on": ago(200)}),
    ]

    def claim(key: str, who: str, network: str, kind: str, days: int, hours: str, description: str,
              outcome: str, change: str | None = None) -> Step:
        values: dict[str, Any] = {"professional": who, "network": network, "kind": kind, "on": ago(days),
                                  "hours": Decimal(hours), "description": description, "outcome": outcome,
                                  "request_id": key}
        if change:
            values["practice_change"] = change
        article = "an" if kind[0] in "aeiou" else "a"
        return (f"{who} claims {article} {kind} contribution to {network} ({hours} h), as {key}.", "claim submit", values)

    def endorse(key: str, by: str, statement: str) -> Step:
        return (f"{by} endorses {key}.", "claim endorse", {"claim": key, "by": by, "statement": statement})

    def decide(verb: str, key: str, reviewer: str, text: str, points: str | None = None) -> Step:
        values: dict[str, Any] = {"claim": key, "reviewer": reviewer}
        values["rationale" if verb == "approve" else "reason"] = text
        if points:
            values["points"] = Decimal(points)
        return (f"{reviewer} decides: {verb} {key}.", f"review {verb}", values)

    steps += [
        claim("demo-1", "T-1001", "formatief-evalueren", "question", 700, "1.5",
              "Asked how others give feedback on drafts of the profile essay without grading them.",
              "Three colleagues shared their feedback rubrics; I combined two of them.",
              "I now give feedforward on drafts and grade only the final version."),
        endorse("demo-1", "T-1003", "I was there; Anouk's question started a good discussion."),
        decide("approve", "demo-1", "R-hvos", "Clear question from practice with a concrete change."),
        claim("demo-2", "T-1003", "formatief-evalueren", "answer", 680, "3",
              "Explained my exit-ticket routine to the network and shared the templates.",
              "Four schools now use the templates in year 4 and 5."),
        endorse("demo-2", "T-1001", "I use Fatima's exit tickets every week now."),
        endorse("demo-2", "T-1004", "Useful and well prepared."),
        decide("approve", "demo-2", "R-hvos", "Expertise brought to others' questions, with reach beyond the network."),
        claim("demo-3", "T-1004", "digitale-didactiek", "co-construction", 400, "12",
              "Built a shared bank of formative quiz items with three colleagues.",
              "A bank of 240 items, used by the network's schools.",
              "I start every lesson with a two-minute diagnostic quiz."),
        endorse("demo-3", "T-1005", "We built it together; Joost coordinated the item reviews."),
        decide("approve", "demo-3", "R-pgraaf", "Substantial co-construction; capped at the policy of the time.", "8"),
        claim("demo-4", "T-1005", "digitale-didactiek", "facilitation", 300, "4",
              "Organised and hosted the network's spring meeting on AI in homework.",
              "Twenty-two teachers attended; a guideline draft came out of it."),
        endorse("demo-4", "T-1006", "Well organised meeting with a concrete result."),
        decide("approve", "demo-4", "R-pgraaf", "Facilitation with a tangible outcome."),
        claim("demo-5", "N-2001", "wondzorg", "question", 500, "2",
              "Asked the network how to document pressure ulcers consistently between shifts.",
              "We agreed on one photo protocol in our ward.",
              "I photograph every wound at the same angle and distance at each dressing change."),
        endorse("demo-5", "N-2002", "Eva's question led to our shared protocol."),
        decide("approve", "demo-5", "R-hvos", "Question from practice with a documented change."),
        claim("demo-6", "N-2002", "wondzorg", "answer", 480, "5",
              "Shared my experience with negative-pressure wound therapy.",
              "Two wards changed their dressing intervals."),
        endorse("demo-6", "N-2003", "Mehmet's explanation was clear and evidence-based."),
        decide("approve", "demo-6", "R-hvos", "Expertise shared; capped at the answer cap.", "4"),
        claim("demo-7", "T-1006", "formatief-evalueren", "answer", 200, "2",
              "Attended the network meeting.", "I listened to the presentations."),
        endorse("demo-7", "T-1001", "Sanne was present."),
        decide("reject", "demo-7", "R-hvos", "Attendance alone is not a contribution; the register asks for outcomes."),
        claim("demo-8", "T-1002", "formatief-evalueren", "co-construction", 120, "6",
              "Worked on peer-assessment criteria with two colleagues.", "Criteria drafted."),
        endorse("demo-8", "T-1001", "Bram worked on the criteria with us."),
        decide("return", "demo-8", "R-pgraaf", "Please describe what the criteria resulted in and what you now do differently."),
        ("T-1002 amends demo-8 with the outcome and the change in practice.", "claim amend",
         {"claim": "demo-8", "by": "T-1002",
          "outcome": "Criteria used by three sections of year 5 for the research project.",
          "practice_change": "Students now assess each other's drafts before I see them."}),
        decide("approve", "demo-8", "R-pgraaf", "Amended claim shows the outcome and the change."),
        claim("demo-9", "T-1007", "digitale-didactiek", "question", 90, "1",
              "Asked about tools for spaced repetition.", "Got a list of tools."),
        ("T-1007 withdraws demo-9: it was already claimed elsewhere.", "claim withdraw", {"claim": "demo-9", "by": "T-1007"}),
        claim("demo-10", "N-2003", "wondzorg", "facilitation", 150, "3",
              "Hosted the network meeting on diabetic foot care.", "Fourteen nurses attended."),
        endorse("demo-10", "N-2001", "Ingrid hosted the evening."),
        decide("approve", "demo-10", "R-hvos", "Facilitation of a network meeting."),
        decide("revoke", "demo-10", "R-pgraaf",
               "The same meeting was accredited as a course; points cannot be counted twice."),
        claim("demo-11", "T-1003", "formatief-evalueren", "co-construction", 60, "10",
              "Designed a feedback protocol for the science section with two colleagues.",
              "The protocol is used in all science classes of year 4.",
              "I plan feedback moments before I plan tests."),
        endorse("demo-11", "T-1002", "I co-designed the protocol with Fatima."),
        claim("demo-12", "T-1008", "digitale-didactiek", "answer", 30, "2",
              "Explained how to set up peer feedback in the learning platform.",
              "Five colleagues set it up the same week."),
        endorse("demo-12", "T-1004", "Noor's walkthrough saved us hours."),
    ]
    return steps
