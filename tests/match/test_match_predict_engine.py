"""`link`'s engine and master-file options, on DuckDB (the Spark side is test_match_spark.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from match_builders import Person, Place, master, requests

from custos.match.predict import link
from custos.match.spark import SparkEngineError
from custos.match.training import LoadedModel

HOME = Place("1402 Maple St", "62701")
PEOPLE = (
    Person("Ana", "Ruiz", tin="123456789", history=((2024, HOME),)),
    Person("Pedro", "Ruiz", tin="223456789", history=((2024, HOME),)),
)


def test_a_parquet_master_scores_as_the_table_does(
    manual_model: LoadedModel, tmp_path: Path
) -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME))
    table = master(*PEOPLE)
    pq.write_table(table, tmp_path / "master.parquet")
    from_file = link(q, tmp_path / "master.parquet", manual_model)
    assert from_file.num_rows == 2
    assert from_file.equals(link(q, table, manual_model))


def test_an_unknown_engine_is_refused_before_any_work(manual_model: LoadedModel) -> None:
    q = requests(("q1", Person("Ana", "Ruiz"), HOME))
    with pytest.raises(SparkEngineError, match="unknown engine 'postgres'"):
        link(q, master(*PEOPLE), manual_model, engine="postgres")
