"""Scoring pairs with a saved model, and measuring blocking rules."""

from __future__ import annotations

import math

import pytest
from match_builders import Person, Place, master, requests

from custos.match import blocking
from custos.match.comparisons import COMPARISON_NAMES, comparisons
from custos.match.predict import link
from custos.match.training import LoadedModel

HOME = Place("1402 Maple St", "62701")
OLD = Place("77 Cedar Ave", "62702", city="Chatham")

PEOPLE = (
    Person("Ana", "Ruiz", tin="123456789", history=((2019, OLD), (2024, HOME))),
    Person("Pedro", "Ruiz", tin="223456789", history=((2024, HOME),)),
    Person("Kim", "Lee", tin="323456789", history=((2024, Place("5 Pine St", "62703")),)),
)


def test_pairs_carry_per_comparison_levels_and_weights(manual_model: LoadedModel) -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME), ("q2", Person("Kim", "Lee"), OLD))
    pairs = link(q, master(*PEOPLE), manual_model)
    for name in COMPARISON_NAMES:
        assert f"gamma_{name}" in pairs.column_names
        assert f"mw_{name}" in pairs.column_names
    rows = pairs.to_pylist()
    assert {r["request_id"] for r in rows} <= {"q1", "q2"}
    best = next(r for r in rows if r["request_id"] == "q1")
    assert best["tin"] == "123456789" and best["master_id"] == "123456789-2024"
    assert best["gamma_given_name"] > 0 and best["mw_house_number"] > 0
    prior = math.log2(1e-5 / (1 - 1e-5))
    for r in rows:  # the review desk can show why: the weights add up to the score
        assert r["match_weight"] == pytest.approx(
            prior + sum(r[f"mw_{n}"] for n in COMPARISON_NAMES)
        )
    weights = [r["match_weight"] for r in rows if r["request_id"] == "q1"]
    assert weights == sorted(weights, reverse=True)


def test_no_master_to_master_pairs(manual_model: LoadedModel) -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME))
    pairs = link(q, master(*PEOPLE), manual_model)
    assert set(pairs.column("request_id").to_pylist()) == {"q1"}
    assert all(m.count("-") >= 1 for m in pairs.column("master_id").to_pylist())


def test_no_requests_gives_an_empty_table(manual_model: LoadedModel) -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME)).slice(0, 0)
    pairs = link(q, master(*PEOPLE), manual_model)
    assert pairs.num_rows == 0
    assert {"request_id", "tin", "match_weight", "gamma_tin", "mw_tin"} <= set(pairs.column_names)


def test_every_comparison_has_a_null_or_else_and_unique_name() -> None:
    names = [c["output_column_name"] for c in comparisons()]
    assert len(names) == len(set(names))
    for comparison in comparisons():
        levels = comparison["comparison_levels"]
        assert levels[-1]["sql_condition"] == "ELSE"
        assert levels[0].get("is_null_level") is True


def test_blocking_counts_add_up() -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME), ("q2", Person("Kim", "Lee"), OLD))
    m = master(*PEOPLE)
    counts = blocking.measure(q, m, blocking.PREDICTION_RULES)
    assert [c.rule for c in counts] == list(blocking.PREDICTION_RULES)
    assert sum(c.marginal_pairs for c in counts) == counts[-1].cumulative_pairs
    assert all(c.pairs >= c.marginal_pairs for c in counts)
    # q1 at HOME meets both people living there by address
    assert counts[0].pairs == 2 + 1  # q1: Ana and Pedro at HOME; q2: Ana's old address
