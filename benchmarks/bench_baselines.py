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

Each method's phases are timed separately in the same process (prepare the
master, prepare the requests, train, predict, decide or pick the best
pair), and throughput is printed three ways: everything in the run; model
trained and custos's master read from its cache (`master_key` + Parquet);
model trained and the master in memory (the per-batch work alone).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
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
    master_key,
    read_master,
    read_world,
    standardize_requests,
    write_master,
)
from custos.match.training import load_model, train
from custos.model import Outcome

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_match import OUT, truth_of

SPLINK_DISCLOSE = 0.99
ZIP_OR_ZIP9 = r"\b\d{5}(\d{4})?\b"
Truth = Mapping[str, Mapping[str, str]]


class Laps:
    """Wall and CPU seconds (all threads of this process) per method and phase.

    On a shared machine CPU seconds are the fair comparison: wall time
    follows whatever else was running during each phase.
    """

    def __init__(self) -> None:
        self.wall: dict[str, dict[str, float]] = {"custos": {}, "splink": {}}
        self.cpu: dict[str, dict[str, float]] = {"custos": {}, "splink": {}}
        self.restart()

    def restart(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def lap(self, method: str, phase: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[method][phase] = wall - self._wall
        self.cpu[method][phase] = cpu - self._cpu
        self._wall, self._cpu = wall, cpu


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


def splink_alone(
    gated: pa.Table,
    taxpayers: pa.Table,
    addresses: pa.Table,
    seed: int,
    laps: Laps,
) -> pa.Table:
    """Prepare, train and predict, timing each into `laps`; one row per request: its best pair."""
    from splink import DuckDBAPI, Linker, block_on

    laps.restart()
    requests, master = plain_requests(gated), plain_master(taxpayers, addresses)
    laps.lap("splink", "prepare master")
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
    laps.lap("splink", "train")
    scored = linker.inference.predict()
    best: pa.Table = con.sql(
        f"""
        SELECT p.unique_id_l AS request_id, m.tin, p.match_probability
        FROM {scored.physical_name} p JOIN {right.physical_name} m ON m.unique_id = p.unique_id_r
        QUALIFY row_number() OVER (
            PARTITION BY p.unique_id_l ORDER BY p.match_probability DESC, m.tin) = 1
        """
    ).to_arrow_table()
    laps.lap("splink", "predict")
    return best


def print_phases(phases: Mapping[str, Mapping[str, float]], requests: int, what: str) -> None:
    """Seconds per phase for both methods, and throughput counted three ways.

    Training happens once per model and master standardisation once per
    master file (cached by its hash), so the fair per-batch comparison is
    predict (+ decide) alone; the end-to-end figure includes everything.
    """
    c, s = phases["custos"], phases["splink"]
    print(f"\n{what} seconds per phase (same world, same process)")
    for phase in (
        "prepare master",
        "read cached master",
        "prepare requests",
        "train",
        "predict",
        "decide",
    ):
        print(
            f"  {phase:<20} custos {c.get(phase, 0.0):>8.2f}   Splink alone {s.get(phase, 0.0):>8.2f}"
        )

    def rate(seconds: float) -> str:
        return f"{requests / seconds:>9,.0f} req/s" if seconds else "      inf"

    cold = sum(c[k] for k in ("prepare master", "prepare requests", "train", "predict", "decide"))
    warm = c["read cached master"] + c["prepare requests"] + c["predict"] + c["decide"]
    trained = c["prepare requests"] + c["predict"] + c["decide"]
    print(f"throughput by {what} seconds")
    print(
        f"  everything, master standardised and model trained in the run: custos {rate(cold)}, Splink alone {rate(sum(s.values()))}"
    )
    print(
        f"  model trained, master from the cache: custos {rate(warm)}, Splink alone (prepare + predict) {rate(s['prepare master'] + s['predict'])}"
    )
    print(
        f"  model trained, master in memory (requests + link + decide): custos {rate(trained)}, Splink alone (predict + best pair) {rate(s['predict'])}"
    )


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
    parser.add_argument("--world", type=Path, help="an existing world folder instead")
    args = parser.parse_args(argv)

    from custos.synth.world import generate

    world = args.world or (
        OUT / f"baselines-{args.profile}-{args.taxpayers}-{args.requests}-{args.seed}"
    )
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

    laps = Laps()
    lap = laps.lap
    with tempfile.TemporaryDirectory(prefix="bench-baselines-") as tmp:
        laps.restart()
        written = write_master(world, Path(tmp) / "master.parquet")
        master_std = read_master(written.path)
        lap("custos", "prepare master")
        master_key(world)
        read_master(written.path)
        lap("custos", "read cached master")
    requests_std = standardize_requests(gated)
    lap("custos", "prepare requests")
    model_path = world / "model.json"
    train((requests_std, master_std), model_path)
    lap("custos", "train")
    pairs = link(requests_std, master_std, load_model(model_path))
    lap("custos", "predict")
    by_request = candidates_by_request(candidates_table(pairs, requests_std, master_std))
    decisions = [decide_request(i, by_request.get(i, [])) for i in gated_ids]
    lap("custos", "decide")
    custos = {d.request_id: d.tin for d in decisions if d.outcome is Outcome.DISCLOSED}

    best = splink_alone(gated, tables.taxpayers, tables.addresses, 1, laps)
    probability = {
        str(r["request_id"]): (str(r["tin"]), float(r["match_probability"]))
        for r in best.to_pylist()
    }
    splink = {i: tin for i, (tin, p) in probability.items() if p >= SPLINK_DISCLOSE}
    custos_total = sum(v for k, v in laps.wall["custos"].items() if k != "read cached master")
    splink_total = sum(laps.wall["splink"].values())

    started_rule = time.perf_counter()
    rule = rule_2025(every, tables.taxpayers)
    rule_seconds = time.perf_counter() - started_rule

    rows = [
        count("custos (std+train+link+decide)", gated_ids, custos, truth, custos_total),
        count("Splink alone p>=0.99 (prep+train+pred)", gated_ids, splink, truth, splink_total),
        count("2025 rule, all rows (no gate)", all_ids, rule, truth, rule_seconds),
        count("2025 rule, gated rows", gated_ids, rule, truth, rule_seconds),
    ]
    print_table(rows)
    print_phases(laps.wall, len(gated_ids), "wall")
    print_phases(laps.cpu, len(gated_ids), "CPU")
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
