"""`keys init|rotate|show` and `credential issue|verify` through the CLI, on SQLite and PostgreSQL (SPEC §10)."""

from __future__ import annotations

import copy
import hashlib
import json
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.credentials import dataintegrity, keyfile, multibase
from ledger.credentials.verify import schema, verify
from tests.support.credentials import changed, issue, ok
from tests.support.harness import count_events

DATA = Path(__file__).parent.parent / "data" / "credentials"


def refused(result: Any, code: int = 1) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def write(tmp_path: Path, document: Any, name: str = "credential.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def keys_now(run: Any) -> list[dict]:
    return ok(run("keys", "show", "--format", "json")).json()["keys"]


def table(keys: list[dict]) -> list[dict]:
    return [{"public_key": k["public_key"], "valid_from": datetime.fromisoformat(k["valid_from"]),
             "valid_until": datetime.fromisoformat(k["valid_until"]) if k["valid_until"] else None} for k in keys]


# --- keys ------------------------------------------------------------------------------


def test_keys_init_writes_a_private_key_only_its_owner_reads_and_records_the_public_key(run, store, tmp_path, clock):
    key_file = tmp_path / "register.key"
    before = count_events(store)
    result = ok(run("--json", "keys", "init", "--key-file", str(key_file))).json()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert keyfile.public_multikey(keyfile.load(key_file)) == result["public_key"]
    assert result["public_key"].startswith("z6Mk")
    assert result["did"] == "did:key:" + result["public_key"]
    assert count_events(store) == before + 1
    assert keys_now(run) == [{
        "public_key": result["public_key"], "did": result["did"], "verification_method": result["verification_method"],
        "valid_from": clock.now.isoformat(), "valid_until": None,
    }]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary key left behind


def test_the_key_file_comes_from_the_environment_when_not_given(run, tmp_path, monkeypatch):
    key_file = tmp_path / "from-env.key"
    monkeypatch.setenv("STUDYLEDGER_SIGNING_KEY", str(key_file))
    ok(run("keys", "init"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_keys_init_twice_is_refused_and_leaves_the_key_file_and_the_store_alone(run, store, tmp_path):
    key_file = tmp_path / "register.key"
    ok(run("keys", "init", "--key-file", str(key_file)))
    pem, events = key_file.read_bytes(), count_events(store)
    assert "KeysAlreadyInitialised" in refused(run("keys", "init", "--key-file", str(tmp_path / "other.key")))
    assert not (tmp_path / "other.key").exists()
    refused(run("keys", "init", "--key-file", str(key_file)))
    assert key_file.read_bytes() == pem and count_events(store) == events


def test_keys_init_refuses_to_overwrite_an_existing_file(run, store, tmp_path):
    key_file = tmp_path / "precious"
    key_file.write_text("not mine")
    assert "a key file exists at" in refused(run("keys", "init", "--key-file", str(key_file)))
    assert key_file.read_text() == "not mine" and count_events(store) == 0


def test_keys_rotate_records_a_new_key_and_the_end_of_the_old_one(run, tmp_path, clock):
    key_file = tmp_path / "register.key"
    first = ok(run("--json", "keys", "init", "--key-file", str(key_file))).json()
    t0 = clock.now
    clock.tick(days=30)
    second = ok(run("--json", "keys", "rotate", "--key-file", str(key_file))).json()
    assert second["retired"] == first["public_key"] != second["public_key"]
    assert keyfile.public_multikey(keyfile.load(key_file)) == second["public_key"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = keys_now(run)
    assert [(k["public_key"], k["valid_from"], k["valid_until"]) for k in keys] == [
        (first["public_key"], t0.isoformat(), clock.now.isoformat()),
        (second["public_key"], clock.now.isoformat(), None),
    ]
    shown = ok(run("keys", "show")).stdout
    assert first["public_key"] in shown and "(in use)" in shown


def test_keys_rotate_before_init_is_refused(run, store, tmp_path):
    assert "NoSigningKey" in refused(run("keys", "rotate", "--key-file", str(tmp_path / "k")))
    assert count_events(store) == 0 and not (tmp_path / "k").exists()


# --- issue -----------------------------------------------------------------------------


def test_every_issued_credential_validates_against_the_official_schema(run, register, clock):
    from jsonschema import Draft201909Validator

    validator = Draft201909Validator(schema(), format_checker=Draft201909Validator.FORMAT_CHECKER)
    for args in ((), ("--at", "2026-03-31"), ("--at", "2025-12-31"), ("--known-at", register["before_revoke"].isoformat())):
        document = issue(run, register, *args)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
        assert errors == []
        assert isinstance(document["proof"], list) and document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        clock.tick()


def test_the_points_are_the_balance_and_the_evidence_the_approved_claims_of_the_cycle(run, register):
    document = issue(run, register, "--at", "2026-06-15")
    balance = ok(run("--json", "balance", "R-1", "--at", "2026-06-15")).json()
    subject = document["credentialSubject"]
    assert subject["result"][0]["value"] == balance["cycle"]["points"] == "3.5"  # 2 + 1.5; the revoked 2 not
    assert subject["result"][0]["resultDescription"] == subject["achievement"]["resultDescription"][0]["id"]
    assert subject["achievement"]["resultDescription"][0]["requiredValue"] == balance["cycle"]["norm"]
    assert subject["activityStartDate"] == f"{balance['cycle']['start']}T00:00:00Z"
    evidence = document["evidence"]
    claims = register["claims"]
    assert [e["id"] for e in evidence] == [f"urn:uuid:{claims['2026-03-10']}", f"urn:uuid:{claims['2026-04-02']}"]
    assert evidence[1]["genre"] == "answer"
    assert evidence[1]["narrative"] == ("- kind: answer (brought expertise to someone else's question)\n"
                                        "- network: wound-care\n- themes: diabetes, wound-care\n"
                                        "- activity date: 2026-04-02\n- points: 1.5")


def test_as_known_before_the_revocation_the_revoked_claim_is_evidence_again(run, register):
    known_at = register["before_revoke"].isoformat()
    document = issue(run, register, "--known-at", known_at)
    balance = ok(run("--json", "balance", "R-1", "--known-at", known_at)).json()
    assert document["credentialSubject"]["result"][0]["value"] == balance["cycle"]["points"] == "5.5"
    assert f"urn:uuid:{register['claims']['2026-05-05']}" in [e["id"] for e in document["evidence"]]


def test_at_a_date_in_the_cycle_before_the_evidence_is_that_cycles(run, register):
    document = issue(run, register, "--at", "2025-12-31")
    assert document["credentialSubject"]["result"][0]["value"] == "2"
    assert [e["id"] for e in document["evidence"]] == [f"urn:uuid:{register['claims']['2025-03-04']}"]
    assert document["credentialSubject"]["activityEndDate"] == "2025-12-31T00:00:00Z"


def test_the_professional_is_named_by_a_salted_hash_not_by_the_register_id(run, register, clock):
    first = issue(run, register)
    clock.tick()
    second = issue(run, register)
    text = json.dumps(first)
    assert "R-1" not in text and "Rosa" not in text
    identity = first["credentialSubject"]["identifier"][0]
    assert identity["hashed"] is True and identity["type"] == "IdentityObject"
    assert identity["identityHash"] == "sha256$" + hashlib.sha256(("R-1" + identity["salt"]).encode()).hexdigest()
    assert second["credentialSubject"]["identifier"][0]["identityHash"] != identity["identityHash"]  # not linkable


def test_the_issuer_is_the_did_key_of_the_register_key_with_its_profile(run, register):
    document = issue(run, register)
    public_key = keys_now(run)[0]["public_key"]
    assert document["issuer"] == {"id": f"did:key:{public_key}", "type": ["Profile"], "name": "Register of Nurses",
                                  "url": "https://register.example/"}
    assert document["proof"][0]["verificationMethod"] == f"did:key:{public_key}#{public_key}"
    assert document["proof"][0]["created"] == document["validFrom"]


def test_out_writes_the_credential_to_a_file_and_reports_it(run, register, tmp_path):
    out = tmp_path / "r1.json"
    result = ok(run("credential", "issue", "R-1", "--key-file", str(register["key_file"]), "--out", str(out)))
    document = json.loads(out.read_text())
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert result.stdout.startswith(f"Credential {document['id']} for R-1: 3.5 points in the cycle 2026-03-01 – 2030-02-28")
    assert "already" in refused(run("credential", "issue", "R-1", "--key-file", str(register["key_file"]),
                                    "--out", str(out)), 2)


def test_issuing_is_an_event_in_the_audit_history(run, register, store):
    before = count_events(store)
    document = issue(run, register, "--at", "2026-04-30")
    assert count_events(store) == before + 1
    entry = ok(run("--json", "audit", "history", "R-1")).json()["events"][-1]
    assert entry["type"] == "CredentialIssued" and entry["credential"] == document["id"]
    assert entry["os_user"] == "tester"
    assert (entry["cycle_start"], entry["cycle_end"], entry["at"]) == ("2026-03-01", "2030-02-28", "2026-04-30")
    assert entry["balance"] == "5.5"  # 2 + 2 + 1.5 + 2 - 2: issuing credits nothing


def test_issuing_for_an_unknown_professional_is_refused_and_writes_nothing(run, register, store, tmp_path):
    before = count_events(store)
    out = tmp_path / "nobody.json"
    message = refused(run("credential", "issue", "NOBODY", "--key-file", str(register["key_file"]), "--out", str(out)))
    assert "UnknownProfessional" in message
    assert count_events(store) == before and not out.exists()


def test_issuing_as_known_before_the_registration_is_refused(run, register, store):
    before = count_events(store)
    message = refused(run("credential", "issue", "R-1", "--key-file", str(register["key_file"]),
                          "--known-at", "2020-01-01T00:00:00Z"))
    assert "R-1" in message and count_events(store) == before


def test_issuing_without_a_key_or_with_a_rotated_out_key_file_is_refused(run, register, store, tmp_path):
    old = tmp_path / "old.key"
    old.write_bytes(register["key_file"].read_bytes())
    ok(run("keys", "rotate", "--key-file", str(register["key_file"])))
    before = count_events(store)
    assert "rotated out" in refused(run("credential", "issue", "R-1", "--key-file", str(old)))
    assert refused(run("credential", "issue", "R-1", "--key-file", str(tmp_path / "missing.key")), 2)
    assert count_events(store) == before


def test_a_request_id_makes_issuing_idempotent(run, register, store, clock):
    first = issue(run, register, "--at", "2026-06-01", "--request-id", "cred-1")
    events = count_events(store)
    clock.tick()
    assert issue(run, register, "--at", "2026-06-01", "--request-id", "cred-1") == first
    assert count_events(store) == events


# --- verify ----------------------------------------------------------------------------


def test_an_issued_credential_verifies(run, register, tmp_path):
    path = write(tmp_path, issue(run, register))
    assert ok(run("credential", "verify", path)).stdout.startswith("Valid: a valid credential of the register")
    assert ok(run("--json", "credential", "verify", path)).json()["valid"] is True


def _string_leaves(document: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(document, dict):
        return [leaf for k, v in document.items() for leaf in _string_leaves(v, (*path, k))]
    if isinstance(document, list):
        return [leaf for i, v in enumerate(document) for leaf in _string_leaves(v, (*path, i))]
    return [path] if isinstance(document, str) else []


def test_a_one_character_change_in_any_field_makes_it_invalid(run, register, clock):
    document = issue(run, register)
    keys = table(keys_now(run))
    assert verify(document, keys, clock.now).valid
    leaves = _string_leaves(document)
    assert len(leaves) > 40
    for path in leaves:
        tampered = copy.deepcopy(document)
        target = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = changed(target[path[-1]])
        verdict = verify(tampered, keys, clock.now)
        assert not verdict.valid, path
    # and a field added, or one removed
    for change in (lambda d: d.update(awardedDate="2026-06-15T00:00:00Z"), lambda d: d.pop("evidence"),
                   lambda d: d["credentialSubject"]["result"][0].update(value="30.5")):
        tampered = copy.deepcopy(document)
        change(tampered)
        assert not verify(tampered, keys, clock.now).valid


@pytest.mark.parametrize("where", ["points", "claim", "proof"])
def test_tampering_is_refused_by_the_command_with_the_reason(run, register, tmp_path, where):
    document = issue(run, register)
    if where == "points":
        document["credentialSubject"]["result"][0]["value"] = "350"
    elif where == "claim":
        document["evidence"][0]["narrative"] = document["evidence"][0]["narrative"].replace("2026-03-10", "2026-03-11")
    else:
        document["proof"][0]["proofValue"] = changed(document["proof"][0]["proofValue"])
    message = refused(run("credential", "verify", write(tmp_path, document)))
    assert message.startswith("Invalid (proof): ")


def test_a_credential_issued_before_a_rotation_stays_valid(run, register, tmp_path, clock):
    path = write(tmp_path, issue(run, register))
    clock.tick(days=1)
    ok(run("keys", "rotate", "--key-file", str(register["key_file"])))
    ok(run("credential", "verify", path))
    clock.tick()
    ok(run("credential", "verify", write(tmp_path, issue(run, register), "new.json")))


def test_a_credential_dated_after_its_key_was_rotated_out_is_refused(run, register, tmp_path, clock):
    old_key = keyfile.load(register["key_file"])
    genuine = issue(run, register)
    clock.tick(days=1)
    ok(run("keys", "rotate", "--key-file", str(register["key_file"])))
    clock.tick(days=1)
    # Whoever kept the old private key signs a credential dated after the rotation.
    forged = {k: v for k, v in copy.deepcopy(genuine).items() if k != "proof"}
    forged["validFrom"] = clock.now.isoformat().replace("+00:00", "Z")
    public_key = keyfile.public_multikey(old_key)
    forged = dataintegrity.sign(forged, old_key, verification_method=multibase.verification_method(public_key),
                                created=forged["validFrom"])
    message = refused(run("credential", "verify", write(tmp_path, forged)))
    assert message.startswith("Invalid (key): ") and "rotated out" in message


def test_a_credential_signed_by_a_key_not_the_registers_is_refused(run, register, tmp_path, clock):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = Ed25519PrivateKey.generate()
    public_key = keyfile.public_multikey(stranger)
    document = {k: v for k, v in issue(run, register).items() if k != "proof"}
    document["issuer"] = {**document["issuer"], "id": multibase.did_key(public_key)}
    signed = dataintegrity.sign(document, stranger, verification_method=multibase.verification_method(public_key),
                                created=document["validFrom"])
    assert "not one of the register's keys" in refused(run("credential", "verify", write(tmp_path, signed)))


def test_a_document_with_a_context_the_register_does_not_ship_is_refused(run, register, tmp_path):
    document = issue(run, register)
    document["@context"].append("https://example.org/contexts/more.jsonld")
    message = refused(run("credential", "verify", write(tmp_path, document)))
    assert message == ("Invalid (context): the JSON-LD context 'https://example.org/contexts/more.jsonld' is not one "
                       "the register ships (no context is fetched).\n")
    surf = DATA / "ob30-invalid" / "theed_regular_minimal_ho.json"
    assert refused(run("credential", "verify", str(surf))).startswith("Invalid (context): ")


def test_an_unreadable_file_exits_2(run, register, tmp_path):
    assert "Unreadable" in refused(run("credential", "verify", str(tmp_path / "missing.json")), 2)
    (tmp_path / "bad.json").write_text("{not json")
    assert "is not JSON" in refused(run("credential", "verify", str(tmp_path / "bad.json")), 2)
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    refused(run("credential", "verify", str(tmp_path / "bin.json")), 2)
    assert "not a JSON object" in refused(run("credential", "verify", write(tmp_path, [1, 2])), 1)


def test_a_verifier_with_only_the_published_keys_needs_no_store(run, register, tmp_path):
    path = write(tmp_path, issue(run, register))
    keys = tmp_path / "keys.json"
    keys.write_text(ok(run("keys", "show", "--format", "json")).stdout)
    missing_store = str(tmp_path / "no-such-store.db")
    ok(run("credential", "verify", path, "--keys", str(keys), db=missing_store))
    assert not Path(missing_store).exists()


# The 1EdTech validator's invalid fixtures (expectations from its OB30Tests.java), each refused for its own fault.
INVALID = {
    "simple-err-type.json": ("schema", "type: must contain 'AchievementCredential' or 'OpenBadgeCredential'"),
    "simple-err-context.json": ("schema", "@context.0: must be one of 'https://www.w3.org/ns/credentials/v2'"),
    "simple-err-issuer.json": ("schema", "'issuer' is a required property"),
    "simple-err-issuer-type.json": ("schema", "issuer.type: must contain 'Profile'"),
    "simple-err-issuer-parentorg-type.json": ("schema", "issuer.parentOrg.type: must contain 'Profile'"),
    "simple-err-issuer-otheridentifier-type.json": ("schema", "issuer.otherIdentifier.1.type: must be one of 'IdentifierEntry'"),
    "simple-err-credential-subject-type.json": ("schema", "credentialSubject.type: must contain 'AchievementSubject'"),
    "simple-err-credential-subject-identifier-type.json": ("schema", "credentialSubject.identifier.0.type: must be one of 'IdentityObject'"),
    "simple-err-credential-subject-profile-type.json": ("schema", "credentialSubject.source.type"),
    "simple-err-credential-subject-result-type.json": ("schema", "credentialSubject.result.1.type: must contain 'Result'"),
    "simple-err-credential-subject-achievement-result-description-type.json": (
        "schema", "credentialSubject.achievement.resultDescription.0.type"),
    "simple-err-evidence-type.json": ("schema", "evidence.0.type"),
    "simple-err-expired.json": ("dates", "it has expired: validUntil is 2010-01-01T00:00:00Z"),
    "simple-err-issued.json": ("dates", "it is not valid yet: validFrom is 2040-01-01T00:00:00Z"),
    "simple-err-proof-method.json": ("schema", "proof: must be of type array"),
    "simple-err-proof-method-no-scheme.json": ("proof", "its verification method 'z6Mkrvfz"),
    "simple-err-proof-method-unknown-did-method.json": ("proof", "its verification method 'did:example:"),
    "simple-err-proof-method-unknown-scheme.json": ("proof", "its verification method 'xxx:"),
    "simple-err-proof-value.json": ("proof", "cannot be resolved"),
    "simple-multiple-proofs.json": ("proof", "it carries 2 proofs"),
}


def test_every_invalid_example_is_listed():
    assert sorted(p.name for p in (DATA / "ob30-invalid").glob("simple-*.json")) == sorted(INVALID)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_the_invalid_ob3_examples_are_refused_with_the_right_reason(run, register, name):
    check, reason = INVALID[name]
    result = run("--json", "credential", "verify", str(DATA / "ob30-invalid" / name))
    assert result.exit_code == 1, result.stderr
    verdict = result.json()
    assert verdict["valid"] is False and verdict["check"] == check
    assert reason in verdict["reason"]


def test_hostile_documents_are_refused_in_one_sentence(run, register, tmp_path):
    document = issue(run, register)
    (tmp_path / "deep.json").write_text(json.dumps(document)[:-1] + ', "evidence": ' + "[" * 100_000 + "]" * 100_000 + "}")
    refused(run("credential", "verify", str(tmp_path / "deep.json")), 2)  # too deep for the JSON parser itself
    deep: Any = "x"
    for _ in range(400):
        deep = {"narrative": deep}
    message = refused(run("credential", "verify", write(tmp_path, {**document, "evidence": [deep]})))
    assert message.startswith("Invalid (")
    for odd in ({**document, "@context": [document["@context"][0], document["@context"][1], {"@version": 99}]},
                {**document, "credentialSubject": {**document["credentialSubject"], "@id": 5}}):
        assert refused(run("credential", "verify", write(tmp_path, odd))).startswith("Invalid (")
