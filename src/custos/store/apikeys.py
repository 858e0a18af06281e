"""API keys: who may call the service, for which agency, in which role.

Only a hash of each key's secret is stored; the key is found by its public
prefix and checked against the hash, so a copy of this table lets nobody in.
Revocation and expiry are columns, never deletions, so the record of which
keys existed stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from custos.errors import StoreError
from custos.store._sql import utc_now
from custos.store.schema import api_keys


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One issued key as stored: its prefix, the hash of its secret, owner, role and life."""

    prefix: str
    key_hash: str
    agency_id: str | None
    role: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at


def add_api_key(conn: Connection, record: ApiKeyRecord) -> None:
    """Store a new key; a prefix already in use is refused, never overwritten."""
    if get_api_key(conn, record.prefix) is not None:
        raise StoreError(f"an API key with prefix {record.prefix!r} already exists")
    conn.execute(
        api_keys.insert().values(
            prefix=record.prefix,
            key_hash=record.key_hash,
            agency_id=record.agency_id,
            role=record.role,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
        )
    )


def get_api_key(conn: Connection, prefix: str) -> ApiKeyRecord | None:
    row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).one_or_none()
    return None if row is None else _record(row)


def list_api_keys(conn: Connection, agency_id: str | None = None) -> list[ApiKeyRecord]:
    """Every key (or one agency's), oldest first; revoked and expired keys included."""
    query = select(api_keys).order_by(api_keys.c.id)
    if agency_id is not None:
        query = query.where(api_keys.c.agency_id == agency_id)
    return [_record(row) for row in conn.execute(query)]


def revoke_api_key(conn: Connection, prefix: str, *, now: datetime | None = None) -> ApiKeyRecord:
    """Revoke a key from `now` on; revoking a revoked key keeps the first revocation time."""
    found = get_api_key(conn, prefix)
    if found is None:
        raise StoreError(f"no API key with prefix {prefix!r}")
    if found.revoked_at is None:
        conn.execute(
            update(api_keys).where(api_keys.c.prefix == prefix).values(revoked_at=now or utc_now())
        )
    revoked = get_api_key(conn, prefix)
    assert revoked is not None
    return revoked


def _record(row: Row[tuple[object, ...]]) -> ApiKeyRecord:
    m = row._mapping
    return ApiKeyRecord(
        prefix=m["prefix"],
        key_hash=m["key_hash"],
        agency_id=m["agency_id"],
        role=m["role"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        revoked_at=m["revoked_at"],
    )
