"""What the credential tests share: a register with approved claims and the register's key, issuing
a credential, and a one-character change. The `register` fixture (tests/credentials/conftest.py)
builds the register with `a_register`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return result


def submit(run: Any, on: str, *, hours: str = "2.5", kind: str = "answer") -> str:
    result = ok(run("claim", "submit", "--professional", "R-1", "--network", "wound-care", "--kind", kind, "--on", on,
                    "--hours", hours, "--description", "Advised on a pressure ulcer", "--outcome", "A new protocol"))
    claim = result.stdout.strip()
    ok(run("claim", "endorse", claim, "--by", "R-2", "--statement", "I was there"))
    return claim


def a_register(run: Any, clock: Any, tmp_path: Path) -> dict[str, Any]:
    """R-1 (registered 2022-03-01: cycle 2026-03-01 – 2030-02-28 on 2026-06-15) with three approved claims in
    the cycle and one in the cycle before, one of the three revoked later; the register's key in key_file."""
    ok(run("professional", "register", "R-1", "--name", "Rosa Smit", "--group", "nurse", "--registered-on", "2022-03-01"))
    ok(run("professional", "register", "R-2", "--name", "Ruud Bos", "--group", "nurse", "--registered-on", "2024-01-01"))
    ok(run("reviewer", "appoint", "V-1", "--name", "Vera Kok", "--on", "2024-01-01"))
    ok(run("network", "register", "wound-care", "--name", "Wondzorg", "--theme", "wound-care", "--theme", "diabetes",
           "--group", "nurse", "--founded-on", "2021-09-01"))
    for who in ("R-1", "R-2"):
        ok(run("network", "join", "wound-care", who, "--on", "2024-06-01"))
    claims = {on: submit(run, on) for on in ("2025-03-04", "2026-03-10", "2026-04-02", "2026-05-05")}
    for on, claim in claims.items():
        ok(run("review", "approve", claim, "--reviewer", "V-1", "--rationale", "Good", "--points", "1.5" if on == "2026-04-02" else "2"))
    clock.tick(hours=1)
    before_revoke = clock.now
    clock.tick(hours=1)
    ok(run("review", "revoke", claims["2026-05-05"], "--reviewer", "V-1", "--reason", "Counted twice"))
    clock.tick(hours=1)
    key_file = tmp_path / "register.key"
    ok(run("keys", "init", "--key-file", str(key_file), "--issuer-name", "Register of Nurses",
           "--issuer-url", "https://register.example/"))
    clock.tick(minutes=5)
    return {"claims": claims, "key_file": key_file, "before_revoke": before_revoke}


def issue(run: Any, register: dict, *args: str) -> dict:
    return ok(run("credential", "issue", "R-1", "--key-file", str(register["key_file"]), *args)).json()


def changed(text: str) -> str:
    """One character changed, in the middle (so that a prefix like 'z' or 'urn:' stays)."""
    i = len(text) // 2
    return text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1:]
