"""Proofs for auditors, checked by the stand-alone verifier run as its own program."""

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

import custos.ledger.verifier as verifier_module
from custos.errors import LedgerError
from custos.ledger import (
    EventType,
    NewEvent,
    SigningKey,
    append_many,
    checkpoint,
    consistency,
    prove,
    request_object,
)
from custos.ledger.verifier import (
    VerificationError,
    parse_verifier_key,
    verify_consistency_document,
    verify_inclusion_document,
)
from custos.store import Store
from custos.store.testing import tampering

VERIFIER = Path(verifier_module.__file__)


def _about(agency: str, request_id: str, event_type: EventType, **payload: object) -> NewEvent:
    return NewEvent("pipeline", event_type, True, "cli:run", request_object(agency, request_id),
                    payload)  # fmt: skip


@pytest.fixture
def ledger(store: Store, signing_key: SigningKey) -> Store:
    append_many(store, [_about("DHS-ICE", f"R{i}", EventType.REQUEST_RECEIVED) for i in range(9)])
    append_many(store, [_about("DHS-ICE", "R3", EventType.REQUEST_GATED, rules=["i2-purpose"])])
    append_many(store, [_about("USSS", "R3", EventType.REQUEST_RECEIVED)])
    checkpoint(store, signing_key)
    append_many(store, [_about("DHS-ICE", "R3", EventType.DISCLOSURE_MADE, tin="123456789")])
    append_many(store, [_about("DHS-ICE", "R50%", EventType.REQUEST_RECEIVED)])
    checkpoint(store, signing_key)
    append_many(store, [_about("DHS-ICE", "R3", EventType.REVIEW_OPENED)])
    return store


def test_the_verifier_imports_nothing_from_custos() -> None:
    tree = ast.parse(VERIFIER.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the stand-alone verifier"
            imported.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"cryptography"}
    assert imported <= allowed, imported - allowed
    assert "custos" not in imported


def test_prove_a_requests_events_against_the_latest_checkpoint(
    ledger: Store, signing_key: SigningKey
) -> None:
    bundle = prove(ledger, "R3", agency="DHS-ICE")
    assert bundle.checkpoint.tree_size == 13
    assert [e.leaf_index for e in bundle.entries] == [3, 9, 11]
    assert bundle.pending == (13,)
    assert json.loads(bundle.entries[2].event)["payload"] == {"tin": "123456789"}
    body = verify_inclusion_document(json.loads(bundle.to_json()), signing_key.verifier)
    assert (body.size, body.root) == (13, bundle.checkpoint.root_hash)


def test_prove_without_an_agency_finds_the_request_everywhere(ledger: Store) -> None:
    assert [e.leaf_index for e in prove(ledger, "R3").entries] == [3, 9, 10, 11]
    assert [e.leaf_index for e in prove(ledger, "R50%").entries] == [12]
    with pytest.raises(LedgerError, match="no ledger events about request R5%"):
        prove(ledger, "R5%")


def test_prove_refuses_a_ledger_altered_since_its_checkpoint(ledger: Store) -> None:
    with tampering(ledger) as conn:
        conn.execute(
            text("UPDATE ledger_events SET leaf_hash = :h WHERE seq = 0"), {"h": b"x" * 32}
        )
    with pytest.raises(LedgerError, match="does not match its checkpoint at size 13"):
        prove(ledger, "R3")


def test_prove_needs_a_checkpoint(store: Store) -> None:
    append_many(store, [_about("DHS-ICE", "R1", EventType.REQUEST_RECEIVED)])
    with pytest.raises(LedgerError, match="no checkpoint yet"):
        prove(store, "R1")


def test_consistency_between_two_checkpoints(ledger: Store, signing_key: SigningKey) -> None:
    bundle = consistency(ledger, 11, 13)
    old, new = verify_consistency_document(json.loads(bundle.to_json()), signing_key.verifier)
    assert (old.size, new.size) == (11, 13)
    with pytest.raises(
        LedgerError, match=r"no checkpoint at size 12; checkpointed sizes: \[11, 13\]"
    ):
        consistency(ledger, 12, 13)
    with pytest.raises(LedgerError, match="larger than the new size"):
        consistency(ledger, 13, 11)


def _run_verifier(
    tmp_path: Path, key: str, kind: str, content: str
) -> subprocess.CompletedProcess[str]:
    """Run a copy of the verifier, alone in an empty folder, as an auditor would."""
    alone = tmp_path / "auditor"
    alone.mkdir(exist_ok=True)
    shutil.copy(VERIFIER, alone / "verifier.py")
    document = alone / f"{kind}.json"
    document.write_text(content, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-I", "verifier.py", "--key", key, kind, document.name],
        cwd=alone, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_stand_alone_verifier_accepts_good_proofs(
    ledger: Store, signing_key: SigningKey, tmp_path: Path
) -> None:
    key = str(signing_key.verifier)
    runs = [
        _run_verifier(tmp_path, key, "inclusion", prove(ledger, "R3").to_json()),
        _run_verifier(tmp_path, key, "consistency", consistency(ledger, 11, 13).to_json()),
        _run_verifier(tmp_path, key, "checkpoint", prove(ledger, "R3").checkpoint.note),
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("OK: ")
    assert "4 event(s) included in custos.test/ledger at size 13" in runs[0].stdout


def test_stand_alone_verifier_rejects_bad_proofs(
    ledger: Store, signing_key: SigningKey, other_key: SigningKey, tmp_path: Path
) -> None:
    document = json.loads(prove(ledger, "R3", agency="DHS-ICE").to_json())
    forged_event = json.loads(json.dumps(document))
    forged_event["entries"][0]["event"] = forged_event["entries"][0]["event"].replace(
        "request_received", "request_rejected"
    )
    wrong_index = json.loads(json.dumps(document))
    wrong_index["entries"][0]["leaf_index"] = 4
    cut_proof = json.loads(json.dumps(document))
    cut_proof["entries"][1]["proof"].pop()
    cases = [
        (str(signing_key.verifier), forged_event, "inclusion proof does not lead"),
        (str(signing_key.verifier), wrong_index, "the event says seq 3"),
        (str(signing_key.verifier), cut_proof, "shorter than the tree is deep"),
        (str(other_key.verifier), document, "not signed by custos.test/ledger+"),
    ]
    for key, bad, message in cases:
        run = _run_verifier(tmp_path, key, "inclusion", json.dumps(bad))
        assert run.returncode == 1
        assert message in run.stderr, run.stderr


def test_verifier_documents_are_checked_for_shape(signing_key: SigningKey) -> None:
    key = signing_key.verifier
    with pytest.raises(VerificationError, match="not a custos-inclusion-proof/v1"):
        verify_inclusion_document({"format": "other"}, key)
    with pytest.raises(VerificationError, match="field 'checkpoint' must be a str"):
        verify_inclusion_document({"format": "custos-inclusion-proof/v1"}, key)
    with pytest.raises(VerificationError, match="not a custos-consistency-proof/v1"):
        verify_consistency_document({}, key)
    assert parse_verifier_key(str(key)) == key


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("origin\n1\nAAAA\n", "no signature block"),
        ("origin\n1\n\n\u2014 bad\n", "malformed signature line"),
        ("a\x07b\n\n\u2014 k AAAA\n", "control characters"),
        ("origin\n1\nroot\n\n\u2014 some.other/key AAAAAAAAAAAA\n", "not signed by"),
    ],
)
def test_malformed_notes_are_rejected(signing_key: SigningKey, note: str, message: str) -> None:
    from custos.ledger.verifier import open_note

    with pytest.raises(VerificationError, match=message):
        open_note(note, signing_key.verifier)


@pytest.mark.parametrize(
    ("text_", "message"),
    [
        ("origin\n01\nAAAA\n", "not a decimal"),
        ("origin\n1\nnot base64!\n", "not base64"),
        ("origin\n1\nAAAA\n", "not 32 bytes"),
        ("origin\n1\n", "at least three"),
        ("origin\n\n1\nAAAA\n", "at least three"),
    ],
)
def test_malformed_checkpoints_are_rejected(text_: str, message: str) -> None:
    from custos.ledger.verifier import parse_checkpoint

    with pytest.raises(VerificationError, match=message):
        parse_checkpoint(text_)
