"""API keys and the per-key rate limit: who is calling, and how often they may.

A key is `custos_<prefix>_<secret>`: the prefix finds the stored record, the
secret (32 random bytes) is checked against its SHA-256. A secret with 256
bits of entropy needs no slow hash: no dictionary attack applies, and the
lookup stays cheap on every request. The full key is returned once, at issue,
and never stored.

Roles: a `requester` belongs to an agency and sees only that agency's
batches; `officer`, `auditor` and `admin` are the custodian's staff and
belong to no agency.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from custos import store
from custos.errors import CustosError
from custos.ledger import EventType, NewEvent, append, append_events
from custos.store.apikeys import (
    ApiKeyRecord,
    add_api_key,
    get_api_key,
    list_api_keys,
    revoke_api_key,
)

KEY_PATTERN = re.compile(r"\Acustos_([0-9a-f]{12})_([A-Za-z0-9_-]{43})\Z")


class Role(StrEnum):
    REQUESTER = "requester"
    OFFICER = "officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the key's prefix names it in the ledger."""

    prefix: str
    role: Role
    agency: str | None

    @property
    def actor(self) -> str:
        return f"key:{self.prefix}"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key: `secret_key` is shown to the holder once and kept nowhere."""

    secret_key: str
    record: ApiKeyRecord


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def issue_key(
    opened: store.Store,
    *,
    role: Role,
    agency: str | None,
    expires_at: datetime | None = None,
    actor: str,
    origin: str,
) -> IssuedKey:
    """Issue a key and record the issue in the ledger, in one transaction.

    A requester key must name an agency known to the store; a custodian role
    must not name one.
    """
    if role is Role.REQUESTER and not agency:
        raise CustosError("a requester key needs an agency (--agency)")
    if role is not Role.REQUESTER and agency:
        raise CustosError(f"a {role.value} key belongs to the custodian, not to an agency")
    now = datetime.now(UTC)
    if expires_at is not None and expires_at <= now:
        raise CustosError(f"the expiry {expires_at.isoformat()} is not in the future")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        prefix=prefix,
        key_hash=_hash(secret),
        agency_id=agency or None,
        role=role.value,
        created_at=now,
        expires_at=expires_at,
    )
    with opened.write() as conn:
        if agency and store.get_agency(conn, agency) is None:
            raise CustosError(f"agency {agency!r} is not in the store; load its roster first")
        add_api_key(conn, record)
        append_events(
            conn,
            [
                NewEvent(
                    actor=actor,
                    event_type=EventType.API_KEY_ISSUED,
                    success=True,
                    origin=origin,
                    object=f"api_key:{prefix}",
                    payload={
                        "role": role.value,
                        "agency": agency or None,
                        "expires_at": expires_at.isoformat() if expires_at else None,
                    },
                )
            ],
        )
    return IssuedKey(secret_key=f"custos_{prefix}_{secret}", record=record)


def revoke_key(opened: store.Store, prefix: str, *, actor: str, origin: str) -> ApiKeyRecord:
    """Revoke a key at once; the revocation is a ledger event."""
    with opened.write() as conn:
        record = revoke_api_key(conn, prefix)
        append_events(
            conn,
            [
                NewEvent(
                    actor=actor,
                    event_type=EventType.API_KEY_REVOKED,
                    success=True,
                    origin=origin,
                    object=f"api_key:{prefix}",
                    payload={"role": record.role, "agency": record.agency_id},
                )
            ],
        )
    return record


def list_keys(opened: store.Store) -> list[ApiKeyRecord]:
    with opened.read() as conn:
        return list_api_keys(conn)


class AuthFailure(Exception):
    """Why a presented credential was refused; the reason goes to the ledger, not the caller."""

    def __init__(self, reason: str, prefix: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.prefix = prefix


def authenticate(
    opened: store.Store, authorization: str | None, *, now: datetime | None = None
) -> Principal:
    """The caller named by an `Authorization: Bearer <key>` header, or `AuthFailure`."""
    if not authorization:
        raise AuthFailure("missing credentials")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthFailure("not a bearer credential")
    match = KEY_PATTERN.match(token.strip())
    if match is None:
        raise AuthFailure("malformed key")
    prefix, secret = match.groups()
    with opened.read() as conn:
        record = get_api_key(conn, prefix)
    if record is None:
        raise AuthFailure("unknown key", prefix)
    if not hmac.compare_digest(record.key_hash, _hash(secret)):
        raise AuthFailure("wrong secret", prefix)
    if record.revoked_at is not None:
        raise AuthFailure("revoked key", prefix)
    if not record.usable(now or datetime.now(UTC)):
        raise AuthFailure("expired key", prefix)
    return Principal(prefix=prefix, role=Role(record.role), agency=record.agency_id)


def record_auth_failure(
    opened: store.Store, failure: AuthFailure, *, origin: str, path: str
) -> None:
    """A refused credential is a ledger event (AU-2), naming the client host as origin."""
    append(
        opened,
        NewEvent(
            actor=f"key:{failure.prefix}" if failure.prefix else "anonymous",
            event_type=EventType.AUTH_FAILED,
            success=False,
            origin=origin,
            object=f"api_key:{failure.prefix}" if failure.prefix else "service",
            payload={"reason": failure.reason, "path": path},
        ),
    )


class RateLimiter:
    """A token bucket per key: `burst` calls at once, refilled at `per_second`.

    In memory and per process: a limit on one server, not a cluster-wide quota.
    """

    def __init__(
        self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise CustosError("the rate limit needs a positive rate and a burst of at least 1")
        self.per_second = per_second
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> float:
        """0 when the call may proceed, else the seconds until a token is available."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second

    def wait(self, key: str) -> float:
        """The seconds until `key` has a token again (0 if it has one), taking none."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second
