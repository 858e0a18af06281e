"""Score requests against the master file with a saved model, without retraining.

Uses Splink 5's `predict_between`: pairs are only ever request × master
address, never master × master, and the model's parameters are used as
saved. Term frequencies come from the master file (distinct taxpayers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from custos.match.comparisons import COMPARISON_NAMES
from custos.match.prepare import check_std
from custos.match.spark import check_engine
from custos.match.training import (
    LEFT_DATASET,
    RIGHT_DATASET,
    LoadedModel,
    register_term_frequencies,
)

MIN_WEIGHT = -10.0
"""Pairs below this match weight are dropped from the output, unless the house
numbers agree: such a pair may be a rival at the requester's address, whom
the decision must see however badly the model scores them."""

DISABLED_OPTIMIZERS = "join_order"
"""DuckDB 2.0 reorders the last join of Splink's `predict_between` blocking
(pairs ⋈ requests ⋈ master) into a cross product of requests and master,
which is quadratic: 5 s instead of 0.06 s on a 20 k-taxpayer world, hours on
a national one. Splink writes its joins in a sensible order, so the link's
own connection keeps them as written."""


def link(
    requests_std: pa.Table,
    master_std: pa.Table | Path,
    model: LoadedModel | Mapping[str, Any],
    *,
    min_weight: float = MIN_WEIGHT,
    engine: str = "duckdb",
) -> pa.Table:
    """Request × master-address pairs with their scores and the per-comparison evidence.

    Columns: `request_id`, `master_id` (the master row's unique id), `tin`
    (the master taxpayer's), `match_weight`, `match_probability`,
    `match_key` (which blocking rule found the pair), then for every
    comparison `gamma_<name>` (the level) and `mw_<name>` (its weight, in
    bits), and the `_l`/`_r` values compared. Sorted by request, best first.

    `engine` is "duckdb" (in process) or "spark" (the active Spark session,
    or a local one; see `custos.match.spark`). Both give the same table for
    the same inputs. `master_std` may be a Parquet file of the standardised
    master, which Spark reads itself rather than through this process.
    """
    check_engine(engine)
    check_std(requests_std, "requests")
    if isinstance(master_std, pa.Table):
        check_std(master_std, "master")
    settings = model.settings if isinstance(model, LoadedModel) else dict(model)
    if requests_std.num_rows == 0:
        return empty_pairs()
    logging.getLogger("splink").setLevel(logging.ERROR)
    if engine == "spark":
        scored = _score_spark(requests_std, master_std, settings, min_weight)
        con = duckdb.connect()
        con.register("scored", scored)
        return _shape(con, "scored", min_weight)
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    con.execute(f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")
    con.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(con)
    master = master_std if isinstance(master_std, pa.Table) else _read_parquet(master_std)
    left = db.register(requests_std, table_name=LEFT_DATASET)
    right = db.register(master, table_name=RIGHT_DATASET)
    linker = Linker(right, settings, log_level=None)
    register_term_frequencies(
        linker, lambda sql: con.sql(sql).to_arrow_table(), right.physical_name
    )
    pairs = linker.inference.predict_between(left, right, warning_mode="never")
    return _shape(con, pairs.physical_name, min_weight)


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    table: pa.Table = pq.read_table(path)
    return table


def _shape(con: duckdb.DuckDBPyConnection, scored: str, min_weight: float) -> pa.Table:
    """Splink's scored pairs as `link` promises them; both engines end here."""
    mw = ", ".join(f"mw_{name}" for name in COMPARISON_NAMES)
    gamma = ", ".join(f"gamma_{name}" for name in COMPARISON_NAMES)
    table: pa.Table = con.sql(
        f"""
        SELECT unique_id_l AS request_id, unique_id_r AS master_id, tin_r AS tin,
               match_weight, match_probability, match_key, {gamma}, {mw},
               COLUMNS(lambda c: ((ends_with(c, '_l') OR ends_with(c, '_r'))
                                  AND c NOT IN ('unique_id_l', 'unique_id_r',
                                                'source_dataset_l', 'source_dataset_r'))
                                 OR starts_with(c, 'mw_tf_adj_'))
        FROM {scored}
        WHERE {_kept(min_weight)}
        ORDER BY request_id, match_weight DESC, master_id
        """
    ).to_arrow_table()
    return table


def _kept(min_weight: float) -> str:
    return f"(match_weight >= {float(min_weight)} OR house_number_l = house_number_r)"


def _score_spark(
    requests_std: pa.Table,
    master_std: pa.Table | Path,
    settings: Mapping[str, Any],
    min_weight: float,
) -> pa.Table:
    """Score on Spark with the translated settings; only the kept pairs come back, as Arrow."""
    from splink import Linker

    from custos.match import spark

    session = spark.session()
    db = spark.spark_api(session)
    master = spark.frame(session, master_std)
    if isinstance(master_std, Path):
        check_std(pa.table({c: pa.array([]) for c in master.columns}), f"master {master_std}")
    tag = spark.unique_tag()
    with spark.temporary_views(session, tag):
        left = db.register(spark.frame(session, requests_std), table_name=LEFT_DATASET + tag)
        right = db.register(master, table_name=RIGHT_DATASET + tag)
        linker = Linker(right, spark.spark_settings(settings), log_level=None)
        register_term_frequencies(linker, session.sql, right.physical_name, tag=tag)
        pairs = linker.inference.predict_between(left, right, warning_mode="never")
        kept = session.sql(f"SELECT * FROM {pairs.physical_name} WHERE {_kept(min_weight)}")
        table: pa.Table = kept.toArrow()
        pairs.drop_table_from_database_and_remove_from_cache()
    return table


def empty_pairs() -> pa.Table:
    """The shape of `link`'s output with no rows (key and score columns only)."""
    fields = [
        ("request_id", pa.string()),
        ("master_id", pa.string()),
        ("tin", pa.string()),
        ("match_weight", pa.float64()),
        ("match_probability", pa.float64()),
        ("match_key", pa.string()),
    ]
    fields += [(f"gamma_{n}", pa.int32()) for n in COMPARISON_NAMES]
    fields += [(f"mw_{n}", pa.float64()) for n in COMPARISON_NAMES]
    return pa.schema(fields).empty_table()
