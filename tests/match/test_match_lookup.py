"""The candidate index decides each request exactly as `decide(link(...))` does for the batch."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from custos.match import decide, link, load_model
from custos.match.blocking import PREDICTION_RULES
from custos.match.lookup import CandidateIndex, IndexBuildError, rule_columns
from custos.match.prepare import first_of_each_id, read_world, standardize_master
from custos.match.prepare import standardize_requests as standardize_table
from custos.model import Outcome

PAIRS_EVERY = 5
"""Every request's decision is compared; every fifth request's pairs too (they cost a scoring)."""


@pytest.fixture(scope="module")
def tables(small_world: Path) -> tuple[pa.Table, pa.Table]:
    world = read_world(small_world)
    assert world.requests is not None
    master = standardize_master(world.taxpayers, world.addresses)
    return standardize_table(first_of_each_id(world.requests)), master


@pytest.fixture(scope="module")
def index(tables: tuple[pa.Table, pa.Table], small_model: Path) -> CandidateIndex:
    return CandidateIndex.build(tables[1], load_model(small_model), threads=1)


def test_every_request_gets_the_batch_decision_and_the_batch_pairs(
    tables: tuple[pa.Table, pa.Table], small_model: Path, index: CandidateIndex
) -> None:
    requests, master = tables
    pairs = link(requests, master, load_model(small_model))
    batch = decide(pairs, requests, master)
    outcomes = set()
    for i, expected in enumerate(batch):
        one = requests.slice(i, 1)
        got = index.match_standardized(one)
        assert got == expected, expected.request_id
        outcomes.add(got.outcome)
        if i % PAIRS_EVERY == 0:
            mine = index.pairs(one)
            theirs = pairs.filter(pc.equal(pairs.column("request_id"), expected.request_id))
            keys = ["master_id", "match_weight", "match_probability", "match_key"]
            assert mine.select(keys).to_pylist() == theirs.select(keys).to_pylist()
    assert {Outcome.DISCLOSED, Outcome.NO_MATCH} <= outcomes


def test_evidence_is_the_batch_paths_evidence_columns(
    tables: tuple[pa.Table, pa.Table], small_model: Path, index: CandidateIndex
) -> None:
    requests, master = tables
    one = requests.slice(0, 1)
    full = index.pairs(one, evidence=True)
    batch = link(one, master, load_model(small_model))
    assert full.column_names == batch.column_names
    assert full.to_pylist() == batch.to_pylist()


def test_a_request_no_rule_can_pair_has_no_candidate(
    tables: tuple[pa.Table, pa.Table], index: CandidateIndex
) -> None:
    requests, _ = tables
    nothing = requests.slice(0, 1)
    for column in ("zip5", "house_number", "street_name", "surname_first", "given_dm", "tin"):
        position = nothing.schema.get_field_index(column)
        nothing = nothing.set_column(
            position, column, pa.array([None], nothing.schema.field(column).type)
        )
    assert index.candidates(nothing).num_rows == 0
    decision = index.match_standardized(nothing)
    assert decision.outcome is Outcome.NO_MATCH
    assert [r.value for r in decision.evidence.reasons] == ["no_candidate"]


def test_the_chosen_rules_are_all_indexable() -> None:
    assert rule_columns(PREDICTION_RULES[0]) == ("zip5", "house_number")
    assert all(rule_columns(rule) for rule in PREDICTION_RULES)


@pytest.mark.parametrize(
    "rule",
    ["l.zip5 = r.zip5 OR l.tin = r.tin", "levenshtein(l.surname_std, r.surname_std) < 2", ""],
)
def test_a_rule_an_index_cannot_serve_is_refused(rule: str) -> None:
    with pytest.raises(IndexBuildError, match="not a conjunction"):
        rule_columns(rule)
