"""Holds stop every answer they cover, lose nothing, and resolve each held request exactly once."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from custos import holds, pipeline, store
from custos.errors import StoreError
from custos.ledger import verify
from custos.model import Outcome, ReasonCode, ResponseStatus
from custos.policy.roster import Roster
from custos.store import HoldResolution, HoldScope
from officer_support import AGENCY, OFFICER, batch_id, officer_gateway, run_world

BACKENDS = [pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]


def _outcomes(gw: pipeline.Gateway, batch: str) -> dict[str, Outcome]:
    with gw.store.read() as conn:
        return {o.request_id: o.outcome for o in store.batch_outcomes(conn, batch)}


def _disclosed(gw: pipeline.Gateway, batch: str) -> set[str]:
    with gw.store.read() as conn:
        return {d.request_id for d in store.batch_disclosures(conn, batch)}


@pytest.fixture(scope="module")
def unheld(small_world: Path, small_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """The answers of the same world with no hold: what a released hold must reproduce."""
    with officer_gateway("sqlite", small_world, small_model, tmp_path_factory.mktemp("u")) as gw:
        run_world(gw, small_world)
        return _outcomes(gw, batch_id(small_world))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hold_holds_every_answer_and_release_resumes_each_once(
    backend: str, small_world: Path, small_model: Path, tmp_path: Path, unheld: dict
) -> None:
    with officer_gateway(backend, small_world, small_model, tmp_path) as gw:
        hold = holds.place(
            gw,
            HoldScope.AGENCY,
            AGENCY,
            reference="Order 25-cv-0001 (D.D.C.)",
            rationale="preliminary injunction against the programme",
            actor=OFFICER,
        )
        summary = run_world(gw, small_world)
        batch = batch_id(small_world)
        during = _outcomes(gw, batch)
        assert _disclosed(gw, batch) == set()
        passed = {k for k, v in unheld.items() if v is not Outcome.REJECTED}
        assert {k for k, v in during.items() if v is Outcome.HELD} == passed
        assert {k for k, v in during.items() if v is Outcome.REJECTED} == set(unheld) - passed
        views = {r.response.status for r in summary.results if r.decision.outcome is Outcome.HELD}
        assert views == {ResponseStatus.NOT_DISCLOSED}

        result = holds.lift(
            gw,
            hold.id,
            resolution=HoldResolution.RELEASE,
            rationale="injunction vacated on appeal",
            actor=OFFICER,
        )
        assert result.released == len(passed) and result.still_held == 0
        assert _outcomes(gw, batch) == unheld
        expected = {k for k, v in unheld.items() if v is Outcome.DISCLOSED}
        assert _disclosed(gw, batch) == expected and result.disclosed == len(expected) > 0
        with pytest.raises(StoreError, match="already lifted"):
            holds.lift(
                gw, hold.id, resolution=HoldResolution.RELEASE, rationale="twice", actor=OFFICER
            )
        assert _disclosed(gw, batch) == expected
        assert verify(gw.store, gw.key.verifier).ok


def test_decline_refuses_what_the_hold_covered_and_discloses_nothing(
    small_world: Path, small_model: Path, tmp_path: Path, unheld: dict
) -> None:
    with officer_gateway("sqlite", small_world, small_model, tmp_path) as gw:
        batch = batch_id(small_world)
        hold = holds.place(
            gw, HoldScope.BATCH, batch, reference="OIG-26-014", rationale="audit", actor=OFFICER
        )
        run_world(gw, small_world)
        result = holds.lift(
            gw,
            hold.id,
            resolution=HoldResolution.DECLINE,
            rationale="batch withdrawn",
            actor=OFFICER,
        )
        passed = sum(v is not Outcome.REJECTED for v in unheld.values())
        assert result.declined == passed
        with gw.store.read() as conn:
            outcomes = store.batch_outcomes(conn, batch)
        assert {o.outcome for o in outcomes} == {Outcome.REJECTED}
        suspended = [o for o in outcomes if o.reason_codes == (ReasonCode.DISCLOSURES_SUSPENDED,)]
        assert len(suspended) == passed
        assert _disclosed(gw, batch) == set()


def test_a_hold_on_another_statute_or_batch_holds_nothing(
    small_world: Path, small_model: Path, tmp_path: Path, unheld: dict
) -> None:
    with officer_gateway("sqlite", small_world, small_model, tmp_path) as gw:
        for scope, target in ((HoldScope.STATUTE, "26 USC 6103(i)(1)"), (HoldScope.BATCH, "x")):
            holds.place(gw, scope, target, reference="r", rationale="elsewhere", actor=OFFICER)
        run_world(gw, small_world)
        assert _outcomes(gw, batch_id(small_world)) == unheld


def test_two_holds_release_only_when_both_are_lifted(
    small_world: Path, small_model: Path, tmp_path: Path, unheld: dict
) -> None:
    with officer_gateway("sqlite", small_world, small_model, tmp_path) as gw:
        first = holds.place(gw, HoldScope.ALL, None, reference="a", rationale="one", actor=OFFICER)
        second = holds.place(
            gw, HoldScope.AGENCY, AGENCY, reference="b", rationale="two", actor=OFFICER
        )
        run_world(gw, small_world)
        held = Counter(_outcomes(gw, batch_id(small_world)).values())[Outcome.HELD]
        one = holds.lift(
            gw, first.id, resolution=HoldResolution.RELEASE, rationale="lifted", actor=OFFICER
        )
        assert one.released == 0 and one.still_held == held > 0
        two = holds.lift(
            gw, second.id, resolution=HoldResolution.RELEASE, rationale="lifted", actor=OFFICER
        )
        assert two.released == held
        assert _outcomes(gw, batch_id(small_world)) == unheld


def _expired(roster: Roster) -> Roster:
    return Roster(
        agencies=tuple(
            replace(a, safeguards_expires=date(2026, 4, 7)) if a.id == AGENCY else a
            for a in roster.agencies
        ),
        as_of=roster.as_of,
    )


def test_lapsed_safeguards_hold_by_themselves_and_release_on_renewal(
    small_world: Path, small_model: Path, tmp_path: Path, unheld: dict
) -> None:
    with officer_gateway("sqlite", small_world, small_model, tmp_path) as gw:
        lapsed = replace(gw, roster=_expired(gw.roster))
        run_world(lapsed, small_world)
        batch = batch_id(small_world)
        passed = {k for k, v in unheld.items() if v is not Outcome.REJECTED}
        assert {k for k, v in _outcomes(gw, batch).items() if v is Outcome.HELD} == passed

        assert holds.release_held(lapsed, OFFICER).released == 0
        renewed = holds.release_held(gw, OFFICER)
        assert renewed.released == len(passed)
        assert _outcomes(gw, batch) == unheld
