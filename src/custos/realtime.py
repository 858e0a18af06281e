"""Real-time single requests: one request through gate → match → decide → disclose, at once.

`POST /v1/verify` calls `verify`. A real-time request is recorded exactly as
a batch of one row would be: its own batch, with the batch path's stages,
rows, outcomes, review items, disclosures and ledger events, so the
accounting of disclosures, the reports, proofs and `ledger verify` see it
like any other request. The differences are only in how fast it gets there:

* matching uses a `CandidateIndex` built once per process (the master in
  DuckDB, indexed on the blocking keys, scored with Splink's SQL for the
  trained model), not a Splink linker per batch; the decision is the batch
  path's `decide`;
* everything the request writes (received … complete) is one transaction,
  so a real-time request is either wholly recorded or not at all, and a
  worker never finds one half done;
* no checkpoint per request: the events are signed by the next time-based
  checkpoint (`checkpoint_if_due`), as the ledger promises never one per event.

Exactly once per (agency, request_id). The batch id is the agency and the
sha256 of the request's canonical JSON, as a batch file's is of its bytes:

* the same request again (a retry after a timeout) is the same batch, and
  gets the first answer back, marked `replayed`; nothing is written;
* the same request id with different content, or one already used in a
  batch file, is a new batch whose one row is rejected as
  `duplicate_request_id`, exactly as the batch path rejects it.

Concurrent calls are serialised by the store's write lock (SQLite's
`BEGIN IMMEDIATE`, the ledger's table lock on PostgreSQL), taken before the
batch is looked up, and the unique (agency, request_id) constraints stand
behind it: a second disclosure of one request cannot be written.

Batch-level gate rules judge the batch of one: a boilerplate reason or an
official certifying for too many people can only be seen across a batch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import Connection

from custos import pipeline, store
from custos.intake import Batch as IntakeBatch
from custos.ledger.chain import lock_ledger
from custos.match.decide import MatchDecision
from custos.match.lookup import CandidateIndex
from custos.model import DisclosedAddress, Outcome, Request
from custos.policy.gate import evaluate_batch
from custos.standardize.addresses import zip_states

VERIFY_FORMAT = "json"
CHECKPOINT_EVERY = timedelta(seconds=10)
"""Real-time events are signed at most this late (`custos.service.worker.seal_idle_events`
after each call); the batch path signs at each batch's end."""


@dataclass(frozen=True, slots=True)
class Matched:
    """A match decision and, for a doubtful one, the evidence the review desk shows."""

    decision: MatchDecision
    evidence: list[dict[str, Any]] | None = None


def match(index: CandidateIndex, request: Request) -> Matched:
    """Match one request; evidence only for `ambiguous`, as the batch path keeps it."""
    std = index.standardize(request)
    decision = index.match_standardized(std)
    if decision.outcome is not Outcome.AMBIGUOUS:
        return Matched(decision)
    return Matched(decision, index.evidence(std, decision))


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to one real-time request, as its batch of one recorded it."""

    batch_id: str
    result: pipeline.RowResult
    replayed: bool


class Verifier:
    """A gateway and the candidate index of its master file, built once."""

    def __init__(self, gateway: pipeline.Gateway, index: CandidateIndex) -> None:
        self.gateway = gateway
        self.index = index

    @classmethod
    def build(cls, gateway: pipeline.Gateway, *, threads: int | None = None) -> Verifier:
        """Index the gateway's master; the gate's ZIP table is loaded now, not on a request."""
        zip_states()
        master = gateway.master
        index = CandidateIndex.build(
            master.standardized,
            gateway.model,
            thresholds=gateway.thresholds,
            addresses=master.addresses,
            threads=threads,
        )
        return cls(gateway, index)

    def verify(
        self, request: Request, *, agency: str, actor: pipeline.Actor | None = None
    ) -> Verification:
        """Answer one request now, or return the answer it already has."""
        gw = self.gateway if actor is None else replace(self.gateway, actor=actor)
        return verify(gw, self.index, request, agency=agency)


class LazyVerifier:
    """Builds the `Verifier` on first use, once, however many threads ask at the same time."""

    def __init__(self, gateway: pipeline.Gateway) -> None:
        self._gateway = gateway
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()

    def get(self) -> Verifier:
        if self._verifier is None:
            with self._lock:
                if self._verifier is None:
                    self._verifier = Verifier.build(self._gateway)
        return self._verifier


def request_sha256(request: Request) -> str:
    """The canonical content of a real-time request: what makes a repeat the same request."""
    document = dataclasses.asdict(replace(request, row=1, line=1))
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(("custos.verify/1\n" + text).encode()).hexdigest()


def verify(
    gw: pipeline.Gateway, index: CandidateIndex, request: Request, *, agency: str
) -> Verification:
    """One request through every stage, recorded as a batch of one in one transaction."""
    stamped = replace(request, row=1, line=1, agency=agency)
    sha = request_sha256(stamped)
    batch_id = pipeline.batch_id_for(agency, sha)
    with gw.store.read() as conn:
        known = store.get_batch(conn, batch_id)
        repeat = bool(store.known_request_ids(conn, agency, [stamped.request_id]))
    if known is not None:
        return _answer(gw, batch_id, replayed=True)
    decision: Matched | None = None
    address: DisclosedAddress | None = None
    if not repeat and _passes_gate(gw, stamped, agency):
        decision = match(index, stamped)
        if decision.decision.outcome is Outcome.DISCLOSED:
            address = index.current_address(decision.decision.tin)
    batch = IntakeBatch(
        source=f"verify:{sha[:16]}",
        fmt=VERIFY_FORMAT,
        rows=1,
        requests=(stamped,),
        malformed=(),
    )
    with gw.store.write() as conn:
        lock_ledger(conn)
        if store.get_batch(conn, batch_id) is not None:
            replayed = True
        else:
            _record(gw, conn, index, batch, agency, sha, decision, address)
            replayed = False
    return _answer(gw, batch_id, replayed=replayed)


def _passes_gate(gw: pipeline.Gateway, request: Request, agency: str) -> bool:
    (verdict,) = evaluate_batch([request], gw.pack, gw.roster, agency=agency, today=gw.today)
    return verdict.passed


def _record(
    gw: pipeline.Gateway,
    conn: Connection,
    index: CandidateIndex,
    batch: IntakeBatch,
    agency: str,
    sha: str,
    decision: Matched | None,
    address: DisclosedAddress | None,
) -> None:
    """The batch path's stages, in its order, with its events, inside the caller's transaction."""
    found = {decision.decision.tin: address} if decision and address else {}
    inside = replace(gw, store=_Within(conn), master=_Resolved(index, found))
    batch_id = pipeline.receive(inside, batch, agency=agency, source_sha256=sha)
    pipeline.complete_within(
        inside,
        batch_id,
        lambda pending: matches_table([_decision_for(index, r, decision) for r in pending]),
    )


def _decision_for(index: CandidateIndex, request: Request, decision: Matched | None) -> Matched:
    """The decision made before the transaction; made now if the gate changed its mind since
    (the clock passed midnight into a new tax year between the two looks)."""
    if decision is not None and decision.decision.request_id == request.request_id:
        return decision
    return match(index, request)


def matches_table(matched: Sequence[Matched]) -> pa.Table:
    """The decided stage's input, in the columns the batch path's match results have."""
    decisions = [m.decision for m in matched]
    return pa.table(
        {
            "request_id": [d.request_id for d in decisions],
            "outcome": [d.outcome.value for d in decisions],
            "tin": [d.tin for d in decisions],
            "candidates": pa.array([list(d.candidates) for d in decisions], pa.list_(pa.string())),
            "match_probability": pa.array([d.match_probability for d in decisions], pa.float64()),
            "margin": pa.array([d.margin for d in decisions], pa.float64()),
            "reasons": pa.array(
                [[r.value for r in d.evidence.reasons] for d in decisions],
                pa.list_(pa.string()),
            ),
            "evidence": pa.array(
                [None if m.evidence is None else json.dumps(m.evidence) for m in matched],
                pa.string(),
            ),
        }
    )


def _answer(gw: pipeline.Gateway, batch_id: str, *, replayed: bool) -> Verification:
    with gw.store.read() as conn:
        (result,) = pipeline.batch_results(conn, batch_id)
    return Verification(batch_id=batch_id, result=result, replayed=replayed)


class _Within(store.Store):
    """The store as seen from inside one open write transaction: `write` and `read` join it.

    Lets the batch path's stage functions, which open their own transactions,
    run together in the real-time request's single one.
    """

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn.engine)
        self._conn = conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        yield self._conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn


class _Resolved(pipeline.Master):
    """The master as far as this request's disclosure needs it, through the index.

    The address of the expected disclosure is looked up before the
    transaction (by `disclose.current_addresses`, on the taxpayer's own rows),
    so the write lock is not held for it; any other is looked up when asked.
    """

    def __init__(self, index: CandidateIndex, found: dict[str, DisclosedAddress]) -> None:
        super().__init__(taxpayers=pa.table({}), addresses=pa.table({}), source="verify")
        self._index = index
        self._found = found

    def current_addresses(self, tins: Sequence[str]) -> dict[str, DisclosedAddress]:
        out = {}
        for tin in tins:
            address = self._found.get(tin) or self._index.current_address(tin)
            if address is not None:
                out[tin] = address
        return out
