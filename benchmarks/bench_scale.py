"""Time and peak memory of each matching stage on a world folder (issue 3, scale).

    .venv/bin/python benchmarks/bench_scale.py --world /work/worlds/s1m
    .venv/bin/python benchmarks/bench_scale.py --world /work/worlds/w10m --model m.json \\
        --link-chunk 100000 --rss-limit-gb 12

Stages, each timed, with the process's peak RSS so far after each:

1. master: `prepare.cached_master` (streamed into Parquet, cached by the master
   file's hash; `--no-cache` rewrites it), then `read_master` into memory;
2. requests: the world's requests, the gate stood in for by truth.csv
   (`rejected` rows left out), first row per id, `standardize_requests`;
3. train (unless `--model`): `train((requests_std, master_std))`;
4. link: `predict.link`, in chunks of `--link-chunk` requests if given;
5. decide: `candidates_table` and `decide_request` per request.

A watchdog thread samples the process's RSS every half second and stops the
run (exit 3) if it passes `--rss-limit-gb`: the machine is shared. The last
line is one JSON object with every figure, for the results notes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from custos.match.prepare import (
    cached_master,
    first_of_each_id,
    read_master,
    standardize_requests,
    write_master,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_match import truth_of


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def watchdog(limit_mb: float) -> None:
    """Stop the whole process before it takes more than its share of the machine."""

    def run() -> None:
        while True:
            rss = current_rss_mb()
            if rss > limit_mb:
                print(
                    f"\nRSS {rss:,.0f} MB passed the limit {limit_mb:,.0f} MB: stopping", flush=True
                )
                os._exit(3)
            time.sleep(0.5)

    threading.Thread(target=run, daemon=True).start()


class Stages:
    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}

    @contextmanager
    def stage(self, name: str, **extra: Any) -> Iterator[dict[str, Any]]:
        started = time.perf_counter()
        cpu = time.process_time()
        record: dict[str, Any] = dict(extra)
        yield record
        record["seconds"] = round(time.perf_counter() - started, 2)
        record["cpu_seconds"] = round(time.process_time() - cpu, 2)
        record["peak_rss_mb"] = round(peak_rss_mb())
        record["load"] = round(os.getloadavg()[0], 1)
        self.figures[name] = record
        shown = ", ".join(
            f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v}"
            for k, v in record.items()
        )
        print(f"  {name:<18} {shown}", flush=True)


def gated_requests(world: Path) -> pa.Table:
    import duckdb

    from custos.match.prepare import _world_relation

    truth = truth_of(world)
    rel = _world_relation(duckdb.connect(), world, "requests", required=True)
    assert rel is not None
    requests = first_of_each_id(rel.to_arrow_table())
    keep = [
        truth[r]["expected_outcome"] != "rejected"
        for r in requests.column("request_id").to_pylist()
    ]
    return requests.filter(pa.array(keep))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--cache", type=Path, help="cache folder (default <world>/.custos-cache)")
    parser.add_argument("--no-cache", action="store_true", help="standardise the master afresh")
    parser.add_argument("--master-only", action="store_true", help="stop after the master")
    parser.add_argument("--workers", type=int, default=1, help="processes standardising addresses")
    parser.add_argument("--model", type=Path, help="trained model to use instead of training")
    parser.add_argument("--link-chunk", type=int, default=0, help="requests per link call")
    parser.add_argument("--rss-limit-gb", type=float, default=12.0)
    args = parser.parse_args(argv)

    watchdog(args.rss_limit_gb * 1024)
    stages = Stages()
    print(f"world {args.world}, load {os.getloadavg()}", flush=True)
    with stages.stage("master_parquet") as rec:
        if args.no_cache:
            out = (args.cache or Path("/tmp")) / f"master-{os.getpid()}.parquet"
            written = write_master(args.world, out, workers=args.workers)
        else:
            written = cached_master(args.world, args.cache, workers=args.workers)
        rec.update(rows=written.rows, cached=written.cached, path=str(written.path))
    if args.master_only:
        print(json.dumps({"world": str(args.world), **stages.figures}))
        return 0
    with stages.stage("master_read") as rec:
        master_std = read_master(written.path)
        rec.update(rows=master_std.num_rows, arrow_mb=round(master_std.nbytes / 2**20))
    with stages.stage("requests_std") as rec:
        gated = gated_requests(args.world)
        requests_std = standardize_requests(gated)
        rec.update(rows=requests_std.num_rows)

    from custos.match.decide import candidates_by_request, candidates_table, decide_request
    from custos.match.predict import link
    from custos.match.training import load_model, train

    model_path = args.model
    if model_path is None:
        model_path = args.world / ".custos-cache" / "bench-scale-model.json"
        model_path.parent.mkdir(exist_ok=True)
        with stages.stage("train") as rec:
            info = train((requests_std, master_std), model_path)
            rec.update(master_rows=info.master_rows, request_rows=info.request_rows)
    model = load_model(model_path)
    with stages.stage("link") as rec:
        step = args.link_chunk or requests_std.num_rows
        parts = [
            link(requests_std.slice(start, step), master_std, model)
            for start in range(0, requests_std.num_rows, step)
        ]
        pairs = pa.concat_tables(parts, promote_options="permissive")
        rec.update(pairs=pairs.num_rows, chunks=len(parts))
    with stages.stage("decide") as rec:
        by_request = candidates_by_request(candidates_table(pairs, requests_std, master_std))
        ids = requests_std.column("unique_id").to_pylist()
        decisions = [decide_request(i, by_request.get(i, [])) for i in ids]
        outcomes: dict[str, int] = {}
        for d in decisions:
            outcomes[d.outcome.value] = outcomes.get(d.outcome.value, 0) + 1
        rec.update(outcomes=outcomes)
    link_decide = stages.figures["link"]["seconds"] + stages.figures["decide"]["seconds"]
    total = sum(float(f["seconds"]) for f in stages.figures.values())
    print(
        f"\n{len(ids):,} requests: link + decide {len(ids) / link_decide:,.0f} req/s; "
        f"every stage {len(ids) / total:,.0f} req/s; peak RSS {peak_rss_mb():,.0f} MB",
        flush=True,
    )
    print(json.dumps({"world": str(args.world), "requests": len(ids), **stages.figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
