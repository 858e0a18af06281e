"""The oversight report of one batch: what came in, what was refused and why, what left.

It is written for oversight (an Inspector General, a court), so it holds
counts only: no name, address, TIN or request id of anyone. The funnel,
the rejections by rule, the match-probability distribution and the
certifications per official are counted from the store; the ledger section
names the signed checkpoint that covers the batch, so the figures can be
tied to a record that cannot be rewritten unnoticed.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, func, select

from custos.errors import StoreError
from custos.model import REASON_MEANINGS, Outcome, ReasonCode
from custos.report import charts
from custos.report.html import Chart, chart_html, escape, page, table_html
from custos.report.ledger_coverage import LedgerCoverage, ledger_coverage
from custos.report.tables import Table, counts_table
from custos.store import Store, get_agency, get_batch
from custos.store.schema import disclosures, outcomes, requests, row_rejections

PROBABILITY_BINS = 20
NO_OFFICIAL = "(none stated)"
FUNNEL_STAGES = ("received", "rejected", "passed gate", "ambiguous", "disclosed")
OUTCOME_ORDER = ("rejected", "no_match", "ambiguous", "held", "disclosed", "not yet decided")


@dataclass(frozen=True, slots=True)
class ProbabilityBin:
    """Requests whose top match probability p has lower <= p < upper (the last bin includes 1)."""

    lower: float
    upper: float
    count: int


@dataclass(frozen=True, slots=True)
class OfficialCount:
    """What one requesting official certified in the batch, and what became of it."""

    official: str
    requests: int
    rejected: int
    disclosed: int


@dataclass(frozen=True, slots=True)
class BatchReport:
    """The figures of one batch; no taxpayer data.

    `funnel` is received (stored requests plus unreadable or duplicate rows),
    rejected (those rows plus requests the gate refused), passed gate,
    ambiguous, and disclosed. `rejected_by_reason` counts each rejection once,
    by its primary reason, so it sums to the funnel's rejected; `failed_rules`
    counts every rule a rejected request failed.
    """

    batch_id: str
    agency_id: str
    agency_name: str
    received_at: datetime
    stage: str
    failed: bool
    rows_in_file: int
    source_sha256: str
    funnel: tuple[tuple[str, int], ...]
    outcomes: tuple[tuple[str, int], ...]
    rejected_by_reason: tuple[tuple[str, int], ...]
    failed_rules: tuple[tuple[str, int], ...]
    probability_bins: tuple[ProbabilityBin, ...]
    without_probability: int
    officials: tuple[OfficialCount, ...]
    ledger: LedgerCoverage
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def count(self, stage: str) -> int:
        """The funnel count of `stage` (one of FUNNEL_STAGES)."""
        return dict(self.funnel)[stage]

    def to_dict(self) -> dict[str, Any]:
        checkpoint = self.ledger.checkpoint
        return {
            "batch_id": self.batch_id,
            "agency": {"id": self.agency_id, "name": self.agency_name},
            "received_at": _iso(self.received_at),
            "stage": self.stage,
            "failed": self.failed,
            "rows_in_file": self.rows_in_file,
            "source_sha256": self.source_sha256,
            "funnel": dict(self.funnel),
            "outcomes": dict(self.outcomes),
            "rejected_by_reason": dict(self.rejected_by_reason),
            "failed_rules": dict(self.failed_rules),
            "match_probability": {
                "bins": [
                    {"lower": b.lower, "upper": b.upper, "count": b.count}
                    for b in self.probability_bins
                ],
                "without_probability": self.without_probability,
            },
            "officials": [
                {
                    "official": o.official,
                    "requests": o.requests,
                    "rejected": o.rejected,
                    "disclosed": o.disclosed,
                }
                for o in self.officials
            ],
            "ledger": {
                "events": self.ledger.events,
                "last_seq": self.ledger.last_seq,
                "status": self.ledger.status,
                "checkpoint": None
                if checkpoint is None
                else {
                    "id": checkpoint.id,
                    "origin": checkpoint.origin,
                    "tree_size": checkpoint.tree_size,
                    "key_id": checkpoint.key_id,
                    "created_at": _iso(checkpoint.created_at),
                    "note": checkpoint.note,
                },
            },
            "generated_at": _iso(self.generated_at),
        }


def batch_report(store: Store, batch_id: str, *, now: datetime | None = None) -> BatchReport:
    """Count the batch's figures in one consistent read of the store.

    An unknown batch is a `StoreError` naming it.
    """
    with store.read() as conn:
        batch = get_batch(conn, batch_id)
        if batch is None:
            raise StoreError(f"no batch {batch_id!r} in the store")
        agency = get_agency(conn, batch.agency_id)
        stored = _count(conn, select(requests.c.id).where(requests.c.batch_id == batch_id))
        row_reasons = Counter(
            conn.execute(
                select(row_rejections.c.reason_code).where(row_rejections.c.batch_id == batch_id)
            ).scalars()
        )
        decided = conn.execute(
            select(outcomes.c.outcome, outcomes.c.reason_codes, outcomes.c.match_probability)
            .where(outcomes.c.batch_id == batch_id)
        ).all()  # fmt: skip
        disclosed = _count(conn, select(disclosures.c.id).where(disclosures.c.batch_id == batch_id))
        undecided = _count(
            conn,
            select(requests.c.id)
            .select_from(requests.outerjoin(outcomes, _same_request()))
            .where(requests.c.batch_id == batch_id, outcomes.c.id.is_(None)),
        )
        officials = _officials(conn, batch_id)
        coverage = ledger_coverage(conn, batch_id)

    by_outcome = Counter(row.outcome for row in decided)
    rejected_rows = [row for row in decided if row.outcome == Outcome.REJECTED.value]
    primary = Counter(row_reasons)
    every = Counter(row_reasons)
    for row in rejected_rows:
        codes = list(row.reason_codes) or ["(no reason recorded)"]
        primary[codes[0]] += 1
        every.update(dict.fromkeys(codes, 1))
    passed = [row for row in decided if row.outcome != Outcome.REJECTED.value]
    probabilities = [row.match_probability for row in passed if row.match_probability is not None]
    funnel = (
        ("received", stored + row_reasons.total()),
        ("rejected", row_reasons.total() + len(rejected_rows)),
        ("passed gate", len(passed)),
        ("ambiguous", by_outcome[Outcome.AMBIGUOUS.value]),
        ("disclosed", disclosed),
    )
    outcome_counts = Counter(by_outcome)
    outcome_counts[Outcome.REJECTED.value] += row_reasons.total()
    outcome_counts["not yet decided"] = undecided
    return BatchReport(
        batch_id=batch.id,
        agency_id=batch.agency_id,
        agency_name=agency.name if agency is not None else batch.agency_id,
        received_at=batch.received_at,
        stage=batch.stage.value,
        failed=batch.error is not None,
        rows_in_file=batch.row_count,
        source_sha256=batch.source_sha256,
        funnel=funnel,
        outcomes=tuple((o, outcome_counts[o]) for o in OUTCOME_ORDER),
        rejected_by_reason=_by_code(primary),
        failed_rules=_by_code(every),
        probability_bins=probability_histogram(probabilities),
        without_probability=len(passed) - len(probabilities),
        officials=officials,
        ledger=coverage,
        generated_at=now or datetime.now(UTC),
    )


def probability_histogram(
    probabilities: Iterable[float], bins: int = PROBABILITY_BINS
) -> tuple[ProbabilityBin, ...]:
    """Equal-width bins over [0, 1]; a probability outside it is counted in the nearest end bin."""
    counts = [0] * bins
    for p in probabilities:
        counts[min(bins - 1, max(0, math.floor(p * bins)))] += 1
    return tuple(ProbabilityBin(i / bins, (i + 1) / bins, n) for i, n in enumerate(counts))


def render_batch_json(report: BatchReport) -> str:
    """The report as JSON with sorted keys: the same figures as the HTML page."""
    return json.dumps(report.to_dict(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def batch_charts(report: BatchReport) -> tuple[Chart, ...]:
    """The page's charts, each with its table of the same figures."""
    bins = [(b.lower, b.upper, b.count) for b in report.probability_bins]
    certified = tuple((o.official, o.requests) for o in report.officials)
    return (
        Chart(
            "funnel",
            charts.bar_chart("Funnel", "stage", report.funnel),
            counts_table("Funnel", "stage", report.funnel),
        ),
        Chart(
            "rejections",
            charts.bar_chart("Rejections by primary reason", "reason", report.rejected_by_reason),
            counts_table("Rejections by primary reason", "reason", report.rejected_by_reason),
        ),
        Chart(
            "probability",
            charts.histogram_chart("Match probability (requests that passed the gate)", bins),
            Table(
                "Match probability (requests that passed the gate)",
                ("from", "to", "count"),
                tuple((f"{lo:.2f}", f"{hi:.2f}", str(n)) for lo, hi, n in bins),
            ),
        ),
        Chart(
            "officials",
            charts.bar_chart("Requests certified per official", "official", certified),
            counts_table("Requests certified per official", "official", certified),
        ),
    )


def render_batch_html(report: BatchReport) -> str:
    """One self-contained page, for oversight: counts only, charts inline, opens offline."""
    funnel, rejections, probability, officials = (chart_html(c) for c in batch_charts(report))
    summary = Table(
        "Batch",
        ("item", "value"),
        (
            ("batch", report.batch_id),
            ("agency", f"{report.agency_name} ({report.agency_id})"),
            ("received", _iso(report.received_at)),
            (
                "stage",
                report.stage + (" (last stage failed; to be resumed)" if report.failed else ""),
            ),
            ("rows in file", str(report.rows_in_file)),
            ("file sha256", report.source_sha256),
            ("report generated", _iso(report.generated_at)),
        ),
    )
    meanings = Table(
        "Every rule failed by a rejected row",
        ("reason", "count", "meaning"),
        tuple((code, str(n), _meaning(code)) for code, n in report.failed_rules),
    )
    per_official = Table(
        "Certifications per requesting official",
        ("official", "requests", "rejected", "disclosed"),
        tuple(
            (o.official, str(o.requests), str(o.rejected), str(o.disclosed))
            for o in report.officials
        ),
    )
    body = (
        f"<h1>Oversight report: batch {escape(report.batch_id)}</h1>"
        "<p class='note'>Counts only. This report holds no name, address, TIN or request id.</p>"
        f"{table_html(summary)}"
        f"<h2>Funnel</h2>{funnel}"
        f"{table_html(counts_table('Outcomes', 'outcome', report.outcomes), numeric=(1,))}"
        f"<h2>Rejections by rule</h2>{rejections}{table_html(meanings, numeric=(1,))}"
        f"<h2>Match probability</h2>{probability}"
        f"<p class='note'>Requests that passed the gate without a match probability "
        f"(for instance, no candidate was found): {report.without_probability}.</p>"
        f"<h2>Certifications per official</h2>{officials}"
        f"{table_html(per_official, numeric=(1, 2, 3))}"
        f"<h2>Ledger</h2>{_ledger_html(report.ledger)}"
    )
    return page(f"custos oversight report: batch {report.batch_id}", body, charts=True)


def _ledger_html(coverage: LedgerCoverage) -> str:
    checkpoint = coverage.checkpoint
    facts = [
        ("ledger events about this batch", str(coverage.events)),
        ("last sequence number", "" if coverage.last_seq is None else str(coverage.last_seq)),
        ("status", coverage.status),
    ]
    if checkpoint is not None:
        facts += [
            ("checkpoint origin", checkpoint.origin),
            ("tree size", str(checkpoint.tree_size)),
            ("signed at", _iso(checkpoint.created_at)),
            ("key id", checkpoint.key_id),
        ]
    text = table_html(
        Table("Ledger checkpoint covering this batch", ("item", "value"), tuple(facts))
    )
    if checkpoint is None:
        return text + f"<p class='warn'>{escape(coverage.status)}</p>"
    return (
        text + "<p>The signed checkpoint note (verify it with the ledger's public key):</p>"
        f"<pre>{escape(checkpoint.note)}</pre>"
    )


def _officials(conn: Connection, batch_id: str) -> tuple[OfficialCount, ...]:
    official = requests.c.payload["requesting_official"].as_string()
    rows = conn.execute(
        select(official, outcomes.c.outcome, disclosures.c.id.is_not(None))
        .select_from(
            requests.outerjoin(outcomes, _same_request()).outerjoin(
                disclosures,
                and_(
                    disclosures.c.agency_id == requests.c.agency_id,
                    disclosures.c.request_id == requests.c.request_id,
                ),
            )
        )
        .where(requests.c.batch_id == batch_id)
    ).all()
    names: dict[str, str] = {}
    tally: dict[str, list[int]] = {}
    for name, outcome, was_disclosed in rows:
        shown = (name or "").strip() or NO_OFFICIAL
        key = shown.casefold()
        names.setdefault(key, shown)
        counts = tally.setdefault(key, [0, 0, 0])
        counts[0] += 1
        counts[1] += outcome == Outcome.REJECTED.value
        counts[2] += bool(was_disclosed)
    return tuple(
        OfficialCount(names[k], *tally[k])
        for k in sorted(tally, key=lambda k: (-tally[k][0], names[k]))
    )


def _same_request() -> ColumnElement[bool]:
    return and_(
        outcomes.c.agency_id == requests.c.agency_id,
        outcomes.c.request_id == requests.c.request_id,
    )


def _count(conn: Connection, query: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _by_code(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _meaning(code: str) -> str:
    try:
        return REASON_MEANINGS[ReasonCode(code)]
    except ValueError:
        return ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
