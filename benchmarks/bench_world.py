"""Time `custos world` generation and report its peak memory.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_world.py --taxpayers 1000000 --requests 100000

Prints wall time, peak resident set size (getrusage), rows written, throughput,
file sizes and the truth counts. Target (issue 2): 10 M taxpayers with 2–6
addresses each within 4 GB RSS.
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import sys
import time
from pathlib import Path

from custos.synth.world import generate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taxpayers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--profile", choices=("default", "aug2025"), default="default")
    parser.add_argument("--chunk-size", type=int, default=200_000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/world"))
    parser.add_argument("--keep", action="store_true", help="keep the generated world")
    args = parser.parse_args()

    if args.out.exists():
        shutil.rmtree(args.out)
    last = [0.0]
    finished: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total:
            finished[stage] = now
        if now - last[0] > 30 or done == total:
            last[0] = now
            print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    summary = generate(
        args.out,
        taxpayers=args.taxpayers,
        requests=args.requests,
        seed=args.seed,
        fmt=args.format,
        profile=args.profile,
        chunk_size=args.chunk_size,
        progress=progress,
    )
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = {p.name: p.stat().st_size for p in sorted(args.out.iterdir())}

    print(f"machine        {platform.machine()} {platform.python_version()}")
    print(f"taxpayers      {summary.taxpayers:,}")
    print(f"address rows   {summary.addresses:,}")
    print(f"requests       {summary.requests:,} ({args.profile}, {args.format})")
    print(f"wall time      {wall:,.1f} s")
    print(f"peak RSS       {peak_mib:,.0f} MiB")
    master_s = finished.get("taxpayers", start) - start
    print(
        f"master file    {master_s:,.1f} s ({summary.taxpayers / max(master_s, 1e-9):,.0f} taxpayers/s)"
    )
    if "requests" in finished:
        req_s = finished["requests"] - finished.get("taxpayers", start)
        print(f"requests+truth {req_s:,.1f} s ({summary.requests / max(req_s, 1e-9):,.0f} rows/s)")
    for name, size in sizes.items():
        print(f"  {name:<18} {size / 2**20:,.1f} MiB")
    n = max(summary.requests, 1)
    for outcome, count in summary.by_outcome.items():
        print(f"truth {outcome:<9} {count:,} ({100 * count / n:.1f} %)")
    if not args.keep:
        shutil.rmtree(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
