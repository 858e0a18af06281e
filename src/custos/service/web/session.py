"""Browser sessions and CSRF tokens for the pages: an API key exchanged for a signed cookie.

The cookie holds no secret of the key: `<prefix>.<expires>.<nonce>.<mac>`,
signed with a random secret that lives only in the server process (a restart
signs everyone out, which is the safe direction). Every request re-reads the
key's record, so revoking or expiring a key ends its sessions at once.

A form's CSRF token is an HMAC of the session nonce, so it is bound to one
session and useless in another; the login form, which has no session yet,
binds its token to a short-lived pre-login cookie instead (login CSRF).
Cookies are HttpOnly and SameSite=Strict, and Secure whenever the page was
served over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

SESSION_COOKIE = "custos_session"
LOGIN_COOKIE = "custos_login"
SESSION_SECONDS = 8 * 3600
LOGIN_SECONDS = 900
_NONCE_BYTES = 18


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the key it was opened with, and until when it is good."""

    prefix: str
    expires: int
    nonce: str


@dataclass
class SessionSigner:
    """Issues and checks session cookies and CSRF tokens with one process-local secret.

    Signed-out nonces are remembered (the newest `capacity`) until they would
    have expired anyway, so a copied cookie stops working at logout.
    """

    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    capacity: int = 100_000
    _ended: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _mac(self, purpose: str, text: str) -> str:
        return _b64(hmac.new(self.secret, f"{purpose}:{text}".encode(), hashlib.sha256).digest())

    def open(self, prefix: str, *, now: float | None = None) -> tuple[Session, str]:
        """A new session for the key `prefix` and its cookie value."""
        expires = int(now if now is not None else time.time()) + SESSION_SECONDS
        session = Session(prefix, expires, _b64(secrets.token_bytes(_NONCE_BYTES)))
        body = f"{session.prefix}.{session.expires}.{session.nonce}"
        return session, f"{body}.{self._mac('session', body)}"

    def read(self, cookie: str | None, *, now: float | None = None) -> Session | None:
        """The session a cookie names, or None if it is forged, expired or signed out."""
        if not cookie:
            return None
        parts = cookie.split(".")
        if len(parts) != 4:
            return None
        prefix, expires, nonce, mac = parts
        if not hmac.compare_digest(mac, self._mac("session", f"{prefix}.{expires}.{nonce}")):
            return None
        if not expires.isdigit() or int(expires) <= (now if now is not None else time.time()):
            return None
        with self._lock:
            if nonce in self._ended:
                return None
        return Session(prefix, int(expires), nonce)

    def end(self, session: Session) -> None:
        with self._lock:
            self._ended[session.nonce] = session.expires
            now = time.time()
            while self._ended and (
                len(self._ended) > self.capacity or next(iter(self._ended.values())) <= now
            ):
                self._ended.popitem(last=False)

    def csrf_token(self, session: Session) -> str:
        return self._mac("csrf", session.nonce)

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(str(token), self.csrf_token(session))

    def login_nonce(self) -> str:
        return _b64(secrets.token_bytes(_NONCE_BYTES))

    def login_token(self, nonce: str) -> str:
        return self._mac("login", nonce)

    def check_login(self, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token:
            return False
        return hmac.compare_digest(str(token), self.login_token(nonce))
