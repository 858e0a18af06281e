"""Runs a batch through the stages exactly once; the CLI, the worker and the API all call it.

    received → gated → matched → decided → disclosed → complete

Each stage is one transaction of the operational store that writes its rows
*and* their ledger events *and* advances the batch's stage, so a crash
anywhere leaves the batch at the last stage that committed, and `advance`
continues from there. Rows are keyed by (agency, request_id) under unique
constraints, so a stage re-run after a crash can neither lose a request nor
answer or disclose it twice. The one artefact outside the store, the match
results, is written atomically before its stage commits and recomputed if
missing: matching is deterministic for a model and a master file.

This module is the only one that knows the order of the stages.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection

from custos import disclose, store
from custos.config import Settings, load_settings
from custos.errors import CustosError, StoreError
from custos.intake import Batch as IntakeBatch
from custos.ledger import (
    EventType,
    NewEvent,
    SigningKey,
    append_events,
    checkpoint,
    load_signing_key,
    read_events,
    request_object,
)
from custos.ledger.events import LedgerEvent
from custos.ledger.keys import register_signing_key
from custos.match import LoadedModel, Thresholds, decide, link
from custos.match.evidence import candidate_evidence
from custos.match.prepare import (
    TAXPAYER_COLUMNS,
    cached_master,
    parse_block_flag,
    read_master,
    read_world,
    requests_table,
    standardize_master,
)
from custos.match.prepare import standardize_requests as standardize_request_table
from custos.model import (
    Decision,
    DisclosedAddress,
    Outcome,
    ReasonCode,
    Request,
    Response,
)
from custos.policy.gate import evaluate_batch
from custos.policy.holds import holding
from custos.policy.pack import Pack
from custos.policy.roster import Roster
from custos.store import BatchStage
from custos.store.schema import ledger_events

Progress = Callable[[str, int, int], None]
"""Called as (stage, done, total) so a shell can draw a progress bar."""


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and from where: the AU-3 `actor` and `origin` of every event."""

    id: str
    origin: str


@dataclass
class Master:
    """The custodian's master file: taxpayers and their address history.

    Standardisation of the master is done only when a batch actually reaches
    matching, and for a master read from a folder only once per master file:
    the result is cached as Parquet keyed by the files' hash and the
    standardisers' code (`prepare.cached_master`), so the next run reads it.
    """

    taxpayers: pa.Table
    addresses: pa.Table
    source: str = ""
    cache: Path | None = None
    _std: pa.Table | None = field(default=None, repr=False)
    _folder: Path | None = field(default=None, init=False, repr=False, compare=False)
    """Set only by `from_world`: a copy made with other tables (`dataclasses.replace`)
    is not the folder's master any more, and must not read the folder's cache."""

    @classmethod
    def from_world(cls, folder: Path, cache: Path | None = None) -> Master:
        world = read_world(folder)
        master = cls(
            taxpayers=world.taxpayers, addresses=world.addresses, source=str(folder), cache=cache
        )
        master._folder = folder
        return master

    @property
    def standardized_path(self) -> Path | None:
        """The cached standardised master as Parquet, for a master read from a folder."""
        if self._folder is None:
            return None
        return cached_master(self._folder, self.cache).path

    @property
    def standardized(self) -> pa.Table:
        if self._std is None:
            path = self.standardized_path
            self._std = (
                read_master(path)
                if path is not None
                else standardize_master(self.taxpayers, self.addresses)
            )
        return self._std

    def current_addresses(self, tins: Sequence[str]) -> dict[str, DisclosedAddress]:
        con = duckdb.connect()
        con.register("addresses", self.addresses)
        return disclose.current_addresses(con, "addresses", tins)

    def taxpayers_named(self, tins: Sequence[str]) -> dict[str, dict[str, str]]:
        """The master's identity columns of these taxpayers, for an officer comparing candidates."""
        wanted = self.taxpayers.filter(
            pc.is_in(self.taxpayers.column("tin"), pa.array(list(tins), pa.string()))
        )
        shown = [c for c in (*TAXPAYER_COLUMNS, "disclosure_block") if c in wanted.column_names]
        return {
            str(row["tin"]): {c: "" if row[c] is None else str(row[c]) for c in shown}
            for row in wanted.select(shown).to_pylist()
        }

    def blocked(self, tin: str) -> bool:
        """True when § 6103(i)(6) forbids any disclosure about this taxpayer."""
        flag = self.taxpayers_named([tin]).get(tin, {}).get("disclosure_block", "")
        return parse_block_flag(flag, row=0)


@dataclass(frozen=True)
class Gateway:
    """Everything a stage needs besides the batch: policy, model, master, store, key."""

    store: store.Store
    pack: Pack
    roster: Roster
    model: LoadedModel
    master: Master
    key: SigningKey
    actor: Actor
    work: Path
    thresholds: Thresholds = field(default_factory=Thresholds)
    today: date | None = None
    engine: str = "duckdb"
    """Where `link` scores pairs: "duckdb" in process, or "spark" (docs/spark.md)."""

    @cached_property
    def model_version(self) -> str:
        return self.model.sha256[:16]


@dataclass(frozen=True, slots=True)
class RowResult:
    """One input row's outcome, as the run's output files show it."""

    row: int
    decision: Decision
    response: Response
    agency: str = ""
    statute: str = ""
    disclosed_at: str = ""
    ledger_seq: int | None = None


@dataclass(frozen=True, slots=True)
class StageTiming:
    stage: str
    seconds: float


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the closing table."""

    batch_id: str
    results: tuple[RowResult, ...]
    timings: tuple[StageTiming, ...]
    checkpoint_size: int | None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.decision.outcome is outcome)


def batch_id_for(agency: str, source_sha256: str) -> str:
    """The same file from the same agency is the same batch: resubmission is idempotent."""
    return f"{agency}-{source_sha256[:20]}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_agency(roster: Roster, agency: str) -> str:
    """The requesting agency: given, or the roster's only agency; never guessed among several."""
    if agency:
        found = roster.agency(agency)
        if found is None:
            raise CustosError(f"agency {agency!r} is not on the roster")
        return found.id
    if len(roster.agencies) == 1:
        return roster.agencies[0].id
    ids = ", ".join(a.id for a in roster.agencies)
    raise CustosError(f"the roster lists several agencies ({ids}); name one with --agency")


def actor_event(
    actor: Actor, kind: EventType, obj: str, payload: dict[str, Any], success: bool = True
) -> NewEvent:
    """A ledger event done by `actor`, from where `actor` is."""
    return NewEvent(
        actor=actor.id,
        event_type=kind,
        success=success,
        origin=actor.origin,
        object=obj,
        payload=payload,
    )


def _batch_object(batch_id: str) -> str:
    return f"batch:{batch_id}"


def _now() -> datetime:
    return datetime.now(UTC)


def _sync_roster(conn: Connection, roster: Roster) -> None:
    for agency in roster.agencies:
        store.save_agency(
            conn,
            store.Agency(
                id=agency.id,
                name=agency.name,
                safeguards_certified_until=agency.safeguards_expires,
            ),
        )


# ---------------------------------------------------------------- received


def receive(gw: Gateway, batch: IntakeBatch, *, agency: str, source_sha256: str) -> str:
    """Record the batch and every row of it; returns the batch id.

    A row whose request id already appeared earlier in this batch, or in an
    earlier batch of the same agency, is recorded as a row rejection
    (`duplicate_request_id`): a request id is answered once, ever. Malformed
    rows are recorded as `malformed_row`. Receiving the same file again
    changes nothing.
    """
    batch_id = batch_id_for(agency, source_sha256)
    with gw.store.write() as conn:
        existing = store.get_batch(conn, batch_id)
        if existing is not None:
            if existing.source_sha256 != source_sha256:
                raise StoreError(f"batch {batch_id} exists with different content")
            return batch_id
        _sync_roster(conn, gw.roster)
        store.create_batch(
            conn,
            batch_id=batch_id,
            agency_id=agency,
            source=batch.source,
            source_sha256=source_sha256,
            row_count=batch.rows,
            malformed_count=len(batch.malformed),
        )
        stamped = [_with_agency(r, agency) for r in batch.requests]
        first, repeats = _first_occurrences(conn, stamped)
        store.add_requests(conn, batch_id, first)
        rejections = [
            store.RowRejection(m.row, m.line, ReasonCode.MALFORMED_ROW, m.error, m.request_id)
            for m in batch.malformed
        ] + [
            store.RowRejection(r.row, r.line, ReasonCode.DUPLICATE_REQUEST_ID, why, r.request_id)
            for r, why in repeats
        ]
        store.add_row_rejections(conn, batch_id, rejections)
        events = [
            actor_event(
                gw.actor,
                EventType.BATCH_RECEIVED,
                _batch_object(batch_id),
                {
                    "source": batch.source,
                    "sha256": source_sha256,
                    "format": batch.fmt,
                    "rows": batch.rows,
                    "malformed": len(batch.malformed),
                    "agency": agency,
                },
            )
        ]
        events += [
            actor_event(
                gw.actor,
                EventType.REQUEST_RECEIVED,
                request_object(agency, r.request_id),
                {
                    "batch": batch_id,
                    "row": r.row,
                    "case_number": r.case_number,
                    "purpose": r.purpose,
                    "statute": r.statute,
                    "tax_periods": r.tax_periods,
                    "reason": r.reason,
                    "requesting_official": r.requesting_official,
                },
            )
            for r in first
        ]
        events += [
            actor_event(
                gw.actor,
                EventType.ROW_REJECTED,
                f"row:{batch_id}/{x.row}",
                {
                    "batch": batch_id,
                    "row": x.row,
                    "request_id": x.request_id,
                    "reason_code": x.reason_code.value,
                    "error": x.error,
                },
                success=False,
            )
            for x in rejections
        ]
        append_events(conn, events)
    return batch_id


def _with_agency(request: Request, agency: str) -> Request:
    """Every stored request belongs to the batch's agency.

    A row that named another agency in its own `agency` column keeps that
    name in the gate's view (it fails `official-authorized`), so the store's
    agency is always the one the batch came from.
    """
    return request if request.agency == agency else replace(request, agency=agency)


def _first_occurrences(
    conn: Connection, requests: Sequence[Request]
) -> tuple[list[Request], list[tuple[Request, str]]]:
    seen: set[str] = set()
    first: list[Request] = []
    repeats: list[tuple[Request, str]] = []
    agencies = {r.agency for r in requests}
    answered = {
        (a, rid)
        for a in agencies
        for rid in store.known_request_ids(
            conn, a, [r.request_id for r in requests if r.agency == a]
        )
    }
    for r in requests:
        if r.request_id in seen:
            repeats.append((r, "request id repeats an earlier row of this batch"))
        elif (r.agency, r.request_id) in answered:
            repeats.append((r, "request id was already answered in an earlier batch"))
        else:
            seen.add(r.request_id)
            first.append(r)
    return first, repeats


# ---------------------------------------------------------------- gated


def _gate(gw: Gateway, conn: Connection, batch: store.Batch) -> None:
    requests = store.batch_requests(conn, batch.id)
    verdicts = evaluate_batch(requests, gw.pack, gw.roster, agency=batch.agency_id, today=gw.today)
    decided_at = _now()
    rejected = [
        store.OutcomeRecord(
            batch_id=batch.id,
            agency_id=batch.agency_id,
            request_id=v.request_id,
            outcome=Outcome.REJECTED,
            reason_codes=v.reason_codes,
            pack_version=gw.pack.ref.version,
            model_version=gw.model_version,
            decided_at=decided_at,
        )
        for v in verdicts
        if not v.passed
    ]
    store.record_outcomes(conn, rejected)
    pack = {"id": gw.pack.ref.id, "version": gw.pack.ref.version, "sha256": gw.pack.ref.sha256}
    append_events(
        conn,
        [
            actor_event(
                gw.actor,
                EventType.REQUEST_GATED,
                request_object(batch.agency_id, v.request_id),
                {
                    "batch": batch.id,
                    "passed": v.passed,
                    "failed_rules": list(v.failed_rules),
                    "reason_codes": [c.value for c in v.reason_codes],
                    "pack": pack,
                },
                success=v.passed,
            )
            for v in verdicts
        ],
    )


# ---------------------------------------------------------------- matched


def _match_path(gw: Gateway, batch_id: str) -> Path:
    return gw.work / batch_id / f"match-{gw.model_version}.parquet"


def _to_match(conn: Connection, batch: store.Batch) -> list[Request]:
    """Requests of the batch that passed the gate: those without an outcome yet."""
    decided = {o.request_id for o in store.batch_outcomes(conn, batch.id)}
    return [r for r in store.batch_requests(conn, batch.id) if r.request_id not in decided]


def _match(gw: Gateway, requests: Sequence[Request], target: Path) -> pa.Table:
    """Link and decide, then write the decisions atomically (temp file, fsync, rename)."""
    std = standardize_request_table(requests_table(requests))
    pairs = link(std, gw.master.standardized, gw.model, engine=gw.engine)
    decisions = decide(pairs, std, gw.master.standardized, gw.thresholds)
    doubtful = {d.request_id: d.candidates for d in decisions if d.outcome is Outcome.AMBIGUOUS}
    evidence = candidate_evidence(pairs, doubtful, gw.model.settings)
    table = pa.table(
        {
            "request_id": [d.request_id for d in decisions],
            "outcome": [d.outcome.value for d in decisions],
            "tin": [d.tin for d in decisions],
            "candidates": [list(d.candidates) for d in decisions],
            "match_probability": pa.array([d.match_probability for d in decisions], pa.float64()),
            "margin": pa.array([d.margin for d in decisions], pa.float64()),
            "reasons": [[r.value for r in d.evidence.reasons] for d in decisions],
            "evidence": pa.array(
                [
                    json.dumps(evidence[d.request_id]) if d.request_id in evidence else None
                    for d in decisions
                ],
                pa.string(),
            ),
        }
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    pq.write_table(table, partial)
    with partial.open("rb") as fh:
        os.fsync(fh.fileno())
    partial.replace(target)
    return table


def _matches(gw: Gateway, conn: Connection, batch: store.Batch) -> pa.Table:
    target = _match_path(gw, batch.id)
    if target.exists():
        return pq.read_table(target)
    return _match(gw, _to_match(conn, batch), target)


# ---------------------------------------------------------------- decided


def _decide(gw: Gateway, conn: Connection, batch: store.Batch, matches: pa.Table) -> None:
    decided_at = _now()
    records, reviews, events = [], [], []
    for m in matches.to_pylist():
        outcome = Outcome(m["outcome"])
        records.append(
            store.OutcomeRecord(
                batch_id=batch.id,
                agency_id=batch.agency_id,
                request_id=m["request_id"],
                outcome=outcome,
                reason_codes=(),
                pack_version=gw.pack.ref.version,
                model_version=gw.model_version,
                decided_at=decided_at,
                tin=m["tin"] or None,
                match_probability=m["match_probability"],
                margin=m["margin"],
            )
        )
        obj = request_object(batch.agency_id, m["request_id"])
        events.append(
            actor_event(
                gw.actor,
                EventType.REQUEST_DECIDED,
                obj,
                {
                    "batch": batch.id,
                    "outcome": outcome.value,
                    "match_reasons": m["reasons"],
                    "match_probability": _rounded(m["match_probability"]),
                    "margin": _rounded(m["margin"]),
                    "model_sha256": gw.model.sha256,
                    "engine": gw.engine,
                    "pack_sha256": gw.pack.ref.sha256,
                },
            )
        )
        if outcome is Outcome.AMBIGUOUS:
            reviews.append(
                store.ReviewItem(
                    batch_id=batch.id,
                    agency_id=batch.agency_id,
                    request_id=m["request_id"],
                    candidates=tuple(m["candidates"]),
                    opened_at=decided_at,
                    evidence=tuple(json.loads(m["evidence"])) if m.get("evidence") else (),
                )
            )
            events.append(
                actor_event(
                    gw.actor,
                    EventType.REVIEW_OPENED,
                    obj,
                    {"batch": batch.id, "candidates": len(m["candidates"])},
                )
            )
    store.record_outcomes(conn, records)
    for item in reviews:
        store.open_review(conn, item)
    append_events(conn, events)


def _rounded(value: float | None) -> str | None:
    """Scores go into the ledger as fixed text, so the canonical bytes never depend on floats."""
    return None if value is None else f"{value:.9g}"


# ---------------------------------------------------------------- disclosed


def _disclose(gw: Gateway, conn: Connection, batch: store.Batch) -> None:
    """Hold what a hold covers, then make every disclosure the batch decided on."""
    done = {d.request_id for d in store.batch_disclosures(conn, batch.id)}
    requests = {r.request_id: r for r in store.batch_requests(conn, batch.id)}
    answered = [o for o in store.batch_outcomes(conn, batch.id) if o.request_id not in done]
    statutes = {k: r.statute for k, r in requests.items()}
    held = hold_covered(gw, conn, gw.actor, answered, statutes)
    pending = [o for o in answered if o.outcome is Outcome.DISCLOSED and o.request_id not in held]
    make_disclosures(gw, conn, gw.actor, pending, statutes)


HOLDABLE = frozenset({Outcome.DISCLOSED, Outcome.NO_MATCH, Outcome.AMBIGUOUS})
"""Every answer a hold interrupts, not only disclosures: were only the would-be
disclosures held, the requester could tell a match from a no-match by which
answers were late."""


def hold_covered(
    gw: Gateway,
    conn: Connection,
    actor: Actor,
    outcomes: Sequence[store.OutcomeRecord],
    statutes: dict[str, str],
) -> set[str]:
    """Move every outcome a hold covers to `held`, keeping its decision; return their ids."""
    holds = store.active_holds(conn)
    today = gw.today or date.today()
    held, events = set(), []
    for o in outcomes:
        if o.outcome not in HOLDABLE:
            continue
        reasons = holding(
            holds,
            gw.roster,
            agency=o.agency_id,
            statute=statutes[o.request_id],
            batch=o.batch_id,
            today=today,
        )
        if not reasons:
            continue
        store.change_outcome(conn, o, outcome=Outcome.HELD, held_outcome=o.outcome)
        held.add(o.request_id)
        events.append(
            actor_event(
                actor,
                EventType.REQUEST_HELD,
                request_object(o.agency_id, o.request_id),
                {"batch": o.batch_id, "held_by": list(reasons)},
            )
        )
    append_events(conn, events)
    return held


def make_disclosures(
    gw: Gateway,
    conn: Connection,
    actor: Actor,
    outcomes: Sequence[store.OutcomeRecord],
    statutes: dict[str, str],
) -> list[store.DisclosureRecord]:
    """Record the disclosures of these `disclosed` outcomes with exactly the profile's fields.

    The disclosed values go into the ledger event, so the record of what left
    the system is the tamper-evident one, not a later re-reading of a master
    file that may have changed since. The batch path, a released hold and an
    officer's review all disclose through here.
    """
    if not outcomes:
        return []
    addresses = gw.master.current_addresses([o.tin or "" for o in outcomes])
    fields = gw.pack.disclosure_fields
    disclosed_at = _now()
    events = []
    for o in outcomes:
        address = addresses.get(o.tin or "")
        if address is None:
            raise CustosError(
                f"taxpayer chosen for {o.request_id} has no address in the master file"
            )
        values = {f: str(getattr(address, f)) for f in fields}
        events.append(
            actor_event(
                actor,
                EventType.DISCLOSURE_MADE,
                request_object(o.agency_id, o.request_id),
                {
                    "batch": o.batch_id,
                    "tin": o.tin,
                    "statute": statutes[o.request_id],
                    "fields": list(fields),
                    "disclosed": values,
                },
            )
        )
    recorded = append_events(conn, events)
    records = [
        store.DisclosureRecord(
            batch_id=o.batch_id,
            agency_id=o.agency_id,
            request_id=o.request_id,
            tin=o.tin or "",
            statute=statutes[o.request_id],
            fields=tuple(fields),
            as_of_tax_year=addresses[o.tin or ""].as_of_tax_year,
            disclosed_at=disclosed_at,
            ledger_seq=event.seq,
        )
        for o, event in zip(outcomes, recorded, strict=True)
    ]
    store.record_disclosures(conn, records)
    return records


# ---------------------------------------------------------------- driving


@contextmanager
def _stage(gw: Gateway, batch_id: str, stage: BatchStage) -> Iterator[tuple[Connection, Any]]:
    """One stage's transaction: its writes, the stage event and the stage advance commit together."""
    with gw.store.write() as conn:
        batch = store.get_batch(conn, batch_id)
        if batch is None:
            raise StoreError(f"no batch {batch_id!r} in the store")
        yield conn, batch
        append_events(
            conn,
            [
                actor_event(
                    gw.actor,
                    EventType.BATCH_STAGE_COMPLETED,
                    _batch_object(batch_id),
                    {"stage": stage.value},
                )
            ],
        )
        store.advance_stage(conn, batch_id, stage)


def stage_of(gw: Gateway, batch_id: str) -> BatchStage:
    with gw.store.read() as conn:
        batch = store.get_batch(conn, batch_id)
    if batch is None:
        raise StoreError(f"no batch {batch_id!r} in the store")
    return batch.stage


def advance(gw: Gateway, batch_id: str, progress: Progress = _quiet) -> list[StageTiming]:
    """Take the batch from its recorded stage to `complete`; safe to call again after a crash."""
    timings = []
    order = list(BatchStage)
    while (current := stage_of(gw, batch_id)) is not BatchStage.COMPLETE:
        following = order[order.index(current) + 1]
        progress(following.value, 0, 1)
        started = time.perf_counter()
        try:
            _run_stage(gw, batch_id, following)
        except Exception as exc:
            _record_failure(gw, batch_id, following, exc)
            raise
        timings.append(StageTiming(following.value, time.perf_counter() - started))
        progress(following.value, 1, 1)
    return timings


def _record_failure(gw: Gateway, batch_id: str, stage: BatchStage, exc: Exception) -> None:
    """Note on the batch, and in the ledger, that a stage failed; its work was rolled back.

    If even this cannot be written (the disk is full, the database is gone),
    the original error is what the caller sees; the batch still sits at its
    last committed stage and resumes from there.
    """
    message = f"{stage.value} failed: {type(exc).__name__}: {exc}"[:2000]
    with suppress(Exception), gw.store.write() as conn:
        store.record_batch_failure(conn, batch_id, message)
        append_events(
            conn,
            [
                actor_event(
                    gw.actor,
                    EventType.BATCH_FAILED,
                    _batch_object(batch_id),
                    {"stage": stage.value, "error": type(exc).__name__},
                    success=False,
                )
            ],
        )


def _run_stage(gw: Gateway, batch_id: str, stage: BatchStage) -> None:
    if stage is BatchStage.GATED:
        with _stage(gw, batch_id, stage) as (conn, batch):
            _gate(gw, conn, batch)
    elif stage is BatchStage.MATCHED:
        with gw.store.read() as conn:
            batch = store.get_batch(conn, batch_id)
            assert batch is not None
            pending = _to_match(conn, batch)
        _match(gw, pending, _match_path(gw, batch_id))
        with _stage(gw, batch_id, stage):
            pass
    elif stage is BatchStage.DECIDED:
        with _stage(gw, batch_id, stage) as (conn, batch):
            _decide(gw, conn, batch, _matches(gw, conn, batch))
    elif stage is BatchStage.DISCLOSED:
        with _stage(gw, batch_id, stage) as (conn, batch):
            _disclose(gw, conn, batch)
    elif stage is BatchStage.COMPLETE:
        with _stage(gw, batch_id, stage) as (conn, batch):
            append_events(
                conn,
                [actor_event(gw.actor, EventType.BATCH_COMPLETED, _batch_object(batch_id), {})],
            )
        checkpoint(gw.store, gw.key)


def complete_within(
    gw: Gateway, batch_id: str, matches: Callable[[Sequence[Request]], pa.Table]
) -> None:
    """Take a received batch through every stage when `gw.store` is one open transaction.

    The real-time path (`custos.realtime`) records a request whole or not at
    all with this; `matches` turns the requests that passed the gate into the
    decided stage's input, in the columns `_match` writes.
    """
    with _stage(gw, batch_id, BatchStage.GATED) as (conn, batch):
        _gate(gw, conn, batch)
    with _stage(gw, batch_id, BatchStage.MATCHED) as (conn, batch):
        pending = _to_match(conn, batch)
    with _stage(gw, batch_id, BatchStage.DECIDED) as (conn, batch):
        _decide(gw, conn, batch, matches(pending))
    with _stage(gw, batch_id, BatchStage.DISCLOSED) as (conn, batch):
        _disclose(gw, conn, batch)
    with _stage(gw, batch_id, BatchStage.COMPLETE) as (conn, batch):
        append_events(
            conn,
            [actor_event(gw.actor, EventType.BATCH_COMPLETED, _batch_object(batch_id), {})],
        )


def run(
    gw: Gateway,
    batch: IntakeBatch,
    *,
    agency: str,
    source_sha256: str,
    progress: Progress = _quiet,
) -> RunSummary:
    """Receive a batch and take it to completion; the same file again returns the same answers."""
    started = time.perf_counter()
    batch_id = receive(gw, batch, agency=agency, source_sha256=source_sha256)
    received = StageTiming("received", time.perf_counter() - started)
    timings = advance(gw, batch_id, progress)
    return summarize(gw, batch_id, (received, *timings))


def summarize(gw: Gateway, batch_id: str, timings: Sequence[StageTiming] = ()) -> RunSummary:
    from custos.ledger import latest_checkpoint

    with gw.store.read() as conn:
        results = batch_results(conn, batch_id)
        cp = latest_checkpoint(conn)
    return RunSummary(
        batch_id=batch_id,
        results=tuple(results),
        timings=tuple(timings),
        checkpoint_size=cp.tree_size if cp else None,
    )


# ---------------------------------------------------------------- results


def batch_results(conn: Connection, batch_id: str) -> list[RowResult]:
    """One result per input row, in row order, read back from the store and the ledger."""
    batch = store.get_batch(conn, batch_id)
    if batch is None:
        raise StoreError(f"no batch {batch_id!r} in the store")
    outcomes = {o.request_id: o for o in store.batch_outcomes(conn, batch_id)}
    disclosures = {d.request_id: d for d in store.batch_disclosures(conn, batch_id)}
    released = _released_values(conn, batch.agency_id, disclosures)
    results: list[RowResult] = []
    for r in store.batch_requests(conn, batch_id):
        o = outcomes.get(r.request_id)
        if o is None:
            raise StoreError(f"batch {batch_id} request {r.request_id} has no outcome yet")
        d = disclosures.get(r.request_id)
        decision = Decision(
            row=r.row,
            request_id=r.request_id,
            outcome=o.outcome,
            reason_codes=o.reason_codes,
            tin=o.tin or "",
            match_probability=o.match_probability,
            margin=o.margin,
        )
        address = released.get(r.request_id)
        results.append(
            RowResult(
                row=r.row,
                decision=decision,
                response=disclose.respond(decision, address),
                agency=batch.agency_id,
                statute=r.statute,
                disclosed_at=d.disclosed_at.isoformat() if d else "",
                ledger_seq=d.ledger_seq if d else None,
            )
        )
    for x in store.batch_row_rejections(conn, batch_id):
        decision = Decision(
            row=x.row,
            request_id=x.request_id,
            outcome=Outcome.REJECTED,
            reason_codes=(x.reason_code,),
        )
        results.append(
            RowResult(row=x.row, decision=decision, response=disclose.respond(decision, None))
        )
    results.sort(key=lambda r: r.row)
    return results


def _released_values(
    conn: Connection, agency: str, disclosures: dict[str, store.DisclosureRecord]
) -> dict[str, DisclosedAddress]:
    """The disclosed values exactly as the ledger recorded them."""
    seqs = [d.ledger_seq for d in disclosures.values() if d.ledger_seq is not None]
    if not seqs:
        return {}
    found: dict[str, DisclosedAddress] = {}
    events: list[LedgerEvent] = read_events(
        conn, min(seqs), max(seqs) + 1, where=ledger_events.c.event_type == "disclosure_made"
    )
    by_object = {request_object(agency, rid): rid for rid in disclosures}
    for event in events:
        rid = by_object.get(event.object)
        if rid is None:
            continue
        values = json.loads(event.payload)["disclosed"]
        found[rid] = DisclosedAddress(
            street=values["street"],
            unit=values["unit"],
            city=values["city"],
            state=values["state"],
            zip=values["zip"],
            as_of_tax_year=int(values["as_of_tax_year"]),
        )
    return found


def cli_actor() -> Actor:
    """The local user on this host: the AU-3 identity of a command-line run."""
    import getpass
    import socket

    return Actor(id=f"user:{getpass.getuser()}", origin=f"cli:{socket.gethostname()}")


def open_gateway(
    *,
    pack: Pack,
    roster: Roster,
    model: LoadedModel,
    master: Master,
    actor: Actor,
    settings: Settings | None = None,
    thresholds: Thresholds | None = None,
    engine: str = "duckdb",
) -> Gateway:
    """A gateway on the configured store, signing with the configured ledger key.

    The key is loaded before anything is written, so a missing key stops a
    run before its first event rather than after its last.
    """
    settings = settings or load_settings()
    key = load_signing_key(settings.ledger_key_path)
    opened = store.open_store(settings.database_url)
    with opened.write() as conn:
        register_signing_key(conn, key.verifier)
    return Gateway(
        store=opened,
        pack=pack,
        roster=roster,
        model=model,
        master=master,
        key=key,
        actor=actor,
        work=settings.home / "batches",
        thresholds=thresholds or pack_thresholds(pack),
        engine=engine,
    )


def pack_thresholds(pack: Pack) -> Thresholds:
    """The decision rule's numbers as the pack states them (docs/matching.md)."""
    return Thresholds(
        disclose_probability=pack.match.threshold,
        review_probability=pack.match.review_threshold,
        margin=pack.match.margin_weight,
        margin_any=pack.match.margin_any_weight,
    )


def default_model_path(settings: Settings | None = None) -> Path:
    """Where `custos model train` writes, and every run reads, the model by default."""
    return (settings or load_settings()).home / "model.json"


def load_policy(
    pack_path: Path | None, roster_path: Path | None, world: Path | None
) -> tuple[Pack, Roster]:
    """The pack (the shipped one unless given) and the roster (given, or the world's)."""
    from custos.errors import PolicyError
    from custos.policy.pack import load_pack
    from custos.policy.roster import load_roster

    if roster_path is None and world is not None:
        roster_path = world / "roster.toml"
    if roster_path is None:
        raise PolicyError("no roster: give --roster FILE, or --world DIR with a roster.toml")
    if not roster_path.is_file():
        raise PolicyError(f"roster file not found: {roster_path}")
    return load_pack(pack_path), load_roster(roster_path)


def gateway_for_world(
    world: Path,
    *,
    actor: Actor,
    model: Path | None = None,
    roster: Path | None = None,
    pack: Path | None = None,
    settings: Settings | None = None,
    engine: str = "duckdb",
) -> Gateway:
    """The gateway the CLI, the service and the worker all run: a world's master and roster."""
    from custos.match import load_model

    settings = settings or load_settings()
    policy_pack, policy_roster = load_policy(pack, roster, world)
    return open_gateway(
        pack=policy_pack,
        roster=policy_roster,
        model=load_model(model or default_model_path(settings)),
        master=Master.from_world(world, cache=settings.home / "masters"),
        actor=actor,
        settings=settings,
        engine=engine,
    )
