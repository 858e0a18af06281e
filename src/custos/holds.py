"""Placing and lifting holds, and what becomes of the requests they held.

A hold takes effect at the last step before an answer is published
(`pipeline.hold_covered`): from the moment it is placed, no batch discloses
anything it covers. Lifting it resolves what it held — `release` lets each
request continue from the decision the hold interrupted, after passing the
gate again under today's pack and roster; `decline` refuses them with
`disclosures_suspended`. Nothing is lost either way: every held request ends
with exactly one answer, and every step is a ledger event in the same
transaction as the store write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from custos import store
from custos.errors import StoreError
from custos.ledger import EventType, append_events, request_object
from custos.model import Outcome, ReasonCode, Request
from custos.pipeline import Actor, Gateway, actor_event, make_disclosures
from custos.policy.gate import evaluate
from custos.policy.holds import holding
from custos.store import Hold, HoldResolution, HoldScope


@dataclass(frozen=True, slots=True)
class Resolution:
    """What lifting a hold (or re-checking the roster) did to the requests it held."""

    hold: Hold | None
    released: int = 0
    disclosed: int = 0
    declined: int = 0
    rejected_by_gate: int = 0
    still_held: int = 0


def hold_object(hold_id: int) -> str:
    return f"hold:{hold_id}"


def place(
    gw: Gateway,
    scope: HoldScope,
    target: str | None,
    *,
    reference: str,
    rationale: str,
    actor: Actor,
) -> Hold:
    """Place a hold; it stops every answer it covers from the next disclose step on."""
    with gw.store.write() as conn:
        hold = store.place_hold(
            conn, scope, target, reference=reference, rationale=rationale, placed_by=actor.id
        )
        append_events(
            conn,
            [
                actor_event(
                    actor,
                    EventType.HOLD_PLACED,
                    hold_object(hold.id),
                    {
                        "scope": hold.scope.value,
                        "target": hold.target,
                        "reference": hold.reference,
                        "rationale": hold.rationale,
                    },
                )
            ],
        )
    return hold


def lift(
    gw: Gateway,
    hold_id: int,
    *,
    resolution: HoldResolution,
    rationale: str,
    actor: Actor,
) -> Resolution:
    """Lift a hold and resolve, in the same transaction, every request it held."""
    with gw.store.write() as conn:
        hold = store.lift_hold(
            conn, hold_id, resolution=resolution, rationale=rationale, lifted_by=actor.id
        )
        append_events(
            conn,
            [
                actor_event(
                    actor,
                    EventType.HOLD_LIFTED,
                    hold_object(hold.id),
                    {"resolution": resolution.value, "rationale": hold.lift_rationale},
                )
            ],
        )
        if resolution is HoldResolution.DECLINE:
            return _decline(gw, conn, hold, actor)
        return _release(gw, conn, actor, hold)


def release_held(gw: Gateway, actor: Actor) -> Resolution:
    """Release whatever nothing holds any more — after the roster renews an agency's safeguards."""
    with gw.store.write() as conn:
        return _release(gw, conn, actor, None)


def _requests(conn: Connection, held: list[store.OutcomeRecord]) -> dict[str, Request]:
    """The stored request of each held outcome, by request id."""
    found = {}
    for o in held:
        request = store.get_request(conn, o.agency_id, o.request_id)
        if request is None:
            raise StoreError(f"held outcome {o.agency_id}/{o.request_id} has no stored request")
        found[o.request_id] = request
    return found


def _decline(gw: Gateway, conn: Connection, hold: Hold, actor: Actor) -> Resolution:
    held = store.held_outcomes(conn)
    requests = _requests(conn, held)
    covered = [
        o
        for o in held
        if hold.covers(agency=o.agency_id, statute=requests[o.request_id].statute, batch=o.batch_id)
    ]
    events = []
    for o in covered:
        store.change_outcome(
            conn, o, outcome=Outcome.REJECTED, reason_codes=(ReasonCode.DISCLOSURES_SUSPENDED,)
        )
        events.append(
            actor_event(
                actor,
                EventType.REQUEST_DECIDED,
                request_object(o.agency_id, o.request_id),
                {
                    "batch": o.batch_id,
                    "outcome": Outcome.REJECTED.value,
                    "reason_codes": [ReasonCode.DISCLOSURES_SUSPENDED.value],
                    "hold": hold.id,
                },
            )
        )
    append_events(conn, events)
    return Resolution(hold=hold, declined=len(covered), still_held=len(held) - len(covered))


def _release(gw: Gateway, conn: Connection, actor: Actor, hold: Hold | None) -> Resolution:
    """Let every held request that nothing holds any more continue, through the gate again."""
    held = store.held_outcomes(conn)
    requests = _requests(conn, held)
    statutes = {rid: r.statute for rid, r in requests.items()}
    holds = store.active_holds(conn)
    today = gw.today or date.today()
    released, rejected, to_disclose, events = 0, 0, [], []
    for o in held:
        if holding(
            holds,
            gw.roster,
            agency=o.agency_id,
            statute=statutes[o.request_id],
            batch=o.batch_id,
            today=today,
        ):
            continue
        verdict = evaluate(
            requests[o.request_id], gw.pack, gw.roster, agency=o.agency_id, today=gw.today
        )
        obj = request_object(o.agency_id, o.request_id)
        if not verdict.passed:
            store.change_outcome(
                conn, o, outcome=Outcome.REJECTED, reason_codes=verdict.reason_codes
            )
            rejected += 1
            events.append(
                actor_event(
                    actor,
                    EventType.REQUEST_GATED,
                    obj,
                    {
                        "batch": o.batch_id,
                        "passed": False,
                        "failed_rules": list(verdict.failed_rules),
                        "reason_codes": [c.value for c in verdict.reason_codes],
                        "on_release": True,
                    },
                    success=False,
                )
            )
            continue
        if o.held_outcome is None:
            raise StoreError(f"held outcome {o.agency_id}/{o.request_id} kept no decision")
        resumed = o.held_outcome
        moved = store.change_outcome(conn, o, outcome=resumed)
        released += 1
        events.append(
            actor_event(
                actor,
                EventType.REQUEST_DECIDED,
                obj,
                {
                    "batch": o.batch_id,
                    "outcome": resumed.value,
                    "released_from": hold.id if hold else "safeguards",
                },
            )
        )
        if resumed is Outcome.DISCLOSED:
            to_disclose.append(moved)
    append_events(conn, events)
    disclosed = make_disclosures(gw, conn, actor, to_disclose, statutes)
    return Resolution(
        hold=hold,
        released=released,
        disclosed=len(disclosed),
        rejected_by_gate=rejected,
        still_held=len(held) - released - rejected,
    )
