"""Session cookies and CSRF tokens: forged, expired, signed-out or cross-session values fail."""

from __future__ import annotations

from custos.service.web.session import SESSION_SECONDS, SessionSigner


def test_a_session_cookie_reads_back_until_it_expires() -> None:
    signer = SessionSigner()
    session, cookie = signer.open("0123456789ab", now=1_000_000)
    assert signer.read(cookie, now=1_000_001) == session
    assert signer.read(cookie, now=1_000_000 + SESSION_SECONDS) is None


def test_a_tampered_or_foreign_cookie_is_refused() -> None:
    signer = SessionSigner()
    _, cookie = signer.open("0123456789ab")
    prefix, expires, nonce, mac = cookie.split(".")
    assert signer.read(f"ffffffffffff.{expires}.{nonce}.{mac}") is None
    assert signer.read(f"{prefix}.{int(expires) + 3600}.{nonce}.{mac}") is None
    assert signer.read(cookie + "x") is None
    assert signer.read("") is None and signer.read("a.b.c") is None
    assert SessionSigner().read(cookie) is None


def test_signing_out_ends_the_cookie_even_if_it_was_copied() -> None:
    signer = SessionSigner()
    session, cookie = signer.open("0123456789ab")
    signer.end(session)
    assert signer.read(cookie) is None


def test_a_csrf_token_belongs_to_one_session() -> None:
    signer = SessionSigner()
    one, _ = signer.open("0123456789ab")
    two, _ = signer.open("0123456789ab")
    token = signer.csrf_token(one)
    assert signer.check_csrf(one, token)
    assert not signer.check_csrf(two, token)
    assert not signer.check_csrf(one, None) and not signer.check_csrf(one, "")


def test_a_login_token_belongs_to_its_pre_login_cookie() -> None:
    signer = SessionSigner()
    nonce = signer.login_nonce()
    assert signer.check_login(nonce, signer.login_token(nonce))
    assert not signer.check_login(signer.login_nonce(), signer.login_token(nonce))
    assert not signer.check_login(None, signer.login_token(nonce))
