"""Who is looking at a page: the session cookie, the key behind it, its role, its CSRF token.

The same keys and roles as the API: a page names the roles it admits with
`viewer(...)`, anyone else signed in gets 403, and a browser without a
session is sent to the login form. A form post must carry the session's
CSRF token or it is refused before the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from custos import store
from custos.service.auth import Principal, Role
from custos.service.deps import ServiceState, get_state
from custos.service.web.session import SESSION_COOKIE, Session, SessionSigner
from custos.store.apikeys import get_api_key


class WebError(Exception):
    """A page error shown as a page: its status and a message for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class LoginRequired(Exception):
    """No usable session: go to the login form and come back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return "/ui/login?next=" + quote(self.next_path, safe="/")


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in person: the key's principal, the session and the token its forms carry."""

    principal: Principal
    session: Session
    csrf: str

    @property
    def role(self) -> Role:
        return self.principal.role


def signer_of(request: Request) -> SessionSigner:
    signer = request.app.state.custos_web
    assert isinstance(signer, SessionSigner)
    return signer


def principal_for(opened: store.Store, session: Session) -> Principal | None:
    """The key's principal if the key still exists, is not revoked and has not expired."""
    with opened.read() as conn:
        record = get_api_key(conn, session.prefix)
    if record is None or record.revoked_at is not None or not record.usable(datetime.now(UTC)):
        return None
    return Principal(prefix=record.prefix, role=Role(record.role), agency=record.agency_id)


async def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer, or `LoginRequired`; a form post without its CSRF token is 403."""
    state: ServiceState = get_state(request)
    signer = signer_of(request)
    session = signer.read(request.cookies.get(SESSION_COOKIE))
    principal = (
        None
        if session is None
        else await run_in_threadpool(principal_for, state.gateway.store, session)
    )
    if session is None or principal is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else "/ui/")
    wait = state.limiter.allow(principal.prefix)
    if wait > 0:
        raise WebError(429, f"Too many requests for this key; try again in {wait:.0f} s.")
    if request.method == "POST":
        form = await request.form()
        token = form.get("csrf")
        if not signer.check_csrf(session, token if isinstance(token, str) else None):
            raise WebError(403, "The form's security token is missing or stale; reload the page.")
    return Viewer(principal, session, signer.csrf_token(session))


def viewer(*roles: Role) -> Callable[..., Awaitable[Viewer]]:
    """A dependency admitting only `roles`; another signed-in role gets a 403 page."""

    async def check(seen: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
        if seen.role not in roles:
            raise WebError(403, f"This page is not open to the {seen.role.value} role.")
        return seen

    check.__name__ = "page_for_" + "_".join(r.value for r in roles)
    return check


AnyRole = Annotated[Viewer, Depends(current_viewer)]
Officer = Annotated[Viewer, Depends(viewer(Role.OFFICER))]
Staff = Annotated[Viewer, Depends(viewer(Role.OFFICER, Role.AUDITOR))]
Auditor = Annotated[Viewer, Depends(viewer(Role.AUDITOR))]
Custodian = Annotated[Viewer, Depends(viewer(Role.OFFICER, Role.ADMIN))]
BatchReaders = Annotated[Viewer, Depends(viewer(Role.OFFICER, Role.AUDITOR, Role.REQUESTER))]

HOME: dict[Role, str] = {
    Role.OFFICER: "/ui/review",
    Role.AUDITOR: "/ui/oversight",
    Role.REQUESTER: "/ui/batches",
    Role.ADMIN: "/ui/holds",
}
