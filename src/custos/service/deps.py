"""What routes depend on: the service state, the authenticated caller, the role check.

Every route names the roles it admits with `require(...)`; a route without
it is unreachable by design (default deny), and the authorisation matrix
test checks each route's roles.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
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


class IdempotencyMemory:
    """(agency, Idempotency-Key) → (batch id, sha256), the newest `capacity` only, in memory.

    Losing an entry (restart, eviction) is harmless for the same file, which
    maps to the same batch by its content anyway; only the conflict check for
    a reused key with a different file is lost.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, str], tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> tuple[str, str] | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[str, str], value: tuple[str, str]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


@dataclass
class ServiceState:
    """The one gateway the process serves, its limiter, worker and idempotency memory."""

    gateway: Gateway
    config: ServiceConfig
    limiter: RateLimiter
    dev: bool
    worker: InProcessWorker | None = None
    idempotency: IdempotencyMemory = field(default_factory=lambda: IdempotencyMemory())


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
    """The caller, authenticated and within its rate limit; the header is read raw."""
    header = request.headers.get("authorization")
    try:
        principal = await run_in_threadpool(authenticate, state.gateway.store, header)
    except AuthFailure as failure:
        await run_in_threadpool(
            record_auth_failure,
            state.gateway.store,
            failure,
            origin=client_origin(request),
            path=request.url.path,
        )
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
