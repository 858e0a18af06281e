"""What the pages show, gathered from the store and the reports; no HTML here.

Each function answers one page's question for one viewer. The requester's
view of a batch is built from the requester's own rows and the statuses it
would download anyway (`disclosed`, `not_disclosed`, `rejected`): it never
shows master data, a match score, or that a request waits for review.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, desc, select

from custos import pipeline, store
from custos.ledger import Checkpoint, VerifyReport, latest_checkpoint, verify
from custos.model import (
    REASON_MEANINGS,
    REQUEST_COLUMNS,
    SUBJECT_COLUMNS,
    Outcome,
    ReasonCode,
    Request,
)
from custos.report import BatchReport, batch_report
from custos.service.auth import Principal, Role
from custos.store.schema import batches, disclosures, ledger_events, outcomes, row_rejections

EXAMPLES_PER_REASON = 3
LEDGER_PAGE = 200
AGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
"""The review queue's age filter: items opened at least this long ago."""

REQUEST_FIELDS = REQUEST_COLUMNS[1:]
"""The request's own columns, after its id."""
SUBJECT_FIELDS = tuple(c for c in SUBJECT_COLUMNS if c != "tin")
"""The subject as the requester wrote it; the TIN is shown with the identity, not here."""


def is_custodian(principal: Principal) -> bool:
    return principal.role is not Role.REQUESTER


def may_see_batch(principal: Principal, batch: store.Batch) -> bool:
    """Staff see every batch; a requester only its own agency's."""
    return is_custodian(principal) or (
        principal.agency is not None and batch.agency_id == principal.agency
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def when(moment: datetime | None) -> str:
    """A moment as the pages print it: UTC, to the second."""
    if moment is None:
        return ""
    return _utc(moment).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(moment: datetime, now: datetime) -> str:
    """How long ago, in the largest sensible unit."""
    seconds = max(0, int((now - _utc(moment)).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


# ---------------------------------------------------------------- batches


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: str
    agency_id: str
    received_at: datetime
    stage: str
    rows: int
    failed: bool

    @property
    def complete(self) -> bool:
        return self.stage == store.BatchStage.COMPLETE.value


def visible_batches(conn: Connection, principal: Principal, limit: int = 500) -> list[BatchRow]:
    """The batches this viewer may see, newest first."""
    query = select(batches).order_by(desc(batches.c.received_at), batches.c.id).limit(limit)
    if not is_custodian(principal):
        query = query.where(batches.c.agency_id == (principal.agency or ""))
    return [
        BatchRow(
            id=r.id,
            agency_id=r.agency_id,
            received_at=r.received_at,
            stage=r.stage,
            rows=r.row_count,
            failed=r.error is not None,
        )
        for r in conn.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class Example:
    """One rejected row as the requester sent it: never anything from the master file."""

    row: int
    request_id: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: str
    meaning: str
    count: int
    examples: tuple[Example, ...]


@dataclass(frozen=True, slots=True)
class BatchView:
    """A batch page for one viewer; `report` (the custodian's figures) is None for a requester."""

    batch: store.Batch
    answered: int
    funnel: tuple[tuple[str, int], ...]
    rejections: tuple[Rejection, ...]
    report: BatchReport | None

    @property
    def complete(self) -> bool:
        return self.batch.stage is store.BatchStage.COMPLETE

    @property
    def percent(self) -> int:
        rows = self.batch.row_count
        return 100 if rows == 0 else min(100, round(100 * self.answered / rows))


def batch_view(gw: pipeline.Gateway, batch_id: str, principal: Principal) -> BatchView | None:
    """The batch as this viewer may see it; None when it does not exist or is not theirs."""
    with gw.store.read() as conn:
        batch = store.get_batch(conn, batch_id)
        if batch is None or not may_see_batch(principal, batch):
            return None
        decided = store.batch_outcomes(conn, batch_id)
        row_rejections_ = store.batch_row_rejections(conn, batch_id)
        requests = {r.request_id: r for r in store.batch_requests(conn, batch_id)}
        statuses: Counter[str] = Counter()
        if batch.stage is store.BatchStage.COMPLETE:
            statuses.update(r.response.status.value for r in pipeline.batch_results(conn, batch_id))
    answered = len(decided) + len(row_rejections_)
    rejections = _rejections(decided, row_rejections_, requests)
    if is_custodian(principal):
        report = batch_report(gw.store, batch_id)
        return BatchView(batch, answered, report.funnel, rejections, report)
    received = len(requests) + len(row_rejections_)
    funnel: tuple[tuple[str, int], ...] = (
        ("received", received),
        ("rejected", sum(r.count for r in rejections)),
    )
    if batch.stage is store.BatchStage.COMPLETE:
        funnel += (
            ("disclosed", statuses["disclosed"]),
            ("not disclosed", statuses["not_disclosed"]),
        )
    return BatchView(batch, answered, funnel, rejections, None)


def _rejections(
    decided: Sequence[store.OutcomeRecord],
    unread: Sequence[store.RowRejection],
    requests: dict[str, Request],
) -> tuple[Rejection, ...]:
    """Rejections by primary reason, most frequent first, each with a few of the rows."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[Example]] = defaultdict(list)
    for x in unread:
        code = x.reason_code.value
        counts[code] += 1
        if len(examples[code]) < EXAMPLES_PER_REASON:
            examples[code].append(Example(x.row, x.request_id, (("problem", x.error),)))
    for o in decided:
        if o.outcome is not Outcome.REJECTED:
            continue
        code = o.reason_codes[0].value if o.reason_codes else "(no reason recorded)"
        counts[code] += 1
        request = requests.get(o.request_id)
        if request is not None and len(examples[code]) < EXAMPLES_PER_REASON:
            examples[code].append(Example(request.row, request.request_id, request_fields(request)))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(
        Rejection(code, _meaning(code), n, tuple(sorted(examples[code], key=lambda e: e.row)))
        for code, n in ordered
    )


def request_fields(request: Request) -> tuple[tuple[str, str], ...]:
    """The request as the requester wrote it, field by field."""
    own = tuple((name, str(getattr(request, name))) for name in REQUEST_FIELDS)
    subject = tuple((name, str(getattr(request.subject, name))) for name in SUBJECT_FIELDS)
    return own + subject + (("tin", request.subject.tin),)


def _meaning(code: str) -> str:
    try:
        return REASON_MEANINGS[ReasonCode(code)]
    except ValueError:
        return ""


# ---------------------------------------------------------------- review queue


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The review desk's filters as the form sends them; an unknown age means any age."""

    batch: str = ""
    agency: str = ""
    age: str = ""

    def opened_before(self, now: datetime) -> datetime | None:
        older = AGES.get(self.age)
        return None if older is None else now - older


def review_queue(
    gw: pipeline.Gateway, wanted: QueueFilter, now: datetime
) -> tuple[list[store.ReviewItem], list[store.ReviewItem]]:
    """(the open items the filter admits, every open item), both oldest first."""
    from custos import review

    every = review.queue(gw)
    admitted = review.queue(
        gw,
        agency=wanted.agency or None,
        batch=wanted.batch or None,
        opened_before=wanted.opened_before(now),
    )
    return admitted, every


# ---------------------------------------------------------------- ledger


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    time: str
    actor: str
    event_type: str
    success: bool
    origin: str
    object: str
    payload: str


def ledger_page(
    conn: Connection, *, object_: str = "", event_type: str = "", limit: int = LEDGER_PAGE
) -> list[EventRow]:
    """The newest events, optionally about one object or of one type, newest first."""
    query = select(
        ledger_events.c.seq,
        ledger_events.c.time,
        ledger_events.c.actor,
        ledger_events.c.event_type,
        ledger_events.c.success,
        ledger_events.c.origin,
        ledger_events.c.object,
        ledger_events.c.payload,
    ).order_by(desc(ledger_events.c.seq))
    if object_:
        query = query.where(ledger_events.c.object == object_)
    if event_type:
        query = query.where(ledger_events.c.event_type == event_type)
    return [
        EventRow(
            seq=r.seq,
            time=r.time,
            actor=r.actor,
            event_type=r.event_type,
            success=bool(r.success),
            origin=r.origin,
            object=r.object,
            payload=_pretty(r.payload),
        )
        for r in conn.execute(query.limit(limit))
    ]


def _pretty(payload: str) -> str:
    try:
        return json.dumps(json.loads(payload), sort_keys=True, ensure_ascii=False)
    except ValueError:
        return payload


# ---------------------------------------------------------------- oversight


@dataclass(frozen=True, slots=True)
class Oversight:
    """The auditor's dashboard: series by day, the checkpoint, and a fresh verification."""

    disclosures_by_day: tuple[tuple[str, str, int], ...]
    rejections_by_day: tuple[tuple[str, str, int], ...]
    checkpoint: Checkpoint | None
    verification: VerifyReport
    verify_seconds: float


def _day(moment: datetime) -> str:
    return _utc(moment).astimezone(UTC).date().isoformat()


def disclosures_by_day(conn: Connection) -> tuple[tuple[str, str, int], ...]:
    """(day, agency, instances of disclosure), by UTC day."""
    rows = conn.execute(select(disclosures.c.disclosed_at, disclosures.c.agency_id))
    return _tally((_day(at), agency) for at, agency in rows)


def rejections_by_day(conn: Connection) -> tuple[tuple[str, str, int], ...]:
    """(day, primary reason, rejections): gate refusals by decision day, unread rows by receipt."""
    gated = conn.execute(
        select(outcomes.c.decided_at, outcomes.c.reason_codes).where(
            outcomes.c.outcome == Outcome.REJECTED.value
        )
    )
    unread = conn.execute(
        select(batches.c.received_at, row_rejections.c.reason_code).select_from(
            row_rejections.join(batches, batches.c.id == row_rejections.c.batch_id)
        )
    )
    pairs = [(_day(at), (codes or ["(no reason recorded)"])[0]) for at, codes in gated]
    pairs += [(_day(at), code) for at, code in unread]
    return _tally(pairs)


def _tally(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str, int], ...]:
    counts = Counter(pairs)
    return tuple((day, label, n) for (day, label), n in sorted(counts.items()))


def oversight(gw: pipeline.Gateway, *, clock: Any = None) -> Oversight:
    """Count the series and verify the whole ledger now (the figure is only as fresh as this)."""
    import time

    tick = clock or time.perf_counter
    with gw.store.read() as conn:
        by_agency = disclosures_by_day(conn)
        by_reason = rejections_by_day(conn)
        latest = latest_checkpoint(conn)
    started = tick()
    report = verify(gw.store, gw.key.verifier)
    return Oversight(by_agency, by_reason, latest, report, tick() - started)


def report_years(today: date | None = None) -> tuple[int, ...]:
    """The years whose annual report the dashboard links: this one and the last."""
    year = (today or datetime.now(UTC).date()).year
    return (year, year - 1)


# ---------------------------------------------------------------- one review item


@dataclass(frozen=True, slots=True)
class Cell:
    """One candidate's value beside the request's, and how well they agree."""

    text: str
    agreement: str
    """`agree`, `near`, `differ` or `missing` (no value on one side)."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CompareRow:
    name: str
    request: str
    cells: tuple[Cell, ...]


IDENTITY_FIELDS = SUBJECT_COLUMNS
STRONG_WEIGHT = 1.0
"""A comparison whose match weight is at least this (bits) reads as agreement; at most its
negative as disagreement; in between, as near."""


def _norm(value: str) -> str:
    return " ".join(value.casefold().replace(".", " ").replace(",", " ").split())


def _agreement(ours: str, theirs: str) -> str:
    if not ours.strip() or not theirs.strip():
        return "missing"
    a, b = _norm(ours), _norm(theirs)
    if a == b:
        return "agree"
    if a[:1] == b[:1] and (a.startswith(b) or b.startswith(a)):
        return "near"
    return "differ"


def identity_rows(request: Request, candidates: Sequence[dict[str, Any]]) -> tuple[CompareRow, ...]:
    """The request as written beside each candidate's master identity and current address.

    Agreement here is plain text equality after case and punctuation are
    folded; the model's own judgement, field by field, is `evidence_rows`.
    """
    rows = []
    for name in IDENTITY_FIELDS:
        ours = request.subject.tin if name == "tin" else str(getattr(request.subject, name))
        cells = []
        for c in candidates:
            if name == "tin":
                theirs = str(c.get("tin", ""))
            elif name in {"street", "unit", "city", "state", "zip"}:
                theirs = str(c.get("address", {}).get(name, "") or "")
            else:
                theirs = str(c.get("taxpayer", {}).get(name, "") or "")
            cells.append(Cell(theirs, _agreement(ours, theirs)))
        rows.append(CompareRow(name, ours, tuple(cells)))
    return tuple(rows)


def _level_class(weight: float | None, level: str) -> str:
    if weight is None or level == "no information":
        return "missing"
    if weight >= STRONG_WEIGHT:
        return "agree"
    if weight <= -STRONG_WEIGHT:
        return "differ"
    return "near"


def evidence_rows(candidates: Sequence[dict[str, Any]]) -> tuple[CompareRow, ...]:
    """Comparison by comparison, the standardised values the model compared and what each weighed.

    The request's side is the same pair for every candidate's best pair only
    when the request has one address; it is shown from the first candidate
    that has the comparison, and each cell repeats the request value it was
    compared with when that differs.
    """
    names: list[str] = []
    for c in candidates:
        for f in c.get("fields", []):
            if f["comparison"] not in names:
                names.append(f["comparison"])
    rows = []
    for name in names:
        found = [
            next((f for f in c.get("fields", []) if f["comparison"] == name), None)
            for c in candidates
        ]
        first = next((f for f in found if f is not None), None)
        ours = "" if first is None else str(first["request"])
        cells = []
        for f in found:
            if f is None:
                cells.append(Cell("", "missing", "not scored"))
                continue
            weight = f.get("weight")
            detail = f"{f['level']} · {weight:+.2f} bits" if weight is not None else str(f["level"])
            if str(f["request"]) != ours:
                detail += f" (request side: {f['request']})"
            cells.append(Cell(str(f["candidate"]), _level_class(weight, str(f["level"])), detail))
        rows.append(CompareRow(name, ours, tuple(cells)))
    return tuple(rows)


def waterfall_steps(candidate: dict[str, Any]) -> tuple[float, tuple[tuple[str, float], ...]]:
    """(prior, per-comparison weights) whose sum is the candidate's match weight.

    The prior (the model's log-odds before any comparison) is not stored with
    the evidence; it is what remains of the total once the comparisons are
    taken away.
    """
    weights = tuple(
        (str(f["comparison"]), float(f["weight"]))
        for f in candidate.get("fields", [])
        if f.get("weight") is not None
    )
    total = candidate.get("match_weight")
    prior = 0.0 if total is None else float(total) - sum(w for _, w in weights)
    return round(prior, 3), weights


# ---------------------------------------------------------------- holds


def batch_waiting(conn: Connection, gw: pipeline.Gateway, batch: store.Batch) -> str:
    """Why a batch's answers wait, for the custodian: held requests and the holds over it."""
    from custos.policy.holds import holding

    held = [o for o in store.batch_outcomes(conn, batch.id) if o.outcome is Outcome.HELD]
    statutes = {r.statute for r in store.batch_requests(conn, batch.id)} or {""}
    today = gw.today or datetime.now(UTC).date()
    reasons = sorted(
        {
            reason
            for statute in statutes
            for reason in holding(
                store.active_holds(conn),
                gw.roster,
                agency=batch.agency_id,
                statute=statute,
                batch=batch.id,
                today=today,
            )
        }
    )
    if not held and not reasons:
        return ""
    parts = [f"{len(held)} request(s) held"] if held else []
    if reasons:
        parts.append("under " + ", ".join(reasons))
    return " ".join(parts)


def held_counts(conn: Connection) -> dict[str, int]:
    """Batch id → how many of its requests are held now."""
    from sqlalchemy import func

    rows = conn.execute(
        select(outcomes.c.batch_id, func.count())
        .where(outcomes.c.outcome == Outcome.HELD.value)
        .group_by(outcomes.c.batch_id)
    )
    return {str(batch_id): int(n) for batch_id, n in rows}
