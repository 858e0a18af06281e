"""The officer's review: doubtful matches, decided by a person, on the record.

An ambiguous request waits here with its candidates and the evidence the
model weighed. An officer may decline it (the requester keeps its
`not_disclosed`) or disclose one candidate — and a disclose decision is
held to everything the batch path is: the request must pass every gate rule
of today's pack and roster, no hold may cover it, and a taxpayer under an
(i)(6) block is never disclosed. The decision, its rationale and the
disclosure are written in one transaction, so an item cannot be decided
twice and a disclosure never happens without its ledger event.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Connection

from custos import store
from custos.errors import DecisionRefused, StoreError
from custos.ledger import EventType, NewEvent, append_events, request_object
from custos.model import Outcome, Request
from custos.pipeline import Actor, Gateway, actor_event, make_disclosures
from custos.policy.gate import evaluate
from custos.policy.holds import holding
from custos.store import ReviewItem, ReviewStatus

Decision = Literal["disclose", "decline"]


@dataclass(frozen=True, slots=True)
class ReviewCase:
    """One item as an officer reads it: the request, and each candidate with its evidence."""

    item: ReviewItem
    request: Request
    candidates: tuple[dict[str, Any], ...]
    """Per candidate: `tin`, the master's identity (`taxpayer`) and current address
    (`address`), `match_weight`, `match_probability` and the per-comparison `fields`."""
    held: bool


def queue(
    gw: Gateway,
    *,
    agency: str | None = None,
    batch: str | None = None,
    opened_before: datetime | None = None,
) -> list[ReviewItem]:
    """Open items, oldest first, filtered by agency, batch and age."""
    with gw.store.read() as conn:
        items = store.open_reviews(conn, agency)
    return [
        i
        for i in items
        if (batch is None or i.batch_id == batch)
        and (opened_before is None or i.opened_at < opened_before)
    ]


def case(gw: Gateway, agency: str, request_id: str) -> ReviewCase | None:
    """The item with everything an officer needs to decide it; None if there is no such item."""
    with gw.store.read() as conn:
        item = store.get_review(conn, agency, request_id)
        request = store.get_request(conn, agency, request_id)
        outcome = store.get_outcome(conn, agency, request_id)
    if item is None or request is None:
        return None
    names = gw.master.taxpayers_named(item.candidates)
    addresses = gw.master.current_addresses(item.candidates)
    evidence = {e["tin"]: e for e in item.evidence}
    candidates = []
    for tin in item.candidates:
        found = evidence.get(tin, {"tin": tin, "fields": []})
        address = addresses.get(tin)
        candidates.append(
            {
                **found,
                "taxpayer": names.get(tin, {}),
                "address": {} if address is None else asdict(address),
            }
        )
    held = outcome is not None and outcome.outcome is Outcome.HELD
    return ReviewCase(item=item, request=request, candidates=tuple(candidates), held=held)


def decide(
    gw: Gateway,
    agency: str,
    request_id: str,
    *,
    decision: Decision,
    rationale: str,
    actor: Actor,
    tin: str | None = None,
) -> ReviewItem:
    """Record an officer's decision; `disclose` names one candidate and discloses it now.

    Raises `DecisionRefused` (nothing written) when the item is not open, the
    TIN is not a candidate, or the disclosure would break a rule.
    """
    if len(rationale.strip()) < 10:
        raise DecisionRefused("a decision needs a written rationale (at least 10 characters)")
    if (decision == "disclose") != (tin is not None):
        raise DecisionRefused("disclose names exactly one candidate; decline names none")
    with gw.store.write() as conn:
        item = store.get_review(conn, agency, request_id)
        if item is None:
            raise DecisionRefused(f"no review item for {agency}/{request_id}", "not_found")
        if item.status is not ReviewStatus.OPEN:
            raise DecisionRefused(f"this item is already {item.status.value}", "already_decided")
        payload: dict[str, Any] = {
            "batch": item.batch_id,
            "decision": decision,
            "candidates": len(item.candidates),
            "rationale": rationale.strip(),
        }
        try:
            if decision == "decline":
                decided = store.decide_review(
                    conn,
                    agency,
                    request_id,
                    status=ReviewStatus.REJECTED,
                    decided_by=actor.id,
                    note=rationale.strip(),
                )
                append_events(conn, [_decided(actor, agency, request_id, payload)])
                return decided
            assert tin is not None
            outcome = store.get_outcome(conn, agency, request_id)
            request = store.get_request(conn, agency, request_id)
            if outcome is None or request is None:
                raise DecisionRefused(f"review item {agency}/{request_id} has no decided request")
            _may_disclose(gw, conn, item, outcome, request, tin)
            decided = store.decide_review(
                conn,
                agency,
                request_id,
                status=ReviewStatus.APPROVED,
                decided_by=actor.id,
                decision_tin=tin,
                note=rationale.strip(),
            )
            moved = store.change_outcome(conn, outcome, outcome=Outcome.DISCLOSED, tin=tin)
        except StoreError as exc:
            raise DecisionRefused(str(exc), "already_decided") from None
        append_events(conn, [_decided(actor, agency, request_id, {**payload, "tin": tin})])
        make_disclosures(gw, conn, actor, [moved], {request_id: request.statute})
    return decided


def _may_disclose(
    gw: Gateway,
    conn: Connection,
    item: ReviewItem,
    outcome: store.OutcomeRecord,
    request: Request,
    tin: str,
) -> None:
    """Refuse a disclose decision the batch path would refuse."""
    if tin not in item.candidates:
        raise DecisionRefused("the taxpayer named is not one of this item's candidates")
    reasons = holding(
        store.active_holds(conn),
        gw.roster,
        agency=item.agency_id,
        statute=request.statute,
        batch=item.batch_id,
        today=gw.today or date.today(),
    )
    if reasons or outcome.outcome is Outcome.HELD:
        raise DecisionRefused(f"this request is held ({', '.join(reasons) or 'held'})")
    if outcome.outcome is not Outcome.AMBIGUOUS:
        raise DecisionRefused(f"this request's outcome is {outcome.outcome.value}, not ambiguous")
    verdict = evaluate(request, gw.pack, gw.roster, agency=item.agency_id, today=gw.today)
    if not verdict.passed:
        failed = ", ".join(verdict.failed_rules)
        raise DecisionRefused(f"the request no longer passes the gate ({failed}); decline it")
    if gw.master.blocked(tin):
        raise DecisionRefused("this taxpayer is under an (i)(6) block; nothing may be disclosed")


def _decided(actor: Actor, agency: str, request_id: str, payload: dict[str, Any]) -> NewEvent:
    return actor_event(actor, EventType.REVIEW_DECIDED, request_object(agency, request_id), payload)
