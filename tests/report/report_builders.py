"""A small synthetic store for the report tests, written through the store's own repositories.

The world is described as data (`WORLD`, `ROW_REJECTIONS`), so a test can
derive what a report should say from the description, independently of the
SQL the reports run. All names, addresses and TINs are invented.

Batches:
  B1  DHS-ICE, received 2025-03-01: 12 requests and 2 unreadable rows, every
      outcome kind, one request still undecided; its ledger events end with
      one named only by its payload, and checkpoint 1 is signed right after.
  B2  DOJ-FBI, received 2025-12-31 23:59:59: request R1 (the same id as a
      DHS request) disclosed 2026-01-01, Q2 disclosed 2025-12-31. Its events
      come after the last checkpoint.
  B3  DHS-ICE, received 2024-12-31 23:59:59.999999, disclosed 2025-01-01 00:00:00;
      no ledger events at all.
  B4  DHS-ICE, received 2026-01-01 00:00:00, rejected.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from custos.ledger import EventType, NewEvent, SigningKey, append_events, checkpoint, request_object
from custos.model import Outcome, ReasonCode, Request, Subject
from custos.store import (
    Agency,
    DisclosureRecord,
    OutcomeRecord,
    ReviewItem,
    RowRejection,
    Store,
    add_requests,
    add_row_rejections,
    create_batch,
    mark_wrongful,
    open_review,
    record_disclosure,
    record_outcome,
    save_agency,
)

DHS = "DHS-ICE"
DOJ = "DOJ-FBI"
AGENCIES = (
    Agency(DHS, "Immigration and Customs Enforcement"),
    Agency(DOJ, "Federal Bureau of Investigation"),
)

# Invented TINs, chosen so that none occurs in the vendored JavaScript.
T1, T2, T3, T4, T5, T6 = (
    "914736082",
    "936058471",
    "958203746",
    "971640358",
    "983517264",
    "906382915",
)

MARCH = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
STATUTE = "8 U.S.C. § 1253(a)(1)"
OFFICIAL_SMITH = "Agent Avery Smith"
OFFICIAL_JONES = "Agent Blair Jones"


@dataclass(frozen=True, slots=True)
class WorldRequest:
    """One stored request and everything the pipeline would have recorded about it."""

    agency: str
    batch: str
    request_id: str
    received_at: datetime
    official: str
    first_name: str
    last_name: str
    street: str
    outcome: Outcome | None
    reasons: tuple[ReasonCode, ...] = ()
    tin: str = ""
    probability: float | None = None
    disclosed_at: datetime | None = None
    wrongful: bool = False
    candidates: tuple[str, ...] = ()
    subject_tin: str = ""
    statute: str = STATUTE
    purpose: str = "criminal investigation"
    reason: str = ""
    case_number: str = ""
    tax_periods: str = "2023;2024"


def _r(
    n: int,
    official: str,
    outcome: Outcome | None,
    *,
    batch: str = "B1",
    agency: str = DHS,
    received_at: datetime = MARCH,
    request_id: str | None = None,
    **kw: object,
) -> WorldRequest:
    surnames = ("Quintero-Vasquez", "Okonkwo-Baptiste", "Lindqvist", "Abernathy-Moreau")
    streets = ("Larkspur Lane", "Quillfeather Road", "Brindlewood Court", "Marrowbone Terrace")
    return WorldRequest(
        agency=agency,
        batch=batch,
        request_id=request_id or f"R{n}",
        received_at=received_at,
        official=official,
        first_name="Marisol",
        last_name=surnames[n % len(surnames)],
        street=f"{4800 + n} {streets[n % len(streets)]}",
        outcome=outcome,
        reason=f"Subject {n} is named in removal case file {7000 + n}",
        case_number=f"CASE-{agency}-{n:04d}",
        **kw,  # type: ignore[arg-type]
    )


WORLD: tuple[WorldRequest, ...] = (
    _r(1, OFFICIAL_SMITH, Outcome.REJECTED, reasons=(ReasonCode.MISSING_ADDRESS,)),
    _r(2, OFFICIAL_SMITH, Outcome.REJECTED,
       reasons=(ReasonCode.PURPOSE_NOT_CRIMINAL, ReasonCode.MISSING_REASON), purpose="civil"),
    _r(3, OFFICIAL_SMITH, Outcome.REJECTED, reasons=(ReasonCode.STATUTE_NOT_AUTHORIZED,),
       statute="18 U.S.C. § 1001"),
    _r(4, OFFICIAL_SMITH, Outcome.NO_MATCH, probability=0.12),
    _r(5, OFFICIAL_SMITH, Outcome.NO_MATCH),
    _r(6, OFFICIAL_SMITH, Outcome.AMBIGUOUS, probability=0.83, candidates=(T1, T3)),
    _r(7, OFFICIAL_SMITH, Outcome.HELD, probability=0.99, tin=T5),
    _r(8, OFFICIAL_SMITH, Outcome.DISCLOSED, probability=0.997, tin=T1,
       disclosed_at=MARCH + timedelta(hours=1), subject_tin=T1),
    _r(9, " agent avery smith", Outcome.DISCLOSED, probability=0.999, tin=T2,
       disclosed_at=MARCH + timedelta(hours=1)),
    _r(10, OFFICIAL_JONES, Outcome.DISCLOSED, probability=0.991, tin=T1,
       disclosed_at=MARCH + timedelta(hours=2)),
    _r(11, OFFICIAL_JONES, Outcome.DISCLOSED, probability=0.96, tin=T6,
       disclosed_at=MARCH + timedelta(hours=2), wrongful=True),
    _r(12, "", None),
    _r(1, OFFICIAL_JONES, Outcome.DISCLOSED, batch="B2", agency=DOJ, probability=0.995, tin=T1,
       received_at=datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
       disclosed_at=datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC), statute="18 USC 1546"),
    _r(2, OFFICIAL_JONES, Outcome.DISCLOSED, batch="B2", agency=DOJ, probability=0.993, tin=T2,
       received_at=datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), request_id="Q2",
       disclosed_at=datetime(2025, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
       statute="18 USC 1546"),
    _r(20, OFFICIAL_SMITH, Outcome.DISCLOSED, batch="B3", probability=0.998, tin=T1,
       received_at=datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
       disclosed_at=datetime(2025, 1, 1, 0, 0, 0, tzinfo=UTC)),
    _r(30, OFFICIAL_SMITH, Outcome.REJECTED, batch="B4", reasons=(ReasonCode.MISSING_STATUTE,),
       received_at=datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC), statute=""),
)  # fmt: skip

ROW_REJECTIONS: dict[str, tuple[RowRejection, ...]] = {
    "B1": (
        RowRejection(13, 14, ReasonCode.MALFORMED_ROW, "wrong number of fields"),
        RowRejection(14, 15, ReasonCode.DUPLICATE_REQUEST_ID, "repeats R4", request_id="R4"),
    ),
}

BATCHES: dict[str, tuple[str, datetime]] = {}
for _req in WORLD:
    BATCHES.setdefault(_req.batch, (_req.agency, _req.received_at))


def streets() -> list[str]:
    return sorted({r.street for r in WORLD})


def tins() -> list[str]:
    return [T1, T2, T3, T4, T5, T6]


def requests_of(batch: str) -> list[WorldRequest]:
    return [r for r in WORLD if r.batch == batch]


@dataclass(frozen=True, slots=True)
class Populated:
    """What populating recorded in the ledger: the seq of B1's last event, and the checkpoints."""

    b1_last_seq: int
    first_checkpoint_id: int
    first_checkpoint_size: int
    last_checkpoint_size: int


def populate(store: Store, key: SigningKey) -> Populated:
    """Write the world; B3 and B4 without ledger events, B1 checkpointed, B2 after the last one."""
    with store.write() as conn:
        for agency in AGENCIES:
            save_agency(conn, agency)
        for batch_id, (agency, received_at) in BATCHES.items():
            rows = requests_of(batch_id)
            rejected = ROW_REJECTIONS.get(batch_id, ())
            create_batch(
                conn,
                batch_id=batch_id,
                agency_id=agency,
                source=f"/srv/incoming/{batch_id}.csv",
                source_sha256=hashlib.sha256(batch_id.encode()).hexdigest(),
                row_count=len(rows) + len(rejected),
                malformed_count=len(rejected),
                now=received_at,
            )
            add_requests(conn, batch_id, [_request(i, r) for i, r in enumerate(rows, 1)],
                         now=received_at)  # fmt: skip
            add_row_rejections(conn, batch_id, rejected)
    b1_last = _record(store, "B1", with_events=True)
    first = checkpoint(store, key)
    with store.write() as conn:
        append_events(conn, [_event(EventType.HOLD_PLACED, f"agency:{DOJ}", {"reason": "test"})])
    last = checkpoint(store, key)
    for batch_id in ("B2", "B3", "B4"):
        _record(store, batch_id, with_events=batch_id == "B2")
    return Populated(b1_last, first.id, first.tree_size, last.tree_size)


def _record(store: Store, batch_id: str, *, with_events: bool) -> int:
    """Record the batch's outcomes, disclosures and reviews; return its last ledger seq (or -1)."""
    last = -1
    with store.write() as conn:
        if with_events:
            events = append_events(
                conn, [_event(EventType.BATCH_RECEIVED, f"batch:{batch_id}", {"rows": 1})]
            )
            last = events[-1].seq
        for r in requests_of(batch_id):
            seq = None
            if with_events:
                recorded = append_events(
                    conn,
                    [_event(EventType.REQUEST_DECIDED, request_object(r.agency, r.request_id),
                            {"outcome": r.outcome.value if r.outcome else "none"})],
                )  # fmt: skip
                seq = last = recorded[-1].seq
            if r.outcome is None:
                continue
            record_outcome(
                conn,
                OutcomeRecord(
                    batch_id=batch_id,
                    agency_id=r.agency,
                    request_id=r.request_id,
                    outcome=r.outcome,
                    reason_codes=r.reasons,
                    pack_version="irc-6103-i-2@1",
                    model_version="test-model",
                    decided_at=r.disclosed_at or r.received_at,
                    tin=r.tin or None,
                    match_probability=r.probability,
                    ledger_seq=seq,
                ),
            )
            if r.candidates:
                open_review(
                    conn, ReviewItem(batch_id, r.agency, r.request_id, r.candidates, r.received_at)
                )
            if r.outcome is Outcome.DISCLOSED:
                assert r.disclosed_at is not None
                record_disclosure(
                    conn,
                    DisclosureRecord(
                        batch_id=batch_id,
                        agency_id=r.agency,
                        request_id=r.request_id,
                        tin=r.tin,
                        statute=r.statute,
                        fields=("street", "unit", "city", "state", "zip"),
                        as_of_tax_year=2024,
                        disclosed_at=r.disclosed_at,
                        ledger_seq=seq,
                    ),
                )
                if r.wrongful:
                    mark_wrongful(conn, r.agency, r.request_id, now=r.disclosed_at)
        if with_events:
            closing = append_events(
                conn,
                [_event(EventType.BATCH_COMPLETED, "pipeline", {"batch_id": batch_id})],
            )
            last = closing[-1].seq
    return last


def _event(event_type: EventType, obj: str, payload: dict[str, object]) -> NewEvent:
    return NewEvent(
        actor="custos:test", event_type=event_type, success=True, origin="pytest",
        object=obj, payload=payload,
    )  # fmt: skip


def _request(row: int, r: WorldRequest) -> Request:
    return Request(
        row=row,
        line=row + 1,
        request_id=r.request_id,
        case_number=r.case_number,
        purpose=r.purpose,
        statute=r.statute,
        tax_periods=r.tax_periods,
        reason=r.reason,
        requesting_official=r.official,
        agency=r.agency,
        subject=Subject(
            first_name=r.first_name,
            last_name=r.last_name,
            street=r.street,
            city="Springfield",
            state="IL",
            zip="62704",
            tin=r.subject_tin,
        ),
    )


_REFERENCING = frozenset({"src", "href", "srcset", "action", "data", "poster", "background"})


class Page(HTMLParser):
    """A report page taken apart with the standard library's parser, as a reader's browser would.

    `specs` maps a chart's element id to its embedded Vega-Lite spec; `fallbacks`
    maps it to the rows of its <noscript> table; `references` lists every
    attribute of any tag that could load something (a self-contained page has none).
    """

    def __init__(self) -> None:
        super().__init__()
        self.specs: dict[str, Any] = {}
        self.fallbacks: dict[str, list[list[str]]] = {}
        self.script_srcs: list[str] = []
        self.link_hrefs: list[str] = []
        self.references: list[str] = []
        self.inline_scripts: list[str] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._chunks: list[str] = []
        self._last_chart: str | None = None
        self._in_noscript = False
        self._row: list[str] | None = None
        self._in_cell = False

    @classmethod
    def of(cls, html: str) -> Page:
        page = cls()
        page.feed(html)
        page.close()
        return page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.references += [v for k, v in attrs if k in _REFERENCING and v]
        if tag == "script":
            if found.get("src"):
                self.script_srcs.append(found["src"] or "")
            self._script, self._chunks = found, []
        elif tag == "link" and found.get("href"):
            self.link_hrefs.append(found["href"] or "")
        elif tag == "noscript":
            self._in_noscript = True
        elif tag == "tr" and self._in_noscript:
            self._row = []
        elif tag == "td":
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            body = "".join(self._chunks)
            chart = self._script.get("data-chart")
            if chart:
                self.specs[chart] = json.loads(body)
                self._last_chart = chart
                self.fallbacks[chart] = []
            else:
                self.inline_scripts.append(body)
            self._script = None
        elif tag == "noscript":
            self._in_noscript = False
        elif tag == "td":
            self._in_cell = False
        elif tag == "tr" and self._row is not None:
            if self._last_chart is not None and self._row:
                self.fallbacks[self._last_chart].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._chunks.append(data)
            return
        self.text.append(data)
        if self._row is not None and self._in_cell:
            self._row.append(data)

    def visible_text(self) -> str:
        return " ".join(self.text)


def chart_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline data of a chart spec, wherever Vega-Lite allows it to sit."""
    if "data" in spec:
        return list(spec["data"]["values"])
    for layer in spec.get("layer", []):
        if "data" in layer:
            return list(layer["data"]["values"])
    raise AssertionError(f"no inline data in spec: {sorted(spec)}")
