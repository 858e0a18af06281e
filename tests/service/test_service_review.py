"""The officers' review queue: listing ambiguous items and declining them on the record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from service_support import Service
from sqlalchemy import select

from custos import store
from custos.store.schema import ledger_events

DECLINE = {"decision": "decline", "rationale": "two candidates share name and birth date"}


def _queue(service: Service, request_ids: tuple[str, ...]) -> None:
    """Open review items for requests of agency A's batch.

    The small world makes no ambiguous match, so the queue is filled directly;
    the pipeline's own opening of items is tested with the pipeline.
    """
    with service.gateway.store.write() as conn:
        for rid in request_ids:
            store.open_review(
                conn,
                store.ReviewItem(
                    batch_id=service.batch_a,
                    agency_id="DHS-ICE",
                    request_id=rid,
                    candidates=("900000001", "900000002"),
                    opened_at=datetime.now(UTC),
                ),
            )


def test_officer_lists_and_declines_an_ambiguous_request(service: Service) -> None:
    officer = service.auth("officer")
    _queue(service, ("REQ-0000010", "REQ-0000011", "REQ-0000012"))
    with service.gateway.store.read() as conn:
        expected = store.open_reviews(conn)
    listed = service.client.get("/v1/review", headers=officer)
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == len(expected) > 0
    assert [i["request_id"] for i in page["items"]] == [i.request_id for i in expected]
    assert all(len(i["candidates"]) >= 2 for i in page["items"])
    item = page["items"][0]
    path = f"/v1/review/{item['agency']}/{item['request_id']}"

    decided = service.client.post(path, json=DECLINE, headers=officer)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "rejected"
    again = service.client.post(path, json=DECLINE, headers=officer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"

    after = service.client.get("/v1/review", headers=officer).json()
    assert after["total"] == page["total"] - 1
    with service.gateway.store.read() as conn:
        events = conn.execute(
            select(ledger_events).where(
                ledger_events.c.event_type == "review_decided",
                ledger_events.c.object == f"request:{item['agency']}/{item['request_id']}",
            )
        ).all()
    assert len(events) == 1
    payload = json.loads(events[0].payload)
    assert payload["decision"] == "decline" and payload["rationale"] == DECLINE["rationale"]
    assert events[0].actor.startswith("key:")


def test_disclose_decisions_and_thin_rationales_are_refused(service: Service) -> None:
    officer = service.auth("officer")
    for body in (
        {"decision": "disclose", "rationale": "looks like the first candidate", "tin": "1"},
        {"decision": "decline", "rationale": "no"},
    ):
        got = service.client.post("/v1/review/DHS-ICE/REQ-0000001", json=body, headers=officer)
        assert got.status_code == 422
        assert got.json()["error"]["code"] == "invalid_request"


def test_review_pages(service: Service) -> None:
    officer = service.auth("officer")
    _queue(service, ("REQ-0000020", "REQ-0000021"))
    whole = service.client.get("/v1/review", headers=officer).json()
    page = service.client.get("/v1/review?offset=1&limit=1", headers=officer).json()
    assert page["total"] == whole["total"]
    assert page["items"] == whole["items"][1:2]
