"""An implementation we did not write verifies what we sign: Digital Bazaar's `@digitalbazaar/vc` with
`@digitalbazaar/data-integrity` and `@digitalbazaar/eddsa-rdfc-2022-cryptosuite` (their own RDF
canonicalization, hashing and Ed25519), run by node with a static document loader (tests/credentials/js).

Needs node ≥ 18 and the packages: `npm ci --prefix tests/credentials/js`. Skipped, with that reason, without them.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.credentials import changed, issue

JS = Path(__file__).parent / "js"
CONTEXTS = Path(__file__).parent.parent.parent / "ledger" / "credentials" / "contexts"

NODE = shutil.which("node")
pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(NODE is None, reason="node is not installed (the independent verifier runs on node)"),
    pytest.mark.skipif(not (JS / "node_modules" / "@digitalbazaar" / "vc").is_dir(),
                       reason="the independent verifier's packages are missing: run 'npm ci --prefix tests/credentials/js'"),
]


def independent(tmp_path: Path, document: dict) -> dict:
    path = tmp_path / "to-verify.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    done = subprocess.run([NODE, str(JS / "verify.mjs"), str(CONTEXTS), str(path)], capture_output=True, text=True,
                          timeout=120, cwd=JS)
    assert done.stderr == "" or "ExperimentalWarning" in done.stderr, done.stderr
    verdict = json.loads(done.stdout)
    assert done.returncode == (0 if verdict["verified"] else 1)
    return verdict


@pytest.fixture
def credential(run, register):
    return issue(run, register)


def test_the_independent_verifier_accepts_our_credentials(run, register, tmp_path, clock):
    for args in ((), ("--at", "2025-12-31")):  # with evidence of two claims, and of one
        assert independent(tmp_path, issue(run, register, *args)) == {"verified": True, "error": None}
        clock.tick()


@pytest.mark.parametrize("where", ["claim", "points", "proof"])
def test_the_independent_verifier_rejects_a_one_character_change(credential, tmp_path, where):
    tampered = copy.deepcopy(credential)
    if where == "claim":
        evidence = tampered["evidence"][0]
        evidence["narrative"] = changed(evidence["narrative"])
    elif where == "points":
        result = tampered["credentialSubject"]["result"][0]
        result["value"] = result["value"].replace("3", "4")
    else:
        tampered["proof"][0]["proofValue"] = changed(tampered["proof"][0]["proofValue"])
    assert tampered != credential
    verdict = independent(tmp_path, tampered)
    assert verdict["verified"] is False
    assert "signature" in verdict["error"].lower()
