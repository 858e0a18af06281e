"""The annual (p)(3)(C) report: per-agency counts, year boundaries, deterministic JSON, offline HTML."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import pytest
from report_builders import DHS, DOJ, ROW_REJECTIONS, WORLD, Page, Populated, chart_rows, tins

from custos.errors import StoreError
from custos.policy.statutes import cited_statutes
from custos.report import annual_report, render_annual_html, render_annual_json
from custos.store import Store


def _expected(year: int) -> dict[str, dict[str, Any]]:
    """The year's figures per agency, derived from the world's description alone."""
    out: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"requests": 0, "instances": 0, "tins": set(), "statutes": Counter()}
    )
    for r in WORLD:
        if r.received_at.year == year:
            out[r.agency]["requests"] += 1
            for citation in cited_statutes(r.statute) or ["(none stated)"]:
                out[r.agency]["statutes"][citation] += 1
        if r.disclosed_at is not None and r.disclosed_at.year == year:
            out[r.agency]["instances"] += 1
            out[r.agency]["tins"].add(r.tin)
    return dict(out)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_counts_per_agency(store: Store, world: Populated, year: int) -> None:
    report = annual_report(store, year)
    expected = _expected(year)
    assert [a.agency_id for a in report.agencies] == sorted(expected)
    for agency_id, figures in expected.items():
        got = report.agency(agency_id)
        assert got is not None
        assert got.requests == figures["requests"], (year, agency_id)
        assert got.disclosures == figures["instances"], (year, agency_id)
        assert got.taxpayers_disclosed == len(figures["tins"]), (year, agency_id)
        assert dict(got.statutes) == dict(figures["statutes"]), (year, agency_id)
    every_tin = set().union(*(f["tins"] for f in expected.values())) if expected else set()
    assert report.taxpayers_disclosed == len(every_tin)


def test_a_taxpayer_disclosed_twice_counts_once(store: Store, world: Populated) -> None:
    dhs = annual_report(store, 2025).agency(DHS)
    assert dhs is not None
    disclosed = [
        r.tin for r in WORLD if r.agency == DHS and r.disclosed_at and r.disclosed_at.year == 2025
    ]
    assert len(disclosed) > len(set(disclosed)), "the world must disclose someone twice"
    assert dhs.disclosures == len(disclosed)
    assert dhs.taxpayers_disclosed == len(set(disclosed))


def test_year_boundaries_are_utc_calendar_years(store: Store, world: Populated) -> None:
    """Received 2024-12-31 23:59:59.999999 is 2024; disclosed 2025-01-01 00:00:00 is 2025."""
    by_year = {y: annual_report(store, y) for y in (2024, 2025, 2026)}
    dhs_2024 = by_year[2024].agency(DHS)
    assert dhs_2024 is not None and (dhs_2024.requests, dhs_2024.disclosures) == (1, 0)
    doj_2025, doj_2026 = by_year[2025].agency(DOJ), by_year[2026].agency(DOJ)
    assert doj_2025 is not None and doj_2026 is not None
    assert (doj_2025.requests, doj_2025.disclosures) == (2, 1)
    assert (doj_2026.requests, doj_2026.disclosures) == (0, 1)
    total_requests = sum(r.requests for r in by_year.values())
    total_disclosures = sum(r.disclosures for r in by_year.values())
    assert total_requests == len(WORLD)
    assert total_disclosures == sum(r.disclosed_at is not None for r in WORLD)
    assert annual_report(store, 2023).agencies == ()


def test_rejections_and_purposes(store: Store, world: Populated) -> None:
    dhs = annual_report(store, 2025).agency(DHS)
    assert dhs is not None
    expected = Counter(
        r.reasons[0].value
        for r in WORLD
        if r.agency == DHS and r.received_at.year == 2025 and r.outcome == "rejected"
    )
    expected.update(rr.reason_code.value for rr in ROW_REJECTIONS["B1"])
    assert dict(dhs.rejections) == dict(expected)
    purposes = Counter(r.purpose for r in WORLD if r.agency == DHS and r.received_at.year == 2025)
    assert dict(dhs.purposes) == dict(purposes)
    assert dhs.wrongful_disclosures == sum(
        r.wrongful
        for r in WORLD
        if r.agency == DHS and r.disclosed_at and r.disclosed_at.year == 2025
    )


def test_json_is_deterministic_and_sorted(store: Store, world: Populated) -> None:
    first = render_annual_json(annual_report(store, 2025))
    assert first == render_annual_json(annual_report(store, 2025))
    data = json.loads(first)
    assert first == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["year"] == 2025
    by_agency = {a["agency"]["id"]: a for a in data["agencies"]}
    assert by_agency[DOJ]["instances_of_disclosure"] == 1
    assert data["totals"]["requests"] == sum(a["requests"] for a in data["agencies"])


def test_html_is_offline_names_no_taxpayer_and_charts_the_table(
    store: Store, world: Populated
) -> None:
    report = annual_report(store, 2025)
    html = render_annual_html(report)
    page = Page.of(html)
    assert page.script_srcs == [] and page.references == []
    for tin in tins():
        assert tin not in html
    rows = chart_rows(page.specs["agencies"])
    charted = {(row["agency"], row["measure"]): row["count"] for row in rows}
    for agency in report.agencies:
        assert charted[(agency.agency_id, "requests")] == agency.requests
        assert charted[(agency.agency_id, "instances of disclosure")] == agency.disclosures
        assert charted[(agency.agency_id, "taxpayers disclosed")] == agency.taxpayers_disclosed


def test_a_year_without_activity_renders_without_charts(store: Store, world: Populated) -> None:
    html = render_annual_html(annual_report(store, 1999))
    page = Page.of(html)
    assert page.specs == {} and page.inline_scripts == []
    assert "No requests or disclosures." in html


@pytest.mark.parametrize("year", [0, 10_000, -5])
def test_impossible_year_is_a_clear_error(store: Store, year: int) -> None:
    with pytest.raises(StoreError, match="not a calendar year"):
        annual_report(store, year)
