"""The accounting for one TIN: exactly that taxpayer's disclosures, and the requests that concerned them."""

from __future__ import annotations

import json

import pytest
from report_builders import T1, T3, T4, T5, T6, WORLD, Page, Populated, tins
from sqlalchemy import text

from custos.errors import StoreError
from custos.report import (
    accounting_for_tin,
    accounting_tables,
    normalize_tin,
    render_accounting_html,
    render_accounting_json,
)
from custos.store import Store


def _disclosed_in_store(store: Store, tin: str) -> set[tuple[str, str]]:
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT agency_id, request_id FROM disclosures WHERE tin = :t"), {"t": tin}
        ).all()
    return {(a, r) for a, r in rows}


def test_lists_exactly_the_disclosures_of_that_tin(store: Store, world: Populated) -> None:
    for tin in tins():
        accounting = accounting_for_tin(store, tin)
        listed = [(d.request.agency_id, d.request.request_id) for d in accounting.disclosures]
        assert len(listed) == len(set(listed))
        assert set(listed) == _disclosed_in_store(store, tin), tin
        assert set(listed) == {
            (r.agency, r.request_id) for r in WORLD if r.disclosed_at and r.tin == tin
        }
        times = [d.disclosed_at for d in accounting.disclosures]
        assert times == sorted(times)


def test_each_disclosure_carries_the_request_as_stated(store: Store, world: Populated) -> None:
    accounting = accounting_for_tin(store, T1)
    stated = {(r.agency, r.request_id): r for r in WORLD}
    assert accounting.disclosures
    for d in accounting.disclosures:
        r = stated[(d.request.agency_id, d.request.request_id)]
        assert d.request.batch_id == r.batch
        assert (d.request.reason, d.request.case_number, d.request.tax_periods) == (
            r.reason,
            r.case_number,
            r.tax_periods,
        )
        assert (d.request.purpose, d.request.requesting_official) == (r.purpose, r.official)
        assert d.statute == r.statute and d.disclosed_at == r.disclosed_at
        assert d.request.received_at == r.received_at
        assert "street" in d.fields and d.as_of_tax_year == 2024
    same_id = {d.request.agency_id for d in accounting.disclosures if d.request.request_id == "R1"}
    assert same_id <= {"DOJ-FBI"}, "request R1 of DHS was rejected; only DOJ's R1 disclosed T1"


def test_ledger_seq_and_wrongful_flag(store: Store, world: Populated) -> None:
    with store.read() as conn:
        seqs = dict(
            conn.execute(
                text("SELECT request_id, ledger_seq FROM disclosures WHERE tin = :t"), {"t": T6}
            ).all()
        )
    [only] = accounting_for_tin(store, T6).disclosures
    assert only.wrongful and only.wrongful_at is not None
    assert only.ledger_seq == seqs[only.request.request_id] is not None
    assert not any(d.wrongful for d in accounting_for_tin(store, T1).disclosures)


def test_requests_without_disclosure_where_the_store_knows_the_tin(
    store: Store, world: Populated
) -> None:
    held = accounting_for_tin(store, T5)
    assert held.disclosures == ()
    assert [(c.request.request_id, c.outcome, c.review_status) for c in held.other_requests] == [
        ("R7", "held", None)
    ]
    candidate = accounting_for_tin(store, T3)
    assert [(c.request.request_id, c.review_status) for c in candidate.other_requests] == [
        ("R6", "open")
    ]
    assert candidate.other_requests[0].basis == "review candidate (open)"
    t1 = accounting_for_tin(store, T1)
    assert [c.request.request_id for c in t1.other_requests] == ["R6"]
    nobody = accounting_for_tin(store, T4)
    assert nobody.disclosures == () and nobody.other_requests == ()


def test_tin_is_normalised_and_a_bad_one_refused(store: Store, world: Populated) -> None:
    dashed = f"{T1[:3]}-{T1[3:5]}-{T1[5:]}"
    assert normalize_tin(dashed) == T1
    assert accounting_for_tin(store, dashed) == accounting_for_tin(store, T1)
    for bad in ("12345678", "1234567890", "12345678x", "", "１２３４５６７８９"):
        with pytest.raises(StoreError, match="is not a TIN"):
            accounting_for_tin(store, bad)


def test_renderings_carry_the_same_record(store: Store, world: Populated) -> None:
    accounting = accounting_for_tin(store, T1)
    data = json.loads(render_accounting_json(accounting))
    assert data["tin"] == T1
    assert [d["request"]["request_id"] for d in data["disclosures"]] == [
        d.request.request_id for d in accounting.disclosures
    ]
    disclosed, others = accounting_tables(accounting)
    assert len(disclosed.rows) == len(accounting.disclosures)
    assert len(others.rows) == len(accounting.other_requests)
    html = render_accounting_html(accounting)
    page = Page.of(html)
    assert page.references == [] and page.inline_scripts == []
    assert T1 in html and "Custodian-internal" in html
    for d in accounting.disclosures:
        assert d.request.case_number in html
