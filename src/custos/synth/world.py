"""`generate`: write a whole synthetic world to a folder.

The master file is streamed block by block and written chunk by chunk, so a
world of 10 M taxpayers fits in a few GB. While it streams, the generator keeps
only (1) the people the planned requests name, with their households, and
(2) one 64-bit word per address row and surname on file — a hash of the
building and the surname packed with the taxpayer's index — so that every
request's building can be looked up afterwards to find everyone who ever lived
there under a surname the request shows (nobody else could fit it). That lookup is what makes the
truth labels exact: a request is `ambiguous` or `no_match` because of who
actually shares its building, not by assumption.

Same arguments, same bytes: every random stream is keyed by (seed, stream,
block). CSV output does not depend on `chunk_size` at all; Parquet output has
the same rows, with row groups that follow the chunk size.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from custos.synth.addresses import splitmix
from custos.synth.names import tables
from custos.synth.people import BLOCK_SIZE, JR, NAMESAKE, SR, TWIN, Block, Person, generate_block
from custos.synth.rand import STREAM_FRESH, STREAM_MASTER
from custos.synth.requests import (
    AGENCY,
    COLUMNS,
    PROFILES,
    REQUEST_BLOCK,
    People,
    Plan,
    Row,
    build_block,
    plan_requests,
)
from custos.synth.tins import MAX_PEOPLE, tin_numbers

Progress = Callable[[str, int, int], None]
TRUTH_COLUMNS = ("request_id", "expected_outcome", "expected_reason", "true_tin")
OUTCOMES = ("rejected", "disclosed", "no_match", "ambiguous")
_FLUSH_ROWS = 65_536
HARD_ROLES = (SR, JR, TWIN, NAMESAKE)


@dataclass(frozen=True, slots=True)
class WorldSummary:
    """Counts of what was written."""

    taxpayers: int
    addresses: int
    requests: int
    rejected: int
    disclosed: int
    no_match: int
    ambiguous: int

    @property
    def by_outcome(self) -> dict[str, int]:
        return {o: int(getattr(self, o)) for o in OUTCOMES}


class _Writer:
    """Writes Arrow tables to one CSV or Parquet file, batch by batch."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self._writer: Any
        if fmt == "csv":
            self._writer = pacsv.CSVWriter(str(path), schema)
        else:
            self._writer = pq.ParquetWriter(str(path), schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class _Master:
    """The master file after streaming: who lived at which building, and how to look people up."""

    def __init__(
        self,
        seed: int,
        taxpayers: int,
        packed: np.ndarray,
        cache: dict[int, Person],
        hard: dict[int, int],
    ) -> None:
        self.seed = seed
        self.hard = hard
        """Subject index planned for a hard-case row -> the hard case chosen in its block."""
        self.taxpayers = taxpayers
        self.idx_bits = _index_bits(taxpayers)
        self.packed = packed
        self.cache = cache
        self._blocks: OrderedDict[int, Block] = OrderedDict()

    def occupants(self, key: int, surnames: frozenset[int]) -> list[int]:
        """Master indices with an address row at building `key` under one of `surnames`.

        Hash collisions may add strangers; callers check the building exactly.
        """
        if not surnames:
            return []
        ids = np.array(sorted(surnames), dtype=np.int64)
        hashes = _entry_hash(np.full(len(ids), key, dtype=np.int64), ids, self.idx_bits)
        mask = (1 << self.idx_bits) - 1
        found: set[int] = set()
        for h in hashes.tolist():
            lo = int(np.searchsorted(self.packed, h << self.idx_bits))
            hi = int(np.searchsorted(self.packed, (h + 1) << self.idx_bits))
            found.update(int(x) & mask for x in self.packed[lo:hi])
        return sorted(found)

    def person(self, index: int) -> Person:
        p = self.cache.get(index)
        if p is None:
            b = index // BLOCK_SIZE
            block = self._blocks.get(b)
            if block is None:
                block = _master_block(self.seed, self.taxpayers, b)
                self._blocks[b] = block
                if len(self._blocks) > 4:
                    self._blocks.popitem(last=False)
            p = block.person(index - b * BLOCK_SIZE)
            self.cache[index] = p
        return p


class _Fresh:
    """People who are not in the master file, generated on demand from their own stream."""

    def __init__(self, seed: int, taxpayers: int) -> None:
        self.seed = seed
        self.offset = taxpayers
        self._blocks: OrderedDict[int, Block] = OrderedDict()

    def person(self, p: int) -> Person:
        b = p // BLOCK_SIZE
        block = self._blocks.get(b)
        if block is None:
            block = generate_block(
                self.seed, STREAM_FRESH, b, BLOCK_SIZE, self.offset + b * BLOCK_SIZE
            )
            self._blocks[b] = block
            if len(self._blocks) > 3:
                self._blocks.popitem(last=False)
        return block.person(p - b * BLOCK_SIZE)


class _KeyBuffer:
    """A growable int64 array: one word per address row, sorted in place at the end."""

    def __init__(self, capacity: int) -> None:
        self._buf = np.empty(capacity, dtype=np.int64)
        self._n = 0

    def append(self, values: np.ndarray) -> None:
        end = self._n + len(values)
        if end > len(self._buf):
            grown = np.empty(max(end, len(self._buf) * 3 // 2), dtype=np.int64)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : end] = values
        self._n = end

    def sorted(self) -> np.ndarray:
        out = self._buf[: self._n]
        out.sort()
        return out


def _index_bits(taxpayers: int) -> int:
    return max(1, (taxpayers - 1).bit_length())


def _entry_hash(building: np.ndarray, surname: np.ndarray, idx_bits: int) -> np.ndarray:
    """Hash of (building key, surname id), leaving `idx_bits` for the taxpayer index."""
    return (splitmix((building << 16) | surname) >> np.uint64(idx_bits + 1)).astype(np.int64)


def _block_entries(block: Block, idx_bits: int) -> np.ndarray:
    """One word per (address row, surname on file): entry hash packed with the taxpayer index."""
    member = block.row_member
    building = block.row_keys()
    gidx = block.offset + member.astype(np.int64)
    s1 = block.s1[member].astype(np.int64)
    s2 = block.s2[member].astype(np.int64)
    second = (s2 >= 0) & (block.last_form[member] != 2)
    words = [(_entry_hash(building, s1, idx_bits) << idx_bits) | gidx]
    words.append((_entry_hash(building[second], s2[second], idx_bits) << idx_bits) | gidx[second])
    return np.concatenate(words)


def _master_block(seed: int, taxpayers: int, b: int) -> Block:
    size = min(BLOCK_SIZE, taxpayers - b * BLOCK_SIZE)
    return generate_block(seed, STREAM_MASTER, b, size, b * BLOCK_SIZE)


def _check(
    taxpayers: int, requests: int, seed: int, fmt: str, profile: str, chunk_size: int
) -> None:
    if not isinstance(taxpayers, int) or taxpayers < 1:
        raise ValueError(f"taxpayers must be a positive integer, got {taxpayers!r}")
    if not isinstance(requests, int) or requests < 0:
        raise ValueError(f"requests must be a non-negative integer, got {requests!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {fmt!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if taxpayers + 3 * requests + 4 * BLOCK_SIZE > MAX_PEOPLE:
        raise ValueError(
            f"taxpayers + 3 x requests must stay below {MAX_PEOPLE - 4 * BLOCK_SIZE:,} "
            "so that every synthetic TIN is distinct"
        )


def generate(
    out: Path,
    *,
    taxpayers: int,
    requests: int,
    seed: int,
    fmt: Literal["csv", "parquet"] = "csv",
    profile: Literal["default", "aug2025"] = "default",
    chunk_size: int = 200_000,
    progress: Progress | None = None,
) -> WorldSummary:
    """Write taxpayers, addresses, requests (CSV or Parquet), truth.csv and roster.toml to `out`.

    Raises ValueError with a one-line message for arguments it cannot honour.
    """
    _check(taxpayers, requests, seed, fmt, profile, chunk_size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prof = PROFILES[profile]
    plan = plan_requests(seed, requests, taxpayers, prof)
    master, n_addresses = _stream_master(out, seed, taxpayers, fmt, chunk_size, plan, progress)
    fresh = _Fresh(seed, taxpayers)
    n_fresh_slots = int((plan.fresh_slot >= 0).sum())
    outside_base = taxpayers + (math.ceil(2 * n_fresh_slots / BLOCK_SIZE) + 1) * BLOCK_SIZE

    def outside_tin(i: int) -> str:
        number = tin_numbers(seed, np.array([outside_base + i]), np.array([False]))
        return f"{int(number[0]):09d}"

    def subject(i: int) -> int:
        j = int(plan.subject[i])
        return master.hard.get(j, j) if plan.hard[i] else j

    people = People(subject, master.person, master.occupants, fresh.person, outside_tin)
    counts = _write_requests(out, seed, fmt, plan, prof, people, progress)
    _write_roster(out / "roster.toml", plan)
    return WorldSummary(
        taxpayers=taxpayers,
        addresses=n_addresses,
        requests=requests,
        rejected=counts["rejected"],
        disclosed=counts["disclosed"],
        no_match=counts["no_match"],
        ambiguous=counts["ambiguous"],
    )


def _stream_master(
    out: Path,
    seed: int,
    taxpayers: int,
    fmt: str,
    chunk_size: int,
    plan: Plan,
    progress: Progress | None,
) -> tuple[_Master, int]:
    ext = "csv" if fmt == "csv" else "parquet"
    chosen = plan.chosen_subjects()
    anchors = np.unique(plan.subject[plan.hard])
    hard: dict[int, int] = {}
    idx_bits = _index_bits(taxpayers)
    cache: dict[int, Person] = {}
    keys = _KeyBuffer(int(taxpayers * 5.0) + 1024)
    n_blocks = math.ceil(taxpayers / BLOCK_SIZE)
    per_chunk = max(1, round(chunk_size / BLOCK_SIZE))
    tp_writer: _Writer | None = None
    ad_writer: _Writer | None = None
    n_addresses = 0
    try:
        for first in range(0, n_blocks, per_chunk):
            tp_parts: list[pa.Table] = []
            ad_parts: list[pa.Table] = []
            for b in range(first, min(n_blocks, first + per_chunk)):
                block = _master_block(seed, taxpayers, b)
                tp_parts.append(block.taxpayers())
                ad_parts.append(block.addresses())
                keys.append(_block_entries(block, idx_bits))
                lo = int(np.searchsorted(chosen, block.offset))
                hi = int(np.searchsorted(chosen, block.offset + block.size))
                wanted = [int(j) - block.offset for j in chosen[lo:hi]]
                lo = int(np.searchsorted(anchors, block.offset))
                hi = int(np.searchsorted(anchors, block.offset + block.size))
                cases = np.nonzero(np.isin(block.role, HARD_ROLES))[0]
                for j in anchors[lo:hi]:
                    if len(cases):
                        pick = int(cases[int(splitmix(np.array([j]))[0] % np.uint64(len(cases)))])
                        hard[int(j)] = block.offset + pick
                        wanted.append(pick)
                for local in wanted:
                    for member in block.unit_members(local):
                        if block.offset + member not in cache:
                            cache[block.offset + member] = block.person(member)
            tp = pa.concat_tables(tp_parts)
            ad = pa.concat_tables(ad_parts)
            if tp_writer is None or ad_writer is None:
                tp_writer = _Writer(out / f"taxpayers.{ext}", tp.schema, fmt)
                ad_writer = _Writer(out / f"addresses.{ext}", ad.schema, fmt)
            tp_writer.write(tp)
            ad_writer.write(ad)
            n_addresses += ad.num_rows
            del tp, ad, tp_parts, ad_parts
            pa.default_memory_pool().release_unused()
            if progress is not None:
                done = min(taxpayers, (first + per_chunk) * BLOCK_SIZE)
                progress("taxpayers", done, taxpayers)
    finally:
        for w in (tp_writer, ad_writer):
            if w is not None:
                w.close()
    packed = keys.sorted()
    return _Master(seed, taxpayers, packed, cache, hard), n_addresses


def _write_requests(
    out: Path,
    seed: int,
    fmt: str,
    plan: Plan,
    profile: Any,
    people: People,
    progress: Progress | None,
) -> dict[str, int]:
    ext = "csv" if fmt == "csv" else "parquet"
    req_schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    truth_schema = pa.schema([(c, pa.string()) for c in TRUTH_COLUMNS])
    requests = _Writer(out / f"requests.{ext}", req_schema, fmt)
    truth = _Writer(out / "truth.csv", truth_schema, "csv")
    counts = dict.fromkeys(OUTCOMES, 0)
    sources: dict[int, Row] = {}
    buffer: list[Row] = []

    def flush() -> None:
        if not buffer:
            return
        requests.write(
            pa.table({c: [r.fields[c] for r in buffer] for c in COLUMNS}, schema=req_schema)
        )
        truth.write(
            pa.table(
                {
                    "request_id": [r.fields["request_id"] for r in buffer],
                    "expected_outcome": [r.truth.outcome for r in buffer],
                    "expected_reason": [r.truth.reason for r in buffer],
                    "true_tin": [r.truth.true_tin for r in buffer],
                },
                schema=truth_schema,
            )
        )
        buffer.clear()

    try:
        n_blocks = math.ceil(plan.size / REQUEST_BLOCK)
        for b in range(n_blocks):
            rows = build_block(seed, b, plan, profile, people, sources)
            for r in rows:
                counts[r.truth.outcome] += 1
            buffer.extend(rows)
            if len(buffer) >= _FLUSH_ROWS:
                flush()
            if progress is not None:
                progress("requests", min(plan.size, (b + 1) * REQUEST_BLOCK), plan.size)
        flush()
        if plan.size == 0:
            requests.write(req_schema.empty_table())
            truth.write(truth_schema.empty_table())
    finally:
        requests.close()
        truth.close()
    return counts


_TITLES = (
    "Special Agent, Homeland Security Investigations",
    "Supervisory Special Agent, Homeland Security Investigations",
    "Deportation Officer, Enforcement and Removal Operations",
    "Criminal Investigator, Enforcement and Removal Operations",
)


def _write_roster(path: Path, plan: Plan) -> None:
    """The roster authorising exactly the officials the plan's lawful rows use."""
    t = tables()
    surnames = [s.text for s in t.surnames]
    lines = [
        "# Synthetic roster written by `custos world`: the officials its requests name.",
        "[meta]",
        "as_of = 2025-08-01",
        "",
        "[[agencies]]",
        f'id = "{AGENCY}"',
        'name = "U.S. Immigration and Customs Enforcement"',
        'head = "Director, U.S. Immigration and Customs Enforcement"',
        'inspector_general = "DHS Office of Inspector General"',
        "safeguards_certified = 2025-04-07",
        "",
    ]
    for i, official in enumerate(plan.roster):
        initial = "ABCDEFGHJKLMNPRSTW"[(i * 7) % 18]
        surname = surnames[(i * 7919) % len(surnames)].replace('"', "")
        lines += [
            "  [[agencies.officials]]",
            f'  id = "{official}"',
            f'  name = "{initial}. {surname}"',
            f'  title = "{_TITLES[i % len(_TITLES)]}"',
            "  recipient = true",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
