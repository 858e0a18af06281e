"""The Spark engine gives the DuckDB engine's pairs and decisions, request by request.

The Spark tests start one local Spark session for the module (two cores, no
UI, one shuffle partition) and are skipped where pyspark or Java is missing.
They compare against whatever `comparisons.py` holds when they run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custos.match import decide, link, load_model, standardize_master, standardize_requests, train
from custos.match.comparisons import COMPARISON_NAMES, comparisons
from custos.match.prepare import STD_SCHEMA, first_of_each_id, read_world
from custos.match.spark import (
    SparkEngineError,
    check_engine,
    duckdb_settings,
    spark_settings,
    to_spark_sql,
)
from custos.match.training import LoadedModel, base_settings

PROBABILITY_TOLERANCE = 1e-9

# ---------------------------------------------------------------- translation (no Spark)


def test_every_level_and_rule_translates_without_duckdb_only_functions() -> None:
    translated = spark_settings(base_settings())
    conditions = [
        level["sql_condition"]
        for comparison in translated["comparisons"]
        for level in comparison["comparison_levels"]
    ]
    conditions += translated["blocking_rules_to_generate_predictions"]
    for sql in conditions:
        lowered = sql.lower()
        for duckdb_only in ("list_", "jaro_winkler_similarity", "len(", "lambda", "regexp_matches"):
            assert duckdb_only not in lowered, sql


def test_list_length_is_size_and_string_length_stays_length() -> None:
    sql = to_spark_sql(
        "len(list_intersect(surname_tokens_l, surname_tokens_r)) >= 1 AND length(given_std_l) = 1"
    )
    assert sql == (
        "SIZE(ARRAY_INTERSECT(surname_tokens_l, surname_tokens_r)) >= 1 AND LENGTH(given_std_l) = 1"
    )


def test_negative_left_drops_characters_rather_than_giving_nothing() -> None:
    assert to_spark_sql("left(given_std_l, -1) = 'MARI'") == (
        "SUBSTRING(given_std_l, 1, LENGTH(given_std_l) - 1) = 'MARI'"
    )


def test_an_unknown_function_is_refused_by_name() -> None:
    with pytest.raises(SparkEngineError, match=r"jaccard\(\)"):
        to_spark_sql("jaccard(given_std_l, given_std_r) >= 0.9")


def test_back_to_duckdb_restores_every_condition() -> None:
    canonical = base_settings()
    assert duckdb_settings(spark_settings(canonical), canonical) == canonical


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(SparkEngineError, match="duckdb, spark"):
        check_engine("postgres")


# ---------------------------------------------------------------- on Spark


def _java_missing() -> bool:
    return shutil.which("java") is None and not Path("/usr/bin/java").exists()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from custos.match.spark import session

    started = session(
        {
            "spark.master": "local[2]",
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "1",
            "spark.default.parallelism": "1",
            "spark.driver.memory": "1g",
        }
    )
    yield started
    started.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from custos.synth.world import generate

    folder = tmp_path_factory.mktemp("spark-world")
    generate(folder, taxpayers=800, requests=200, seed=7)
    return folder


@pytest.fixture(scope="module")
def tables(world: Path) -> tuple[pa.Table, pa.Table]:
    data = read_world(world)
    assert data.requests is not None
    master = standardize_master(data.taxpayers, data.addresses)
    return standardize_requests(first_of_each_id(data.requests)), master


@pytest.fixture(scope="module")
def model(world: Path, tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    path = tmp_path_factory.mktemp("spark-model") / "model.json"
    train(world, path, u_pairs=2e5)
    return load_model(path)


@pytest.mark.spark
@pytest.mark.skipif(_java_missing(), reason="the Spark engine needs Java")
def test_spark_decides_every_request_as_duckdb_does(
    spark: Any, tables: tuple[pa.Table, pa.Table], model: LoadedModel, tmp_path: Path
) -> None:
    requests_std, master_std = tables
    on_duckdb = link(requests_std, master_std, model)
    master_file = tmp_path / "master.parquet"
    pq.write_table(master_std, master_file)
    on_spark = link(requests_std, master_file, model, engine="spark")

    assert on_spark.schema == on_duckdb.schema
    assert on_duckdb.num_rows > requests_std.num_rows
    keys = ["request_id", "master_id", "match_key", *(f"gamma_{n}" for n in COMPARISON_NAMES)]
    assert on_spark.select(keys).to_pylist() == on_duckdb.select(keys).to_pylist()
    for a, b in zip(
        on_duckdb.column("match_probability").to_pylist(),
        on_spark.column("match_probability").to_pylist(),
        strict=True,
    ):
        assert b == pytest.approx(a, abs=PROBABILITY_TOLERANCE)

    expected = decide(on_duckdb, requests_std, master_std)
    got = {d.request_id: d for d in decide(on_spark, requests_std, master_std)}
    assert len(got) == len(expected) == requests_std.num_rows
    assert {d.outcome.value for d in expected} >= {"disclosed", "no_match"}
    for d in expected:
        s = got[d.request_id]
        assert (s.outcome, s.tin, s.candidates) == (d.outcome, d.tin, d.candidates), d.request_id
        assert s.match_probability == pytest.approx(d.match_probability, abs=PROBABILITY_TOLERANCE)


def _levels_sql(translate: bool) -> str:
    """Every comparison's level index, as a CASE over `_l`/`_r` columns."""
    cases = []
    for comparison in comparisons():
        whens = []
        for index, level in enumerate(comparison["comparison_levels"]):
            sql = level["sql_condition"]
            if sql == "ELSE":
                whens.append(f"ELSE {index}")
            else:
                whens.append(f"WHEN {to_spark_sql(sql) if translate else sql} THEN {index}")
        cases.append(f"CASE {' '.join(whens)} END AS {comparison['output_column_name']}")
    return ", ".join(cases)


def _cross_sql(translate: bool) -> str:
    sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in STD_SCHEMA.names)
    return (
        f"SELECT l_id, r_id, {_levels_sql(translate)} FROM "
        f"(SELECT l.unique_id AS l_id, r.unique_id AS r_id, {sides} FROM l CROSS JOIN r)"
        " ORDER BY l_id, r_id"
    )


@pytest.mark.spark
@pytest.mark.skipif(_java_missing(), reason="the Spark engine needs Java")
def test_every_level_agrees_on_unblocked_pairs(
    spark: Any, tables: tuple[pa.Table, pa.Table]
) -> None:
    """Beyond the blocked pairs: names and streets of strangers too, so the string
    similarities (DuckDB's and the Splink jar's) are compared on thousands of values."""
    requests_std, master_std = tables
    left = requests_std.slice(0, 120)
    right = master_std.slice(0, 250)
    con = duckdb.connect()
    con.register("l", left)
    con.register("r", right)
    expected = con.sql(_cross_sql(translate=False)).to_arrow_table().to_pylist()
    from custos.match.spark import frame

    frame(spark, left).createOrReplaceTempView("l")
    frame(spark, right).createOrReplaceTempView("r")
    got = spark.sql(_cross_sql(translate=True)).toArrow().to_pylist()
    assert len(got) == len(expected) == left.num_rows * right.num_rows
    differing = [(e, g) for e, g in zip(expected, got, strict=True) if e != g]
    assert differing == []


@pytest.mark.spark
@pytest.mark.skipif(_java_missing(), reason="the Spark engine needs Java")
def test_a_model_trained_on_spark_keeps_the_duckdb_conditions(
    spark: Any, tables: tuple[pa.Table, pa.Table], tmp_path: Path
) -> None:
    requests_std, master_std = tables
    info = train((requests_std, master_std), tmp_path / "model.json", u_pairs=2e5, engine="spark")
    trained = load_model(tmp_path / "model.json")
    assert trained.sha256 == info.sha256
    canonical = base_settings()
    for saved, source in zip(
        trained.settings["comparisons"], canonical["comparisons"], strict=True
    ):
        conditions = [level["sql_condition"] for level in saved["comparison_levels"]]
        assert conditions == [level["sql_condition"] for level in source["comparison_levels"]]
        weights = [level.get("m_probability") for level in saved["comparison_levels"]]
        assert any(isinstance(w, float) for w in weights)
    pairs = link(requests_std, master_std, trained)
    assert pairs.num_rows > 0
