"""The disclosure rule on its own: candidates in, outcome out."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custos.match.decide import (
    Agreement,
    Candidate,
    Reason,
    Thresholds,
    could_also_be,
    decide_request,
    ruled_out,
)
from custos.model import Outcome

STRONG = Candidate(
    tin="100000001",
    master_id="100000001-2024",
    match_weight=30.0,
    match_probability=0.999999999,
    address_agrees=True,
    agreeing_address="100000001-2024",
    name_agrees=True,
    dob=Agreement.ABSENT,
    tin_evidence=Agreement.ABSENT,
    suffix_conflict=False,
    blocked=False,
)


def test_a_clear_best_candidate_is_disclosed() -> None:
    housemate = replace(
        STRONG,
        tin="200000002",
        name_agrees=False,
        name_compatible=False,
        match_weight=5.0,
        match_probability=0.97,
    )
    out = decide_request("q", [housemate, STRONG])
    assert (out.outcome, out.tin, out.candidates) == (Outcome.DISCLOSED, "100000001", ())
    assert out.margin == pytest.approx(25.0)
    assert out.match_probability == STRONG.match_probability


def test_a_rival_nothing_rules_out_makes_it_ambiguous_even_far_below() -> None:
    # e.g. the father "REYES" beside the son "REYES NAVA": the model prefers the
    # son by 25 bits, but nothing on the request contradicts the father.
    rival = replace(STRONG, tin="200000002", match_weight=5.0, match_probability=0.97)
    out = decide_request("q", [rival, STRONG])
    assert (out.outcome, out.candidates) == (Outcome.AMBIGUOUS, ("100000001", "200000002"))


def test_a_rival_is_ruled_out_only_by_a_contradiction_not_by_a_failed_strict_check() -> None:
    # The rival's name fails the strict check (say ELIZABETH against ESPERANZA in the
    # middle) but is still compatible (same middle initial): it stays a contender.
    rival = replace(STRONG, tin="200000002", name_agrees=False, match_weight=10.0)
    assert could_also_be(rival, STRONG)
    assert decide_request("q", [rival, STRONG]).outcome is Outcome.AMBIGUOUS
    assert not could_also_be(replace(rival, name_compatible=False), STRONG)
    assert not could_also_be(replace(rival, dob=Agreement.CONFLICTS), STRONG)
    assert not could_also_be(replace(rival, address_agrees=False), STRONG)


def test_a_second_given_name_alone_goes_to_review() -> None:
    out = decide_request("q", [replace(STRONG, name_level="nickname", by_second_name=True)])
    assert (out.outcome, out.evidence.reasons) == (
        Outcome.AMBIGUOUS,
        (Reason.SECOND_GIVEN_NAME_ONLY,),
    )


def test_a_close_given_name_that_is_someone_elses_name_needs_corroboration() -> None:
    close = replace(STRONG, name_level="close", given_is_a_known_name=True)
    out = decide_request("q", [close])
    assert (out.outcome, out.evidence.reasons) == (
        Outcome.AMBIGUOUS,
        (Reason.GIVEN_NAME_ONLY_CLOSE,),
    )
    assert decide_request("q", [replace(close, dob=Agreement.AGREES)]).outcome is Outcome.DISCLOSED
    typo = replace(close, given_is_a_known_name=False)
    assert decide_request("q", [typo]).outcome is Outcome.DISCLOSED


def test_a_tin_can_rule_a_rival_out_but_never_rule_anyone_in() -> None:
    rival = replace(STRONG, tin="200000002", tin_evidence=Agreement.CONFLICTS, match_weight=20.0)
    best = replace(STRONG, tin_evidence=Agreement.AGREES)
    assert decide_request("q", [rival, best]).outcome is Outcome.DISCLOSED
    assert decide_request("q", [rival, STRONG]).outcome is Outcome.AMBIGUOUS
    alone = replace(best, address_agrees=False, agreeing_address="")
    assert decide_request("q", [alone]).outcome is Outcome.NO_MATCH


def test_no_candidates_is_no_match() -> None:
    out = decide_request("q", [])
    assert out.outcome is Outcome.NO_MATCH
    assert out.evidence.reasons == (Reason.NO_CANDIDATE,)
    assert out.match_probability is None and out.margin is None


def test_tin_agreement_without_address_is_not_enough() -> None:
    moved = replace(
        STRONG,
        address_agrees=False,
        agreeing_address="",
        tin_evidence=Agreement.AGREES,
        match_weight=60.0,
    )
    out = decide_request("q", [moved])
    assert out.outcome is Outcome.NO_MATCH
    assert out.evidence.reasons == (Reason.ADDRESS_NOT_IN_HISTORY,)


def test_each_failed_check_is_reported() -> None:
    bad = replace(STRONG, name_agrees=False, dob=Agreement.CONFLICTS, suffix_conflict=True)
    out = decide_request("q", [bad])
    assert out.outcome is Outcome.NO_MATCH
    assert out.evidence.reasons == (
        Reason.NAME_DISAGREES,
        Reason.DOB_CONFLICTS,
        Reason.SUFFIX_CONFLICTS,
    )


def test_a_dob_one_slip_away_goes_to_review() -> None:
    out = decide_request("q", [replace(STRONG, dob=Agreement.CLOSE)])
    assert (out.outcome, out.candidates) == (Outcome.AMBIGUOUS, ("100000001",))
    assert out.evidence.reasons == (Reason.DOB_ONLY_CLOSE,)


def test_runner_up_inside_the_margin_makes_it_ambiguous() -> None:
    twin = replace(STRONG, tin="200000002", match_weight=STRONG.match_weight - 3.0)
    out = decide_request("q", [twin, STRONG], Thresholds(margin=5.0, margin_any=1.0))
    assert out.outcome is Outcome.AMBIGUOUS
    assert out.candidates == ("100000001", "200000002")
    assert out.evidence.reasons == (Reason.INDISTINGUISHABLE,)
    assert out.evidence.runner_up == twin
    wide = Thresholds(margin=2.0, margin_any=1.0)
    assert decide_request("q", [twin, STRONG], wide).outcome is Outcome.DISCLOSED


def test_runner_up_told_apart_by_name_needs_only_the_smaller_margin() -> None:
    housemate = replace(
        STRONG,
        tin="200000002",
        name_agrees=False,
        name_compatible=False,
        match_weight=STRONG.match_weight - 6.0,
    )
    assert decide_request(
        "q", [housemate, STRONG], Thresholds(margin=10.0, margin_any=5.0)
    ).outcome is (Outcome.DISCLOSED)
    out = decide_request("q", [housemate, STRONG], Thresholds(margin=10.0, margin_any=8.0))
    assert (out.outcome, out.candidates) == (Outcome.AMBIGUOUS, ("100000001", "200000002"))


def test_grey_zone_goes_to_review_not_release() -> None:
    grey = replace(STRONG, match_probability=0.95)
    out = decide_request("q", [grey], Thresholds(disclose_probability=0.99, review_probability=0.9))
    assert (out.outcome, out.candidates) == (Outcome.AMBIGUOUS, ("100000001",))
    assert out.evidence.reasons == (Reason.GREY_ZONE,)


def test_below_review_threshold_is_no_match() -> None:
    low = replace(STRONG, match_probability=0.5)
    out = decide_request("q", [low], Thresholds(disclose_probability=0.99, review_probability=0.9))
    assert out.outcome is Outcome.NO_MATCH
    assert out.evidence.reasons == (Reason.BELOW_REVIEW_THRESHOLD,)


def test_blocked_best_is_no_match_and_names_no_one() -> None:
    out = decide_request("q", [replace(STRONG, blocked=True)])
    assert (out.outcome, out.tin, out.candidates) == (Outcome.NO_MATCH, "", ())
    assert out.evidence.reasons == (Reason.DISCLOSURE_BLOCK,)


def test_ties_are_ranked_by_tin_so_the_result_does_not_depend_on_input_order() -> None:
    other = replace(STRONG, tin="000000009")
    assert decide_request("q", [STRONG, other]) == decide_request("q", [other, STRONG])


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="review <= disclose"):
        Thresholds(disclose_probability=0.5, review_probability=0.9)
    with pytest.raises(ValueError, match="margin"):
        Thresholds(margin_any=-1.0)
    with pytest.raises(ValueError, match="margin"):
        Thresholds(margin=2.0, margin_any=3.0)


candidate = st.builds(
    Candidate,
    tin=st.sampled_from(["100000001", "200000002", "300000003", "400000004"]),
    master_id=st.just("x"),
    match_weight=st.floats(-20, 60),
    match_probability=st.floats(0, 1),
    address_agrees=st.booleans(),
    agreeing_address=st.just(""),
    name_agrees=st.booleans(),
    dob=st.sampled_from(list(Agreement)),
    tin_evidence=st.sampled_from(list(Agreement)),
    suffix_conflict=st.booleans(),
    blocked=st.booleans(),
    name_level=st.sampled_from(
        ["exact", "nickname", "close", "typo", "truncated", "initial", "swapped", "none"]
    ),
    given_is_a_known_name=st.booleans(),
    by_second_name=st.booleans(),
    name_compatible=st.booleans(),
)


def _unique_tins(cands: list[Candidate]) -> list[Candidate]:
    seen: dict[str, Candidate] = {}
    for c in cands:
        seen.setdefault(c.tin, c)
    return list(seen.values())


@given(st.lists(candidate, max_size=4).map(_unique_tins))
def test_a_disclosure_always_has_all_the_evidence(cands: list[Candidate]) -> None:
    thresholds = Thresholds()
    out = decide_request("q", cands, thresholds)
    if out.outcome is Outcome.DISCLOSED:
        chosen = next(c for c in cands if c.tin == out.tin)
        assert chosen.address_agrees and chosen.name_agrees and not chosen.blocked
        assert chosen.dob in {Agreement.AGREES, Agreement.ABSENT} and not chosen.suffix_conflict
        assert not chosen.by_second_name
        corroborated = Agreement.AGREES in (chosen.dob, chosen.tin_evidence)
        assert not (
            chosen.name_level == "close" and chosen.given_is_a_known_name and not corroborated
        )
        assert not (chosen.name_level == "typo" and chosen.given_is_a_known_name)
        assert not (
            chosen.name_level == "truncated" and (chosen.given_is_a_known_name or not corroborated)
        )
        assert chosen.match_probability >= thresholds.disclose_probability
        assert all(
            chosen.match_weight - c.match_weight >= thresholds.margin_any or ruled_out(c)
            for c in cands
            if c is not chosen
        )
        assert all(ruled_out(c) for c in cands if c.match_weight > chosen.match_weight)
        assert all(
            chosen.match_weight - c.match_weight >= thresholds.margin
            for c in cands
            if c is not chosen and could_also_be(c, chosen)
        )
        assert out.candidates == ()
    else:
        assert out.tin == ""
    if out.outcome is Outcome.AMBIGUOUS:
        assert out.candidates and not any(c.blocked for c in cands if c.tin in out.candidates)
    assert out.outcome in {Outcome.DISCLOSED, Outcome.NO_MATCH, Outcome.AMBIGUOUS}


# --- rules added for recall (issue #3) -------------------------------------------------------


def test_a_typo_on_a_short_name_that_is_someone_elses_name_is_never_released() -> None:
    # JOAN for JOHN: one edit, but JOAN is a name in the file — even a DOB does not settle it.
    typo = replace(STRONG, name_level="typo", given_is_a_known_name=True)
    out = decide_request("q", [typo])
    assert (out.outcome, out.evidence.reasons) == (
        Outcome.AMBIGUOUS,
        (Reason.GIVEN_NAME_ONLY_CLOSE,),
    )
    agreed = replace(typo, dob=Agreement.AGREES, tin_evidence=Agreement.AGREES)
    assert decide_request("q", [agreed]).outcome is Outcome.AMBIGUOUS
    # LUIX for LUIS: no one is called LUIX.
    assert decide_request("q", [replace(typo, given_is_a_known_name=False)]).outcome is (
        Outcome.DISCLOSED
    )


def test_a_truncated_given_name_needs_corroboration_and_an_unknown_short_form() -> None:
    cut = replace(STRONG, name_level="truncated")
    out = decide_request("q", [cut])
    assert (out.outcome, out.evidence.reasons) == (
        Outcome.AMBIGUOUS,
        (Reason.GIVEN_NAME_TRUNCATED,),
    )
    assert decide_request("q", [replace(cut, dob=Agreement.AGREES)]).outcome is Outcome.DISCLOSED
    assert decide_request("q", [replace(cut, tin_evidence=Agreement.AGREES)]).outcome is (
        Outcome.DISCLOSED
    )
    # JOSE for JOSEFINA with her DOB: JOSE is a name (her twin brother's, maybe).
    known = replace(cut, dob=Agreement.AGREES, given_is_a_known_name=True)
    assert decide_request("q", [known]).outcome is Outcome.AMBIGUOUS


def test_a_higher_scoring_taxpayer_the_request_rules_out_is_looked_past() -> None:
    # HELEN RAMOS-RUIZ outscores TERESA RAMOS on a request for TERESA RAMOS RUIZ
    # (two surname tokens against one), but HELEN is not TERESA.
    helen = replace(
        STRONG, tin="200000002", name_agrees=False, name_compatible=False, match_weight=40.0
    )
    out = decide_request("q", [helen, STRONG])
    assert (out.outcome, out.tin) == (Outcome.DISCLOSED, "100000001")
    assert out.evidence.runner_up == helen and out.margin == pytest.approx(-10.0)
    for contradiction in (
        {"dob": Agreement.CONFLICTS, "name_compatible": True},
        {"suffix_conflict": True, "name_compatible": True},
        {"address_agrees": False, "name_compatible": True},
    ):
        other = replace(helen, **contradiction)  # type: ignore[arg-type]
        assert decide_request("q", [other, STRONG]).outcome is Outcome.DISCLOSED


def test_a_higher_scoring_taxpayer_nothing_rules_out_still_stops_disclosure() -> None:
    # Compatible (a middle name on one record only, a sound-alike): could be the person.
    rival = replace(STRONG, tin="200000002", name_agrees=False, match_weight=40.0)
    out = decide_request("q", [rival, STRONG])
    assert (out.outcome, out.tin) == (Outcome.NO_MATCH, "")
    assert out.evidence.best == rival
    blocked_rival = replace(rival, name_agrees=True, blocked=True)
    assert decide_request("q", [blocked_rival, STRONG]).outcome is Outcome.NO_MATCH
