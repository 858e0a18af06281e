"""What routes depend on: the service state, the authenticated caller, the role check.

Every route names the roles it admits with `require(...)`; a route without
it is unreachable by design (default deny), and the authorisation matrix
test checks each route's roles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from custos.pipeline import Actor, Gateway
from custos.service.auth import (
    AuthFailure,
    Principal,
    RateLimiter,
    Role,
    authenticate,
    record_auth_failure,
)
from custos.service.errors import ApiError
from custos.service.settings import ServiceConfig
from custos.service.worker import InProcessWorker


@dataclass
class ServiceState:
    """The one gateway the process serves, its limiters (per key, per failing address), worker."""

    gateway: Gateway
    config: ServiceConfig
    limiter: RateLimiter
    dev: bool
    worker: InProcessWorker | None = None
    auth_failures: RateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.auth_failures = RateLimiter(
            self.config.auth_failures_per_second, self.config.auth_failure_burst
        )


def get_state(request: Request) -> ServiceState:
    state = request.app.state.custos
    assert isinstance(state, ServiceState)
    return state


StateDep = Annotated[ServiceState, Depends(get_state)]


def client_origin(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"http:{host}"


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


async def _principal(
    request: Request,
    state: StateDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, authenticated and within its rate limit; the header is read raw.

    An address whose failed authentications have used up their budget is
    answered 429 without its credential being looked at (so not a failed
    authentication, and no ledger event) until the budget refills; every
    authentication that does fail is a ledger event.
    """
    origin = client_origin(request)
    blocked = state.auth_failures.wait(origin)
    if blocked > 0:
        raise ApiError(
            429,
            "too_many_failed_authentications",
            f"too many failed authentications from this address; retry in {blocked:.1f} s",
            {"Retry-After": str(max(1, round(blocked + 0.5)))},
        )
    header = request.headers.get("authorization")
    try:
        principal = await run_in_threadpool(authenticate, state.gateway.store, header)
    except AuthFailure as failure:
        await run_in_threadpool(
            record_auth_failure,
            state.gateway.store,
            failure,
            origin=origin,
            path=request.url.path,
        )
        state.auth_failures.allow(origin)
        raise ApiError(
            401,
            "unauthenticated",
            "a valid API key is required: Authorization: Bearer <key>",
            {"WWW-Authenticate": "Bearer"},
        ) from None
    wait = state.limiter.allow(principal.prefix)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests for this key; retry in {wait:.1f} s",
            {"Retry-After": str(max(1, round(wait + 0.5)))},
        )
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting only `roles`; anyone else authenticated gets 403."""

    async def check(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
        if principal.role not in roles:
            raise ApiError(403, "forbidden", f"the {principal.role.value} role may not do this")
        return principal

    check.__name__ = "require_" + "_".join(r.value for r in roles)
    return check


Requester = Annotated[Principal, Depends(require(Role.REQUESTER))]
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]


def actor_of(principal: Principal, request: Request) -> Actor:
    return Actor(id=principal.actor, origin=client_origin(request))
