"""custos against two baselines on one generated world (issue 3, item 7).

    .venv/bin/python benchmarks/bench_baselines.py --taxpayers 100000 --requests 10000 --seed 1
    .venv/bin/python benchmarks/bench_baselines.py --profile aug2025

1. custos: gated requests -> standardise -> link (model trained on the world) -> decide.
2. Splink alone: a plain Splink 5 / DuckDB model (comparison-library levels on first name,
   surname, DOB, ZIP and street; lower-cased and trimmed, nothing else), u by random
   sampling, m by EM; best pair per request; disclose when match_probability >= 0.99.
3. The 2025 rule: name (first + last, case-insensitive) and TIN agree exactly with a
   taxpayer and the address text holds a 5- or 9-digit number; no address comparison.
   Run on every request (no gate, as in 2025) and on the gated ones.

The gate is stood in for by truth.csv (expected_outcome != "rejected"), as in
bench_match.py. Duplicate request ids keep their first row. Wrongful = disclosed
where truth is not `disclosed`, or to a TIN other than the true one.
Wall times are single-process and include whatever else the machine runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from custos.match.decide import candidates_by_request, candidates_table, decide_request
from custos.match.predict import DISABLED_OPTIMIZERS, link
from custos.match.prepare import (
    first_of_each_id,
    read_world,
    standardize_master,
    standardize_requests,
)
from custos.match.training import load_model, train
from custos.model import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_match import OUT, truth_of

SPLINK_DISCLOSE = 0.99
ZIP_OR_ZIP9 = r"\b\d{5}(\d{4})?\b"
Truth = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Row:
    label: str
    requests: int
    disclosable: int
    disclosed: int
    wrongful: int
    seconds: float

    @property
    def correct(self) -> int:
        return self.disclosed - self.wrongful

    @property
    def precision(self) -> float:
        return self.correct / self.disclosed if self.disclosed else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.disclosable if self.disclosable else 1.0


def count(
    label: str, ids: Sequence[str], disclosed: Mapping[str, str], truth: Truth, seconds: float
) -> Row:
    """`disclosed` maps request id -> TIN disclosed to; only ids in `ids` count."""
    disclosable = sum(truth[i]["expected_outcome"] == "disclosed" for i in ids)
    hits = [i for i in ids if i in disclosed]
    wrongful = sum(
        truth[i]["expected_outcome"] != "disclosed" or disclosed[i] != truth[i]["true_tin"]
        for i in hits
    )
    return Row(label, len(ids), disclosable, len(hits), wrongful, seconds)


def print_table(rows: Sequence[Row]) -> None:
    print(
        f"\n{'method':<34} {'requests':>8} {'disclosable':>11} {'disclosed':>9} "
        f"{'wrongful':>8} {'precision':>9} {'recall':>7} {'wall s':>7} {'req/s':>8}"
    )
    for r in rows:
        print(
            f"{r.label:<34} {r.requests:>8,} {r.disclosable:>11,} {r.disclosed:>9,} "
            f"{r.wrongful:>8,} {r.precision:>9.4f} {r.recall:>7.4f} {r.seconds:>7.1f} "
            f"{r.requests / r.seconds if r.seconds else float('inf'):>8,.0f}"
        )


def plain_master(taxpayers: pa.Table, addresses: pa.Table) -> pa.Table:
    """One row per taxpayer-address, lower-cased and trimmed; `current` marks the latest year."""
    con = duckdb.connect()
    con.register("t", taxpayers)
    con.register("a", addresses)
    table: pa.Table = con.sql(
        """
        SELECT 'm' || row_number() OVER (ORDER BY a.tin, a.tax_year, a.street) AS unique_id,
               a.tin,
               nullif(lower(trim(t.first_name)), '') AS first_name,
               nullif(lower(trim(t.last_name)), '') AS surname,
               nullif(trim(t.dob), '') AS dob,
               nullif(lower(trim(a.zip)), '') AS zip,
               nullif(lower(trim(a.street)), '') AS street
        FROM a JOIN t USING (tin)
        """
    ).to_arrow_table()
    return table


def plain_requests(requests: pa.Table) -> pa.Table:
    con = duckdb.connect()
    con.register("q", requests)
    table: pa.Table = con.sql(
        """
        SELECT request_id AS unique_id, NULL::VARCHAR AS tin,
               nullif(lower(trim(first_name)), '') AS first_name,
               nullif(lower(trim(last_name)), '') AS surname,
               nullif(trim(dob), '') AS dob,
               nullif(lower(trim(zip)), '') AS zip,
               nullif(lower(trim(street)), '') AS street
        FROM q
        """
    ).to_arrow_table()
    return table


def splink_settings() -> object:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.LevenshteinAtThresholds("zip", [1]),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("zip"),
            block_on("surname"),
            block_on("substr(dob, 1, 4)", "substr(first_name, 1, 1)"),
        ],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
    )


def splink_alone(requests: pa.Table, master: pa.Table, seed: int) -> pa.Table:
    """Train and predict; one row per request: its best pair (tin, match_probability)."""
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
    con.execute(f"SET disabled_optimizers = '{DISABLED_OPTIMIZERS}'")
    con.execute("SET enable_progress_bar = false")
    db = DuckDBAPI(con)
    left = db.register(requests, table_name="a_requests")
    right = db.register(master, table_name="b_master")
    linker = Linker([left, right], splink_settings(), log_level=None)  # type: ignore[arg-type]
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "zip", "street")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("zip", "street"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "dob"))
    trained = time.perf_counter()
    scored = linker.inference.predict()
    best: pa.Table = con.sql(
        f"""
        SELECT p.unique_id_l AS request_id, m.tin, p.match_probability
        FROM {scored.physical_name} p JOIN {right.physical_name} m ON m.unique_id = p.unique_id_r
        QUALIFY row_number() OVER (
            PARTITION BY p.unique_id_l ORDER BY p.match_probability DESC, m.tin) = 1
        """
    ).to_arrow_table()
    seconds = time.perf_counter() - trained
    print(
        f"Splink alone: {trained - started:.1f} s prepare + train, {seconds:.1f} s predict + "
        f"best pair ({requests.num_rows / seconds:,.0f} req/s)",
        flush=True,
    )
    return best


def rule_2025(requests: pa.Table, taxpayers: pa.Table) -> dict[str, str]:
    """Request id -> TIN where name and TIN agree exactly and a ZIP-like number is present."""
    con = duckdb.connect()
    con.register("q", requests)
    con.register("t", taxpayers)
    rows = con.sql(
        f"""
        SELECT q.request_id, t.tin
        FROM q JOIN t ON trim(q.tin) = t.tin
        WHERE lower(trim(q.first_name)) = lower(trim(t.first_name))
          AND lower(trim(q.last_name)) = lower(trim(t.last_name))
          AND regexp_matches(
                concat_ws(' ', q.street, q.unit, q.city, q.state, q.zip), '{ZIP_OR_ZIP9}')
        """
    ).fetchall()
    return {str(r): str(t) for r, t in rows}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--taxpayers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=("default", "aug2025"), default="default")
    args = parser.parse_args(argv)

    from custos.synth.world import generate

    world = OUT / f"baselines-{args.profile}-{args.taxpayers}-{args.requests}-{args.seed}"
    if not (world / "truth.csv").exists():
        print(f"generating {world}", flush=True)
        generate(
            world,
            taxpayers=args.taxpayers,
            requests=args.requests,
            seed=args.seed,
            profile=args.profile,
        )
    truth = truth_of(world)
    tables = read_world(world)
    assert tables.requests is not None
    every = first_of_each_id(tables.requests)
    all_ids = [str(i) for i in every.column("request_id").to_pylist()]
    passed = pa.array([truth[i]["expected_outcome"] != "rejected" for i in all_ids])
    gated = every.filter(passed)
    gated_ids = [str(i) for i in gated.column("request_id").to_pylist()]
    print(f"world {world}: {len(all_ids):,} requests, {len(gated_ids):,} past the gate")

    started = time.perf_counter()
    master_std = standardize_master(tables.taxpayers, tables.addresses)
    requests_std = standardize_requests(gated)
    model_path = world / "model.json"
    train((requests_std, master_std), model_path)
    trained = time.perf_counter()
    pairs = link(requests_std, master_std, load_model(model_path))
    by_request = candidates_by_request(candidates_table(pairs, requests_std, master_std))
    decisions = [decide_request(i, by_request.get(i, [])) for i in gated_ids]
    custos_end = time.perf_counter()
    custos_seconds = custos_end - started
    custos = {d.request_id: d.tin for d in decisions if d.outcome is Outcome.DISCLOSED}
    print(
        f"custos: {trained - started:.1f} s standardise + train, "
        f"{custos_end - trained:.1f} s link + decide",
        flush=True,
    )

    started = time.perf_counter()
    best = splink_alone(plain_requests(gated), plain_master(tables.taxpayers, tables.addresses), 1)
    splink_end = time.perf_counter()
    probability = {
        str(r["request_id"]): (str(r["tin"]), float(r["match_probability"]))
        for r in best.to_pylist()
    }
    splink = {i: tin for i, (tin, p) in probability.items() if p >= SPLINK_DISCLOSE}

    started_rule = time.perf_counter()
    rule = rule_2025(every, tables.taxpayers)
    rule_seconds = time.perf_counter() - started_rule

    rows = [
        count("custos (train+link+decide)", gated_ids, custos, truth, custos_seconds),
        count("Splink alone p>=0.99 (train+pred)", gated_ids, splink, truth, splink_end - started),
        count("2025 rule, all rows (no gate)", all_ids, rule, truth, rule_seconds),
        count("2025 rule, gated rows", gated_ids, rule, truth, rule_seconds),
    ]
    print_table(rows)
    print(
        f"\nend-to-end throughput (incl. training): custos {len(gated_ids) / rows[0].seconds:,.0f} "
        f"req/s, Splink alone {len(gated_ids) / rows[1].seconds:,.0f} req/s"
    )
    print(
        f"custos link+decide only (model trained beforehand): "
        f"{len(gated_ids) / (custos_end - trained):,.0f} req/s"
    )
    splink_at(probability, gated_ids, truth, rows[0].precision)
    return 0


def splink_at(
    probability: Mapping[str, tuple[str, float]],
    ids: Sequence[str],
    truth: Truth,
    custos_precision: float,
) -> None:
    """Splink's best-pair threshold swept, and its best recall at custos's precision."""
    print("\nSplink alone, other thresholds on the same best pairs")
    for threshold in (0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999):
        chosen = {i: t for i, (t, p) in probability.items() if p >= threshold}
        r = count(f"  p >= {threshold}", ids, chosen, truth, 0.0)
        print(
            f"  p >= {threshold:<8} disclosed {r.disclosed:>7,} wrongful {r.wrongful:>6,} "
            f"precision {r.precision:.4f} recall {r.recall:.4f}"
        )
    ranked = sorted(probability.items(), key=lambda kv: -kv[1][1])
    disclosable = sum(truth[i]["expected_outcome"] == "disclosed" for i in ids)
    correct = best_recall = 0
    threshold = 1.0
    for n, (i, (tin, p)) in enumerate(ranked, start=1):
        t = truth[i]
        correct += t["expected_outcome"] == "disclosed" and tin == t["true_tin"]
        if correct / n >= custos_precision and correct > best_recall:
            best_recall, threshold = correct, p
    print(
        f"Splink alone's best recall at precision >= custos's ({custos_precision:.4f}): "
        f"{best_recall / disclosable if disclosable else 1.0:.4f} (threshold {threshold:.6g}; "
        "ties at the threshold may change it)"
    )


if __name__ == "__main__":
    sys.exit(main())
