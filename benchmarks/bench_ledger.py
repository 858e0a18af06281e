"""Ledger throughput: batch append events/s, checkpoint, verify, prove and consistency times.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_ledger.py --events 1000000
    .venv/bin/python benchmarks/bench_ledger.py --events 200000 --url postgresql+psycopg://postgres@127.0.0.1:5432/test

Appends `--events` synthetic events (payloads shaped like the pipeline's:
request id, rule ids, pack hash, and a TIN on disclosures) in transactions of
`--batch` events through the one sequencer, signing a checkpoint after each
`--checkpoint-every` events, as the pipeline does per batch. Then it times a
full `verify`, one `prove` and one `consistency`, and a short run of
single-event appends (one transaction each) for comparison. SQLite scratch
files go under benchmarks/out/; a PostgreSQL URL gets a fresh schema that is
dropped afterwards. Issue 4 target: ≥ 20,000 events/s on SQLite, 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from custos.ledger import (
    EventType,
    NewEvent,
    append,
    append_many,
    checkpoint,
    consistency,
    generate_signing_key,
    list_checkpoints,
    prove,
    request_object,
    verify,
)
from custos.store import Store, open_store
from custos.store.testing import postgres_schema

OUT = Path(__file__).resolve().parent / "out" / "ledger"
PACK = hashlib.sha256(b"irc-6103-i-2@1").hexdigest()
KINDS = (EventType.REQUEST_RECEIVED, EventType.REQUEST_GATED, EventType.REQUEST_DECIDED)


def events(start: int, count: int) -> list[NewEvent]:
    batch = []
    for n in range(start, start + count):
        request_id = f"R{n // 4:09d}"
        kind = EventType.DISCLOSURE_MADE if n % 4 == 3 else KINDS[n % 4]
        payload: dict[str, object] = {
            "request_id": request_id,
            "batch_id": f"B{n // 100_000:05d}",
            "pack_sha256": PACK,
            "rules": ["i2-purpose-criminal", "i2-statute", "i2-reason-specific"],
        }
        if kind is EventType.DISCLOSURE_MADE:
            payload |= {"tin": f"9{n % 10**8:08d}", "fields": ["street", "city", "state", "zip"]}
        batch.append(
            NewEvent(
                "pipeline:bench",
                kind,
                True,
                "cli:bench@host",
                request_object("DHS-ICE", request_id),
                payload,
            )
        )
    return batch


@contextlib.contextmanager
def opened(url: str | None) -> Iterator[Store]:
    if url:
        with postgres_schema(url) as schema_url:
            store = open_store(schema_url)
            try:
                yield store
            finally:
                store.close()
        return
    shutil.rmtree(OUT, ignore_errors=True)
    store = open_store(f"sqlite:///{OUT / 'custos.db'}")
    try:
        yield store
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000, help="single-event appends to time")
    parser.add_argument("--url", help="a PostgreSQL URL (default: SQLite under benchmarks/out)")
    args = parser.parse_args()
    key = generate_signing_key("custos.bench/ledger")

    with opened(args.url) as store:
        print(f"backend: {store.dialect}; events: {args.events:,}; batch: {args.batch:,}")
        append_seconds = checkpoint_seconds = 0.0
        done = 0
        while done < args.events:
            count = min(args.batch, args.events - done)
            batch = events(done, count)
            started = time.perf_counter()
            append_many(store, batch)
            append_seconds += time.perf_counter() - started
            done += count
            if done % args.checkpoint_every == 0 or done == args.events:
                started = time.perf_counter()
                checkpoint(store, key)
                checkpoint_seconds += time.perf_counter() - started
        with store.read() as conn:
            sizes = [c.tree_size for c in list_checkpoints(conn)]
        print(f"batch append: {args.events / append_seconds:,.0f} events/s "
              f"({append_seconds:.1f} s, excluding building the events)")  # fmt: skip
        print(f"checkpoints: {len(sizes)} in {checkpoint_seconds:.2f} s "
              f"({checkpoint_seconds / len(sizes) * 1000:.0f} ms each)")  # fmt: skip

        started = time.perf_counter()
        report = verify(store, key.verifier)
        verify_seconds = time.perf_counter() - started
        print(f"verify: {verify_seconds:.1f} s for {report.events:,} events and "
              f"{report.checkpoints} checkpoints; ok={report.ok}")  # fmt: skip

        started = time.perf_counter()
        bundle = prove(store, f"R{(args.events // 8):09d}", agency="DHS-ICE")
        print(f"prove: {time.perf_counter() - started:.2f} s ({len(bundle.entries)} events)")
        if len(sizes) > 1:
            started = time.perf_counter()
            consistency(store, sizes[0], sizes[-1])
            print(f"consistency {sizes[0]:,}→{sizes[-1]:,}: {time.perf_counter() - started:.2f} s")

        single = events(args.events, args.single)
        started = time.perf_counter()
        for event in single:
            append(store, event)
        seconds = time.perf_counter() - started
        print(f"single-event append (one transaction each): {args.single / seconds:,.0f} events/s")
    if not args.url:
        size = (OUT / "custos.db").stat().st_size
        print(f"SQLite file: {size / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
