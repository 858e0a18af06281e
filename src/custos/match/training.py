"""Train the linkage model once, save it as JSON with a content hash, load it back.

Training is an explicit act: `train` estimates u by seeded random sampling
and m by expectation maximisation on the master file and a deterministic
sample of requests, and writes the Splink settings with the trained values.
Every run that uses the model records its hash (`LoadedModel.sha256`), the
sha256 of the canonical JSON of the settings, so a decision can be traced to
the exact parameters that scored it; a file whose settings do not hash to
the recorded value is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa

from custos.errors import CustosError
from custos.match import blocking
from custos.match.comparisons import comparisons
from custos.match.prepare import (
    check_std,
    first_of_each_id,
    read_world,
    standardize_master,
    standardize_requests,
)
from custos.match.spark import check_engine

MODEL_FORMAT = "custos.match.model/1"
LEFT_DATASET = "a_requests"
RIGHT_DATASET = "b_master"
"""Dataset names: Splink's two-dataset link puts the one that sorts first on the left."""
TF_COLUMNS: tuple[str, ...] = ("given_std", "surname_std")

DEFAULT_SEED = 6103
DEFAULT_REQUEST_SAMPLE = 20_000
DEFAULT_U_PAIRS = 1e6

EM_RULES: tuple[str, ...] = (
    blocking.ADDRESS_RULE,
    "l.surname_first = r.surname_first AND l.given_std = r.given_std AND l.state = r.state",
)
"""EM sessions: the first trains the name, DOB and TIN levels on pairs at one
address; the second trains the address levels on namesakes in one state."""

PRIOR_RULES: tuple[str, ...] = (
    "l.given_std = r.given_std AND l.surname_std = r.surname_std "
    "AND l.house_number = r.house_number AND l.zip5 = r.zip5",
)
PRIOR_RECALL = 0.6
"""The prior (probability that a random request-address pair matches) is the
share of pairs agreeing exactly on full name and address, scaled up by the
assumed share of true pairs that agree that exactly (the rest differ by a
typo, a nickname or a move). It only shifts every match weight by the same
constant; the decision thresholds are measured against it."""


class ModelFileError(CustosError):
    """A model file that is missing, not a custos model, or whose hash does not match."""


class LoadedModel(NamedTuple):
    """Trained Splink settings and the sha256 that identifies them."""

    settings: dict[str, Any]
    sha256: str


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What `train` wrote and from what."""

    path: Path
    sha256: str
    master_rows: int
    request_rows: int
    seconds: float


def base_settings() -> dict[str, Any]:
    """The untrained model: link requests to master addresses, our comparisons and blocking."""
    return {
        "link_type": "link_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons(),
        "blocking_rules_to_generate_predictions": list(blocking.PREDICTION_RULES),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


def canonical_json(settings: Mapping[str, Any]) -> str:
    return json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def model_hash(settings: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no whitespace) of the settings."""
    return hashlib.sha256(canonical_json(settings).encode("ascii")).hexdigest()


def register_term_frequencies(
    linker: Any, sql: Callable[[str], Any], master: str, *, tag: str = ""
) -> None:
    """Name frequencies among distinct taxpayers, not address rows.

    A taxpayer with six addresses would otherwise count six times. Computed
    from the master file alone, in training and in prediction alike. `sql`
    runs a query on the linker's engine and returns a table it can register;
    the lookups are registered as `__custos_tf_<column><tag>`.
    """
    db = linker._db_api
    for column in TF_COLUMNS:
        table = sql(
            f"""
            SELECT {column}, count(*) / sum(count(*)) OVER () AS tf_{column}
            FROM (SELECT DISTINCT tin, {column} FROM {master} WHERE {column} IS NOT NULL)
            GROUP BY {column}
            """
        )
        frame = db.register(table, table_name=f"__custos_tf_{column}{tag}")
        linker.table_management.register_term_frequency_lookup(frame, column)


def sample_requests(requests_std: pa.Table, limit: int) -> pa.Table:
    """The same requests every time: the `limit` smallest md5s of the request id."""
    if requests_std.num_rows <= limit:
        return requests_std
    con = duckdb.connect()
    con.register("r", requests_std)
    table: pa.Table = con.sql(
        f"SELECT * FROM r ORDER BY md5(unique_id), unique_id LIMIT {int(limit)}"
    ).to_arrow_table()
    return table


def train(
    source: Path | tuple[pa.Table, pa.Table],
    out_path: Path,
    *,
    seed: int = DEFAULT_SEED,
    request_sample: int = DEFAULT_REQUEST_SAMPLE,
    u_pairs: float = DEFAULT_U_PAIRS,
    engine: str = "duckdb",
) -> ModelInfo:
    """Train on a world folder, or on `(requests_std, master_std)`, and save to `out_path`.

    Deterministic: the same inputs, seed and engine give the same file and
    hash. The engines sample pairs for u differently, so a model trained on
    Spark is a different model (with the same DuckDB conditions) than one
    trained on DuckDB.
    """
    check_engine(engine)
    started = time.perf_counter()
    if isinstance(source, Path):
        world = read_world(source)
        if world.requests is None:
            raise ModelFileError(f"{source}: training needs requests.csv (a sample of requests)")
        master_std = standardize_master(world.taxpayers, world.addresses)
        requests_std = standardize_requests(first_of_each_id(world.requests))
    else:
        requests_std, master_std = source
    check_std(master_std, "master")
    check_std(requests_std, "requests")
    if requests_std.num_rows == 0 or master_std.num_rows == 0:
        raise ModelFileError("training needs at least one request and one master row")
    requests_used = sample_requests(requests_std, request_sample)
    fit = _fit_spark if engine == "spark" else _fit
    settings = fit(requests_used, master_std, seed=seed, u_pairs=u_pairs)
    digest = write_model(settings, out_path)
    return ModelInfo(
        path=out_path,
        sha256=digest,
        master_rows=master_std.num_rows,
        request_rows=requests_used.num_rows,
        seconds=time.perf_counter() - started,
    )


def _fit(
    requests_std: pa.Table, master_std: pa.Table, *, seed: int, u_pairs: float
) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(con)
    left = db.register(requests_std, table_name=LEFT_DATASET)
    right = db.register(master_std, table_name=RIGHT_DATASET)
    linker = Linker([left, right], base_settings(), log_level=None)
    register_term_frequencies(
        linker, lambda sql: con.sql(sql).to_arrow_table(), right.physical_name
    )
    settings = _estimate(linker, PRIOR_RULES, EM_RULES, seed=seed, u_pairs=u_pairs)
    return complete_untrained(settings, u_pairs)


def _fit_spark(
    requests_std: pa.Table, master_std: pa.Table, *, seed: int, u_pairs: float
) -> dict[str, Any]:
    """The same estimation on Spark, with the conditions translated; saved as DuckDB SQL."""
    from splink import Linker

    from custos.match import spark

    session = spark.session()
    db = spark.spark_api(session)
    tag = spark.unique_tag()
    with spark.temporary_views(session, tag):
        left = db.register(spark.frame(session, requests_std), table_name=LEFT_DATASET + tag)
        right = db.register(spark.frame(session, master_std), table_name=RIGHT_DATASET + tag)
        canonical = base_settings()
        linker = Linker([left, right], spark.spark_settings(canonical), log_level=None)
        register_term_frequencies(linker, session.sql, right.physical_name, tag=tag)
        prior = tuple(spark.to_spark_sql(rule) for rule in PRIOR_RULES)
        em = tuple(spark.to_spark_sql(rule) for rule in EM_RULES)
        trained = _estimate(linker, prior, em, seed=seed, u_pairs=u_pairs)
    return complete_untrained(spark.duckdb_settings(trained, canonical), u_pairs)


def _estimate(
    linker: Any, prior: Sequence[str], em: Sequence[str], *, seed: int, u_pairs: float
) -> dict[str, Any]:
    _quiet_splink()
    linker.training.estimate_probability_two_random_records_match(list(prior), recall=PRIOR_RECALL)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=u_pairs, seed=seed, min_count_per_level=None, num_chunks=1
    )
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    settings: dict[str, Any] = linker.misc.save_model_to_json()
    return settings


def _quiet_splink() -> None:
    """Splink logs every iteration at INFO; the CLI shows its own progress."""
    logging.getLogger("splink").setLevel(logging.ERROR)


def complete_untrained(settings: dict[str, Any], u_pairs: float) -> dict[str, Any]:
    """Fill the levels training could not estimate, conservatively.

    - u never observed among `u_pairs` random pairs (two random people sharing
      a TIN): u = 1 / u_pairs, an upper bound, so the level's weight is
      positive but no larger than the sample can support;
    - m never observed in EM (or neither observed): m = u, a weight of
      exactly zero — no evidence either way, rather than Splink's defaults.

    Also drops the per-run `linker_uid` and rounds every probability to
    `SIGNIFICANT_DIGITS`, so that the same training gives the same hash
    (DuckDB's parallel sums differ in the last bits from run to run).
    """
    out: dict[str, Any] = json.loads(json.dumps(settings))
    out.pop("linker_uid", None)
    out["probability_two_random_records_match"] = _round(
        out["probability_two_random_records_match"]
    )
    bound = 1.0 / u_pairs
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            has_m, has_u = isinstance(m, float), isinstance(u, float)
            if has_m and not has_u:
                level["u_probability"] = bound
            elif has_u and not has_m:
                level["m_probability"] = u
            elif not has_m and not has_u:
                level["m_probability"] = level["u_probability"] = bound
            level["m_probability"] = _round(level["m_probability"])
            level["u_probability"] = _round(level["u_probability"])
    return out


SIGNIFICANT_DIGITS = 9


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def write_model(settings: Mapping[str, Any], out_path: Path) -> str:
    """Write the model file (settings plus their hash); return the hash."""
    from splink import __version__ as splink_version

    digest = model_hash(settings)
    document = {
        "format": MODEL_FORMAT,
        "sha256": digest,
        "splink_version": splink_version,
        "settings": settings,
    }
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    return digest


def load_model(path: Path) -> LoadedModel:
    """Read a model file and check that its settings still hash to the recorded value."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(
            f"{path}: no such model file; train one with `custos model train`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: not a readable JSON model file ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"{path}: not a custos match model (format {MODEL_FORMAT} expected)")
    settings = document.get("settings")
    if not isinstance(settings, dict):
        raise ModelFileError(f"{path}: the model has no settings")
    digest = model_hash(settings)
    if digest != document.get("sha256"):
        raise ModelFileError(
            f"{path}: settings hash to {digest[:12]}…, the file records "
            f"{str(document.get('sha256'))[:12]}…; the model was altered after training"
        )
    return LoadedModel(settings=settings, sha256=digest)
