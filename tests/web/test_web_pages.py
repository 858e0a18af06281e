"""The pages without a browser: sign-in, roles, CSRF, and what each role may see."""

from __future__ import annotations

import pytest
from web_support import AGENCY_A, AGENCY_B, Site, token_of


def test_login_form_exchanges_a_key_for_a_strict_httponly_cookie(site: Site) -> None:
    client = site.client()
    form = client.get("/ui/login")
    assert form.status_code == 200
    assert "default-src 'none'" in form.headers["content-security-policy"]
    answer = client.post(
        "/ui/login", data={"api_key": site.keys["officer"], "token": token_of(form.text)}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/review"
    cookie = answer.headers["set-cookie"].lower()
    assert "custos_session=" in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert site.keys["officer"].split("_", 2)[2] not in answer.headers["set-cookie"]
    assert client.get("/ui/review").status_code == 200


def test_a_wrong_key_or_a_missing_login_token_is_refused(site: Site) -> None:
    client = site.client()
    form = client.get("/ui/login")
    wrong = client.post(
        "/ui/login",
        data={"api_key": "custos_000000000000_" + "x" * 43, "token": token_of(form.text)},
    )
    assert wrong.status_code == 401 and "not accepted" in wrong.text
    untokened = site.client().post("/ui/login", data={"api_key": site.keys["officer"]})
    assert untokened.status_code == 403
    assert "custos_session" not in untokened.headers.get("set-cookie", "")


def test_pages_without_a_session_send_the_browser_to_login(site: Site) -> None:
    answer = site.client().get("/ui/batches")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/login?next=/ui/batches"


def test_each_role_lands_on_its_own_page_and_only_there(site: Site) -> None:
    expected = {
        "officer": ("/ui/review", ["/ui/ledger", "/ui/batches"], ["/ui/oversight"]),
        "auditor": ("/ui/oversight", ["/ui/ledger", "/ui/batches"], ["/ui/review"]),
        "requester_a": ("/ui/batches", [], ["/ui/review", "/ui/ledger", "/ui/oversight"]),
    }
    for who, (home, also, refused) in expected.items():
        client = site.login(who)
        landing = client.get("/ui/")
        assert landing.headers["location"] == home, who
        for path in [home, *also]:
            assert client.get(path).status_code == 200, (who, path)
        for path in refused:
            assert client.get(path).status_code == 403, (who, path)


def test_a_requester_sees_only_its_own_batches_and_only_the_requester_view(site: Site) -> None:
    client = site.login("requester_b")
    listing = client.get("/ui/batches")
    assert site.batch_b in listing.text and site.batch_a not in listing.text
    assert client.get(f"/ui/batches/{site.batch_a}").status_code == 404
    assert client.get(f"/ui/batches/{site.batch_a}/responses.csv").status_code == 404
    own = client.get(f"/ui/batches/{site.batch_b}")
    assert own.status_code == 200
    for word in ("ambiguous", "no_match", "passed gate", "match probability"):
        assert word not in own.text
    assert client.get(f"/ui/batches/{site.batch_b}/report.html").status_code == 403
    csv_text = client.get(f"/ui/batches/{site.batch_b}/responses.csv").text
    assert csv_text.splitlines()[0].startswith("request_id,status")
    assert AGENCY_A not in csv_text


def test_a_requester_batch_page_shows_its_own_rejected_rows_and_no_master_data(site: Site) -> None:
    client = site.login("requester_a")
    page = client.get(f"/ui/batches/{site.batch_a}").text
    assert "Rejections by rule" in page and "Examples of the rows as sent" in page
    with site.gateway.store.read() as conn:
        from custos import pipeline

        disclosed = [r for r in pipeline.batch_results(conn, site.batch_a) if r.decision.tin]
    assert disclosed
    for r in disclosed:
        assert r.decision.tin not in page


def test_a_form_post_without_its_csrf_token_is_refused(site: Site) -> None:
    client = site.login("officer")
    refused = client.post("/ui/logout", data={})
    assert refused.status_code == 403
    assert client.get("/ui/review").status_code == 200
    page = client.get("/ui/review").text
    assert client.post("/ui/logout", data={"csrf": token_of(page)}).status_code == 303
    assert client.get("/ui/review").status_code == 303


def test_a_revoked_key_ends_its_sessions_at_once(site: Site) -> None:
    from custos.service.auth import Role, issue_key, revoke_key

    issued = issue_key(
        site.gateway.store, role=Role.AUDITOR, agency=None, actor="user:test", origin="test"
    )
    client = site.client()
    form = client.get("/ui/login")
    client.post("/ui/login", data={"api_key": issued.secret_key, "token": token_of(form.text)})
    assert client.get("/ui/oversight").status_code == 200
    revoke_key(site.gateway.store, issued.record.prefix, actor="user:test", origin="test")
    assert client.get("/ui/oversight").status_code == 303


def test_the_vendored_charting_scripts_are_served_from_the_report_package(site: Site) -> None:
    from importlib import resources

    client = site.client()
    served = client.get("/ui/static/vendor/vega-lite.min.js")
    shipped = (resources.files("custos.report") / "static" / "vega-lite.min.js").read_bytes()
    assert served.status_code == 200 and served.content == shipped
    assert client.get("/ui/static/vendor/LICENSE-vega").status_code == 404
    assert client.get("/ui/static/site/custos.css").status_code == 200


def test_the_oversight_page_verifies_the_ledger_and_names_the_checkpoint(site: Site) -> None:
    page = site.login("auditor").get("/ui/oversight").text
    assert "Verified." in page
    assert "Latest signed checkpoint" in page and "tree size" in page
    assert "/ui/oversight/annual/" in page


def test_requesters_other_agency_is_named_nowhere_in_its_pages(site: Site) -> None:
    client = site.login("requester_a")
    for path in ("/ui/batches", f"/ui/batches/{site.batch_a}"):
        assert AGENCY_B not in client.get(path).text


def test_a_decision_without_a_rationale_is_refused_and_nothing_is_decided(site: Site) -> None:
    from custos import store

    with site.gateway.store.read() as conn:
        open_items = store.open_reviews(conn)
    assert open_items, "the small world's ambiguous request should wait for review"
    item = open_items[0]
    client = site.login("officer")
    path = f"/ui/review/{item.agency_id}/{item.request_id}"
    page = client.get(path)
    assert page.status_code == 200 and "What the model compared" in page.text
    refused = client.post(
        path, data={"csrf": token_of(page.text), "decision": "decline", "rationale": "no"}
    )
    assert refused.status_code == 409 and "rationale" in refused.text
    with site.gateway.store.read() as conn:
        still = store.get_review(conn, item.agency_id, item.request_id)
    assert still is not None and still.status is store.ReviewStatus.OPEN


def test_an_incident_is_followed_from_opening_to_the_recipients_confirmation(site: Site) -> None:
    from datetime import UTC, datetime, timedelta

    from custos import pipeline

    now = datetime.now(UTC)
    with site.gateway.store.read() as conn:
        disclosed = [
            r.decision.request_id
            for r in pipeline.batch_results(conn, site.batch_a)
            if r.decision.outcome.value == "disclosed"
        ][:2]
    assert disclosed
    client = site.login("officer")
    form = client.get("/ui/incidents")
    opened = client.post(
        "/ui/incidents",
        data={
            "csrf": token_of(form.text),
            "agency": AGENCY_A,
            "request_ids": "\n".join(disclosed),
            "how_discovered": "A quality review found the addresses were never compared.",
            "discovered_at": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert opened.status_code == 303, opened.text
    location = opened.headers["location"]
    page = client.get(location)
    assert page.status_code == 200 and "waiting for confirmations" in page.text
    listing = client.get(f"{location}/disposal/{AGENCY_A}.json")
    assert sorted(listing.json()["request_ids"]) == sorted(disclosed)
    confirmed = client.post(
        f"{location}/confirm/{AGENCY_A}",
        data={
            "csrf": token_of(page.text),
            "confirmed_by": "ICE-0001",
            "reference": "DISP-2026-001",
            "destroyed_at": (now + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert confirmed.status_code == 303, confirmed.text
    closed = client.get(location).text
    assert "DISP-2026-001" in closed and "waiting for confirmations" not in closed


def test_the_review_queue_filters_by_batch_agency_and_age(site: Site) -> None:
    client = site.login("officer")
    every = client.get("/ui/review").text
    assert "1 of 1 open items" in every
    assert "1 of 1" in client.get(f"/ui/review?batch={site.batch_a}").text
    assert "0 of 1" in client.get(f"/ui/review?batch={site.batch_b}").text
    assert "0 of 1" in client.get(f"/ui/review?agency={AGENCY_B}").text
    assert "0 of 1" in client.get("/ui/review?age=24h").text


def test_sign_in_returns_only_to_a_page_of_this_site(site: Site) -> None:
    for target, landing in (
        ("/ui/ledger", "/ui/ledger"),
        ("//elsewhere.example/ui/", "/ui/review"),
        ("https://elsewhere.example/", "/ui/review"),
    ):
        client = site.client()
        form = client.get("/ui/login")
        answer = client.post(
            "/ui/login",
            data={"api_key": site.keys["officer"], "token": token_of(form.text), "next": target},
        )
        assert answer.headers["location"] == landing, target


@pytest.mark.postgres
def test_every_page_answers_on_postgresql(pg_site: Site) -> None:
    """The pages' own queries (batches, funnel, ledger, series by day, holds) on the server store."""
    from custos import store

    with pg_site.gateway.store.read() as conn:
        item = store.open_reviews(conn)[0]
    pages = {
        "officer": [
            "/ui/review",
            f"/ui/review/{item.agency_id}/{item.request_id}",
            "/ui/batches",
            f"/ui/batches/{pg_site.batch_a}",
            "/ui/ledger",
        ],
        "auditor": ["/ui/oversight", "/ui/ledger?event_type=disclosure_made"],
        "admin": ["/ui/holds", "/ui/incidents"],
        "requester_b": ["/ui/batches", f"/ui/batches/{pg_site.batch_b}"],
    }
    for who, paths in pages.items():
        client = pg_site.login(who)
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, (who, path, answer.text[-400:])
    review = pg_site.login("officer").get("/ui/review").text
    assert "1 of 1 open items" in review
    assert "Verified." in pg_site.login("auditor").get("/ui/oversight").text
