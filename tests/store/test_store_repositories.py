"""Repositories: exactly-once promises and round trips, on both backends."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError, StatementError

from custos.errors import StoreError
from custos.model import Outcome, ReasonCode, Request, Subject
from custos.store import (
    Agency,
    BatchStage,
    DisclosureRecord,
    HoldResolution,
    HoldScope,
    Official,
    OutcomeRecord,
    ReviewItem,
    ReviewStatus,
    RowRejection,
    Store,
    active_holds,
    add_requests,
    add_row_rejections,
    advance_stage,
    batch_disclosures,
    batch_outcomes,
    batch_requests,
    batch_row_rejections,
    create_batch,
    decide_review,
    disclosures_for_tin,
    get_agency,
    get_batch,
    get_outcome,
    get_request,
    lift_hold,
    list_agencies,
    list_officials,
    mark_wrongful,
    open_review,
    open_reviews,
    place_hold,
    record_batch_failure,
    record_disclosure,
    record_outcome,
    save_agency,
    save_official,
)

T0 = datetime(2025, 8, 7, 12, 0, 0, 123456, tzinfo=UTC)


def _request(row: int, request_id: str, agency: str = "DHS-ICE", **subject: str) -> Request:
    return Request(
        row=row,
        line=row + 1,
        request_id=request_id,
        case_number=f"CASE-{row}",
        purpose="criminal",
        statute="8 U.S.C. § 1253(a)(1)",
        tax_periods="2023;2024",
        reason="specific reason",
        requesting_official="OFF-1",
        agency=agency,
        subject=Subject(first_name="Ana", last_name="Núñez", street="12 Elm St", **subject),
    )


@pytest.fixture
def batch_store(store: Store) -> Store:
    with store.write() as conn:
        save_agency(conn, Agency("DHS-ICE", "Immigration and Customs Enforcement"), now=T0)
        create_batch(
            conn,
            batch_id="B1",
            agency_id="DHS-ICE",
            source="requests.csv",
            source_sha256="a" * 64,
            row_count=3,
            malformed_count=1,
            now=T0,
        )
        add_requests(conn, "B1", [_request(1, "R1"), _request(2, "R2")], now=T0)
    return store


def _outcome(request_id: str, outcome: Outcome = Outcome.NO_MATCH, **kw: object) -> OutcomeRecord:
    return OutcomeRecord(
        batch_id="B1",
        agency_id="DHS-ICE",
        request_id=request_id,
        outcome=outcome,
        reason_codes=(),
        pack_version="irc-6103-i-2@1",
        model_version="m1",
        decided_at=T0,
        **kw,  # type: ignore[arg-type]
    )


def _disclosure(request_id: str = "R1", tin: str = "123456789") -> DisclosureRecord:
    return DisclosureRecord(
        batch_id="B1",
        agency_id="DHS-ICE",
        request_id=request_id,
        tin=tin,
        statute="8 U.S.C. § 1253(a)(1)",
        fields=("street", "city", "state", "zip"),
        as_of_tax_year=2024,
        disclosed_at=T0,
        ledger_seq=7,
    )


def test_roster_round_trip_and_update(store: Store) -> None:
    with store.write() as conn:
        save_agency(conn, Agency("DHS-ICE", "ICE"))
        save_agency(conn, Agency("DHS-ICE", "ICE renamed", date(2026, 1, 31)))
        save_official(conn, Official("DHS-ICE", "OFF-1", "Pat Doe"))
        save_official(conn, Official("DHS-ICE", "OFF-1", "Pat Doe", may_receive=True))
        save_official(conn, Official("DHS-ICE", "OFF-0", "Lee Roe", active=False))
    with store.read() as conn:
        assert get_agency(conn, "DHS-ICE") == Agency("DHS-ICE", "ICE renamed", date(2026, 1, 31))
        assert get_agency(conn, "NOPE") is None
        assert [a.id for a in list_agencies(conn)] == ["DHS-ICE"]
        assert list_officials(conn, "DHS-ICE") == [
            Official("DHS-ICE", "OFF-0", "Lee Roe", active=False),
            Official("DHS-ICE", "OFF-1", "Pat Doe", may_receive=True),
        ]


def test_batch_stages_move_forward_only(batch_store: Store) -> None:
    with batch_store.write() as conn:
        assert get_batch(conn, "B1").stage is BatchStage.RECEIVED  # type: ignore[union-attr]
        advance_stage(conn, "B1", BatchStage.GATED)
        failed = record_batch_failure(conn, "B1", "disk full during matching")
        assert (failed.stage, failed.error) == (BatchStage.GATED, "disk full during matching")
        again = advance_stage(conn, "B1", BatchStage.GATED)
        assert again.error is None
        advance_stage(conn, "B1", BatchStage.MATCHED)
        with pytest.raises(StoreError, match="cannot go back to gated"):
            advance_stage(conn, "B1", BatchStage.GATED)
        with pytest.raises(StoreError, match="no batch 'B9'"):
            advance_stage(conn, "B9", BatchStage.GATED)


def test_receiving_a_batch_again_is_idempotent_but_not_with_other_content(
    batch_store: Store,
) -> None:
    with batch_store.write() as conn:
        first = get_batch(conn, "B1")
        same = create_batch(
            conn, batch_id="B1", agency_id="DHS-ICE", source="elsewhere.csv",
            source_sha256="a" * 64, row_count=3, malformed_count=1,
        )  # fmt: skip
        assert same == first
        with pytest.raises(StoreError, match="different content"):
            create_batch(
                conn, batch_id="B1", agency_id="DHS-ICE", source="requests.csv",
                source_sha256="b" * 64, row_count=3, malformed_count=1,
            )  # fmt: skip


def test_times_come_back_as_aware_utc(batch_store: Store) -> None:
    with batch_store.read() as conn:
        batch = get_batch(conn, "B1")
    assert batch is not None
    assert batch.received_at == T0
    assert batch.received_at.tzinfo is not None
    with pytest.raises(StatementError, match="naive datetime"), batch_store.write() as conn:
        record_batch_failure(conn, "B1", "x", now=datetime(2025, 1, 1))


def test_resubmitted_requests_are_stored_once(batch_store: Store) -> None:
    with batch_store.write() as conn:
        assert add_requests(conn, "B1", [_request(1, "R1"), _request(2, "R2")]) == 0
        assert add_requests(conn, "B1", [_request(3, "R3")]) == 1
        with pytest.raises(StoreError, match="has no agency"):
            add_requests(conn, "B1", [_request(4, "R4", agency="")])
    with batch_store.read() as conn:
        assert [r.request_id for r in batch_requests(conn, "B1")] == ["R1", "R2", "R3"]


def test_every_row_is_a_request_or_a_rejection(batch_store: Store) -> None:
    rejection = RowRejection(3, 4, ReasonCode.MALFORMED_ROW, "wrong number of fields")
    with batch_store.write() as conn:
        assert add_row_rejections(conn, "B1", [rejection]) == 1
        assert add_row_rejections(conn, "B1", [rejection]) == 0
    with batch_store.read() as conn:
        batch = get_batch(conn, "B1")
        rows = {r.row for r in batch_requests(conn, "B1")} | {
            r.row for r in batch_row_rejections(conn, "B1")
        }
        assert batch is not None and rows == set(range(1, batch.row_count + 1))
        assert batch_row_rejections(conn, "B1") == [rejection]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.text(max_size=30).filter(lambda s: "\x00" not in s),
    street=st.text(max_size=60).filter(lambda s: "\x00" not in s),
    request_id=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
)
def test_requests_round_trip(batch_store: Store, first: str, street: str, request_id: str) -> None:
    request = Request(
        row=99, line=100, request_id=request_id, agency="DHS-ICE",
        subject=Subject(first_name=first, street=street),
    )  # fmt: skip
    with batch_store.write() as conn:
        inserted = add_requests(conn, "B1", [request])
        stored = get_request(conn, "DHS-ICE", request_id)
        conn.rollback()
    assert inserted == (1 if request_id not in ("R1", "R2") else 0)
    if inserted:
        assert stored == request


def test_one_outcome_per_request(batch_store: Store) -> None:
    with batch_store.write() as conn:
        assert record_outcome(conn, _outcome("R1", match_probability=0.25, margin=0.5))
        assert not record_outcome(conn, _outcome("R1", match_probability=0.25, margin=0.5))
        with pytest.raises(StoreError, match="already has outcome no_match"):
            record_outcome(conn, _outcome("R1", Outcome.DISCLOSED, tin="123456789"))
        assert get_outcome(conn, "DHS-ICE", "R1") == _outcome(
            "R1", match_probability=0.25, margin=0.5
        )
        assert [o.request_id for o in batch_outcomes(conn, "B1")] == ["R1"]


def test_outcome_needs_a_stored_request(batch_store: Store) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), batch_store.write() as conn:
        record_outcome(conn, _outcome("R-UNKNOWN"))


def test_a_second_disclosure_of_the_same_request_is_impossible(batch_store: Store) -> None:
    with batch_store.write() as conn:
        assert record_disclosure(conn, _disclosure())
        assert not record_disclosure(conn, _disclosure())
        with pytest.raises(StoreError, match="already disclosed"):
            record_disclosure(conn, _disclosure(tin="987654321"))
    with batch_store.read() as conn:
        assert disclosures_for_tin(conn, "123456789") == [_disclosure()]
        assert disclosures_for_tin(conn, "987654321") == []
        assert batch_disclosures(conn, "B1") == [_disclosure()]


def test_marking_a_disclosure_wrongful_keeps_the_first_time(batch_store: Store) -> None:
    with batch_store.write() as conn:
        record_disclosure(conn, _disclosure())
        first = mark_wrongful(conn, "DHS-ICE", "R1", now=T0 + timedelta(days=1))
        second = mark_wrongful(conn, "DHS-ICE", "R1", now=T0 + timedelta(days=2))
        assert first.wrongful_at == second.wrongful_at == T0 + timedelta(days=1)
        with pytest.raises(StoreError, match="no disclosure"):
            mark_wrongful(conn, "DHS-ICE", "R2")


def test_review_queue(batch_store: Store) -> None:
    item = ReviewItem("B1", "DHS-ICE", "R2", ("111111111", "222222222"), T0)
    with batch_store.write() as conn:
        assert open_review(conn, item)
        assert not open_review(conn, item)
        assert open_reviews(conn) == [item]
        with pytest.raises(StoreError, match="candidate"):
            decide_review(conn, "DHS-ICE", "R2", status=ReviewStatus.APPROVED,
                          decided_by="officer-7", decision_tin="999999999")  # fmt: skip
        decided = decide_review(
            conn, "DHS-ICE", "R2", status=ReviewStatus.APPROVED,
            decided_by="officer-7", decision_tin="222222222", now=T0,
        )  # fmt: skip
        assert (decided.status, decided.decision_tin, decided.decided_at) == (
            ReviewStatus.APPROVED, "222222222", T0,
        )  # fmt: skip
        assert open_reviews(conn, "DHS-ICE") == []
        with pytest.raises(StoreError, match="already approved"):
            decide_review(conn, "DHS-ICE", "R2", status=ReviewStatus.REJECTED, decided_by="x")
        with pytest.raises(StoreError, match="no review item"):
            decide_review(conn, "DHS-ICE", "R1", status=ReviewStatus.REJECTED, decided_by="x")


def test_holds(batch_store: Store) -> None:
    with batch_store.write() as conn:
        hold = place_hold(
            conn,
            HoldScope.AGENCY,
            "DHS-ICE",
            reference="Order 25-cv-1",
            rationale="safeguards review open",
            placed_by="custodian-1",
            now=T0,
        )
        assert hold.active and active_holds(conn) == [hold]
        assert hold.covers(agency="DHS-ICE", statute="x", batch="b")
        assert not hold.covers(agency="DOJ", statute="x", batch="b")
        lifted = lift_hold(
            conn,
            hold.id,
            resolution=HoldResolution.RELEASE,
            rationale="review closed",
            lifted_by="custodian-2",
            now=T0 + timedelta(hours=1),
        )
        assert not lifted.active and active_holds(conn) == []
        assert lifted.resolution is HoldResolution.RELEASE
        with pytest.raises(StoreError, match="already lifted"):
            lift_hold(
                conn,
                hold.id,
                resolution=HoldResolution.DECLINE,
                rationale="again",
                lifted_by="custodian-3",
            )
        with pytest.raises(StoreError, match="needs a rationale"):
            place_hold(
                conn, HoldScope.AGENCY, "DHS-ICE", reference="x", rationale="  ", placed_by="c"
            )
        with pytest.raises(StoreError, match="names no target"):
            place_hold(conn, HoldScope.ALL, "DHS-ICE", reference="x", rationale="y", placed_by="c")
        with pytest.raises(StoreError, match="must name the statute"):
            place_hold(conn, HoldScope.STATUTE, None, reference="x", rationale="y", placed_by="c")
        everything = place_hold(
            conn, HoldScope.ALL, None, reference="x", rationale="y", placed_by="c"
        )
        assert everything.covers(agency="any", statute="any", batch="any")
