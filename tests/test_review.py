"""An officer's review: the evidence shown, and decisions held to every rule of the batch path."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from custos import holds, pipeline, review, store
from custos.errors import DecisionRefused
from custos.ledger import verify
from custos.match.comparisons import COMPARISON_NAMES
from custos.model import Outcome, ResponseStatus
from custos.policy.roster import Roster
from custos.store import HoldScope
from custos.store.schema import ledger_events
from officer_support import AGENCY, OFFICER, officer_gateway, run_world

RATIONALE = "same DOB and street; the other candidate moved away in 2021"


@pytest.fixture
def reviewed(
    request: pytest.FixtureRequest, small_world: Path, small_model: Path, tmp_path: Path
) -> Iterator[pipeline.Gateway]:
    backend = getattr(request, "param", "sqlite")
    with officer_gateway(backend, small_world, small_model, tmp_path) as gw:
        run_world(gw, small_world)
        yield gw


def _first_open(gw: pipeline.Gateway) -> store.ReviewItem:
    items = review.queue(gw, agency=AGENCY)
    assert items, "the small world must leave ambiguous requests for review"
    return items[0]


def test_each_candidate_carries_its_weights_field_by_field(reviewed: pipeline.Gateway) -> None:
    prior = reviewed.model.settings["probability_two_random_records_match"]
    prior_weight = math.log2(prior / (1 - prior))
    for item in review.queue(reviewed):
        case = review.case(reviewed, item.agency_id, item.request_id)
        assert case is not None and len(case.candidates) == len(item.candidates) >= 1
        for candidate in case.candidates:
            assert candidate["taxpayer"]["tin"] == candidate["tin"]
            assert candidate["address"]["as_of_tax_year"] > 0
            if not candidate["fields"]:
                continue
            assert [f["comparison"] for f in candidate["fields"]] == list(COMPARISON_NAMES)
            total = prior_weight + sum(f["weight"] for f in candidate["fields"])
            assert total == pytest.approx(candidate["match_weight"], abs=0.05)


@pytest.mark.parametrize(
    "reviewed", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_disclose_decision_discloses_once_on_the_record(reviewed: pipeline.Gateway) -> None:
    item = _first_open(reviewed)
    tin = item.candidates[0]
    decided = review.decide(
        reviewed,
        item.agency_id,
        item.request_id,
        decision="disclose",
        rationale=RATIONALE,
        actor=OFFICER,
        tin=tin,
    )
    assert decided.status is store.ReviewStatus.APPROVED and decided.decision_tin == tin
    with pytest.raises(DecisionRefused, match="already approved") as refused:
        review.decide(
            reviewed,
            item.agency_id,
            item.request_id,
            decision="disclose",
            rationale=RATIONALE,
            actor=OFFICER,
            tin=tin,
        )
    assert refused.value.code == "already_decided"
    with reviewed.store.read() as conn:
        outcome = store.get_outcome(conn, item.agency_id, item.request_id)
        disclosure = store.get_disclosure(conn, item.agency_id, item.request_id)
        results = pipeline.batch_results(conn, item.batch_id)
        events = conn.execute(
            select(ledger_events).where(
                ledger_events.c.object == f"request:{item.agency_id}/{item.request_id}"
            )
        ).all()
    assert outcome is not None and outcome.outcome is Outcome.DISCLOSED and outcome.tin == tin
    assert disclosure is not None and disclosure.tin == tin
    kinds = [e.event_type for e in events]
    assert kinds.count("review_decided") == 1 and kinds.count("disclosure_made") == 1
    decided_event = next(e for e in events if e.event_type == "review_decided")
    assert decided_event.actor == OFFICER.id
    assert json.loads(decided_event.payload)["rationale"] == RATIONALE
    view = next(r for r in results if r.decision.request_id == item.request_id)
    assert view.response.status is ResponseStatus.DISCLOSED
    assert verify(reviewed.store, reviewed.key.verifier).ok


def test_decline_keeps_the_answer_not_disclosed(reviewed: pipeline.Gateway) -> None:
    item = _first_open(reviewed)
    review.decide(
        reviewed, item.agency_id, item.request_id, decision="decline", rationale=RATIONALE,
        actor=OFFICER,
    )  # fmt: skip
    with reviewed.store.read() as conn:
        assert store.get_disclosure(conn, item.agency_id, item.request_id) is None
        outcome = store.get_outcome(conn, item.agency_id, item.request_id)
    assert outcome is not None and outcome.outcome is Outcome.AMBIGUOUS
    assert item.request_id not in {i.request_id for i in review.queue(reviewed)}


def _refused(gw: pipeline.Gateway, item: store.ReviewItem, tin: str, match: str) -> None:
    with pytest.raises(DecisionRefused, match=match):
        review.decide(
            gw, item.agency_id, item.request_id, decision="disclose", rationale=RATIONALE,
            actor=OFFICER, tin=tin,
        )  # fmt: skip
    with gw.store.read() as conn:
        assert store.get_disclosure(conn, item.agency_id, item.request_id) is None
        still = store.get_review(conn, item.agency_id, item.request_id)
    assert still is not None and still.status is store.ReviewStatus.OPEN


def test_a_disclose_decision_is_refused_where_the_batch_path_would_refuse(
    reviewed: pipeline.Gateway,
) -> None:
    item = _first_open(reviewed)
    _refused(reviewed, item, "999999999", "not one of this item's candidates")

    hold = holds.place(
        reviewed, HoldScope.AGENCY, AGENCY, reference="r", rationale="court", actor=OFFICER
    )
    _refused(reviewed, item, item.candidates[0], "held")
    holds.lift(
        reviewed,
        hold.id,
        resolution=store.HoldResolution.RELEASE,
        rationale="lifted",
        actor=OFFICER,
    )

    request = review.case(reviewed, item.agency_id, item.request_id)
    assert request is not None
    official = request.request.requesting_official
    struck = Roster(
        agencies=tuple(
            replace(a, officials=tuple(o for o in a.officials if o.id != official))
            for a in reviewed.roster.agencies
        ),
        as_of=reviewed.roster.as_of,
    )
    _refused(replace(reviewed, roster=struck), item, item.candidates[0], "no longer passes")

    taxpayers = reviewed.master.taxpayers
    flags = [t == item.candidates[0] for t in taxpayers.column("tin").to_pylist()]
    if "disclosure_block" in taxpayers.column_names:
        taxpayers = taxpayers.drop_columns(["disclosure_block"])
    blocked = replace(
        reviewed.master, taxpayers=taxpayers.append_column("disclosure_block", pa.array(flags))
    )
    _refused(replace(reviewed, master=blocked), item, item.candidates[0], r"\(i\)\(6\) block")
