"""The pages in headless Chromium: each role signs in, the desk decides, a hold makes a batch wait.

One headless Chromium for the session, one browser context (one cookie jar)
per person. Every page visited is photographed into the screenshot folder.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from web_support import AGENCY_B, OFFICIAL_B, Site, batch_rows, envelope_headers

pytestmark = pytest.mark.web


class Person:
    """A browser context signed in with one role's key; `shot` photographs the current page."""

    def __init__(self, browser: Browser, base: str, key: str, folder: Path, name: str) -> None:
        self.context: BrowserContext = browser.new_context(
            base_url=base, viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(15_000)
        self.page: Page = self.context.new_page()
        self.folder = folder
        self.name = name
        self.page.goto("/ui/login")
        self.page.fill("#api_key", key)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, label: str, *, full_page: bool = True) -> Path:
        """Photograph the page; long pages (the ledger) only as far as the window shows."""
        path = self.folder / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=full_page, timeout=60_000)
        return path

    def charts_drawn(self) -> None:
        for chart in self.page.locator("script[data-chart]").all():
            target = chart.get_attribute("data-chart")
            expect(self.page.locator(f"#{target}")).to_have_attribute("data-drawn", "true")
            expect(self.page.locator(f"#{target} svg.marks")).to_be_visible()


SignIn = Callable[[str], Person]


@pytest.fixture
def person(browser: Browser, live_server: str, site: Site, screenshots: Path) -> Iterator[SignIn]:
    made: list[Person] = []

    def sign_in(who: str) -> Person:
        p = Person(browser, live_server, site.keys[who], screenshots, who)
        made.append(p)
        return p

    yield sign_in
    for p in made:
        p.context.close()


def test_each_role_signs_in_and_lands_on_its_own_pages(person: SignIn, site: Site) -> None:
    officer = person("officer")
    expect(officer.page).to_have_url(f"{officer.page.url.split('/ui/')[0]}/ui/review")
    expect(officer.page.locator("h1")).to_have_text("Review desk")
    officer.shot("review-queue")
    officer.page.click("nav >> text=Batches")
    expect(officer.page.locator("h1")).to_have_text("Batches")
    officer.shot("batches")
    officer.page.click(f"text={site.batch_a}")
    officer.charts_drawn()
    expect(officer.page.locator("text=Oversight report (HTML, counts only)")).to_be_visible()
    officer.shot("batch")
    officer.page.click("nav >> text=Ledger")
    officer.shot("ledger", full_page=False)

    auditor = person("auditor")
    expect(auditor.page.locator("h1")).to_have_text("Oversight")
    expect(auditor.page.locator("#verify")).to_contain_text("Verified.")
    auditor.charts_drawn()
    auditor.shot("oversight")

    requester = person("requester_a")
    expect(requester.page.locator("h1")).to_have_text("Batches")
    requester.page.click(f"text={site.batch_a}")
    requester.charts_drawn()
    expect(requester.page.locator("#download-responses")).to_be_visible()
    assert "ambiguous" not in requester.page.content()
    requester.shot("batch")

    admin = person("admin")
    expect(admin.page.locator("h1")).to_have_text("Holds")
    admin.shot("holds")
    admin.page.click("nav >> text=Incidents")
    expect(admin.page.locator("h1")).to_have_text("Incidents")
    admin.shot("incidents")


def test_an_officer_reviews_the_ambiguous_item_and_sees_the_ledger_event(person: SignIn) -> None:
    officer = person("officer")
    page = officer.page
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_be_visible()
    request_id = rows.first.locator("td").first.inner_text()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text(request_id)
    expect(page.locator("#identity td.agree").first).to_be_visible()
    expect(page.locator("#evidence tbody tr").first).to_be_visible()
    officer.charts_drawn()
    officer.shot("review-item")

    page.keyboard.press("x")
    expect(page.locator("#rationale")).to_be_focused()
    page.keyboard.type("Two candidates share the name and the street; not one person.")
    page.keyboard.press("Escape")
    page.keyboard.press("x")
    expect(page.locator("#done")).to_contain_text(request_id)
    officer.shot("review-decided")
    page.click("#done >> text=See it in the ledger")
    first = page.locator("table.ledger tbody tr").first
    expect(first).to_contain_text("review_decided")
    expect(first).to_contain_text("decline")
    expect(first).to_contain_text("Two candidates share the name")
    officer.shot("ledger-decision", full_page=False)


def test_a_requester_cannot_reach_another_agencys_pages(person: SignIn, site: Site) -> None:
    other = person("requester_b")
    page = other.page
    expect(page.locator("table.list")).not_to_contain_text(site.batch_a)
    answer = page.goto(f"/ui/batches/{site.batch_a}")
    assert answer is not None and answer.status == 404
    answer = page.goto(f"/ui/batches/{site.batch_a}/responses.csv")
    assert answer is not None and answer.status == 404
    for path in ("/ui/review", "/ui/oversight", "/ui/ledger", "/ui/holds"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403, path
    other.shot("refused")


def _submit(base: str, key: str, body: bytes) -> str:
    request = urllib.request.Request(
        f"{base}/v1/batches",
        data=body,
        method="POST",
        headers={**envelope_headers(OFFICIAL_B), "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.load(answer)["batch_id"])


def _wait_complete(base: str, key: str, batch_id: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            f"{base}/v1/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            if json.load(answer)["complete"]:
                return
        time.sleep(0.2)
    raise AssertionError(f"batch {batch_id} did not complete in {seconds} s")


def test_a_hold_makes_a_batch_wait_until_it_is_lifted(
    person: SignIn, site: Site, live_server: str
) -> None:
    officer = person("officer")
    page = officer.page
    page.click("nav >> text=Holds")
    page.select_option("#place-hold select[name=scope]", "agency")
    page.fill("#place-hold input[name=target]", AGENCY_B)
    page.fill("#place-hold input[name=reference]", "ORDER-2026-17")
    page.fill("#place-hold input[name=rationale]", "safeguards review of the recipient")
    page.click("#place-hold button")
    expect(page.locator("#holds tbody tr").first).to_contain_text("in force")
    officer.shot("hold-placed")

    body = batch_rows((site.world / "requests.csv").read_text(), OFFICIAL_B, 20, "H-")
    key = site.keys["requester_b"]
    batch_id = _submit(live_server, key, body)
    _wait_complete(live_server, key, batch_id)

    page.goto(f"/ui/batches/{batch_id}")
    expect(page.locator("#waiting")).to_contain_text("held")
    expect(page.locator("#waiting")).to_contain_text("hold:")
    officer.shot("batch-waiting")

    page.click("nav >> text=Holds")
    lift = page.locator("#holds tbody tr").first
    lift.locator("select[name=resolution]").select_option("release")
    lift.locator("input[name=rationale]").fill("safeguards certified again")
    lift.locator("button").click()
    expect(page.locator("#holds tbody tr").first).to_contain_text("lifted")
    page.goto(f"/ui/batches/{batch_id}")
    expect(page.locator("#waiting")).to_have_count(0)
