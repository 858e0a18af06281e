"""Support for the page tests: a service over the small world, its keys, and a browser helper."""

from __future__ import annotations

import csv
import io
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from service_support import (
    AGENCY_A,
    AGENCY_B,
    OFFICIAL_A,
    OFFICIAL_B,
    OTHER_AGENCY,
    envelope_headers,
    issue_all,
)

from custos import pipeline
from custos.config import Settings
from custos.ledger import generate_signing_key, save_signing_key
from custos.match import load_model
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster
from custos.service import create_app
from custos.service.settings import ServiceConfig
from custos.store.testing import postgres_unavailable_reason, temporary_store_url

__all__ = [
    "AGENCY_A",
    "AGENCY_B",
    "OFFICIAL_A",
    "OFFICIAL_B",
    "Site",
    "batch_rows",
    "envelope_headers",
]

_TOKEN = re.compile(r'name="(?:csrf|token)" value="([^"]+)"')


@dataclass(frozen=True)
class Site:
    """The app, its gateway, a key per role, and the ids of the two agencies' batches."""

    app: FastAPI
    gateway: pipeline.Gateway
    keys: dict[str, str]
    batch_a: str
    batch_b: str
    world: Path

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)

    def login(self, who: str) -> TestClient:
        """A client signed in with `who`'s key."""
        client = self.client()
        form = client.get("/ui/login")
        answer = client.post(
            "/ui/login",
            data={"api_key": self.keys[who], "token": token_of(form.text), "next": ""},
        )
        assert answer.status_code == 303, answer.text
        return client


def token_of(page: str) -> str:
    """The CSRF (or login) token of the first form on a page."""
    found = _TOKEN.search(page)
    assert found is not None, "no token on the page"
    return found.group(1)


def batch_rows(text: str, official: str, limit: int | None, prefix: str) -> bytes:
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
    writer.writeheader()
    for i, row in enumerate(reader):
        if limit is not None and i >= limit:
            break
        row["requesting_official"] = official
        row["request_id"] = prefix + row["request_id"]
        writer.writerow(row)
    return out.getvalue().encode()


def web_app(gw: pipeline.Gateway) -> FastAPI:
    """The service app, pages included, with a rate limit no test reaches."""
    return create_app(gw, config=ServiceConfig(rate_per_second=1000.0, rate_burst=1000))


@contextmanager
def _serving(small_world: Path, small_model: Path, base: Path, url: str) -> Iterator[Site]:
    """A gateway on the store at `url`, its app, a key per role, and both agencies' batches done."""
    roster = base / "roster.toml"
    roster.write_text((small_world / "roster.toml").read_text() + OTHER_AGENCY)
    key = base / "home" / "keys" / "ledger.key"
    save_signing_key(generate_signing_key("custos.test/ledger"), key)
    settings = Settings(
        home=base / "home",
        database_url=url,
        ledger_key_path=key,
        ledger_origin="custos.test/ledger",
    )
    gw = pipeline.open_gateway(
        pack=load_pack(),
        roster=load_roster(roster),
        model=load_model(small_model),
        master=pipeline.Master.from_world(small_world),
        actor=pipeline.Actor("service:test", "test"),
        settings=settings,
    )
    app = web_app(gw)
    text = (small_world / "requests.csv").read_text()
    with TestClient(app) as client:
        keys = issue_all(gw)
        ids = []
        for who, official, body in (
            ("requester_a", OFFICIAL_A, (small_world / "requests.csv").read_bytes()),
            ("requester_b", OFFICIAL_B, batch_rows(text, OFFICIAL_B, 10, "B-")),
        ):
            answer = client.post(
                "/v1/batches",
                content=body,
                headers={**envelope_headers(official), "Authorization": f"Bearer {keys[who]}"},
            )
            assert answer.status_code == 202, answer.text
            ids.append(answer.json()["batch_id"])
        app.state.custos.worker.join()
        yield Site(app, gw, keys, ids[0], ids[1], small_world)
    gw.store.close()


@pytest.fixture(scope="session")
def site(
    small_world: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The site on SQLite: what the browser tests and most page tests use."""
    base = tmp_path_factory.mktemp("web")
    with _serving(small_world, small_model, base, f"sqlite:///{base / 'custos.db'}") as made:
        yield made


@pytest.fixture(scope="session")
def pg_site(
    small_world: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The same site on PostgreSQL, so every page's queries run on the server store too."""
    if reason := postgres_unavailable_reason():
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("web-pg")
    with (
        temporary_store_url("postgresql", base) as url,
        _serving(small_world, small_model, base, url) as made,
    ):
        yield made


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(site: Site) -> Iterator[str]:
    """The site served by uvicorn on a free loopback port, in a thread, for the browser.

    The app's lifespan (its worker) already runs under the `site` fixture, so
    uvicorn serves without one and batches it receives go to that worker.
    """
    port = _free_port()
    config = uvicorn.Config(
        site.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-web-tests", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS: list[Path] = []
"""Where this run's page screenshots went (printed at the end of the run)."""


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium (Debian's) for the whole session; never a downloaded browser."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("CI requires /usr/bin/chromium (.ci/run installs it)")
        pytest.skip("no /usr/bin/chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """A folder for one screenshot per page, kept after the run for a reviewer.

    `CUSTOS_WEB_SCREENSHOTS` names it; by default a fresh temporary folder
    outside pytest's own, which pytest would rotate away.
    """
    chosen = os.environ.get("CUSTOS_WEB_SCREENSHOTS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="custos-web-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.append(folder)
    return folder
