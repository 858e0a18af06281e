"""Idempotency-Key bindings that outlive the process: (agency, key) → the file's SHA-256.

A binding is one small file under the gateway's work folder, created with
an exclusive link so two servers racing on the same key agree on who came
first. Only the file's digest is bound: the batch id is derived from the
agency and the digest (`pipeline.batch_id_for`), so a key reused after a
restart finds the same batch, and a key reused with a different file is a
conflict however long ago the first use was. Bindings are never expired.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

FOLDER = "idempotency"


def _path(work: Path, agency: str, key: str) -> Path:
    digest = hashlib.sha256(f"{agency}\x00{key}".encode()).hexdigest()
    return work / FOLDER / digest[:2] / digest


def bind(work: Path, agency: str, key: str, sha256: str) -> str:
    """Bind the key to `sha256` unless it is bound already; the digest it is bound to."""
    target = _path(work, agency, key)
    try:
        return target.read_text().strip()
    except FileNotFoundError:
        pass
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(dir=target.parent, prefix=".bind-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(sha256)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(staged, target)
        except FileExistsError:
            return target.read_text().strip()
    finally:
        os.unlink(staged)
    return sha256
