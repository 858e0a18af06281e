"""Real-time verification: index build time and memory, then per-request latency.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_verify.py --world DIR --model MODEL.json
    .venv/bin/python benchmarks/bench_verify.py --world DIR --model M.json --requests 500

Builds the candidate index on the world's master file (standardising it
first, timed separately), then sends the world's first `--requests` distinct
requests one at a time through `realtime.Verifier.verify` on a fresh SQLite
store (WAL, synchronous FULL), and prints p50/p90/p99/max of:

* `verify`: the whole call, gate → match → decide → disclose → commit;
* `match`: the matching alone (standardise, candidates, score, decide);
* CPU: the calling thread's CPU time for `verify` (on a shared machine the
  wall clock includes waiting for a core; this does not).

Issue 7 target: p99 ≤ 50 ms on a 10 M-taxpayer master on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from custos import pipeline, realtime
from custos.config import Settings
from custos.intake import read_batch
from custos.ledger import generate_signing_key, save_signing_key
from custos.match import load_model, train
from custos.match.lookup import CandidateIndex
from custos.policy.pack import load_pack
from custos.policy.roster import load_roster


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _quantiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):7.1f}  p90 {at(0.90):7.1f}  p99 {at(0.99):7.1f}  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True, help="trained here if missing")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="DuckDB threads of the index")
    args = parser.parse_args(argv)

    if not args.model.exists():
        started = time.perf_counter()
        train(args.world, args.model)
        print(f"trained the model in {time.perf_counter() - started:.1f} s")
    model = load_model(args.model)

    started = time.perf_counter()
    master = pipeline.Master.from_world(args.world)
    print(f"read the world in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    master_std = master.standardized
    print(
        f"standardised {master_std.num_rows:,} master rows in "
        f"{time.perf_counter() - started:.1f} s (peak RSS {_rss_gib():.2f} GiB)"
    )

    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        home = Path(tmp)
        key = home / "ledger.key"
        save_signing_key(generate_signing_key("bench/ledger"), key)
        settings = Settings(
            home=home,
            database_url=f"sqlite:///{home / 'custos.db'}",
            ledger_key_path=key,
            ledger_origin="bench/ledger",
        )
        roster = args.world / "roster.toml"
        gw = pipeline.open_gateway(
            pack=load_pack(),
            roster=load_roster(roster),
            model=model,
            master=master,
            actor=pipeline.Actor("bench", "bench"),
            settings=settings,
        )
        started = time.perf_counter()
        index = CandidateIndex.build(
            master_std,
            model,
            thresholds=gw.thresholds,
            addresses=master.addresses,
            threads=args.threads,
        )
        print(
            f"built the index in {time.perf_counter() - started:.1f} s; DuckDB holds "
            f"{index.info.database_bytes / 2**30:.2f} GiB; peak RSS {_rss_gib():.2f} GiB"
        )
        verifier = realtime.Verifier(gw, index)
        requests = read_batch(_requests_file(args.world), agency="").requests
        seen: set[str] = set()
        chosen = []
        for r in requests:
            if r.request_id not in seen:
                seen.add(r.request_id)
                chosen.append(r)
            if len(chosen) == args.requests:
                break
        agency = gw.roster.agencies[0].id
        verifier.verify(chosen[0], agency=agency)  # warms the gate's ZIP table and the cursor
        walls, cpus, matches, outcomes = [], [], [], {}
        for r in chosen[1:]:
            wall, cpu = time.perf_counter(), time.thread_time()
            answer = verifier.verify(r, agency=agency)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            outcome = answer.result.decision.outcome.value
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for r in chosen[1:]:
            std = index.standardize(r)
            wall = time.perf_counter()
            index.match_standardized(std)
            matches.append(time.perf_counter() - wall)
        gw.store.close()
    print(f"{len(walls)} requests one at a time: {outcomes}")
    print(f"verify       {_quantiles(walls)}")
    print(f"verify CPU   {_quantiles(cpus)}")
    print(f"match alone  {_quantiles(matches)} (without standardising the request)")
    return 0


def _requests_file(world: Path) -> Path:
    for name in ("requests.csv", "requests.parquet", "requests.jsonl"):
        if (world / name).exists():
            return world / name
    raise SystemExit(f"{world} has no requests file")


if __name__ == "__main__":
    sys.exit(main())
