"""The annual report of § 6103(p)(3)(C): per agency, requests, disclosures, taxpayers, purposes.

Within 90 days after a calendar year the custodian reports, for each federal
agency, the number of requests for disclosure, of instances of disclosure
and of taxpayers whose information was disclosed, with the general
purposes. A year is a UTC calendar year: a request counts in the year it was
received, a disclosure in the year it was made (a request of 31 December
answered on 2 January counts in both years, once each). A taxpayer disclosed
several times to one agency counts once for it. Rows of a batch that could
not be read, or that repeated a request id, are not requests; they appear
among the rejections under their reason codes.

The report holds counts only, so the page and the JSON can be published.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, datetime
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from custos.errors import StoreError
from custos.policy.statutes import cited_statutes
from custos.report import charts
from custos.report.html import Chart, chart_html, escape, page, table_html
from custos.report.tables import Table, counts_table
from custos.store import Store, list_agencies
from custos.store.schema import batches, disclosures, outcomes, requests, row_rejections

NONE_STATED = "(none stated)"
NO_REASON = "(no reason recorded)"


@dataclass(frozen=True, slots=True)
class AgencyYear:
    """One agency's figures for the year. Label/count pairs are sorted by count, then label."""

    agency_id: str
    agency_name: str
    requests: int
    disclosures: int
    taxpayers_disclosed: int
    wrongful_disclosures: int
    statutes: tuple[tuple[str, int], ...]
    purposes: tuple[tuple[str, int], ...]
    rejections: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": {"id": self.agency_id, "name": self.agency_name},
            "requests": self.requests,
            "instances_of_disclosure": self.disclosures,
            "taxpayers_disclosed": self.taxpayers_disclosed,
            "wrongful_disclosures": self.wrongful_disclosures,
            "general_purposes": {"statutes": dict(self.statutes), "purposes": dict(self.purposes)},
            "rejections_by_reason": dict(self.rejections),
            "outcomes": dict(self.outcomes),
        }


@dataclass(frozen=True, slots=True)
class AnnualReport:
    """Every agency with a request or a disclosure in the year, by agency id."""

    year: int
    agencies: tuple[AgencyYear, ...]
    taxpayers_disclosed: int

    @property
    def requests(self) -> int:
        return sum(a.requests for a in self.agencies)

    @property
    def disclosures(self) -> int:
        return sum(a.disclosures for a in self.agencies)

    def agency(self, agency_id: str) -> AgencyYear | None:
        return next((a for a in self.agencies if a.agency_id == agency_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": "26 U.S.C. 6103(p)(3)(C)",
            "year": self.year,
            "period": {"from": f"{self.year:04d}-01-01T00:00:00Z", "to_before": _year_end(self)},
            "totals": {
                "requests": self.requests,
                "instances_of_disclosure": self.disclosures,
                "taxpayers_disclosed": self.taxpayers_disclosed,
            },
            "agencies": [a.to_dict() for a in self.agencies],
        }


def annual_report(store: Store, year: int) -> AnnualReport:
    """Count the year's requests and disclosures per agency, in one consistent read."""
    start, end = year_bounds(year)
    with store.read() as conn:
        names = {a.id: a.name for a in list_agencies(conn)}
        requested = _requests(conn, start, end)
        decided = _outcomes(conn, start, end)
        refused = _rejections(conn, start, end)
        disclosed = _disclosures(conn, start, end)
        taxpayers = conn.execute(
            select(func.count(distinct(disclosures.c.tin))).where(
                disclosures.c.disclosed_at >= start, disclosures.c.disclosed_at < end
            )
        ).scalar_one()
    agency_ids = sorted(set(requested) | set(disclosed) | set(refused))
    agencies = []
    for agency_id in agency_ids:
        asked = requested.get(agency_id, _Requested())
        made, tins, wrongful = disclosed.get(agency_id, (0, 0, 0))
        agencies.append(
            AgencyYear(
                agency_id=agency_id,
                agency_name=names.get(agency_id, agency_id),
                requests=asked.total,
                disclosures=made,
                taxpayers_disclosed=tins,
                wrongful_disclosures=wrongful,
                statutes=_sorted(asked.statutes),
                purposes=_sorted(asked.purposes),
                rejections=_sorted(refused.get(agency_id, Counter())),
                outcomes=_sorted(decided.get(agency_id, Counter())),
            )
        )
    return AnnualReport(year, tuple(agencies), int(taxpayers))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UTC calendar year as [start, end); a year datetime cannot hold is a `StoreError`."""
    if not isinstance(year, int) or not MINYEAR <= year < MAXYEAR:
        raise StoreError(
            f"year {year!r} is not a calendar year between {MINYEAR} and {MAXYEAR - 1}"
        )
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def render_annual_json(report: AnnualReport) -> str:
    """Deterministic JSON: sorted keys, the same store always gives the same bytes."""
    return json.dumps(report.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_annual_html(report: AnnualReport) -> str:
    """One self-contained page: the per-agency table, a chart of it, and each agency's purposes."""
    summary = Table(
        f"Requests and disclosures by agency, {report.year}",
        ("agency", "requests", "instances of disclosure", "taxpayers disclosed", "wrongful"),
        tuple(
            (
                f"{a.agency_name} ({a.agency_id})",
                str(a.requests),
                str(a.disclosures),
                str(a.taxpayers_disclosed),
                str(a.wrongful_disclosures),
            )
            for a in report.agencies
        ),
    )
    rows = [
        (a.agency_id, measure, n)
        for a in report.agencies
        for measure, n in (
            ("requests", a.requests),
            ("instances of disclosure", a.disclosures),
            ("taxpayers disclosed", a.taxpayers_disclosed),
        )
    ]
    chart = Chart(
        "agencies",
        charts.grouped_bar_chart(
            f"Requests and disclosures by agency, {report.year}",
            rows,
            group="agency",
            measure="measure",
        ),
        Table(
            f"Requests and disclosures by agency, {report.year}",
            ("agency", "measure", "count"),
            tuple((g, m, str(n)) for g, m, n in rows),
        ),
    )
    sections = "".join(_agency_html(a) for a in report.agencies)
    body = (
        f"<h1>Annual report of requests and disclosures, {report.year}</h1>"
        "<p class='note'>Under 26 U.S.C. § 6103(p)(3)(C). Calendar year in UTC; "
        "a taxpayer disclosed more than once to an agency counts once for it. "
        f"Taxpayers disclosed to any agency: {report.taxpayers_disclosed}.</p>"
        f"{table_html(summary, numeric=(1, 2, 3, 4))}"
        f"{chart_html(chart) if report.agencies else '<p>No requests or disclosures.</p>'}"
        f"{sections}"
    )
    return page(f"custos annual report {report.year}", body, charts=bool(report.agencies))


def _agency_html(agency: AgencyYear) -> str:
    tables = (
        counts_table("Statutes cited", "statute", agency.statutes),
        counts_table("Stated purposes", "purpose", agency.purposes),
        counts_table("Rejections by primary reason", "reason", agency.rejections),
        counts_table("Outcomes of the year's requests", "outcome", agency.outcomes),
    )
    return f"<h2>{escape(agency.agency_name)} ({escape(agency.agency_id)})</h2>" + "".join(
        table_html(t, numeric=(1,)) for t in tables
    )


@dataclass
class _Requested:
    total: int = 0
    statutes: Counter[str] = field(default_factory=Counter)
    purposes: Counter[str] = field(default_factory=Counter)


def _requests(conn: Connection, start: datetime, end: datetime) -> dict[str, _Requested]:
    statute = requests.c.payload["statute"].as_string()
    purpose = requests.c.payload["purpose"].as_string()
    rows = conn.execute(
        select(requests.c.agency_id, statute, purpose, func.count())
        .where(requests.c.received_at >= start, requests.c.received_at < end)
        .group_by(requests.c.agency_id, statute, purpose)
    ).all()
    found: dict[str, _Requested] = defaultdict(_Requested)
    for agency_id, statute_text, purpose_text, n in rows:
        entry = found[agency_id]
        entry.total += n
        for citation in cited_statutes(statute_text or "") or [NONE_STATED]:
            entry.statutes[citation] += n
        entry.purposes[" ".join((purpose_text or "").casefold().split()) or NONE_STATED] += n
    return dict(found)


def _outcomes(conn: Connection, start: datetime, end: datetime) -> dict[str, Counter[str]]:
    rows = conn.execute(
        select(requests.c.agency_id, outcomes.c.outcome, func.count())
        .select_from(
            requests.join(
                outcomes,
                (outcomes.c.agency_id == requests.c.agency_id)
                & (outcomes.c.request_id == requests.c.request_id),
            )
        )
        .where(requests.c.received_at >= start, requests.c.received_at < end)
        .group_by(requests.c.agency_id, outcomes.c.outcome)
    ).all()
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for agency_id, outcome, n in rows:
        found[agency_id][outcome] += n
    return dict(found)


def _rejections(conn: Connection, start: datetime, end: datetime) -> dict[str, Counter[str]]:
    """Primary reasons of the year's rejected requests, and the year's unreadable rows."""
    primary = outcomes.c.reason_codes[0].as_string()
    gated = conn.execute(
        select(requests.c.agency_id, primary, func.count())
        .select_from(
            requests.join(
                outcomes,
                (outcomes.c.agency_id == requests.c.agency_id)
                & (outcomes.c.request_id == requests.c.request_id),
            )
        )
        .where(
            requests.c.received_at >= start,
            requests.c.received_at < end,
            outcomes.c.outcome == "rejected",
        )
        .group_by(requests.c.agency_id, primary)
    ).all()
    unread = conn.execute(
        select(batches.c.agency_id, row_rejections.c.reason_code, func.count())
        .select_from(row_rejections.join(batches, batches.c.id == row_rejections.c.batch_id))
        .where(batches.c.received_at >= start, batches.c.received_at < end)
        .group_by(batches.c.agency_id, row_rejections.c.reason_code)
    ).all()
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for agency_id, code, n in [*gated, *unread]:
        found[agency_id][code or NO_REASON] += n
    return dict(found)


def _disclosures(
    conn: Connection, start: datetime, end: datetime
) -> dict[str, tuple[int, int, int]]:
    """Per agency: instances of disclosure, distinct taxpayers, and how many were wrongful."""
    rows = conn.execute(
        select(
            disclosures.c.agency_id,
            func.count(),
            func.count(distinct(disclosures.c.tin)),
            func.count(disclosures.c.wrongful_at),
        )
        .where(disclosures.c.disclosed_at >= start, disclosures.c.disclosed_at < end)
        .group_by(disclosures.c.agency_id)
    ).all()
    return {agency_id: (int(n), int(tins), int(wrong)) for agency_id, n, tins, wrong in rows}


def _sorted(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _year_end(report: AnnualReport) -> str:
    return f"{report.year + 1:04d}-01-01T00:00:00Z"
