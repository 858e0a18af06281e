"""The scaling curve of the batch path: wall time and peak memory against master size.

    .venv/bin/python benchmarks/scaling/bench_scaling.py \\
        --world /work/worlds/s100k --world /work/worlds/s1m --engine duckdb --engine spark \\
        --model /tmp/model.json --batch 10000

For every world and engine, one fresh process runs the batch path on a batch
of `--batch` requests (the world's first, in file order): read the world's
Parquet, standardise the master and the batch, write the standardised master
to Parquet (the file the Spark engine reads), link with the saved model,
decide. The parent samples the resident memory of that process and all its
children (the JVM, for Spark) every 0.2 s; "peak" is the largest sum seen.
Each run appends one JSON line to `--out` (default benchmarks/scaling/runs.jsonl)
and prints it. `--model` is trained on the first world when missing.

`--plot` writes the Vega-Lite spec of the curve (benchmarks/scaling/curve.vl.json)
and prints the 300 M extrapolation from the runs in `--out`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs.jsonl"
SPEC = HERE / "curve.vl.json"
SCRATCH = HERE.parent / "out" / "scaling"
"""Standardised masters, the model and the last run's record (benchmarks/out is not committed)."""
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- one run (child process)


def run_once(
    world: Path,
    engine: str,
    model_path: Path,
    batch: int,
    scratch: Path,
    driver_memory: str,
    reuse_std: bool,
) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from custos.match import decide, link, load_model
    from custos.match.prepare import (
        first_of_each_id,
        read_world,
        standardize_master,
        standardize_requests,
    )

    steps: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        steps[name] = round(time.perf_counter() - started, 2)
        print(f"  {name:<18} {steps[name]:8.1f} s", file=sys.stderr, flush=True)

    total = time.perf_counter()
    t = time.perf_counter()
    tables = read_world(world)
    assert tables.requests is not None
    timed("read", t)
    master_file = scratch / f"{world.name}-master-std.parquet"
    t = time.perf_counter()
    if reuse_std and master_file.exists():
        master = pq.read_table(master_file)
        timed("read_master_std", t)
    else:
        master = standardize_master(tables.taxpayers, tables.addresses)
        timed("standardize_master", t)
        t = time.perf_counter()
        pq.write_table(master, master_file)
        timed("write_master_std", t)
    t = time.perf_counter()
    requests = standardize_requests(first_of_each_id(tables.requests.slice(0, batch)))
    timed("standardize_batch", t)
    model = load_model(model_path)
    if engine == "spark":
        from custos.match.spark import session

        t = time.perf_counter()
        session({"spark.driver.memory": driver_memory})
        timed("spark_start", t)
    t = time.perf_counter()
    pairs = link(requests, master_file if engine == "spark" else master, model, engine=engine)
    timed("link", t)
    t = time.perf_counter()
    decisions = decide(pairs, requests, master)
    timed("decide", t)
    outcomes: dict[str, int] = {}
    for d in decisions:
        outcomes[d.outcome.value] = outcomes.get(d.outcome.value, 0) + 1
    return {
        "world": world.name,
        "engine": engine,
        "taxpayers": tables.taxpayers.num_rows,
        "master_rows": master.num_rows,
        "batch": requests.num_rows,
        "pairs": pairs.num_rows,
        "outcomes": outcomes,
        "steps": steps,
        "wall_s": round(time.perf_counter() - total, 2),
    }


# ---------------------------------------------------------------- parent: memory sampling


def _tree_usage(root: int, cpu: dict[int, int]) -> int:
    """Resident bytes of `root` and every descendant (read from /proc); records each
    one's CPU ticks (user + system) so far in `cpu`."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            ticks[int(entry)] = int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        cpu[pid] = max(cpu.get(pid, 0), ticks.get(pid, 0))
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(args: list[str]) -> tuple[int, float, int, float]:
    """Run the child; return its exit status, wall seconds, peak tree RSS in bytes and
    CPU seconds of the tree (the load-independent figure on a shared machine)."""
    started = time.perf_counter()
    child = subprocess.Popen(args)
    peak = 0
    cpu: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_usage(child.pid, cpu))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    status = child.wait()
    done.set()
    sampler.join()
    return status, time.perf_counter() - started, peak, sum(cpu.values()) / TICK


# ---------------------------------------------------------------- curve and extrapolation


def load_runs(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def fit(runs: list[dict[str, Any]], key: str) -> tuple[float, float] | None:
    """Least squares of log(y) on log(master rows): y = a · n^b; None below two sizes."""
    points = [(math.log(r["master_rows"]), math.log(r[key])) for r in runs if r.get(key)]
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    b = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return math.exp(my - b * mx), b


def vega_lite(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rows = []
    for r in runs:
        rows.append(
            {
                "engine": r["engine"],
                "master_rows": r["master_rows"],
                "metric": "wall time (s)",
                "value": r["wall_s"],
            }
        )
        rows.append(
            {
                "engine": r["engine"],
                "master_rows": r["master_rows"],
                "metric": "peak memory (GiB)",
                "value": round(r["peak_rss_bytes"] / 2**30, 2),
            }
        )
        if r.get("cpu_s"):
            rows.append(
                {
                    "engine": r["engine"],
                    "master_rows": r["master_rows"],
                    "metric": "CPU time (s)",
                    "value": r["cpu_s"],
                }
            )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "custos batch path: one batch against master files of growing size",
        "data": {"values": rows},
        "facet": {"column": {"field": "metric", "type": "nominal", "title": None}},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 300,
            "height": 240,
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {
                    "field": "master_rows",
                    "type": "quantitative",
                    "scale": {"type": "log"},
                    "title": "master rows (taxpayer-addresses)",
                },
                "y": {"field": "value", "type": "quantitative", "scale": {"type": "log"}},
                "color": {"field": "engine", "type": "nominal"},
            },
        },
    }


def plot(path: Path) -> None:
    runs = [r for r in load_runs(path) if r.get("status") == 0]
    SPEC.write_text(json.dumps(vega_lite(runs), indent=1) + "\n")
    print(f"wrote {SPEC}")
    for engine in sorted({r["engine"] for r in runs}):
        mine = [r for r in runs if r["engine"] == engine]
        for key in ("wall_s", "cpu_s", "peak_rss_bytes"):
            fitted = fit(mine, key)
            if fitted is None:
                print(f"{engine}: {key}: fewer than two sizes, no fit")
                continue
            a, b = fitted
            print(f"{engine}: {key} ≈ {a:.3g} · rows^{b:.2f}")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, action="append", default=[])
    parser.add_argument("--engine", action="append", choices=["duckdb", "spark"], default=[])
    parser.add_argument("--model", type=Path, default=SCRATCH / "model.json")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=RUNS)
    parser.add_argument("--driver-memory", default="4g", help="Spark driver memory (local mode)")
    parser.add_argument("--plot", action="store_true")
    parser.add_argument(
        "--reuse-std",
        action="store_true",
        help="read the standardised master an earlier run wrote, instead of standardising again",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    scratch = SCRATCH
    scratch.mkdir(parents=True, exist_ok=True)

    if args.child:
        result = run_once(
            args.world[0],
            args.engine[0],
            args.model,
            args.batch,
            scratch,
            args.driver_memory,
            args.reuse_std,
        )
        print(json.dumps(result), flush=True)
        (scratch / "last.json").write_text(json.dumps(result))
        return
    if args.plot:
        plot(args.out)
        return
    if not args.model.exists():
        from custos.match import train

        info = train(args.world[0], args.model)
        print(f"trained {args.model} on {args.world[0]} in {info.seconds:.1f} s", flush=True)
    for world in args.world:
        for engine in args.engine or ["duckdb"]:
            (scratch / "last.json").unlink(missing_ok=True)
            command = [sys.executable, __file__, "--child", "--world", str(world)]
            command += ["--engine", engine, "--model", str(args.model), "--batch", str(args.batch)]
            command += ["--driver-memory", args.driver_memory]
            command += ["--reuse-std"] if args.reuse_std else []
            status, wall, peak, cpu_s = measure(command)
            last = scratch / "last.json"
            record: dict[str, Any] = json.loads(last.read_text()) if last.exists() else {}
            record |= {
                "world": world.name,
                "engine": engine,
                "status": status,
                "process_s": round(wall, 1),
                "peak_rss_bytes": peak,
                "cpu_s": round(cpu_s, 1),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "load_1m": os.getloadavg()[0],
                "reused_std": args.reuse_std,
            }
            with args.out.open("a") as f:
                f.write(json.dumps(record) + "\n")
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
