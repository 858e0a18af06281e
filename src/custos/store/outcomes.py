"""Outcomes and disclosures: at most one of each per (agency, request_id).

Recording the same outcome or disclosure twice (a resumed run repeating its
last step) is a no-op that returns False. Recording a *different* one is
refused with `StoreError`: the unique constraint makes a second disclosure of
the same request impossible, and this module says so in words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, select, update

from custos.errors import StoreError
from custos.model import Outcome, ReasonCode
from custos.store._sql import insert_new, utc_now
from custos.store.schema import disclosures, outcomes


@dataclass(frozen=True, slots=True)
class OutcomeRecord:
    """The custodian's decision on one request, with the versions it was made under."""

    batch_id: str
    agency_id: str
    request_id: str
    outcome: Outcome
    reason_codes: tuple[ReasonCode, ...]
    pack_version: str
    model_version: str
    decided_at: datetime
    tin: str | None = None
    match_probability: float | None = None
    margin: float | None = None
    ledger_seq: int | None = None
    held_outcome: Outcome | None = None
    """While `outcome` is `held`: the decision the hold interrupted, to resume on release."""


@dataclass(frozen=True, slots=True)
class DisclosureRecord:
    """One disclosure, as § 6103(p)(3)(A) requires it to be accounted for."""

    batch_id: str
    agency_id: str
    request_id: str
    tin: str
    statute: str
    fields: tuple[str, ...]
    as_of_tax_year: int
    disclosed_at: datetime
    ledger_seq: int | None = None
    wrongful_at: datetime | None = None


def _outcome_row(record: OutcomeRecord) -> dict[str, object]:
    return {
        "batch_id": record.batch_id,
        "agency_id": record.agency_id,
        "request_id": record.request_id,
        "outcome": record.outcome.value,
        "reason_codes": [r.value for r in record.reason_codes],
        "tin": record.tin,
        "match_probability": record.match_probability,
        "margin": record.margin,
        "pack_version": record.pack_version,
        "model_version": record.model_version,
        "decided_at": record.decided_at,
        "ledger_seq": record.ledger_seq,
        "held_outcome": record.held_outcome.value if record.held_outcome else None,
    }


def record_outcome(conn: Connection, record: OutcomeRecord) -> bool:
    """Store the outcome; False if this very outcome was already stored."""
    return record_outcomes(conn, [record]) == 1


def record_outcomes(conn: Connection, records: Sequence[OutcomeRecord]) -> int:
    """Store many outcomes in one statement; return how many were new.

    A request that already has this very outcome is skipped (a resumed stage);
    one that already has a *different* outcome is refused with `StoreError`.
    """
    inserted = insert_new(conn, outcomes, [_outcome_row(r) for r in records])
    if inserted < len(records):
        for record in records:
            _same_outcome_or_refuse(conn, record)
    return inserted


def _same_outcome_or_refuse(conn: Connection, record: OutcomeRecord) -> None:
    existing = get_outcome(conn, record.agency_id, record.request_id)
    if existing is None:
        raise StoreError(
            f"outcome for {record.agency_id}/{record.request_id} conflicts with another row"
        )
    if (existing.outcome, existing.reason_codes, existing.tin) != (
        record.outcome,
        record.reason_codes,
        record.tin,
    ):
        raise StoreError(
            f"request {record.agency_id}/{record.request_id} already has outcome "
            f"{existing.outcome.value}; a different outcome ({record.outcome.value}) is refused"
        )


def get_outcome(conn: Connection, agency_id: str, request_id: str) -> OutcomeRecord | None:
    row = conn.execute(
        select(outcomes).where(
            outcomes.c.agency_id == agency_id, outcomes.c.request_id == request_id
        )
    ).one_or_none()
    return None if row is None else _outcome(row)


def batch_outcomes(conn: Connection, batch_id: str) -> list[OutcomeRecord]:
    rows = conn.execute(
        select(outcomes).where(outcomes.c.batch_id == batch_id).order_by(outcomes.c.id)
    ).all()
    return [_outcome(r) for r in rows]


def held_outcomes(conn: Connection) -> list[OutcomeRecord]:
    """Every request waiting on a hold, oldest first."""
    rows = conn.execute(
        select(outcomes).where(outcomes.c.outcome == Outcome.HELD.value).order_by(outcomes.c.id)
    ).all()
    return [_outcome(r) for r in rows]


def change_outcome(
    conn: Connection,
    current: OutcomeRecord,
    *,
    outcome: Outcome,
    reason_codes: tuple[ReasonCode, ...] = (),
    held_outcome: Outcome | None = None,
    tin: str | None = None,
    now: datetime | None = None,
) -> OutcomeRecord:
    """Move one request from the outcome `current` holds to another, or refuse.

    Only the moves a hold or a review makes are allowed, and only from the
    outcome the caller read: if another officer or worker moved it first, the
    compare-and-set finds no row and this refuses, so a request cannot be
    released or disclosed twice. `tin` names the taxpayer an officer chose;
    otherwise the recorded one stays.
    """
    allowed = {
        (Outcome.DISCLOSED, Outcome.HELD),
        (Outcome.NO_MATCH, Outcome.HELD),
        (Outcome.AMBIGUOUS, Outcome.HELD),
        (Outcome.HELD, Outcome.DISCLOSED),
        (Outcome.HELD, Outcome.NO_MATCH),
        (Outcome.HELD, Outcome.AMBIGUOUS),
        (Outcome.HELD, Outcome.REJECTED),
        (Outcome.AMBIGUOUS, Outcome.DISCLOSED),
    }
    if (current.outcome, outcome) not in allowed:
        raise StoreError(
            f"request {current.agency_id}/{current.request_id} cannot move from "
            f"{current.outcome.value} to {outcome.value}"
        )
    if (outcome is Outcome.HELD) != (held_outcome is not None):
        raise StoreError("a held outcome keeps the decision it interrupted, and only it does")
    changed = conn.execute(
        update(outcomes)
        .where(
            outcomes.c.agency_id == current.agency_id,
            outcomes.c.request_id == current.request_id,
            outcomes.c.outcome == current.outcome.value,
        )
        .values(
            outcome=outcome.value,
            reason_codes=[r.value for r in reason_codes],
            held_outcome=held_outcome.value if held_outcome else None,
            tin=tin or current.tin,
            decided_at=now or utc_now(),
        )
    ).rowcount
    if changed != 1:
        raise StoreError(
            f"request {current.agency_id}/{current.request_id} is no longer "
            f"{current.outcome.value}; someone else moved it first"
        )
    moved = get_outcome(conn, current.agency_id, current.request_id)
    assert moved is not None
    return moved


def _disclosure_row(record: DisclosureRecord) -> dict[str, object]:
    return {
        "batch_id": record.batch_id,
        "agency_id": record.agency_id,
        "request_id": record.request_id,
        "tin": record.tin,
        "statute": record.statute,
        "fields": list(record.fields),
        "as_of_tax_year": record.as_of_tax_year,
        "disclosed_at": record.disclosed_at,
        "ledger_seq": record.ledger_seq,
        "wrongful_at": record.wrongful_at,
    }


def record_disclosure(conn: Connection, record: DisclosureRecord) -> bool:
    """Store the disclosure; False if this very disclosure was already stored.

    A disclosure of the same request that differs in taxpayer or fields is
    refused with `StoreError`.
    """
    return record_disclosures(conn, [record]) == 1


def record_disclosures(conn: Connection, records: Sequence[DisclosureRecord]) -> int:
    """Store many disclosures in one statement; return how many were new.

    The unique (agency, request_id) constraint makes a second disclosure of a
    request impossible; a repeat of the very same one is skipped, a different
    one refused with `StoreError`.
    """
    inserted = insert_new(conn, disclosures, [_disclosure_row(r) for r in records])
    if inserted < len(records):
        for record in records:
            _same_disclosure_or_refuse(conn, record)
    return inserted


def _same_disclosure_or_refuse(conn: Connection, record: DisclosureRecord) -> None:
    existing = get_disclosure(conn, record.agency_id, record.request_id)
    if existing is None:
        raise StoreError(
            f"disclosure for {record.agency_id}/{record.request_id} conflicts with another row"
        )
    if (existing.tin, existing.fields, existing.as_of_tax_year) != (
        record.tin,
        record.fields,
        record.as_of_tax_year,
    ):
        raise StoreError(
            f"request {record.agency_id}/{record.request_id} was already disclosed; "
            "a second, different disclosure is refused"
        )


def get_disclosure(conn: Connection, agency_id: str, request_id: str) -> DisclosureRecord | None:
    row = conn.execute(
        select(disclosures).where(
            disclosures.c.agency_id == agency_id, disclosures.c.request_id == request_id
        )
    ).one_or_none()
    return None if row is None else _disclosure(row)


def disclosures_for_tin(conn: Connection, tin: str) -> list[DisclosureRecord]:
    """Every disclosure concerning one taxpayer, oldest first: the (p)(3)(A) record."""
    rows = conn.execute(
        select(disclosures).where(disclosures.c.tin == tin).order_by(disclosures.c.id)
    ).all()
    return [_disclosure(r) for r in rows]


def batch_disclosures(conn: Connection, batch_id: str) -> list[DisclosureRecord]:
    rows = conn.execute(
        select(disclosures).where(disclosures.c.batch_id == batch_id).order_by(disclosures.c.id)
    ).all()
    return [_disclosure(r) for r in rows]


def mark_wrongful(
    conn: Connection, agency_id: str, request_id: str, *, now: datetime | None = None
) -> DisclosureRecord:
    """Mark a disclosure as wrongful (incident workflow); the first marking's time is kept."""
    existing = get_disclosure(conn, agency_id, request_id)
    if existing is None:
        raise StoreError(f"no disclosure of {agency_id}/{request_id} to mark wrongful")
    if existing.wrongful_at is None:
        conn.execute(
            update(disclosures)
            .where(disclosures.c.agency_id == agency_id, disclosures.c.request_id == request_id)
            .values(wrongful_at=now or utc_now())
        )
    marked = get_disclosure(conn, agency_id, request_id)
    assert marked is not None
    return marked


def _outcome(row: Row[tuple[object, ...]]) -> OutcomeRecord:
    m = row._mapping
    return OutcomeRecord(
        batch_id=m["batch_id"],
        agency_id=m["agency_id"],
        request_id=m["request_id"],
        outcome=Outcome(m["outcome"]),
        reason_codes=tuple(ReasonCode(c) for c in m["reason_codes"]),
        pack_version=m["pack_version"],
        model_version=m["model_version"],
        decided_at=m["decided_at"],
        tin=m["tin"],
        match_probability=m["match_probability"],
        margin=m["margin"],
        ledger_seq=m["ledger_seq"],
        held_outcome=Outcome(m["held_outcome"]) if m["held_outcome"] else None,
    )


def _disclosure(row: Row[tuple[object, ...]]) -> DisclosureRecord:
    m = row._mapping
    return DisclosureRecord(
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
