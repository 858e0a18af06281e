"""Checkpoints and keys: the C2SP formats, the Go reference vector, and the refusals."""

import base64
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from custos.errors import LedgerError
from custos.ledger import (
    EventType,
    NewEvent,
    append_many,
    checkpoint,
    checkpoint_if_due,
    generate_signing_key,
    latest_checkpoint,
    list_checkpoints,
    load_signing_key,
    save_signing_key,
    verifier_key,
)
from custos.ledger.checkpoint import checkpoint_text, sign_note
from custos.ledger.keys import SigningKey, format_signing_key, parse_signing_key, registered_keys
from custos.ledger.merkle import MerkleTree
from custos.ledger.verifier import open_note, parse_checkpoint
from custos.store import Store
from custos.store.testing import tampering

# The example of golang.org/x/mod/sumdb/note (note.go), the reference implementation.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def _events(n: int, start: int = 0) -> list[NewEvent]:
    return [
        NewEvent(
            "pipeline", EventType.REQUEST_DECIDED, True, "cli:run", f"request:A/R{i}", {"i": i}
        )
        for i in range(start, start + n)
    ]


def test_signed_note_matches_the_go_reference_byte_for_byte() -> None:
    key = parse_signing_key(GO_SKEY)
    assert str(key.verifier) == GO_VKEY
    assert sign_note(GO_TEXT, key) == GO_NOTE
    assert open_note(GO_NOTE, verifier_key(GO_VKEY)) == GO_TEXT
    assert format_signing_key(key) == GO_SKEY


def test_key_id_is_the_c2sp_hash_of_name_and_key() -> None:
    import hashlib

    key = generate_signing_key("custos.test/ledger")
    expected = hashlib.sha256(b"custos.test/ledger\n\x01" + key.public_key).digest()[:4]
    assert key.verifier.key_id == expected
    assert str(key.verifier).split("+")[1] == expected.hex()


def test_checkpoint_is_a_tlog_checkpoint_of_the_ledger(
    store: Store, signing_key: SigningKey
) -> None:
    recorded = append_many(store, _events(5))
    cp = checkpoint(store, signing_key)
    root = MerkleTree(e.leaf_hash for e in recorded).root()
    assert cp.tree_size == 5 and cp.root_hash == root
    text_part = checkpoint_text("custos.test/ledger", 5, root)
    assert text_part == f"custos.test/ledger\n5\n{base64.b64encode(root).decode()}\n"
    assert cp.note.startswith(text_part + "\n\u2014 custos.test/ledger ")
    body = parse_checkpoint(open_note(cp.note, signing_key.verifier))
    assert (body.origin, body.size, body.root) == ("custos.test/ledger", 5, root)
    with store.read() as conn:
        assert registered_keys(conn) == [signing_key.verifier]


def test_checkpoints_build_on_the_last_one(store: Store, signing_key: SigningKey) -> None:
    first = checkpoint(store, signing_key)
    assert first.tree_size == 0
    recorded = append_many(store, _events(3))
    second = checkpoint(store, signing_key)
    again = checkpoint(store, signing_key)
    recorded += append_many(store, _events(6, 3))
    third = checkpoint(store, signing_key)
    assert again == second
    assert [first.tree_size, second.tree_size, third.tree_size] == [0, 3, 9]
    assert third.root_hash == MerkleTree(e.leaf_hash for e in recorded).root()
    with store.read() as conn:
        assert [c.id for c in list_checkpoints(conn)] == [first.id, second.id, third.id]
        assert latest_checkpoint(conn) == third


def test_checkpoint_if_due(store: Store, signing_key: SigningKey) -> None:
    t0 = datetime(2025, 8, 7, 12, 0, tzinfo=UTC)
    every = timedelta(minutes=10)
    assert checkpoint_if_due(store, signing_key, every, clock=lambda: t0) is None  # empty
    append_many(store, _events(2), clock=lambda: t0)
    made = checkpoint_if_due(store, signing_key, every, clock=lambda: t0)
    assert made is not None and made.tree_size == 2
    append_many(store, _events(1, 2), clock=lambda: t0 + timedelta(minutes=1))
    assert checkpoint_if_due(store, signing_key, every, clock=lambda: t0 + every / 2) is None
    later = checkpoint_if_due(store, signing_key, every, clock=lambda: t0 + every)
    assert later is not None and later.tree_size == 3
    assert checkpoint_if_due(store, signing_key, every, clock=lambda: t0 + 5 * every) is None


def test_a_key_of_another_name_cannot_sign_this_ledger(
    store: Store, signing_key: SigningKey
) -> None:
    append_many(store, _events(1))
    checkpoint(store, signing_key)
    append_many(store, _events(1, 1))
    with pytest.raises(LedgerError, match=r"origin is 'custos\.test/ledger'"):
        checkpoint(store, generate_signing_key("someone.else/log"))


def test_checkpoint_refuses_to_sign_an_altered_ledger(
    store: Store, signing_key: SigningKey
) -> None:
    append_many(store, _events(4))
    with tampering(store) as conn:
        conn.execute(text("UPDATE ledger_events SET payload = :p WHERE seq = 2"), {"p": '{"i":99}'})
    with pytest.raises(LedgerError, match="event 2 does not match its recorded hash"):
        checkpoint(store, signing_key)


def test_checkpoint_refuses_a_ledger_shorter_than_signed(
    store: Store, signing_key: SigningKey
) -> None:
    append_many(store, _events(4))
    checkpoint(store, signing_key)
    with tampering(store) as conn:
        conn.execute(text("DELETE FROM ledger_events WHERE seq >= 2"))
    with pytest.raises(LedgerError, match="holds 2 events but was signed at 4"):
        checkpoint(store, signing_key)


def test_key_file_round_trip_is_private(tmp_path: Path) -> None:
    key = generate_signing_key("custos.test/ledger")
    path = tmp_path / "keys" / "ledger.key"
    save_signing_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = load_signing_key(path)
    assert loaded.verifier == key.verifier
    with pytest.raises(LedgerError, match="never overwritten"):
        save_signing_key(generate_signing_key("custos.test/ledger"), path)


def test_missing_key_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOS_HOME", str(tmp_path))
    monkeypatch.delenv("CUSTOS_LEDGER_KEY", raising=False)
    with pytest.raises(
        LedgerError, match=f"no ledger signing key at {tmp_path}.*CUSTOS_LEDGER_KEY"
    ):
        load_signing_key()


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.key"
    save_signing_key(generate_signing_key("custos.test/ledger"), path)
    os.chmod(path, 0o644)
    with pytest.raises(LedgerError, match="chmod 600"):
        load_signing_key(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello", "must start with PRIVATE"),
        ("PRIVATE+KEY+name+c74f20a3", "reads PRIVATE"),
        (
            "PRIVATE+KEY+PeterNeumann+00000000+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "id does not match",
        ),
        (
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AgEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
            "not an Ed25519",
        ),
        ("PRIVATE+KEY+Peter Neumann+c74f20a3+AYEK", "must be non-empty, without spaces"),
        ("PRIVATE+KEY+PeterNeumann+zz+AYEK", "hex and base64"),
    ],
)
def test_malformed_key_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "ledger.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(LedgerError, match=message):
        load_signing_key(path)


@pytest.mark.parametrize(
    "bad",
    [
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys_are_refused(bad: str) -> None:
    with pytest.raises(LedgerError):
        verifier_key(bad)
