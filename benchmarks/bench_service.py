"""A bounded load test of `custos serve` on loopback: submit, poll, download, then stop.

Usage:
    .venv/bin/python benchmarks/bench_service.py [--backend sqlite|postgresql]
        [--clients 100] [--seconds 60] [--workers 0] [--rows 10]

Starts a real `custos serve` (uvicorn) on a free 127.0.0.1 port over a
generated world, with the in-process worker (`--workers 0`) or with N
separate `custos worker` processes (`--workers N`, PostgreSQL for N > 1).
Each of `--clients` asyncio clients (httpx2, one API key each, so the
per-key rate limit is not what is measured) loops: submit a batch of
`--rows` requests, poll its progress every 0.5 s until complete, download
its responses. At `--seconds` the clients stop starting batches; batches
still in flight get at most 30 s more, then every process is stopped.

Prints errors (any 5xx, any unexpected status, any transport error),
p50/p99 latency per kind of call, batches completed per minute, and the
end-to-end batch time. On PostgreSQL it creates the database
`custos_bench` (dropped at the end) on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
CUSTOS = [str(Path(sys.executable).with_name("custos"))]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/custos_bench"
AGENCY = "DHS-ICE"
DRAIN_S = 30.0
POLL_S = 0.5


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    submitted: int = 0
    completed: int = 0
    completed_in_window: int = 0
    batch_seconds: list[float] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)

    def error(self, what: str) -> None:
        self.errors[what] += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(
    base: Path, url: str, clients: int
) -> tuple[Path, Path, list[str], list[dict[str, str]]]:
    """World, model, signing key, one requester key per client; the rows batches draw on."""
    from custos.config import load_settings
    from custos.ledger import generate_signing_key, save_signing_key
    from custos.match import train
    from custos.pipeline import cli_actor
    from custos.policy.roster import load_roster
    from custos.service.auth import Role, issue_key
    from custos.store import Agency, open_store, save_agency
    from custos.synth.world import generate

    world, model = base / "world", base / "model.json"
    generate(world, taxpayers=2000, requests=400, seed=11)
    train(world, model)
    settings = load_settings({"CUSTOS_HOME": str(base), "CUSTOS_DATABASE_URL": url})
    save_signing_key(generate_signing_key(settings.ledger_origin), settings.ledger_key_path)
    actor = cli_actor()
    with open_store(url) as opened:
        with opened.write() as conn:
            for a in load_roster(world / "roster.toml").agencies:
                save_agency(conn, Agency(a.id, a.name, a.safeguards_expires))
        keys = [
            issue_key(
                opened, role=Role.REQUESTER, agency=AGENCY, actor=actor.id, origin="bench"
            ).secret_key
            for _ in range(clients)
        ]
    rows = list(csv.DictReader(io.StringIO((world / "requests.csv").read_text())))
    ours = [r for r in rows if r["requesting_official"].startswith("ICE-")]
    return world, model, keys, ours


def batch_body(rows: list[dict[str, str]], client: int, n: int, size: int) -> bytes:
    """`size` rows of the world, renamed so each request id is new to the agency."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    start = (client * 7919 + n * size) % len(rows)
    for i in range(size):
        row = dict(rows[(start + i) % len(rows)])
        row["request_id"] = f"L{client:03d}-{n:05d}-{i:03d}"
        writer.writerow(row)
    return out.getvalue().encode()


async def timed(tally: Tally, kind: str, call: Awaitable[httpx.Response]) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await call
    except httpx.HTTPError as exc:
        tally.error(f"{kind}: {type(exc).__name__}")
        return None
    tally.latencies[kind].append(time.perf_counter() - started)
    if response.status_code >= 500:
        tally.error(f"{kind}: {response.status_code}")
    return response


async def one_client(
    index: int,
    key: str,
    base_url: str,
    rows: list[dict[str, str]],
    size: int,
    window_end: float,
    hard_end: float,
    tally: Tally,
) -> None:
    headers = {
        "Authorization": f"Bearer {key}",
        "X-Certifying-Official": "ICE-0001",
        "X-MOU-Reference": "MOU-BENCH-1",
    }
    limits = httpx.Limits(max_connections=2)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=60, limits=limits
    ) as c:
        n = 0
        while time.monotonic() < window_end:
            body = batch_body(rows, index, n, size)
            n += 1
            started = time.monotonic()
            sent = await timed(
                tally,
                "submit",
                c.post(
                    "/v1/batches",
                    content=body,
                    headers={"Content-Type": "text/csv", "Idempotency-Key": f"{index}-{n}"},
                ),
            )
            if sent is None or sent.status_code != 202:
                if sent is not None and sent.status_code < 500:
                    tally.error(f"submit: {sent.status_code}")
                await asyncio.sleep(POLL_S)
                continue
            tally.submitted += 1
            batch_id = sent.json()["batch_id"]
            while time.monotonic() < hard_end:
                await asyncio.sleep(POLL_S)
                got = await timed(tally, "poll", c.get(f"/v1/batches/{batch_id}"))
                if got is None or got.status_code != 200:
                    if got is not None and got.status_code < 500:
                        tally.error(f"poll: {got.status_code}")
                    continue
                progress = got.json()
                if progress["failed"] and batch_id not in tally.failed:
                    tally.failed.add(batch_id)
                    tally.error("batch failed")
                if progress["complete"]:
                    done = time.monotonic()
                    tally.completed += 1
                    tally.completed_in_window += done <= window_end
                    tally.batch_seconds.append(done - started)
                    answer = await timed(
                        tally, "responses", c.get(f"/v1/batches/{batch_id}/responses")
                    )
                    if answer is not None and answer.status_code != 200:
                        tally.error(f"responses: {answer.status_code}")
                    elif answer is not None and answer.text.count("\n") != size + 1:
                        tally.error("responses: wrong row count")
                    break
            else:
                return


async def drive(
    base_url: str, keys: list[str], rows: list[dict[str, str]], size: int, seconds: float
) -> tuple[Tally, float]:
    tally = Tally()
    started = time.monotonic()
    window_end = started + seconds
    hard_end = window_end + DRAIN_S
    await asyncio.gather(
        *(
            one_client(i, key, base_url, rows, size, window_end, hard_end, tally)
            for i, key in enumerate(keys)
        )
    )
    return tally, time.monotonic() - started


def wait_ready(base_url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"custos serve exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("custos serve did not become ready")


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1] if q < 100 else max(values)
    )


def report(tally: Tally, elapsed: float, args: argparse.Namespace) -> None:
    mode = "in-process worker" if args.workers == 0 else f"{args.workers} x `custos worker`"
    print(
        f"backend {args.backend}, {mode}, {args.clients} clients, {args.seconds:.0f} s window, "
        f"{args.rows} rows per batch, {elapsed:.0f} s in all"
    )
    calls = sum(len(v) for v in tally.latencies.values())
    errors = sum(tally.errors.values())
    print(f"calls {calls}, errors {errors}" + (f" {dict(tally.errors)}" if errors else ""))
    for kind in ("submit", "poll", "responses"):
        ms = [v * 1000 for v in tally.latencies.get(kind, [])]
        if ms:
            print(
                f"  {kind:<9} n={len(ms):<6} p50 {percentile(ms, 50):7.1f} ms"
                f"   p99 {percentile(ms, 99):7.1f} ms"
            )
    per_minute = tally.completed_in_window / (args.seconds / 60)
    print(
        f"batches submitted {tally.submitted}, completed {tally.completed} "
        f"({tally.completed_in_window} within the window): {per_minute:.1f} batches/min, "
        f"{per_minute * args.rows:.0f} rows/min"
    )
    if tally.batch_seconds:
        print(
            f"submit-to-complete p50 {percentile(tally.batch_seconds, 50):.1f} s"
            f"   p99 {percentile(tally.batch_seconds, 99):.1f} s"
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc", sql], check=True
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--rows", type=int, default=10)
    args = parser.parse_args()
    if args.backend == "sqlite" and args.workers > 1:
        parser.error("SQLite takes one worker at a time; use --backend postgresql")
    base = Path(tempfile.mkdtemp(prefix="custos-bench-service-"))
    if args.backend == "postgresql":
        psql("DROP DATABASE IF EXISTS custos_bench")
        psql("CREATE DATABASE custos_bench")
        url = PG_BENCH
    else:
        url = f"sqlite:///{base / 'custos.db'}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        world, model, keys, rows = prepare(base, url, args.clients)
        env = {**os.environ, "CUSTOS_HOME": str(base), "CUSTOS_DATABASE_URL": url}
        port = free_port()
        common = ["--world", str(world), "--model", str(model)]
        log = (base / "serve.log").open("wb")
        serve = [*CUSTOS, "serve", *common, "--port", str(port)]
        if args.workers:
            serve.append("--no-worker")
        processes.append(subprocess.Popen(serve, env=env, cwd=base, stdout=log, stderr=log))
        for _ in range(args.workers):
            processes.append(
                subprocess.Popen(
                    [*CUSTOS, "worker", *common, "--poll", "0.2", "--retry-after", "5"],
                    env=env,
                    cwd=base,
                    stdout=log,
                    stderr=log,
                )
            )
        base_url = f"http://127.0.0.1:{port}"
        wait_ready(base_url, processes[0])
        tally, elapsed = asyncio.run(drive(base_url, keys, rows, args.rows, args.seconds))
        report(tally, elapsed, args)
    finally:
        for process in processes:
            stop(process)
        if args.backend == "postgresql":
            psql("DROP DATABASE IF EXISTS custos_bench")
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
