"""Incidents: disclosures marked wrongful, and each recipient's confirmation of disposal.

A disclosure belongs to at most one incident: `add_incident_items` inserts
under the unique (agency, request_id) key and returns only the rows it
inserted, so two officers recalling the same disclosure at once can never
both count it. The incident's report is stored as written, beside the hash
the ledger event carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from custos.errors import StoreError
from custos.model import Subject
from custos.store.outcomes import DisclosureRecord
from custos.store.schema import (
    disclosures,
    incident_items,
    incident_recipients,
    incidents,
    requests,
)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: int
    status: str
    opened_by: str
    opened_at: datetime
    discovered_at: datetime
    how_discovered: str
    selector: dict[str, Any]
    pack_version: str | None
    report: dict[str, Any]
    report_sha256: str
    closed_at: datetime | None = None
    ledger_seq: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentItem:
    """One disclosure an incident marked wrongful, with the rules it now fails."""

    incident_id: int
    agency_id: str
    request_id: str
    failed_rules: tuple[str, ...]
    marked_at: datetime
    ledger_seq: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentRecipient:
    """A recipient agency of an incident's disclosures, and its confirmation of disposal."""

    incident_id: int
    agency_id: str
    request_count: int
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    reference: str | None = None
    ledger_seq: int | None = None
    confirmation_seq: int | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def create_incident(
    conn: Connection,
    *,
    opened_by: str,
    opened_at: datetime,
    discovered_at: datetime,
    how_discovered: str,
    selector: dict[str, Any],
    pack_version: str | None,
) -> int:
    """A new open incident with an empty report (written by `set_incident_report`)."""
    result = conn.execute(
        incidents.insert()
        .values(
            status="open",
            opened_by=opened_by,
            opened_at=opened_at,
            discovered_at=discovered_at,
            how_discovered=how_discovered,
            selector=selector,
            pack_version=pack_version,
            report={},
            report_sha256="",
        )
        .returning(incidents.c.id)
    )
    return int(result.scalar_one())


def set_incident_report(
    conn: Connection, incident_id: int, report: dict[str, Any], sha256: str, ledger_seq: int
) -> None:
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(report=report, report_sha256=sha256, ledger_seq=ledger_seq)
    )


def close_incident(conn: Connection, incident_id: int, closed_at: datetime) -> None:
    conn.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status == "open")
        .values(status="closed", closed_at=closed_at)
    )


def get_incident(conn: Connection, incident_id: int) -> IncidentRecord | None:
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).one_or_none()
    return None if row is None else _incident(row)


def list_incidents(
    conn: Connection, *, offset: int = 0, limit: int = 100
) -> tuple[list[IncidentRecord], int]:
    """A page of incidents, newest first, and how many there are in all."""
    total = int(conn.execute(select(func.count()).select_from(incidents)).scalar_one())
    rows = conn.execute(
        select(incidents).order_by(incidents.c.id.desc()).offset(offset).limit(limit)
    ).all()
    return [_incident(r) for r in rows], total


def add_incident_items(conn: Connection, items: Sequence[IncidentItem]) -> list[tuple[str, str]]:
    """Insert the items no other incident holds; return the (agency, request_id) inserted."""
    if not items:
        return []
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(incident_items)
        .on_conflict_do_nothing()
        .returning(incident_items.c.agency_id, incident_items.c.request_id)
    )
    rows = [
        {
            "incident_id": i.incident_id,
            "agency_id": i.agency_id,
            "request_id": i.request_id,
            "failed_rules": list(i.failed_rules),
            "marked_at": i.marked_at,
        }
        for i in items
    ]
    inserted: list[tuple[str, str]] = []
    for start in range(0, len(rows), 1000):
        result = conn.execute(statement, rows[start : start + 1000])
        inserted += [(r.agency_id, r.request_id) for r in result.all()]
    return inserted


def set_incident_item_seqs(
    conn: Connection, incident_id: int, seqs: dict[tuple[str, str], int]
) -> None:
    """Note the ledger event that marked each item wrongful (one executemany)."""
    if not seqs:
        return
    statement = (
        update(incident_items)
        .where(
            incident_items.c.incident_id == incident_id,
            incident_items.c.agency_id == bindparam("b_agency"),
            incident_items.c.request_id == bindparam("b_request"),
        )
        .values(ledger_seq=bindparam("b_seq"))
    )
    conn.execute(
        statement,
        [{"b_agency": a, "b_request": r, "b_seq": seq} for (a, r), seq in seqs.items()],
    )


def mark_incident_wrongful(conn: Connection, incident_id: int, now: datetime) -> int:
    """Set `wrongful_at` on the incident's disclosures not marked before; return how many."""
    held = exists().where(
        and_(
            incident_items.c.incident_id == incident_id,
            incident_items.c.agency_id == disclosures.c.agency_id,
            incident_items.c.request_id == disclosures.c.request_id,
        )
    )
    result = conn.execute(
        update(disclosures).where(disclosures.c.wrongful_at.is_(None), held).values(wrongful_at=now)
    )
    return int(result.rowcount)


def incident_items_of(
    conn: Connection, incident_id: int, agency_id: str | None = None
) -> list[IncidentItem]:
    query = select(incident_items).where(incident_items.c.incident_id == incident_id)
    if agency_id is not None:
        query = query.where(incident_items.c.agency_id == agency_id)
    rows = conn.execute(
        query.order_by(incident_items.c.agency_id, incident_items.c.request_id)
    ).all()
    return [_item(r) for r in rows]


def incident_request_ids(conn: Connection, incident_id: int, agency_id: str) -> list[str]:
    """The request ids an incident recalled from one agency: its disposal list."""
    rows = conn.execute(
        select(incident_items.c.request_id).where(
            incident_items.c.incident_id == incident_id,
            incident_items.c.agency_id == agency_id,
        )
    ).all()
    return sorted(r.request_id for r in rows)


def incidents_holding(
    conn: Connection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """For each (agency, request_id) already in an incident, that incident's id."""
    wanted = set(keys)
    found: dict[tuple[str, str], int] = {}
    for agency in {a for a, _ in wanted}:
        ids = sorted(r for a, r in wanted if a == agency)
        for start in range(0, len(ids), 1000):
            rows = conn.execute(
                select(
                    incident_items.c.agency_id,
                    incident_items.c.request_id,
                    incident_items.c.incident_id,
                ).where(
                    incident_items.c.agency_id == agency,
                    incident_items.c.request_id.in_(ids[start : start + 1000]),
                )
            ).all()
            found.update({(r.agency_id, r.request_id): int(r.incident_id) for r in rows})
    return found


def disclosures_by_request_id(
    conn: Connection, agency_id: str, request_ids: Sequence[str]
) -> dict[str, tuple[DisclosureRecord, Subject | None]]:
    """The agency's disclosures of these requests, each with the subject its request named."""
    found: dict[str, tuple[DisclosureRecord, Subject | None]] = {}
    joined = disclosures.outerjoin(
        requests,
        and_(
            requests.c.agency_id == disclosures.c.agency_id,
            requests.c.request_id == disclosures.c.request_id,
        ),
    )
    ids = list(dict.fromkeys(request_ids))
    for start in range(0, len(ids), 1000):
        rows = conn.execute(
            select(disclosures, requests.c.payload)
            .select_from(joined)
            .where(
                disclosures.c.agency_id == agency_id,
                disclosures.c.request_id.in_(ids[start : start + 1000]),
            )
        ).all()
        for row in rows:
            m = row._mapping
            payload = m["payload"]
            record = DisclosureRecord(
                batch_id=m["batch_id"],
                agency_id=m["agency_id"],
                request_id=m["request_id"],
                tin=m["tin"],
                statute=m["statute"],
                fields=tuple(m["fields"]),
                as_of_tax_year=m["as_of_tax_year"],
                disclosed_at=m["disclosed_at"],
                ledger_seq=m["ledger_seq"],
                wrongful_at=m["wrongful_at"],
            )
            subject = Subject(**payload.get("subject", {})) if payload else None
            found[record.request_id] = (record, subject)
    return found


def add_incident_recipient(conn: Connection, recipient: IncidentRecipient) -> None:
    conn.execute(
        incident_recipients.insert().values(
            incident_id=recipient.incident_id,
            agency_id=recipient.agency_id,
            request_count=recipient.request_count,
            ledger_seq=recipient.ledger_seq,
        )
    )


def incident_recipients_of(conn: Connection, incident_id: int) -> list[IncidentRecipient]:
    rows = conn.execute(
        select(incident_recipients)
        .where(incident_recipients.c.incident_id == incident_id)
        .order_by(incident_recipients.c.agency_id)
    ).all()
    return [_recipient(r) for r in rows]


def confirm_incident_recipient(
    conn: Connection,
    incident_id: int,
    agency_id: str,
    *,
    confirmed_at: datetime,
    confirmed_by: str,
    reference: str,
    confirmation_seq: int,
) -> None:
    """Record the recipient's confirmation; a second confirmation is refused."""
    result = conn.execute(
        update(incident_recipients)
        .where(
            incident_recipients.c.incident_id == incident_id,
            incident_recipients.c.agency_id == agency_id,
            incident_recipients.c.confirmed_at.is_(None),
        )
        .values(
            confirmed_at=confirmed_at,
            confirmed_by=confirmed_by,
            reference=reference,
            confirmation_seq=confirmation_seq,
        )
    )
    if result.rowcount != 1:
        raise StoreError(
            f"incident {incident_id} has no unconfirmed disposal by {agency_id} to confirm"
        )


def _incident(row: Row[Any]) -> IncidentRecord:
    m = row._mapping
    return IncidentRecord(
        id=int(m["id"]),
        status=m["status"],
        opened_by=m["opened_by"],
        opened_at=m["opened_at"],
        discovered_at=m["discovered_at"],
        how_discovered=m["how_discovered"],
        selector=dict(m["selector"]),
        pack_version=m["pack_version"],
        report=dict(m["report"]),
        report_sha256=m["report_sha256"],
        closed_at=m["closed_at"],
        ledger_seq=None if m["ledger_seq"] is None else int(m["ledger_seq"]),
    )


def _item(row: Row[Any]) -> IncidentItem:
    m = row._mapping
    return IncidentItem(
        incident_id=int(m["incident_id"]),
        agency_id=m["agency_id"],
        request_id=m["request_id"],
        failed_rules=tuple(m["failed_rules"]),
        marked_at=m["marked_at"],
        ledger_seq=None if m["ledger_seq"] is None else int(m["ledger_seq"]),
    )


def _recipient(row: Row[Any]) -> IncidentRecipient:
    m = row._mapping
    return IncidentRecipient(
        incident_id=int(m["incident_id"]),
        agency_id=m["agency_id"],
        request_count=int(m["request_count"]),
        confirmed_at=m["confirmed_at"],
        confirmed_by=m["confirmed_by"],
        reference=m["reference"],
        ledger_seq=None if m["ledger_seq"] is None else int(m["ledger_seq"]),
        confirmation_seq=None if m["confirmation_seq"] is None else int(m["confirmation_seq"]),
    )
