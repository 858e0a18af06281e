"""The checkpoint signing key: Ed25519, kept in a file only its owner can read.

The private key file uses the Go `note` signer format, one line:
`PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || 32-byte seed)>`, so the key
carries its own name (the ledger's origin). The public half is published as
a verifier key, `<name>+<hex key id>+<base64(0x01 || public key)>`, which is
what an auditor passes to verify and to the stand-alone verifier. The store
keeps only public keys (table `signing_keys`), for reference, never trust:
verification always takes the key from the auditor.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select

from custos.config import load_settings
from custos.errors import LedgerError
from custos.ledger.verifier import (
    ED25519_TYPE,
    VerificationError,
    VerifierKey,
    key_id,
    parse_verifier_key,
)
from custos.store._sql import utc_now
from custos.store.schema import signing_keys

PRIVATE_PREFIX = "PRIVATE+KEY+"


@dataclass(frozen=True)
class SigningKey:
    """A named Ed25519 private key that signs checkpoints."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, key_id(self.name, self.public_key), self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def generate_signing_key(name: str) -> SigningKey:
    """A fresh key named `name` (use the ledger origin, e.g. `custos.local/ledger`)."""
    _check_name(name)
    return SigningKey(name, Ed25519PrivateKey.generate())


def format_signing_key(key: SigningKey) -> str:
    seed = key.private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    encoded = base64.b64encode(bytes([ED25519_TYPE]) + seed).decode()
    return f"{PRIVATE_PREFIX}{key.name}+{key.verifier.key_id.hex()}+{encoded}"


def parse_signing_key(text: str) -> SigningKey:
    if not text.startswith(PRIVATE_PREFIX):
        raise LedgerError("not a signing key: it must start with PRIVATE+KEY+")
    parts = text.strip()[len(PRIVATE_PREFIX) :].split("+", 2)
    if len(parts) != 3:
        raise LedgerError("a signing key reads PRIVATE+KEY+<name>+<hex key id>+<base64 key>")
    name, id_hex, encoded = parts
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
        claimed = bytes.fromhex(id_hex)
    except (binascii.Error, ValueError) as exc:
        raise LedgerError(f"signing key is not hex and base64: {exc}") from exc
    if len(raw) != 33 or raw[0] != ED25519_TYPE:
        raise LedgerError("signing key is not an Ed25519 note key")
    key = SigningKey(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if key.verifier.key_id != claimed:
        raise LedgerError("signing key's id does not match its name and key")
    return key


def save_signing_key(key: SigningKey, path: Path) -> None:
    """Write the key to a new file readable only by its owner (mode 0600); never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise LedgerError(f"{path} already exists; a signing key is never overwritten") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(format_signing_key(key) + "\n")


def load_signing_key(path: Path | None = None) -> SigningKey:
    """Read the key from `path` (default: CUSTOS_LEDGER_KEY), refusing one others can read."""
    path = path or load_settings().ledger_key_path
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise LedgerError(
            f"no ledger signing key at {path}; create one, or set CUSTOS_LEDGER_KEY to its path"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read the ledger signing key at {path}: {exc}") from exc
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise LedgerError(
            f"the ledger signing key {path} is accessible to others "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
        )
    return parse_signing_key(text)


def verifier_key(text: str) -> VerifierKey:
    """Parse a verifier key `<name>+<hex key id>+<base64 key>`; a bad one is a `LedgerError`."""
    try:
        return parse_verifier_key(text)
    except VerificationError as exc:
        raise LedgerError(str(exc)) from exc


def register_signing_key(
    conn: Connection, key: VerifierKey, *, now: datetime | None = None
) -> bool:
    """Record a public key in the store (for reference); False if already recorded."""
    row = {
        "name": key.name,
        "key_id": key.key_id.hex(),
        "public_key": key.public_key,
        "verifier_key": str(key),
        "created_at": now or utc_now(),
    }
    exists = conn.execute(
        select(signing_keys.c.name).where(
            signing_keys.c.name == key.name, signing_keys.c.key_id == key.key_id.hex()
        )
    ).first()
    if exists:
        return False
    conn.execute(signing_keys.insert().values(row))
    return True


def registered_keys(conn: Connection) -> list[VerifierKey]:
    rows = conn.execute(select(signing_keys).order_by(signing_keys.c.created_at)).all()
    return [VerifierKey(r.name, bytes.fromhex(r.key_id), bytes(r.public_key)) for r in rows]


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise LedgerError(f"key name {name!r} must be non-empty, without spaces or '+'")
