"""Schemathesis over the OpenAPI document: no 5xx, and every response matches its schema.

Every operation is driven with a valid key of a role it admits (read from
the route's `require(...)` dependency, so a new route is covered without
editing this file), on a SQLite store whose worker has already processed
one batch (the app fuzzed has no worker of its own: schemathesis runs
its lifespan on every call). Operations with a `batch_id` are also driven with that real
batch, so the 200 paths are exercised as well as the 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.core.result import Ok
from service_support import (
    OFFICIAL_A,
    World,
    envelope_headers,
    issue_all,
    make_gateway,
)

from custos.service import create_app
from custos.service.settings import ServiceConfig
from custos.store.testing import temporary_store_url

pytestmark = pytest.mark.slow

EXAMPLES = 25
ROLE_KEYS = {
    "requester": "requester_a",
    "officer": "officer",
    "auditor": "auditor",
    "admin": "admin",
}


@dataclass(frozen=True)
class Served:
    app: FastAPI
    keys: dict[str, str]
    batch_id: str


@pytest.fixture(scope="module")
def served(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("schema-sqlite")
    with temporary_store_url("sqlite", home) as url:
        gw = make_gateway(world, url, home)
        app = create_app(gw, config=ServiceConfig(rate_per_second=10_000.0, rate_burst=10_000))
        with TestClient(app, raise_server_exceptions=False) as client:
            keys = issue_all(gw)
            answer = client.post(
                "/v1/batches",
                content=world.batch_a,
                headers={
                    **envelope_headers(OFFICIAL_A),
                    "Authorization": f"Bearer {keys['requester_a']}",
                },
            )
            assert answer.status_code == 202, answer.text
            app.state.custos.worker.join()
            batch_id = answer.json()["batch_id"]
            progress = client.get(
                f"/v1/batches/{batch_id}",
                headers={"Authorization": f"Bearer {keys['requester_a']}"},
            )
            assert progress.json()["complete"], progress.text
        fuzzed = create_app(
            gw,
            config=ServiceConfig(
                rate_per_second=10_000.0,
                rate_burst=10_000,
                auth_failure_burst=1_000_000,
                in_process_worker=False,
            ),
        )
        yield Served(fuzzed, keys, batch_id)
        gw.store.close()


def _roles(dependant: Any) -> list[str]:
    """The roles a route admits, from the name `require` gives its dependency."""
    found: list[str] = []
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        dep = pending.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            found.extend(name.removeprefix("require_").split("_"))
        pending.extend(dep.dependencies)
    return found


def _role_by_operation(app: FastAPI) -> dict[tuple[str, str], str]:
    """(method, path) → a role the route admits ("" for a route that needs no key)."""
    table = {}
    for route in iter_route_contexts(app.routes):
        if route.path is None or route.methods is None:
            continue
        roles = _roles(getattr(route, "dependant", None))
        for method in route.methods:
            table[(method.upper(), route.path)] = roles[0] if roles else ""
    return table


def _checks() -> list[Any]:
    """The state-less checks; positive data may still be refused (an unknown batch is a 404)."""
    skipped = {"positive_data_acceptance", "use_after_free", "ensure_resource_availability"}
    return [c for c in CHECKS.get_all() if c.__name__ not in skipped]


def test_every_operation_answers_within_its_schema_and_never_5xx(served: Served) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app)
    roles = _role_by_operation(served.app)
    checks = _checks()
    strategies: list[st.SearchStrategy[tuple[Any, dict[str, str]]]] = []
    exercised = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result}"
        operation = result.ok()
        role = roles.get((operation.method.upper(), operation.path))
        assert role is not None, f"{operation.method} {operation.path} is not a FastAPI route"
        headers = {"Authorization": f"Bearer {served.keys[ROLE_KEYS[role]]}"} if role else {}
        fixed = (
            [{"batch_id": served.batch_id}]
            if any(p.name == "batch_id" for p in operation.path_parameters)
            else []
        )
        for path_parameters in [None, *fixed]:
            cases = operation.as_strategy(headers=headers, path_parameters=path_parameters)
            strategies.append(st.tuples(cases, st.just(headers)))
        exercised.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /v1/batches" in exercised and "GET /v1/ledger/checkpoints" in exercised

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.one_of(strategies))
    def drive(pair: tuple[Any, dict[str, str]]) -> None:
        case, headers = pair
        case.call_and_validate(headers=headers, checks=checks)

    drive()


def test_role_table_names_a_role_for_every_v1_operation(served: Served) -> None:
    roles = _role_by_operation(served.app)
    unguarded = [op for op, role in roles.items() if op[1].startswith("/v1/") and not role]
    assert not unguarded, f"/v1 routes without require(...): {unguarded}"
