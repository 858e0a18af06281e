"""Incidents and recall: mark disclosures wrongful, report them, and have recipients destroy them.

When a disclosure turns out to be wrong (DOMAIN.md, failure 6: addresses
released on requests whose address was never checked), an officer opens an
incident naming the disclosures, either by request id or by a selector: every
disclosure of a batch, or those whose stored request now fails one of the
named rules of a pack (typically the corrected current pack, judged as of the
day the batch was received, with the batch's own context). In one transaction
custos then

- marks each matched disclosure wrongful, once: a disclosure already recalled
  by another incident is reported, never counted twice;
- writes the incident report for the Inspector General and the Office of
  Safeguards: counts, dates, how the error was discovered, the data element
  names that left, and no taxpayer data (no TIN, name or address value);
- writes each recipient agency's disposal list (request ids only);
- records all of it in the ledger: the report itself, one event per
  disclosure marked wrongful, one per disposal list (with its hash).

Each recipient's confirmation of destruction (who, when, their reference) is
another ledger event; the last one closes the incident.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection

from custos import store
from custos.errors import CustosError, StoreError
from custos.ledger import EventType, NewEvent, append_events, request_object
from custos.ledger.canonical import dumps, encode
from custos.model import Request, Subject
from custos.policy.gate import evaluate_batch
from custos.policy.pack import Pack
from custos.policy.roster import Roster
from custos.store.incidents import (
    IncidentItem,
    IncidentRecipient,
    IncidentRecord,
)

REPORT_TO = (
    "Treasury Inspector General for Tax Administration",
    "IRS Office of Safeguards",
)
REPORT_DEADLINE = timedelta(hours=24)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_IDS = 100_000
_NO_LIST = "disposal list not found"
_TIN_LIKE = re.compile(r"(?<!\d)\d{3}[- ]?\d{2}[- ]?\d{4}(?!\d)")

ErrorKind = Literal["invalid", "not_found", "conflict"]


class IncidentError(CustosError):
    """An incident request custos refuses; `kind` says whether it is invalid, unknown or a conflict."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Selector:
    """Which disclosures an incident recalls: request ids of one agency, or batches (and rules).

    With `batches` and no `rules`, every disclosure of those batches; with
    `rules`, those whose request fails at least one of them. Batches may come
    from several agencies; request ids are one agency's.
    """

    agency: str = ""
    request_ids: tuple[str, ...] = ()
    batches: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def stored(self) -> dict[str, Any]:
        if self.batches:
            return {"batches": list(self.batches), "rules": list(self.rules)}
        return {"agency": self.agency, "request_ids": list(self.request_ids)}

    def described(self) -> dict[str, Any]:
        """The selector as the report shows it: a count in place of request ids."""
        if self.batches:
            return {"batches": list(self.batches), "rules": list(self.rules)}
        return {"agency": self.agency, "request_ids": len(self.request_ids)}


@dataclass(frozen=True, slots=True)
class AlreadyRecalled:
    """A matched disclosure another incident had already marked wrongful."""

    agency: str
    request_id: str
    incident_id: int


@dataclass(frozen=True, slots=True)
class Opened:
    incident: IncidentRecord
    marked: int
    already_recalled: tuple[AlreadyRecalled, ...]


@dataclass(frozen=True, slots=True)
class DisposalList:
    """What one recipient agency must destroy: the request ids, nothing else."""

    incident_id: int
    agency: str
    requested_at: datetime
    request_ids: tuple[str, ...]
    recipient: IncidentRecipient

    @property
    def sha256(self) -> str:
        return _disposal_sha256(self.incident_id, self.agency, self.request_ids)

    def to_dict(self) -> dict[str, Any]:
        r = self.recipient
        return {
            "incident": self.incident_id,
            "agency": self.agency,
            "requested_at": _iso(self.requested_at),
            "count": len(self.request_ids),
            "request_ids": list(self.request_ids),
            "sha256": self.sha256,
            "instructions": (
                "Destroy every copy of the information disclosed in answer to these requests, "
                "in every system and on every device it reached, and confirm the destruction "
                "to the custodian with the name of the certifying official, the date and your "
                "reference."
            ),
            "confirmation": None
            if not r.confirmed
            else {
                "confirmed_at": _iso(r.confirmed_at),
                "confirmed_by": r.confirmed_by,
                "reference": r.reference,
            },
        }


@dataclass(frozen=True, slots=True)
class IncidentStatus:
    incident: IncidentRecord
    recipients: tuple[IncidentRecipient, ...]
    items: int

    def to_dict(self) -> dict[str, Any]:
        i = self.incident
        return {
            "id": i.id,
            "status": i.status,
            "opened_by": i.opened_by,
            "opened_at": _iso(i.opened_at),
            "discovered_at": _iso(i.discovered_at),
            "closed_at": _iso(i.closed_at),
            "how_discovered": i.how_discovered,
            "selector": i.report.get("selector", {}),
            "disclosures": self.items,
            "report_sha256": i.report_sha256,
            "ledger_seq": i.ledger_seq,
            "recipients": [
                {
                    "agency": r.agency_id,
                    "requests": r.request_count,
                    "confirmed": r.confirmed,
                    "confirmed_at": _iso(r.confirmed_at),
                    "confirmed_by": r.confirmed_by,
                    "reference": r.reference,
                }
                for r in self.recipients
            ],
        }


@dataclass(frozen=True, slots=True)
class _Match:
    disclosure: store.DisclosureRecord
    subject: Subject | None
    failed_rules: tuple[str, ...]


def parse_selector(
    *,
    agency: str | None = None,
    request_ids: Sequence[str] | None = None,
    batches: Sequence[str] | None = None,
    rules: Sequence[str] | None = None,
) -> Selector:
    """A selector from its parts; exactly one of request ids or batches, each complete."""
    for text in [agency or "", *(request_ids or ()), *(batches or ()), *(rules or ())]:
        _printable(text, "a selector value")
    ids = [r.strip() for r in request_ids or ()]
    named = tuple(dict.fromkeys(b.strip() for b in batches or ()))
    if ids and named:
        raise IncidentError("invalid", "name either request ids or batches, not both")
    if ids:
        if rules:
            raise IncidentError("invalid", "rules select within batches; give batches with them")
        if not agency or not agency.strip():
            raise IncidentError("invalid", "request ids are per agency: name the agency")
        if any(not r for r in ids):
            raise IncidentError("invalid", "a request id is blank")
        if len(ids) > MAX_IDS:
            raise IncidentError("invalid", f"at most {MAX_IDS} request ids per incident")
        return Selector(agency=agency.strip(), request_ids=tuple(dict.fromkeys(ids)))
    if named:
        if agency:
            raise IncidentError("invalid", "a batch names its agency; give no agency with batches")
        clean = tuple(dict.fromkeys(r.strip() for r in rules or ()))
        if any(not b for b in named) or any(not r for r in clean):
            raise IncidentError("invalid", "a batch or rule id is blank")
        return Selector(batches=named, rules=clean)
    raise IncidentError("invalid", "name the disclosures: request ids (with agency), or batches")


def open_incident(
    opened: store.Store,
    selector: Selector,
    *,
    how_discovered: str,
    discovered_at: datetime,
    actor: str,
    origin: str,
    pack: Pack,
    roster: Roster,
    now: datetime | None = None,
) -> Opened:
    """Open an incident over the selected disclosures; everything commits together or not at all.

    Refused (`IncidentError`): request ids without a disclosure, an unknown
    batch or rule, a selector matching nothing, a selector whose every match
    another incident already recalled, a discovery time in the future, and a
    `how_discovered` text that carries taxpayer data (a TIN-like number, or a
    recalled subject's name or street).
    """
    now = now or datetime.now(UTC)
    how = _printable(how_discovered, "how_discovered", lines=True).strip()
    if len(how) < 10:
        raise IncidentError("invalid", "say how the error was discovered (10 characters or more)")
    if discovered_at.tzinfo is None:
        raise IncidentError("invalid", "the discovery time needs a time zone")
    if discovered_at > now + timedelta(minutes=5):
        raise IncidentError("invalid", "the discovery time is in the future")
    if discovered_at < EARLIEST:
        raise IncidentError("invalid", f"the discovery time is before {EARLIEST.year}")
    if selector.rules:
        known = [r.id for r in pack.rules]
        unknown = [r for r in selector.rules if r not in known]
        if unknown:
            raise IncidentError(
                "invalid",
                f"pack {pack.ref.id} {pack.ref.version} has no rule {', '.join(unknown)}; "
                f"its rules are {', '.join(known)}",
            )
    with opened.write() as conn:
        matches = _select(conn, selector, pack, roster)
        if not matches:
            raise IncidentError("invalid", "no disclosure matches the selector; nothing to recall")
        _refuse_taxpayer_data(how, matches)
        incident_id = store.create_incident(
            conn,
            opened_by=actor,
            opened_at=now,
            discovered_at=discovered_at,
            how_discovered=how,
            selector=selector.stored(),
            pack_version=pack.ref.version if selector.rules else None,
        )
        inserted = set(
            store.add_incident_items(
                conn,
                [
                    IncidentItem(
                        incident_id=incident_id,
                        agency_id=m.disclosure.agency_id,
                        request_id=m.disclosure.request_id,
                        failed_rules=m.failed_rules,
                        marked_at=now,
                    )
                    for m in matches
                ],
            )
        )
        new = [m for m in matches if _key(m) in inserted]
        holders = store.incidents_holding(
            conn, [_key(m) for m in matches if _key(m) not in inserted]
        )
        already = tuple(AlreadyRecalled(a, r, i) for (a, r), i in sorted(holders.items()))
        if not new:
            named = ", ".join(str(i) for i in sorted(set(holders.values())))
            raise IncidentError(
                "conflict",
                f"every matched disclosure ({len(matches)}) was already recalled by incident "
                f"{named}",
            )
        store.mark_incident_wrongful(conn, incident_id, now)
        names = {a.id: a.name for a in store.list_agencies(conn)}
        report = _report(incident_id, selector, pack, new, already, names, how, discovered_at, now)
        report_sha = hashlib.sha256(encode(report)).hexdigest()
        per_agency: dict[str, list[str]] = defaultdict(list)
        for m in new:
            per_agency[m.disclosure.agency_id].append(m.disclosure.request_id)
        obj = _incident_object(incident_id)
        events = [
            NewEvent(
                actor,
                EventType.INCIDENT_OPENED,
                True,
                origin,
                obj,
                {"report": report, "report_sha256": report_sha},
            )
        ]
        events += [
            NewEvent(
                actor,
                EventType.DISCLOSURE_MARKED_WRONGFUL,
                True,
                origin,
                request_object(m.disclosure.agency_id, m.disclosure.request_id),
                {
                    "incident": incident_id,
                    "batch": m.disclosure.batch_id,
                    "failed_rules": list(m.failed_rules),
                    "disclosure_seq": m.disclosure.ledger_seq,
                },
            )
            for m in new
        ]
        agencies = sorted(per_agency)
        events += [
            NewEvent(
                actor,
                EventType.DISPOSAL_REQUESTED,
                True,
                origin,
                f"{obj}/{agency}",
                {
                    "incident": incident_id,
                    "agency": agency,
                    "requests": len(per_agency[agency]),
                    "sha256": _disposal_sha256(
                        incident_id, agency, tuple(sorted(per_agency[agency]))
                    ),
                },
            )
            for agency in agencies
        ]
        recorded = append_events(conn, events)
        store.set_incident_report(conn, incident_id, report, report_sha, recorded[0].seq)
        store.set_incident_item_seqs(
            conn,
            incident_id,
            {_key(m): e.seq for m, e in zip(new, recorded[1 : 1 + len(new)], strict=True)},
        )
        for agency, event in zip(agencies, recorded[1 + len(new) :], strict=True):
            store.add_incident_recipient(
                conn,
                IncidentRecipient(
                    incident_id=incident_id,
                    agency_id=agency,
                    request_count=len(per_agency[agency]),
                    ledger_seq=event.seq,
                ),
            )
        record = store.get_incident(conn, incident_id)
    assert record is not None
    return Opened(record, len(new), already)


def incident_status(opened: store.Store, incident_id: int) -> IncidentStatus:
    with opened.read() as conn:
        return _status(conn, incident_id)


def list_incidents(
    opened: store.Store, *, offset: int = 0, limit: int = 100
) -> tuple[list[IncidentStatus], int]:
    """A page of incidents, newest first, and the total."""
    with opened.read() as conn:
        page, total = store.list_incidents(conn, offset=offset, limit=limit)
        return [_status(conn, i.id, i) for i in page], total


def incident_report(opened: store.Store, incident_id: int) -> dict[str, Any]:
    """The report as recorded when the incident was opened (its hash is in the ledger)."""
    return incident_status(opened, incident_id).incident.report


def disposal_lists(
    opened: store.Store, incident_id: int, agency: str | None = None
) -> list[DisposalList]:
    """Each recipient's disposal list, or only `agency`'s (not found if it received none)."""
    with opened.read() as conn:
        status = _status_for_recipient(conn, incident_id)
        recipients = [r for r in status.recipients if agency is None or r.agency_id == agency]
        if not recipients:
            raise IncidentError("not_found", _NO_LIST)
        return [
            DisposalList(
                incident_id=incident_id,
                agency=r.agency_id,
                requested_at=status.incident.opened_at,
                request_ids=tuple(store.incident_request_ids(conn, incident_id, r.agency_id)),
                recipient=r,
            )
            for r in recipients
        ]


def confirm_disposal(
    opened: store.Store,
    incident_id: int,
    agency: str,
    *,
    confirmed_by: str,
    reference: str,
    destroyed_at: datetime,
    actor: str,
    origin: str,
    now: datetime | None = None,
) -> IncidentStatus:
    """Record that `agency` destroyed its disposal list; the last confirmation closes the incident.

    `confirmed_by` is the recipient's certifying official, `reference` their
    own reference for the destruction (certificate, memo); `actor` is who
    recorded it here. A second confirmation by the same agency is a conflict.
    """
    now = now or datetime.now(UTC)
    who = _printable(confirmed_by, "confirmed_by").strip()
    ref = _printable(reference, "reference").strip()
    if not who or not ref:
        raise IncidentError("invalid", "a confirmation names who confirms and their reference")
    if destroyed_at.tzinfo is None:
        raise IncidentError("invalid", "the destruction time needs a time zone")
    if destroyed_at > now + timedelta(minutes=5):
        raise IncidentError("invalid", "the destruction time is in the future")
    if destroyed_at < EARLIEST:
        raise IncidentError("invalid", f"the destruction time is before {EARLIEST.year}")
    with opened.write() as conn:
        status = _status_for_recipient(conn, incident_id)
        recipient = next((r for r in status.recipients if r.agency_id == agency), None)
        if recipient is None:
            raise IncidentError("not_found", _NO_LIST)
        if recipient.confirmed:
            raise IncidentError(
                "conflict",
                f"{agency} already confirmed disposal for incident {incident_id} "
                f"(reference {recipient.reference})",
            )
        obj = _incident_object(incident_id)
        recorded = append_events(
            conn,
            [
                NewEvent(
                    actor,
                    EventType.DISPOSAL_CONFIRMED,
                    True,
                    origin,
                    f"{obj}/{agency}",
                    {
                        "incident": incident_id,
                        "agency": agency,
                        "requests": recipient.request_count,
                        "confirmed_by": who,
                        "reference": ref,
                        "destroyed_at": _iso(destroyed_at),
                    },
                )
            ],
        )
        try:
            store.confirm_incident_recipient(
                conn,
                incident_id,
                agency,
                confirmed_at=destroyed_at,
                confirmed_by=who,
                reference=ref,
                confirmation_seq=recorded[0].seq,
            )
        except StoreError as exc:
            raise IncidentError("conflict", str(exc)) from None
        pending = [r for r in store.incident_recipients_of(conn, incident_id) if not r.confirmed]
        if not pending:
            store.close_incident(conn, incident_id, now)
            append_events(
                conn,
                [
                    NewEvent(
                        actor,
                        EventType.INCIDENT_CLOSED,
                        True,
                        origin,
                        obj,
                        {"incident": incident_id, "recipients": len(status.recipients)},
                    )
                ],
            )
        return _status(conn, incident_id)


def report_json(report: dict[str, Any]) -> str:
    """The report as indented JSON, keys sorted, as the routes and files give it."""
    return json.dumps(report, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_report_markdown(report: dict[str, Any]) -> str:
    """The report as a short Markdown memo for the Inspector General and the Office of Safeguards."""
    dates = report["dates"]
    counts = report["counts"]
    lines = [
        f"# Incident {report['incident']}: wrongful disclosure of return information",
        "",
        f"To: {'; '.join(report['to'])}",
        "",
        f"Reported {dates['reported']}; discovered {dates['discovered']} "
        f"({'within' if dates['within_24_hours'] else 'NOT within'} 24 hours).",
        f"Disclosures made from {dates['disclosed_first']} to {dates['disclosed_last']}.",
        "",
        "## How it was discovered",
        "",
        report["how_discovered"],
        "",
        "## What was disclosed",
        "",
        f"- {counts['disclosures']} disclosures concerning {counts['taxpayers']} taxpayers, "
        f"to {counts['agencies']} agencies, in {counts['batches']} batches",
        f"- data elements: {', '.join(report['data_elements'])}",
        f"- selected by: {dumps(report['selector'])}",
    ]
    if counts["already_recalled"]:
        lines.append(
            f"- {counts['already_recalled']} further matching disclosures were already "
            "recalled by earlier incidents and are not counted here"
        )
    for rule in report["rules"]:
        lines.append(f"- rule {rule['id']} ({rule['clause']}): {rule['disclosures']} disclosures")
    lines += [
        "",
        "| agency | disclosures | taxpayers | first | last |",
        "| --- | --: | --: | --- | --- |",
    ]
    for a in report["by_agency"]:
        lines.append(
            f"| {a['agency']} ({a['name']}) | {a['disclosures']} | {a['taxpayers']} "
            f"| {a['disclosed_first']} | {a['disclosed_last']} |"
        )
    lines += [
        "",
        "Each recipient agency has been sent its disposal list (request ids only) and asked "
        "to confirm destruction.",
        "",
        "This report contains no taxpayer data: counts, dates and data element names only.",
        "",
    ]
    return "\n".join(lines)


def _select(conn: Connection, selector: Selector, pack: Pack, roster: Roster) -> list[_Match]:
    if selector.batches:
        return [m for b in selector.batches for m in _select_batch(conn, b, selector, pack, roster)]
    found = store.disclosures_by_request_id(conn, selector.agency, selector.request_ids)
    missing = [r for r in selector.request_ids if r not in found]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise IncidentError(
            "invalid",
            f"{len(missing)} request id(s) of {selector.agency} have no disclosure: {shown}",
        )
    return [_Match(*found[r], ()) for r in selector.request_ids]


def _select_batch(
    conn: Connection, batch_id: str, selector: Selector, pack: Pack, roster: Roster
) -> list[_Match]:
    """The batch's disclosures, or those whose request fails a selected rule.

    The rules are judged on the whole stored batch (so batch-level rules see
    their context) as of the day the batch was received.
    """
    batch = store.get_batch(conn, batch_id)
    if batch is None:
        raise IncidentError("not_found", f"no batch {batch_id!r} in the store")
    disclosed = store.batch_disclosures(conn, batch.id)
    requests = store.batch_requests(conn, batch.id)
    by_id = {r.request_id: r for r in requests}
    failed: dict[str, tuple[str, ...]] = {}
    if selector.rules:
        verdicts = evaluate_batch(
            requests, pack, roster, agency=batch.agency_id, today=batch.received_at.date()
        )
        failed = {
            v.request_id: tuple(r for r in v.failed_rules if r in selector.rules) for v in verdicts
        }
    return [
        _Match(d, _subject_of(by_id.get(d.request_id)), failed.get(d.request_id, ()))
        for d in disclosed
        if not selector.rules or failed.get(d.request_id)
    ]


def _refuse_taxpayer_data(text: str, matches: Sequence[_Match]) -> None:
    """The report quotes `how_discovered`; it must not smuggle taxpayer data into it."""
    if _TIN_LIKE.search(text):
        raise IncidentError(
            "invalid",
            "how_discovered contains a TIN-like number; the report carries no taxpayer data",
        )
    folded = " ".join(text.casefold().split())
    for m in matches:
        s = m.subject
        if s is None:
            continue
        full = " ".join(f"{s.first_name} {s.last_name}".casefold().split())
        street = " ".join(s.street.casefold().split())
        if (len(full) > 3 and full in folded) or (len(street) > 4 and street in folded):
            raise IncidentError(
                "invalid",
                "how_discovered names a recalled taxpayer or their address; "
                "the report carries no taxpayer data",
            )


def _report(
    incident_id: int,
    selector: Selector,
    pack: Pack,
    new: Sequence[_Match],
    already: Sequence[AlreadyRecalled],
    names: dict[str, str],
    how: str,
    discovered_at: datetime,
    now: datetime,
) -> dict[str, Any]:
    """Counts, dates and names of data elements: nothing that identifies a taxpayer."""
    times = [m.disclosure.disclosed_at for m in new]
    by_agency: dict[str, list[_Match]] = defaultdict(list)
    for m in new:
        by_agency[m.disclosure.agency_id].append(m)
    elements: list[str] = []
    for m in new:
        elements += [f for f in m.disclosure.fields if f not in elements]
    if "as_of_tax_year" not in elements:
        elements.append("as_of_tax_year")
    rule_counts = Counter(r for m in new for r in m.failed_rules)
    minutes = int((now - discovered_at).total_seconds() // 60)
    return {
        "incident": incident_id,
        "to": list(REPORT_TO),
        "how_discovered": how,
        "selector": selector.described(),
        "pack": {"id": pack.ref.id, "version": pack.ref.version, "sha256": pack.ref.sha256}
        if selector.rules
        else None,
        "rules": [
            {
                "id": r.id,
                "clause": r.clause,
                "reason_code": r.reason.value,
                "description": r.description,
                "disclosures": rule_counts[r.id],
            }
            for r in pack.rules
            if r.id in selector.rules
        ],
        "dates": {
            "disclosed_first": _iso(min(times)),
            "disclosed_last": _iso(max(times)),
            "discovered": _iso(discovered_at),
            "reported": _iso(now),
            "minutes_from_discovery_to_report": minutes,
            "within_24_hours": now - discovered_at <= REPORT_DEADLINE,
        },
        "counts": {
            "disclosures": len(new),
            "taxpayers": len({m.disclosure.tin for m in new}),
            "agencies": len(by_agency),
            "batches": len({m.disclosure.batch_id for m in new}),
            "already_recalled": len(already),
        },
        "already_recalled_by": [
            {"incident": i, "disclosures": n}
            for i, n in sorted(Counter(a.incident_id for a in already).items())
        ],
        "by_agency": [
            {
                "agency": agency,
                "name": names.get(agency, agency),
                "disclosures": len(items),
                "taxpayers": len({m.disclosure.tin for m in items}),
                "batches": sorted({m.disclosure.batch_id for m in items}),
                "statutes": dict(sorted(Counter(m.disclosure.statute for m in items).items())),
                "disclosed_first": _iso(min(m.disclosure.disclosed_at for m in items)),
                "disclosed_last": _iso(max(m.disclosure.disclosed_at for m in items)),
            }
            for agency, items in sorted(by_agency.items())
        ],
        "data_elements": elements,
        "taxpayer_data": "none: counts, dates and data element names only",
    }


def _status(
    conn: Connection, incident_id: int, record: IncidentRecord | None = None
) -> IncidentStatus:
    record = record or store.get_incident(conn, incident_id)
    if record is None:
        raise IncidentError("not_found", "incident not found")
    recipients = tuple(store.incident_recipients_of(conn, incident_id))
    return IncidentStatus(record, recipients, sum(r.request_count for r in recipients))


def _subject_of(request: Request | None) -> Subject | None:
    return None if request is None else request.subject


def _printable(text: str, what: str, *, lines: bool = False) -> str:
    """Refuse control characters (NUL above all: PostgreSQL cannot store it) with a clear error."""
    allowed = "\n\t" if lines else ""
    if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text):
        raise IncidentError("invalid", f"{what} contains a control character")
    return text


def _status_for_recipient(conn: Connection, incident_id: int) -> IncidentStatus:
    """As `_status`, but a missing incident reads exactly like a list the agency did not get."""
    try:
        return _status(conn, incident_id)
    except IncidentError:
        raise IncidentError("not_found", _NO_LIST) from None


def _disposal_sha256(incident_id: int, agency: str, request_ids: Sequence[str]) -> str:
    body = {"agency": agency, "incident": incident_id, "request_ids": list(request_ids)}
    return hashlib.sha256(encode(body)).hexdigest()


def _key(m: _Match) -> tuple[str, str]:
    return (m.disclosure.agency_id, m.disclosure.request_id)


def _incident_object(incident_id: int) -> str:
    return f"incident:{incident_id}"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
