"""The Spark engine: the same model, blocking and output as the DuckDB engine, on Apache Spark.

The model file always holds DuckDB SQL (what is hashed is what DuckDB
scores). For Spark the saved settings are translated, level by level, with
sqlglot and a few rewrites sqlglot does not know: DuckDB's `len` of a list is
Spark's `size`, `list_bool_or(list_transform(...))` is `exists`, a negative
`left` drops characters, and the string similarities come from the jar Splink
ships (`jaro_winkler`, `damerau_levenshtein`). A function the translator does
not know is refused by name rather than passed through, so a new comparison
cannot silently mean something else on Spark.

pyspark is an optional extra, imported only when the Spark engine is used.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from custos.errors import CustosError
from custos.match.prepare import LIST_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ENGINES: tuple[str, ...] = ("duckdb", "spark")

LOCAL_CONF: dict[str, str] = {
    "spark.master": "local[2]",
    "spark.app.name": "custos",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.memory": "2g",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
"""Used for every key neither `spark-submit --conf` nor spark-defaults.conf sets:
a two-core local session. On a cluster, `spark.master` and the memory and
partition settings come from spark-submit (docs/spark.md)."""

SPARK_FUNCTIONS = {
    "jaro_winkler_similarity": "jaro_winkler",
    "list_intersect": "array_intersect",
    "damerau_levenshtein": "damerau_levenshtein",
}
"""DuckDB functions that sqlglot leaves as they are, and their Spark names
(the similarities are Splink's Scala UDFs, registered by `SparkAPI`)."""

_LIST_RESULTS = (exp.ArrayFilter, exp.Transform, exp.ArraySort, exp.Array)


class SparkEngineError(CustosError):
    """The Spark engine is unavailable (no pyspark, no Java) or cannot run this model."""


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise SparkEngineError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    return engine


# ---------------------------------------------------------------- SQL translation


def _is_list(node: exp.Expr) -> bool:
    if isinstance(node, exp.Column):
        name = node.name
        base = name[:-2] if name.endswith(("_l", "_r")) else name
        return base in LIST_COLUMNS
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower() in ("list_intersect", "array_intersect")
    return isinstance(node, _LIST_RESULTS)


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Length) and _is_list(node.this):
        return exp.Anonymous(this="size", expressions=[node.this])
    if isinstance(node, exp.JarowinklerSimilarity):
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.Left) and isinstance(node.expression, exp.Neg):
        drop = node.expression.this
        text = node.this
        return exp.Substring(
            this=text.copy(),
            start=exp.Literal.number(1),
            length=exp.Sub(this=exp.Length(this=text.copy()), expression=drop.copy()),
        )
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        if name == "list_bool_or":
            (inner,) = node.expressions
            if not isinstance(inner, exp.Transform):
                raise SparkEngineError(
                    "list_bool_or is translated only over list_transform(list, lambda)"
                )
            return exp.Anonymous(this="exists", expressions=[inner.this, inner.expression])
        if name not in SPARK_FUNCTIONS:
            raise SparkEngineError(
                f"no Spark translation for the DuckDB function {name}(); add one to "
                "custos.match.spark before running this model on Spark"
            )
        return exp.Anonymous(this=SPARK_FUNCTIONS[name], expressions=node.expressions)
    return node


def to_spark_sql(duckdb_sql: str) -> str:
    """One DuckDB boolean expression (a level condition or blocking rule) in Spark SQL."""
    if duckdb_sql.strip().upper() == "ELSE":
        return duckdb_sql
    return _translate(sqlglot.parse_one(duckdb_sql, read="duckdb")).sql(dialect="spark")


def _translate(node: exp.Expr) -> exp.Expr:
    """Children first, so a rewritten node's arguments are already in Spark."""
    for child in list(node.iter_expressions()):
        if isinstance(child, exp.Expr):
            child.replace(_translate(child))
    return _rewrite(node)


def spark_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The saved (DuckDB) settings with every condition and blocking rule in Spark SQL."""
    out: dict[str, Any] = copy.deepcopy(dict(settings))
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = to_spark_sql(level["sql_condition"])
    rules = out.get("blocking_rules_to_generate_predictions", [])
    out["blocking_rules_to_generate_predictions"] = [
        _with_rule(rule, to_spark_sql(_rule_sql(rule)), "spark") for rule in rules
    ]
    if "sql_dialect" in out:
        out["sql_dialect"] = "spark"
    return out


def _rule_sql(rule: str | Mapping[str, Any]) -> str:
    return rule if isinstance(rule, str) else str(rule["blocking_rule"])


def _with_rule(rule: str | Mapping[str, Any], sql: str, dialect: str) -> str | dict[str, Any]:
    if isinstance(rule, str):
        return sql
    return {**rule, "blocking_rule": sql, "sql_dialect": dialect}


def duckdb_settings(trained: Mapping[str, Any], canonical: Mapping[str, Any]) -> dict[str, Any]:
    """Settings trained on Spark, with the canonical DuckDB conditions put back.

    The model file is engine-independent: only the trained numbers come from
    Spark; every condition and rule is `canonical`'s, level by level.
    """
    out: dict[str, Any] = copy.deepcopy(dict(trained))
    pairs = zip(out["comparisons"], canonical["comparisons"], strict=True)
    for comparison, original in pairs:
        levels = zip(comparison["comparison_levels"], original["comparison_levels"], strict=True)
        for level, source in levels:
            level["sql_condition"] = source["sql_condition"]
    rules = zip(
        out["blocking_rules_to_generate_predictions"],
        canonical["blocking_rules_to_generate_predictions"],
        strict=True,
    )
    out["blocking_rules_to_generate_predictions"] = [
        _with_rule(rule, _rule_sql(source), "duckdb") for rule, source in rules
    ]
    if "sql_dialect" in out:
        out["sql_dialect"] = "duckdb"
    return out


# ---------------------------------------------------------------- session


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkEngineError(
            "the Spark engine needs pyspark: pip install 'custos-gateway[spark]'"
        ) from None


def session(conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active Spark session, or a new one: `conf`, then spark-submit's, then `LOCAL_CONF`.

    Adds the jar of Splink's string-similarity UDFs to `spark.jars`.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    given = dict(conf or {})
    submitted = _submitted_conf() if os.environ.get("PYSPARK_GATEWAY_PORT") else {}
    builder = SparkSession.builder
    for key, value in {**LOCAL_CONF, **given}.items():
        if key in given or key not in submitted:
            builder = builder.config(key, value)
    jars = [j for j in submitted.get("spark.jars", "").split(",") if j]
    builder = builder.config("spark.jars", ",".join([*jars, similarity_jar_location()]))
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM does not start without Java
        raise SparkEngineError(f"cannot start Spark (is Java 17+ installed?): {exc}") from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _submitted_conf() -> dict[str, str]:
    """What spark-submit (or spark-defaults.conf) set, when it launched this process."""
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()
    return dict(SparkConf().getAll())


def spark_api(spark: SparkSession) -> Any:
    """Splink's Spark backend. Intermediate tables are persisted (memory, spilling to
    local disk) rather than written as Parquet to a checkpoint directory, which
    a cluster would need to share."""
    from splink import SparkAPI

    logging.getLogger("splink").setLevel(logging.ERROR)
    logging.getLogger("py4j").setLevel(logging.ERROR)
    return SparkAPI(spark_session=spark, break_lineage_method="persist")  # type: ignore[no-untyped-call]


def unique_tag() -> str:
    """A suffix for the views one call registers: calls may share a session."""
    import uuid

    return "_" + uuid.uuid4().hex[:12]


@contextmanager
def temporary_views(spark: SparkSession, tag: str) -> Iterator[None]:
    """Drop the session's temporary views whose names end in `tag`, whatever happens."""
    try:
        yield
    finally:
        for table in spark.catalog.listTables():
            if table.isTemporary and table.name.endswith(tag):
                spark.catalog.dropTempView(table.name)


def frame(spark: SparkSession, source: pa.Table | Path) -> DataFrame:
    """A Spark DataFrame from an Arrow table or a Parquet file or folder."""
    if isinstance(source, Path):
        return spark.read.parquet(str(source))
    return spark.createDataFrame(source)
