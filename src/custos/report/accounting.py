"""The accounting for one taxpayer: the § 6103(p)(3)(A) record of requests and disclosures.

For every disclosure of the taxpayer's information: to which agency, on
which request (its statute, purpose, reason, case number and tax periods,
as the agency stated them), which fields, when, under which ledger sequence
number, and whether it was later found wrongful. Then the requests that
concerned the taxpayer without a disclosure, where the store knows it: an
outcome naming the taxpayer (held, for instance) or a review that had the
taxpayer among its candidates.

This is a custodian-internal record: it names the taxpayer, and it must not
be handed to a requester or published.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, RowMapping, Text, and_, cast, select

from custos.errors import StoreError
from custos.report.html import escape, page, table_html
from custos.report.tables import Table
from custos.store import Store, list_agencies
from custos.store.schema import disclosures, outcomes, requests, review_items

TIN_DIGITS = 9


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the agency stated in one request, as stored when it was received."""

    agency_id: str
    agency_name: str
    request_id: str
    batch_id: str
    received_at: datetime | None
    statute: str
    purpose: str
    reason: str
    case_number: str
    tax_periods: str
    requesting_official: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": {"id": self.agency_id, "name": self.agency_name},
            "request_id": self.request_id,
            "batch_id": self.batch_id,
            "received_at": _iso(self.received_at),
            "statute": self.statute,
            "purpose": self.purpose,
            "reason": self.reason,
            "case_number": self.case_number,
            "tax_periods": self.tax_periods,
            "requesting_official": self.requesting_official,
        }


@dataclass(frozen=True, slots=True)
class DisclosureEntry:
    """One disclosure of the taxpayer's information, and the request it answered."""

    request: RequestFacts
    statute: str
    fields: tuple[str, ...]
    as_of_tax_year: int
    disclosed_at: datetime
    ledger_seq: int | None
    wrongful_at: datetime | None

    @property
    def wrongful(self) -> bool:
        return self.wrongful_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.to_dict(),
            "statute": self.statute,
            "fields": list(self.fields),
            "as_of_tax_year": self.as_of_tax_year,
            "disclosed_at": _iso(self.disclosed_at),
            "ledger_seq": self.ledger_seq,
            "wrongful": self.wrongful,
            "wrongful_at": _iso(self.wrongful_at),
        }


@dataclass(frozen=True, slots=True)
class ConcernEntry:
    """A request that concerned the taxpayer without disclosing anything.

    `outcome` is set when the request's outcome names the taxpayer;
    `review_status` when the taxpayer was a candidate in its review.
    """

    request: RequestFacts
    outcome: str | None
    review_status: str | None

    @property
    def basis(self) -> str:
        parts = []
        if self.outcome is not None:
            parts.append(f"outcome {self.outcome}")
        if self.review_status is not None:
            parts.append(f"review candidate ({self.review_status})")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.to_dict(),
            "outcome": self.outcome,
            "review_status": self.review_status,
        }


@dataclass(frozen=True, slots=True)
class TinAccounting:
    """Everything the store records about requests and disclosures concerning one TIN."""

    tin: str
    disclosures: tuple[DisclosureEntry, ...]
    other_requests: tuple[ConcernEntry, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tin": self.tin,
            "disclosures": [d.to_dict() for d in self.disclosures],
            "requests_without_disclosure": [c.to_dict() for c in self.other_requests],
        }


def normalize_tin(text: str) -> str:
    """Nine digits, with any dashes or spaces removed; anything else is a `StoreError`."""
    tin = "".join(str(text).replace("-", "").split())
    if len(tin) != TIN_DIGITS or not tin.isascii() or not tin.isdigit():
        raise StoreError(f"{text!r} is not a TIN: a TIN is {TIN_DIGITS} digits, e.g. 123-45-6789")
    return tin


def accounting_for_tin(store: Store, tin: str) -> TinAccounting:
    """The (p)(3)(A) record of one taxpayer, oldest first, in one consistent read."""
    tin = normalize_tin(tin)
    with store.read() as conn:
        names = {a.id: a.name for a in list_agencies(conn)}
        disclosed = _disclosures(conn, tin, names)
        seen = {(d.request.agency_id, d.request.request_id) for d in disclosed}
        concerns = _concerns(conn, tin, names, seen)
    return TinAccounting(tin, disclosed, concerns)


def accounting_tables(accounting: TinAccounting) -> tuple[Table, Table]:
    """The disclosures and the other requests, as tables of text for Rich or HTML."""
    request_columns = (
        "agency",
        "request id",
        "batch",
        "received",
        "purpose",
        "reason",
        "case number",
        "tax periods",
        "official",
    )
    disclosed = Table(
        f"Disclosures concerning TIN {accounting.tin}",
        (
            "disclosed",
            *request_columns,
            "statute",
            "fields",
            "as of tax year",
            "ledger seq",
            "wrongful",
        ),
        tuple(
            (
                _iso(d.disclosed_at) or "",
                *_request_cells(d.request),
                d.statute,
                ", ".join(d.fields),
                str(d.as_of_tax_year),
                "" if d.ledger_seq is None else str(d.ledger_seq),
                f"yes ({_iso(d.wrongful_at)})" if d.wrongful else "no",
            )
            for d in accounting.disclosures
        ),
    )
    others = Table(
        f"Requests concerning TIN {accounting.tin} without disclosure",
        (*request_columns, "statute", "basis"),
        tuple(
            (*_request_cells(c.request), c.request.statute, c.basis)
            for c in accounting.other_requests
        ),
    )
    return disclosed, others


def render_accounting_json(accounting: TinAccounting) -> str:
    return json.dumps(accounting.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_accounting_html(accounting: TinAccounting) -> str:
    """A page for the custodian's staff; it names the taxpayer and must not leave the custodian."""
    disclosed, others = accounting_tables(accounting)
    body = (
        f"<h1>Accounting of disclosures: TIN {escape(accounting.tin)}</h1>"
        "<p class='warn'>Custodian-internal: return information under 26 U.S.C. § 6103. "
        "Do not publish or send to a requester.</p>"
        f"<p>{len(accounting.disclosures)} disclosures, "
        f"{len(accounting.other_requests)} other requests.</p>"
        f"{table_html(disclosed)}{table_html(others)}"
    )
    return page(f"custos accounting: TIN {accounting.tin}", body, charts=False)


def _disclosures(
    conn: Connection, tin: str, names: Mapping[str, str]
) -> tuple[DisclosureEntry, ...]:
    rows = conn.execute(
        select(disclosures, requests.c.payload, requests.c.received_at)
        .select_from(disclosures.outerjoin(requests, _request_of(disclosures)))
        .where(disclosures.c.tin == tin)
    ).all()
    entries = [
        DisclosureEntry(
            request=_facts(row._mapping, names),
            statute=row.statute,
            fields=tuple(row.fields),
            as_of_tax_year=int(row.as_of_tax_year),
            disclosed_at=row.disclosed_at,
            ledger_seq=None if row.ledger_seq is None else int(row.ledger_seq),
            wrongful_at=row.wrongful_at,
        )
        for row in rows
    ]
    entries.sort(key=lambda d: (d.disclosed_at, d.request.agency_id, d.request.request_id))
    return tuple(entries)


def _concerns(
    conn: Connection, tin: str, names: Mapping[str, str], disclosed: set[tuple[str, str]]
) -> tuple[ConcernEntry, ...]:
    found: dict[tuple[str, str], tuple[RequestFacts, str | None, str | None]] = {}
    by_outcome = conn.execute(
        select(
            outcomes.c.batch_id,
            outcomes.c.agency_id,
            outcomes.c.request_id,
            outcomes.c.outcome,
            requests.c.payload,
            requests.c.received_at,
        )
        .select_from(outcomes.outerjoin(requests, _request_of(outcomes)))
        .where(outcomes.c.tin == tin)
    ).all()
    for decided in by_outcome:
        found[(decided.agency_id, decided.request_id)] = (
            _facts(decided._mapping, names),
            decided.outcome,
            None,
        )
    by_review = conn.execute(
        select(
            review_items.c.batch_id,
            review_items.c.agency_id,
            review_items.c.request_id,
            review_items.c.candidates,
            review_items.c.decision_tin,
            review_items.c.status,
            requests.c.payload,
            requests.c.received_at,
        )
        .select_from(review_items.outerjoin(requests, _request_of(review_items)))
        .where(
            (cast(review_items.c.candidates, Text).like(f'%"{tin}"%'))
            | (review_items.c.decision_tin == tin)
        )
    ).all()
    for item in by_review:
        if tin not in item.candidates and item.decision_tin != tin:
            continue
        key = (item.agency_id, item.request_id)
        facts, outcome, _ = found.get(key, (_facts(item._mapping, names), None, None))
        found[key] = (facts, outcome, item.status)
    entries = [
        ConcernEntry(facts, outcome, review)
        for key, (facts, outcome, review) in found.items()
        if key not in disclosed
    ]
    entries.sort(
        key=lambda c: (
            _iso(c.request.received_at) or "~",
            c.request.agency_id,
            c.request.request_id,
        )
    )
    return tuple(entries)


def _request_of(table: FromClause) -> ColumnElement[bool]:
    return and_(
        requests.c.agency_id == table.c.agency_id, requests.c.request_id == table.c.request_id
    )


def _facts(row: RowMapping, names: Mapping[str, str]) -> RequestFacts:
    payload: Mapping[str, Any] = row["payload"] or {}
    return RequestFacts(
        agency_id=row["agency_id"],
        agency_name=names.get(row["agency_id"], row["agency_id"]),
        request_id=row["request_id"],
        batch_id=row["batch_id"],
        received_at=row["received_at"],
        statute=str(payload.get("statute", "")),
        purpose=str(payload.get("purpose", "")),
        reason=str(payload.get("reason", "")),
        case_number=str(payload.get("case_number", "")),
        tax_periods=str(payload.get("tax_periods", "")),
        requesting_official=str(payload.get("requesting_official", "")),
    )


def _request_cells(facts: RequestFacts) -> tuple[str, ...]:
    return (
        facts.agency_id,
        facts.request_id,
        facts.batch_id,
        _iso(facts.received_at) or "",
        facts.purpose,
        facts.reason,
        facts.case_number,
        facts.tax_periods,
        facts.requesting_official,
    )


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
