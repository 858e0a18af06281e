"""Keys (issue, hash, expiry, revocation) and the token bucket, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custos import store
from custos.errors import CustosError
from custos.service.auth import AuthFailure, RateLimiter, Role, authenticate, issue_key, list_keys


@pytest.fixture
def opened(tmp_path: Path) -> store.Store:
    s = store.open_store(f"sqlite:///{tmp_path / 'custos.db'}")
    with s.write() as conn:
        store.save_agency(conn, store.Agency("AG-1", "Agency One", None))
    return s


def test_key_is_shown_once_and_stored_only_as_a_hash(opened: store.Store) -> None:
    issued = issue_key(opened, role=Role.REQUESTER, agency="AG-1", actor="u", origin="o")
    secret = issued.secret_key.split("_", 2)[2]  # custos_<prefix>_<secret>; the secret may hold "_"
    (record,) = list_keys(opened)
    assert record.prefix == issued.record.prefix
    assert secret not in record.key_hash and record.key_hash != secret
    principal = authenticate(opened, f"Bearer {issued.secret_key}")
    assert principal.role is Role.REQUESTER and principal.agency == "AG-1"


def test_roles_and_agencies_go_together(opened: store.Store) -> None:
    with pytest.raises(CustosError, match="needs an agency"):
        issue_key(opened, role=Role.REQUESTER, agency=None, actor="u", origin="o")
    with pytest.raises(CustosError, match="custodian"):
        issue_key(opened, role=Role.AUDITOR, agency="AG-1", actor="u", origin="o")
    with pytest.raises(CustosError, match="not in the store"):
        issue_key(opened, role=Role.REQUESTER, agency="AG-9", actor="u", origin="o")
    with pytest.raises(CustosError, match="not in the future"):
        issue_key(
            opened,
            role=Role.ADMIN,
            agency=None,
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
            actor="u",
            origin="o",
        )


def test_an_expired_key_is_refused(opened: store.Store) -> None:
    expires = datetime.now(UTC) + timedelta(days=1)
    issued = issue_key(
        opened, role=Role.OFFICER, agency=None, expires_at=expires, actor="u", origin="o"
    )
    header = f"Bearer {issued.secret_key}"
    assert authenticate(opened, header, now=expires - timedelta(seconds=1)).role is Role.OFFICER
    with pytest.raises(AuthFailure, match="expired"):
        authenticate(opened, header, now=expires)


@given(st.text(max_size=80))
def test_arbitrary_authorization_headers_never_authenticate(header: str) -> None:
    class NoStore:
        def read(self) -> object:
            raise AssertionError("a malformed header must not reach the store")

    with pytest.raises(AuthFailure):
        authenticate(NoStore(), header)  # type: ignore[arg-type]


def test_token_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(per_second=2.0, burst=3, clock=lambda: now[0])
    assert [limiter.allow("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.allow("k")
    assert wait == pytest.approx(0.5)
    assert limiter.allow("other") == 0.0
    now[0] = 0.5
    assert limiter.allow("k") == 0.0
    assert limiter.allow("k") > 0
    now[0] = 100.0
    assert [limiter.allow("k") for _ in range(4)][:3] == [0.0, 0.0, 0.0]
