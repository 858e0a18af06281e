"""Real-time matching: one request against a master file indexed once on the blocking keys.

The batch path (`link`, then `decide`) scores a whole batch with Splink's
`predict_between`. For one request that costs a Linker, term frequencies
and a scan of the master per call; here the work is done once instead:

* the standardised master goes into a DuckDB table with one key column per
  blocking rule (the rule's columns joined, NULL when any is NULL) and an
  ART index on each, so the rows a rule could pair with a request are an
  index lookup, not a scan;
* the term-frequency tables are computed by the batch path's own
  `register_term_frequencies` and joined to the master once;
* the scoring SQL is generated once by Splink from the trained settings
  (the comparison vectors and `predict` SQL of `predict_between`), over a
  join of the request and its candidates on the OR of the blocking rules.

Per request: standardise it (`standardize_requests`), fetch candidates by
key, score them with Splink's SQL, drop pairs the way `link` does, and call
`decide` on the pairs with the master restricted to what the decision reads
(every address of every candidate, and one bearer of the request's given
name, for `given_is_a_known_name`). Same model, same pairs, same rule: the
decision is the batch path's (tests/match/test_match_lookup.py checks it
request by request).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from custos import disclose
from custos.errors import CustosError
from custos.match.blocking import PREDICTION_RULES
from custos.match.decide import MatchDecision, Thresholds, decide
from custos.match.evidence import candidate_evidence
from custos.match.predict import MIN_WEIGHT, _kept, _shape
from custos.match.prepare import STD_SCHEMA, check_std, requests_table, standardize_requests
from custos.match.training import (
    LEFT_DATASET,
    RIGHT_DATASET,
    TF_COLUMNS,
    LoadedModel,
    register_term_frequencies,
)
from custos.model import DisclosedAddress, Request

_EQUALITY = re.compile(r"\Al\.(\w+) = r\.(\w+)\Z")
KEY_SEPARATOR = "\x1f"
"""Joins a rule's column values into one key; it never occurs in standardised text."""


class IndexBuildError(CustosError):
    """A blocking rule the index cannot serve, or a master the index cannot be built on."""


def rule_columns(rule: str) -> tuple[str, ...]:
    """The columns a blocking rule equates, for rules of the form `l.a = r.a AND l.b = r.b`.

    Any other rule is refused: an index lookup could not find exactly its pairs.
    """
    columns = []
    for part in rule.split(" AND "):
        found = _EQUALITY.match(part.strip())
        if found is None or found[1] != found[2]:
            raise IndexBuildError(f"blocking rule {rule!r} is not a conjunction of l.x = r.x")
        columns.append(found[1])
    return tuple(columns)


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """What building the index took."""

    master_rows: int
    seconds: float
    database_bytes: int


class CandidateIndex:
    """The master file in DuckDB, indexed on the blocking keys, with the model's scoring SQL.

    Thread-safe: each thread queries through its own cursor on the one database.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        model: LoadedModel,
        rules: Sequence[str],
        thresholds: Thresholds,
        info: BuildInfo,
    ) -> None:
        self._con = con
        self.model = model
        self.rules = tuple(rules)
        self.keys = tuple(rule_columns(r) for r in self.rules)
        self.thresholds = thresholds
        self.info = info
        self._scoring_sql = scoring_sql(model, self.rules)
        self._evidence_sql = scoring_sql(model, self.rules, evidence=True)
        self._local = threading.local()

    @classmethod
    def build(
        cls,
        master_std: pa.Table,
        model: LoadedModel,
        *,
        thresholds: Thresholds | None = None,
        addresses: pa.Table | None = None,
        rules: Sequence[str] = PREDICTION_RULES,
        threads: int | None = None,
    ) -> CandidateIndex:
        """Load the standardised master, join term frequencies, index every blocking key.

        `addresses` is the master's raw address history (the world contract's
        columns), kept for `current_address`: what is disclosed is the address
        as the custodian holds it, never its standardised form. `threads` is
        for the build; queries then run on one thread each, as a request's
        few rows gain nothing from more and concurrent requests use the cores.
        """
        check_std(master_std, "master")
        started = time.perf_counter()
        keys = [rule_columns(r) for r in rules]
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        _term_frequencies(con, master_std, model)
        con.register("master_std", master_std)
        key_columns = ", ".join(f"{_key_sql(cols)} AS k{i}" for i, cols in enumerate(keys))
        tf_columns = ", ".join(f"tf_{c}.tf_{c}" for c in TF_COLUMNS)
        tf_joins = " ".join(f"LEFT JOIN tf_{c} USING ({c})" for c in TF_COLUMNS)
        con.execute(
            f"""
            CREATE TABLE master AS
            SELECT m.*, '{RIGHT_DATASET}' AS source_dataset, {tf_columns}, {key_columns}
            FROM master_std m {tf_joins}
            ORDER BY m.tin, m.unique_id
            """
        )
        con.unregister("master_std")
        for i in range(len(keys)):
            con.execute(f"CREATE INDEX master_k{i} ON master (k{i})")
        con.execute("CREATE INDEX master_tin ON master (tin)")
        con.execute(
            """
            CREATE TABLE bearer AS
            SELECT given_std, min(tin) AS tin FROM master
            WHERE given_std IS NOT NULL GROUP BY given_std
            """
        )
        con.execute("CREATE INDEX bearer_given ON bearer (given_std)")
        if addresses is not None:
            con.register("addresses_raw", addresses)
            con.execute("CREATE TABLE addresses AS SELECT * FROM addresses_raw ORDER BY tin")
            con.unregister("addresses_raw")
            con.execute("CREATE INDEX addresses_tin ON addresses (tin)")
        con.execute("SET threads = 1")
        size = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        info = BuildInfo(
            master_rows=master_std.num_rows,
            seconds=time.perf_counter() - started,
            database_bytes=int(size[0]) if size and size[0] is not None else 0,
        )
        return cls(con, model, rules, thresholds or Thresholds(), info)

    def current_address(self, tin: str) -> DisclosedAddress | None:
        """The taxpayer's current address by `disclose.current_addresses`, over their rows only."""
        cursor = self._cursor()
        rows = cursor.sql("SELECT * FROM addresses WHERE tin = $1", params=[tin]).to_arrow_table()
        cursor.register("rt_addresses", rows)
        try:
            return disclose.current_addresses(cursor, "rt_addresses", [tin]).get(tin)
        finally:
            cursor.unregister("rt_addresses")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def standardize(self, request: Request) -> pa.Table:
        """The one-row standardised table of a request, as the batch path standardises it."""
        return standardize_requests(requests_table([request]))

    def match(self, request: Request) -> MatchDecision:
        """The decision on one gated request, as `decide(link(...))` would make it."""
        return self.match_standardized(self.standardize(request))

    def evidence(self, request_std: pa.Table, decision: MatchDecision) -> list[dict[str, Any]]:
        """What the review desk shows for a doubtful decision, from `link`'s full pairs."""
        pairs = self.pairs(request_std, evidence=True)
        found = candidate_evidence(
            pairs, {decision.request_id: decision.candidates}, self.model.settings
        )
        return found.get(decision.request_id, [])

    def match_standardized(self, request_std: pa.Table) -> MatchDecision:
        """The decision on a one-row standardised request table."""
        if request_std.num_rows != 1:
            raise ValueError("match_standardized takes exactly one request")
        pairs = self.pairs(request_std)
        master = self._decision_master(request_std, pairs)
        (decision,) = decide(pairs, request_std, master, self.thresholds)
        return decision

    def candidates(self, request_std: pa.Table) -> pa.Table:
        """Master rows some blocking rule pairs with the request (with key and tf columns)."""
        row = request_std.to_pylist()[0]
        branches, params = [], []
        for i, cols in enumerate(self.keys):
            key = _key_value(row, cols)
            if key is not None:
                branches.append(f"SELECT * FROM master WHERE k{i} = ?")
                params.append(key)
        if not branches:
            return self._cursor().sql("SELECT * FROM master LIMIT 0").to_arrow_table()
        sql = " UNION ALL ".join(branches)
        found: pa.Table = self._cursor().sql(sql, params=params).to_arrow_table()
        return _distinct_ids(found)

    def pairs(self, request_std: pa.Table, *, evidence: bool = False) -> pa.Table:
        """The request's scored pairs after `link`'s `MIN_WEIGHT` filter: the key and score
        columns, or with `evidence` every column `link` returns."""
        check_std(request_std, "request")
        cursor = self._cursor()
        left = _with_request_tf(cursor, request_std)
        right = self.candidates(request_std)
        cursor.register("rt_l", left)
        cursor.register("rt_r", right)
        try:
            if evidence:
                table = _shape(cursor, f"({self._evidence_sql})", MIN_WEIGHT)
            else:
                table = cursor.sql(
                    f"""
                    SELECT unique_id_l AS request_id, unique_id_r AS master_id, tin_r AS tin,
                           match_weight, match_probability, match_key
                    FROM ({self._scoring_sql})
                    WHERE {_kept(MIN_WEIGHT)}
                    ORDER BY request_id, match_weight DESC, master_id
                    """
                ).to_arrow_table()
        finally:
            cursor.unregister("rt_l")
            cursor.unregister("rt_r")
        return table

    def _decision_master(self, request_std: pa.Table, pairs: pa.Table) -> pa.Table:
        """Every address of every candidate taxpayer, and of one bearer of the request's
        given name: all `decide` reads of the master for this request."""
        cursor = self._cursor()
        tins = set(pairs.column("tin").to_pylist())
        given = request_std.column("given_std")[0].as_py()
        if given is not None:
            bearer = cursor.sql(
                "SELECT tin FROM bearer WHERE given_std = $1", params=[given]
            ).fetchall()
            tins.update(tin for (tin,) in bearer)
        columns = ", ".join(STD_SCHEMA.names)
        if not tins:
            empty: pa.Table = cursor.sql(f"SELECT {columns} FROM master LIMIT 0").to_arrow_table()
            return empty.cast(STD_SCHEMA)
        ordered = sorted(tins)
        sql = " UNION ALL ".join(f"SELECT {columns} FROM master WHERE tin = ?" for _ in ordered)
        rows: pa.Table = cursor.sql(sql, params=ordered).to_arrow_table()
        return rows.cast(STD_SCHEMA)


def _key_sql(columns: Sequence[str]) -> str:
    nulls = " OR ".join(f"{c} IS NULL" for c in columns)
    joined = f" || '{KEY_SEPARATOR}' || ".join(columns)
    return f"CASE WHEN {nulls} THEN NULL ELSE {joined} END"


def _key_value(row: dict[str, Any], columns: Sequence[str]) -> str | None:
    values = [row[c] for c in columns]
    if any(v is None for v in values):
        return None
    return KEY_SEPARATOR.join(str(v) for v in values)


def _distinct_ids(table: pa.Table) -> pa.Table:
    ids = table.column("unique_id").to_pylist()
    seen: set[str] = set()
    keep = []
    for uid in ids:
        keep.append(uid not in seen)
        seen.add(uid)
    return table if all(keep) else table.filter(pa.array(keep, pa.bool_()))


def _term_frequencies(
    con: duckdb.DuckDBPyConnection, master_std: pa.Table, model: LoadedModel
) -> None:
    """`tf_<column>` tables computed by the batch path's own `register_term_frequencies`."""
    from splink import DuckDBAPI, Linker

    db = DuckDBAPI(con)
    right = db.register(master_std, table_name=RIGHT_DATASET)
    linker = Linker(right, model.settings, log_level=None)
    register_term_frequencies(
        linker, lambda sql: con.sql(sql).to_arrow_table(), right.physical_name
    )
    for column in TF_COLUMNS:
        con.execute(f"CREATE TABLE tf_{column} AS SELECT * FROM __custos_tf_{column}")
        con.execute(f"CREATE INDEX tf_{column}_value ON tf_{column} ({column})")
    for name in (right.physical_name, *(f"__custos_tf_{c}" for c in TF_COLUMNS)):
        con.unregister(name)


def _with_request_tf(cursor: duckdb.DuckDBPyConnection, request_std: pa.Table) -> pa.Table:
    """The request row with `source_dataset` and its names' master term frequencies."""
    row = request_std.to_pylist()[0]
    table = request_std.append_column("source_dataset", pa.array([LEFT_DATASET], pa.string()))
    for column in TF_COLUMNS:
        value = row[column]
        found = None
        if value is not None:
            hit = cursor.sql(
                f"SELECT tf_{column} FROM tf_{column} WHERE {column} = $1", params=[value]
            ).fetchall()
            found = hit[0][0] if hit else None
        table = table.append_column(f"tf_{column}", pa.array([found], pa.float64()))
    return table


def scoring_sql(model: LoadedModel, rules: Sequence[str], *, evidence: bool = False) -> str:
    """Splink's scoring SQL for the trained settings, over `rt_l` (the request) × `rt_r`.

    The pairs are those `predict_between` blocks (any rule holds), `match_key`
    the first rule that holds; the comparison vectors and the prediction are
    Splink's own SQL. Without `evidence` the intermediate columns are not
    kept (only the score reaches `decide`), which makes the query cheaper to
    plan; with it, every column `link` shapes its pairs from.
    """
    from splink.internals.pipeline import CTEPipeline
    from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings
    from splink.internals.settings_creator import SettingsCreator

    settings = SettingsCreator.from_path_or_dict(dict(model.settings)).get_settings("duckdb")
    settings._retain_matching_columns = True
    settings._retain_intermediate_calculation_columns = evidence
    any_rule = " OR ".join(f"({r})" for r in rules)
    match_key = " ".join(f"WHEN {r} THEN '{i}'" for i, r in enumerate(rules))
    blocking = ", ".join(settings._columns_to_select_for_blocking)
    vectors = ", ".join(settings._columns_to_select_for_comparison_vector_values)
    pipeline = CTEPipeline()
    pipeline.enqueue_sql(
        f"SELECT {blocking}, CASE {match_key} END AS match_key "
        f"FROM rt_l AS l JOIN rt_r AS r ON {any_rule}",
        "blocked_with_cols",
    )
    pipeline.enqueue_sql(
        f"SELECT {vectors} FROM blocked_with_cols", "__splink__df_comparison_vectors"
    )
    pipeline.enqueue_list_of_sqls(predict_from_comparison_vectors_sqls_using_settings(settings))
    return pipeline.generate_cte_pipeline_sql()
