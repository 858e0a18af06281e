"""Agencies and their officials: who may request, and who may receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from custos.store._sql import upsert, utc_now
from custos.store.schema import agencies, officials


@dataclass(frozen=True, slots=True)
class Agency:
    """A requesting agency; disclosures are held while its safeguards are uncertified."""

    id: str
    name: str
    safeguards_certified_until: date | None = None


@dataclass(frozen=True, slots=True)
class Official:
    """A named official of an agency and what the roster lets them do."""

    agency_id: str
    official_id: str
    name: str
    may_request: bool = True
    may_receive: bool = False
    active: bool = True


def save_agency(conn: Connection, agency: Agency, *, now: datetime | None = None) -> None:
    """Add the agency, or update its name and safeguards date."""
    row = {
        "id": agency.id,
        "name": agency.name,
        "safeguards_certified_until": agency.safeguards_certified_until,
        "created_at": now or utc_now(),
    }
    upsert(conn, agencies, row, key=("id",), keep=("created_at",))


def get_agency(conn: Connection, agency_id: str) -> Agency | None:
    row = conn.execute(select(agencies).where(agencies.c.id == agency_id)).one_or_none()
    if row is None:
        return None
    return Agency(row.id, row.name, row.safeguards_certified_until)


def list_agencies(conn: Connection) -> list[Agency]:
    rows = conn.execute(select(agencies).order_by(agencies.c.id)).all()
    return [Agency(r.id, r.name, r.safeguards_certified_until) for r in rows]


def save_official(conn: Connection, official: Official, *, now: datetime | None = None) -> None:
    """Add the official to the roster, or update their name, rights and status."""
    row = {
        "agency_id": official.agency_id,
        "official_id": official.official_id,
        "name": official.name,
        "may_request": official.may_request,
        "may_receive": official.may_receive,
        "active": official.active,
        "created_at": now or utc_now(),
    }
    upsert(conn, officials, row, key=("agency_id", "official_id"), keep=("created_at",))


def list_officials(conn: Connection, agency_id: str) -> list[Official]:
    rows = conn.execute(
        select(officials)
        .where(officials.c.agency_id == agency_id)
        .order_by(officials.c.official_id)
    ).all()
    return [
        Official(r.agency_id, r.official_id, r.name, r.may_request, r.may_receive, r.active)
        for r in rows
    ]
