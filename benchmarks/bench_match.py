"""Accuracy and throughput of the match stage on generated worlds.

    .venv/bin/python benchmarks/bench_match.py --taxpayers 100000 --requests 10000 --seed 1
    .venv/bin/python benchmarks/bench_match.py --world path/to/world --sweep --blocking

Generates a world (custos.synth.world), trains a model on it, links and
decides every request the gate would pass, and prints: precision, recall of
the truly disclosable, wrongful disclosures (count), missed matches by
cause, and time per step. The gate is stood in for by truth.csv: requests
whose expected outcome is `rejected` are left out, as the gate would.

`--sweep` re-decides the same candidates under a grid of thresholds and
margins (no relinking) — the table docs/matching.md's defaults come from.
`--blocking` prints Splink's comparison counts per candidate blocking rule
and the share of true matches the chosen rules reach. `--cached-master` reads
the standardised master from the world's cache (`prepare.cached_master`),
standardising it only on a miss.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from custos.match import blocking
from custos.match.decide import (
    Candidate,
    MatchDecision,
    Thresholds,
    candidates_by_request,
    candidates_table,
    decide_request,
)
from custos.match.predict import link
from custos.match.prepare import (
    cached_master,
    read_master,
    read_world,
    standardize_master,
    standardize_requests,
)
from custos.match.training import load_model, train
from custos.model import Outcome

OUT = Path(__file__).resolve().parent / "out"


@dataclass
class Timer:
    steps: dict[str, float]

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.steps[name] = time.perf_counter() - started
        print(f"  {name:<22} {self.steps[name]:8.1f} s", flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def truth_of(world: Path) -> dict[str, dict[str, str]]:
    table = duckdb.connect().read_csv(str(world / "truth.csv"), header=True, all_varchar=True)
    return {row["request_id"]: row for row in table.to_arrow_table().to_pylist()}


@dataclass(frozen=True)
class Scores:
    requests: int
    disclosable: int
    disclosed: int
    correct: int
    wrongful: int
    ambiguous: int
    missed_by_cause: Counter[str]
    wrongful_examples: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.correct / self.disclosed if self.disclosed else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.disclosable if self.disclosable else 1.0


def score(decisions: Sequence[MatchDecision], truth: dict[str, dict[str, str]]) -> Scores:
    """Wrongful = disclosed where truth is not `disclosed`, or to a TIN that is not the true one."""
    disclosable = disclosed = correct = wrongful = ambiguous = 0
    missed: Counter[str] = Counter()
    examples: list[str] = []
    for d in decisions:
        t = truth[d.request_id]
        should = t["expected_outcome"] == "disclosed"
        disclosable += should
        ambiguous += d.outcome is Outcome.AMBIGUOUS
        if d.outcome is Outcome.DISCLOSED:
            disclosed += 1
            if should and d.tin == t["true_tin"]:
                correct += 1
            else:
                wrongful += 1
                examples.append(
                    f"{d.request_id} -> {d.tin} (truth {t['expected_outcome']} {t['true_tin']})"
                )
        elif should:
            reasons = ";".join(r.value for r in d.evidence.reasons)
            best = d.evidence.best
            if best is not None and best.tin != t["true_tin"] and reasons != "indistinguishable":
                reasons += " (best is another taxpayer)"
            missed[f"{d.outcome.value}: {reasons}"] += 1
    return Scores(
        requests=len(decisions),
        disclosable=disclosable,
        disclosed=disclosed,
        correct=correct,
        wrongful=wrongful,
        ambiguous=ambiguous,
        missed_by_cause=missed,
        wrongful_examples=tuple(examples[:10]),
    )


def print_scores(label: str, s: Scores) -> None:
    print(f"\n{label}")
    print(f"  requests matched       {s.requests:>9,}")
    print(f"  truly disclosable      {s.disclosable:>9,}")
    print(f"  disclosed              {s.disclosed:>9,}")
    print(f"  wrongful disclosures   {s.wrongful:>9,}")
    print(f"  ambiguous (to review)  {s.ambiguous:>9,}")
    print(f"  precision              {s.precision:>9.4f}")
    print(f"  recall (disclosable)   {s.recall:>9.4f}")
    for example in s.wrongful_examples:
        print(f"    wrongful: {example}")
    if s.missed_by_cause:
        print("  missed matches by cause")
        for cause, n in s.missed_by_cause.most_common():
            print(f"    {n:>7,}  {cause}")


def sweep(
    by_request: dict[str, list[Candidate]], ids: Sequence[str], truth: dict[str, dict[str, str]]
) -> None:
    print("\nthreshold sweep (same candidates, re-decided; review threshold 0.9)")
    print(
        f"  {'disclose_p':>10} {'margin':>6} {'any':>4} {'wrongful':>8} {'recall':>7} {'ambiguous':>9}"
    )
    for disclose_p in (0.99, 0.999, 0.99999):
        for margin in (5.0, 10.0, 15.0, 20.0, 30.0, 40.0, math.inf):
            for margin_any in (0.0, 1.0, 2.0, 5.0):
                if margin_any > margin:
                    continue
                t = Thresholds(
                    disclose_probability=disclose_p,
                    review_probability=0.9,
                    margin=margin,
                    margin_any=margin_any,
                )
                s = score([decide_request(i, by_request.get(i, []), t) for i in ids], truth)
                print(
                    f"  {disclose_p:>10} {margin:>6} {margin_any:>4} {s.wrongful:>8} "
                    f"{s.recall:>7.4f} {s.ambiguous:>9}"
                )


def print_blocking(requests_std: pa.Table, master_std: pa.Table, world: Path) -> None:
    print("\nblocking analysis (request x master-address pairs, exact counts)")
    for rule in blocking.CANDIDATE_RULES:
        (count,) = blocking.measure(requests_std, master_std, [rule])
        print(f"  {count.pairs:>13,}  {rule}")
    print("  chosen rules, in order:")
    for count in blocking.measure(requests_std, master_std, blocking.PREDICTION_RULES):
        print(
            f"  {count.marginal_pairs:>13,} new, {count.cumulative_pairs:>13,} total  {count.rule}"
        )
    truth = (
        duckdb.connect()
        .read_csv(str(world / "truth.csv"), header=True, all_varchar=True)
        .to_arrow_table()
    )
    reach = blocking.recall_of_rules(requests_std, master_std, truth)
    print(f"  share of true (request, taxpayer) pairs reached by the chosen rules: {reach:.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", type=Path, help="use this world instead of generating one")
    parser.add_argument("--taxpayers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--profile", default=None, help="generator profile, if the generator has several"
    )
    parser.add_argument("--model", type=Path, help="use this trained model instead of training one")
    parser.add_argument("--sweep", action="store_true", help="print the threshold/margin sweep")
    parser.add_argument("--blocking", action="store_true", help="print the blocking analysis")
    parser.add_argument(
        "--cached-master",
        action="store_true",
        help="read the standardised master from <world>/.custos-cache (written on a miss)",
    )
    args = parser.parse_args(argv)

    timer = Timer({})
    world = args.world
    if world is None:
        from custos.synth.world import generate

        world = OUT / f"world-{args.taxpayers}-{args.requests}-{args.seed}"
        print(f"generating {world}")
        with timer.step("generate world"):
            extra = {"profile": args.profile} if args.profile else {}
            generate(
                world, taxpayers=args.taxpayers, requests=args.requests, seed=args.seed, **extra
            )
    truth = truth_of(world)
    tables = read_world(world)
    assert tables.requests is not None
    gated = tables.requests.filter(
        pa.array(
            [
                truth[r]["expected_outcome"] != "rejected"
                for r in tables.requests.column("request_id").to_pylist()
            ]
        )
    )
    print(
        f"world {world}: {tables.taxpayers.num_rows:,} taxpayers, {tables.addresses.num_rows:,} addresses, "
        f"{tables.requests.num_rows:,} requests, {gated.num_rows:,} past the gate"
    )

    with timer.step("standardise master"):
        if args.cached_master:
            master_std = read_master(cached_master(world).path)
        else:
            master_std = standardize_master(tables.taxpayers, tables.addresses)
    with timer.step("standardise requests"):
        requests_std = standardize_requests(gated)
    model_path = args.model or world / "model.json"
    if args.model is None:
        with timer.step("train model"):
            info = train((requests_std, master_std), model_path)
        print(
            f"  model {info.sha256[:16]}… trained on {info.master_rows:,} master rows, {info.request_rows:,} requests"
        )
    model = load_model(model_path)
    with timer.step("link (splink)"):
        pairs = link(requests_std, master_std, model)
    with timer.step("decide"):
        cands = candidates_table(pairs, requests_std, master_std)
        by_request = candidates_by_request(cands)
        ids = requests_std.column("unique_id").to_pylist()
        decisions = [decide_request(i, by_request.get(i, [])) for i in ids]
    print(
        f"  pairs scored: {pairs.num_rows:,} ({pairs.num_rows / max(len(ids), 1):.1f} per request)"
    )
    print_scores(f"default thresholds {Thresholds()}", score(decisions, truth))
    match_seconds = timer.steps["link (splink)"] + timer.steps["decide"]
    print(
        f"\nthroughput: {len(ids) / match_seconds:,.0f} requests/s (link + decide), "
        f"peak RSS {peak_rss_mb():,.0f} MB"
    )
    if args.sweep:
        sweep(by_request, ids, truth)
    if args.blocking:
        print_blocking(requests_std, master_std, world)
    return 0


if __name__ == "__main__":
    sys.exit(main())
