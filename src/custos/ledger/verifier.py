"""A stand-alone verifier for custos ledger checkpoints and proofs.

An auditor can copy this one file and run it with Python 3.11+ and the
`cryptography` package; it imports nothing from custos, so it does not have to
trust the software it is checking. It verifies:

- a checkpoint: a C2SP signed note (c2sp.org/signed-note) whose text is a
  C2SP tlog-checkpoint (origin, tree size, base64 root hash), signed with
  Ed25519 by the key given as a verifier key
  `<name>+<hex key id>+<base64(0x01 || public key)>` (the Go `note` format);
- an inclusion proof: that events are leaves of the tree a checkpoint signs,
  by the RFC 9162 §2.1.3.2 algorithm (RFC 6962 hashing: leaf = SHA-256(0x00 ||
  event), node = SHA-256(0x01 || left || right));
- a consistency proof: that a later checkpoint's tree extends an earlier one's,
  by the RFC 9162 §2.1.4.2 algorithm.

Usage:

    python verifier.py --key VERIFIER_KEY checkpoint  checkpoint.txt
    python verifier.py --key VERIFIER_KEY inclusion   proof.json
    python verifier.py --key VERIFIER_KEY consistency proof.json

Exit status 0 when everything verifies, 1 when anything does not.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

INCLUSION_FORMAT = "custos-inclusion-proof/v1"
CONSISTENCY_FORMAT = "custos-consistency-proof/v1"
ED25519_TYPE = 0x01
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class VerificationError(Exception):
    """Something does not verify; the message says what."""


def hash_leaf(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: the leaf at `index` is in the tree of `size` leaves with `root`."""
    if index < 0 or index >= size:
        raise VerificationError(f"leaf index {index} is outside a tree of size {size}")
    _require_hashes([leaf_hash, root, *proof])
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise VerificationError("inclusion proof does not lead to the signed root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: the tree of `size2` leaves with `root2` extends the one of `size1`."""
    if size1 < 0 or size2 < size1:
        raise VerificationError(f"tree sizes go backwards: {size1} then {size2}")
    _require_hashes([root1, root2, *proof])
    if size1 == size2:
        if proof:
            raise VerificationError("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise VerificationError(f"two different roots for the same tree size {size1}")
        return
    if size1 == 0:
        if proof:
            raise VerificationError("consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise VerificationError("consistency proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is shorter than needed")
    if fr != root1:
        raise VerificationError("consistency proof does not lead to the older root")
    if sr != root2:
        raise VerificationError("consistency proof does not lead to the newer root")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """An Ed25519 note verifier key: a name, its 4-byte key id and the 32-byte public key."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519_TYPE]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def key_id(name: str, public_key: bytes) -> bytes:
    """The C2SP signed-note key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public_key).digest()[:4]


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse `<name>+<hex key id>+<base64(0x01 || public key)>` and check its key id."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise VerificationError("a verifier key reads <name>+<hex key id>+<base64 key>")
    name, id_hex, encoded = parts
    _check_key_name(name)
    try:
        claimed = bytes.fromhex(id_hex)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise VerificationError(f"verifier key is not hex and base64: {exc}") from exc
    if len(claimed) != 4 or len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise VerificationError("verifier key is not an Ed25519 note key")
    public = raw[1:]
    if key_id(name, public) != claimed:
        raise VerificationError("verifier key's id does not match its name and public key")
    return VerifierKey(name, claimed, public)


def open_note(note: str, key: VerifierKey) -> str:
    """Check a signed note against `key` and return its text (ending in a newline).

    Per the spec, signatures by other keys are ignored; a signature by `key`
    that fails, or the absence of one, rejects the note.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise VerificationError("note contains control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise VerificationError("note has no signature block")
    text, signatures = note[: split + 1], note[split + 2 :]
    verified = False
    for line in signatures.splitlines():
        name, signature = _signature_line(line)
        if name != key.name or signature[:4] != key.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature[4:], text.encode())
        except InvalidSignature as exc:
            raise VerificationError(f"note signature by {key.name} is invalid") from exc
        verified = True
    if not verified:
        raise VerificationError(f"note is not signed by {key.name}+{key.key_id.hex()}")
    return text


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    """What a checkpoint says: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes


def parse_checkpoint(text: str) -> CheckpointBody:
    """Parse tlog-checkpoint note text: origin, decimal size, base64 root (extensions ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
        raise VerificationError("checkpoint text must be at least three non-empty lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
        raise VerificationError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise VerificationError("checkpoint root hash is not base64") from exc
    if len(root) != HASH_SIZE:
        raise VerificationError("checkpoint root hash is not 32 bytes")
    return CheckpointBody(origin, int(size_text), root)


def verify_checkpoint(note: str, key: VerifierKey) -> CheckpointBody:
    """A checkpoint signed by `key`, parsed."""
    return parse_checkpoint(open_note(note, key))


def verify_inclusion_document(document: dict[str, Any], key: VerifierKey) -> CheckpointBody:
    """Verify every entry of a custos inclusion-proof document against its checkpoint."""
    if document.get("format") != INCLUSION_FORMAT:
        raise VerificationError(f"not a {INCLUSION_FORMAT} document")
    checkpoint = verify_checkpoint(_field(document, "checkpoint", str), key)
    entries = _field(document, "entries", list)
    if not entries:
        raise VerificationError("the document proves no events")
    for entry in entries:
        if not isinstance(entry, dict):
            raise VerificationError("each entry must be an object")
        index = _field(entry, "leaf_index", int)
        event = _field(entry, "event", str)
        try:
            seq = json.loads(event).get("seq")
        except (ValueError, AttributeError) as exc:
            raise VerificationError(f"entry {index}: the event is not a JSON object") from exc
        if seq != index:
            raise VerificationError(f"entry {index}: the event says seq {seq}")
        proof = [_b64(h) for h in _field(entry, "proof", list)]
        try:
            verify_inclusion(
                hash_leaf(event.encode()), index, checkpoint.size, proof, checkpoint.root
            )
        except VerificationError as exc:
            raise VerificationError(f"entry {index}: {exc}") from exc
    return checkpoint


def verify_consistency_document(
    document: dict[str, Any], key: VerifierKey
) -> tuple[CheckpointBody, CheckpointBody]:
    """Verify a custos consistency-proof document: both checkpoints and the proof between them."""
    if document.get("format") != CONSISTENCY_FORMAT:
        raise VerificationError(f"not a {CONSISTENCY_FORMAT} document")
    old = verify_checkpoint(_field(document, "old_checkpoint", str), key)
    new = verify_checkpoint(_field(document, "new_checkpoint", str), key)
    if old.origin != new.origin:
        raise VerificationError(f"checkpoints of two logs: {old.origin!r} and {new.origin!r}")
    proof = [_b64(h) for h in _field(document, "proof", list)]
    verify_consistency(old.size, new.size, proof, old.root, new.root)
    return old, new


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--key", required=True, help="verifier key <name>+<id>+<base64 key>")
    parser.add_argument("kind", choices=("checkpoint", "inclusion", "consistency"))
    parser.add_argument("file", type=Path)
    args = parser.parse_args(argv)
    try:
        key = parse_verifier_key(args.key)
        content = args.file.read_text(encoding="utf-8")
        if args.kind == "checkpoint":
            body = verify_checkpoint(content, key)
            print(f"OK: checkpoint of {body.origin} at size {body.size}")
        elif args.kind == "inclusion":
            document = _json_object(content)
            body = verify_inclusion_document(document, key)
            count = len(document["entries"])
            print(f"OK: {count} event(s) included in {body.origin} at size {body.size}")
        else:
            old, new = verify_consistency_document(_json_object(content), key)
            print(f"OK: {new.origin} at size {new.size} extends size {old.size}")
    except (VerificationError, OSError, UnicodeDecodeError) as exc:
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    return 0


def _signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith("\u2014 "):
        raise VerificationError(f"malformed signature line {line!r}")
    parts = line[2:].split(" ")
    if len(parts) != 2:
        raise VerificationError(f"malformed signature line {line!r}")
    name, encoded = parts
    _check_key_name(name)
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise VerificationError(f"signature of {name} is not base64") from exc
    if len(signature) < 5:
        raise VerificationError(f"signature of {name} is too short")
    return name, signature


def _check_key_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise VerificationError(f"invalid key name {name!r}")


def _require_hashes(hashes: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise VerificationError("every hash must be 32 bytes")


def _json_object(content: str) -> dict[str, Any]:
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise VerificationError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise VerificationError("the proof file must hold a JSON object")
    return document


def _field(document: dict[str, Any], name: str, kind: type) -> Any:
    value = document.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise VerificationError(f"field {name!r} must be a {kind.__name__}")
    return value


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise VerificationError("proof hashes must be base64 strings")
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise VerificationError("proof hash is not base64") from exc
    if len(decoded) != HASH_SIZE:
        raise VerificationError("proof hash is not 32 bytes")
    return decoded


if __name__ == "__main__":
    sys.exit(main())
