"""Standardised request and master tables, the two sides of every link.

Both sides get the same columns (`STD_SCHEMA`) so that Splink can train on
their union and compare them column for column. The master side has one row
per taxpayer-address — the whole address history, not only the current
address — because the requester's address must be found in the taxpayer's
own history before anything is disclosed. Missing values are SQL NULL (never
"" or []), which is what Splink's null levels test for.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custos.errors import WorldError
from custos.model import SUBJECT_COLUMNS, Request
from custos.standardize.addresses import ADDRESS_COLUMNS

NAME_COLUMNS: tuple[str, ...] = (
    "given_std",
    "given_tokens",
    "middle_std",
    "given_canon",
    "given_canon_set",
    "given_initial",
    "surname_tokens",
    "surname_std",
    "surname_first",
    "suffix_std",
    "given_dm",
    "surname_dm",
    "full_name_std",
)
LIST_COLUMNS = frozenset({"given_tokens", "given_canon_set", "surname_tokens", "surname_dm"})
BOOL_COLUMNS = frozenset({"is_po_box", "parse_ok", "disclosure_block"})

STD_SCHEMA = pa.schema(
    [
        ("unique_id", pa.string()),
        ("side", pa.string()),
        ("tin", pa.string()),
        ("tax_year", pa.int32()),
        ("dob", pa.string()),
        ("disclosure_block", pa.bool_()),
        *[(c, pa.list_(pa.string()) if c in LIST_COLUMNS else pa.string()) for c in NAME_COLUMNS],
        ("surname_dm_first", pa.string()),
        *[(c, pa.bool_() if c in BOOL_COLUMNS else pa.string()) for c in ADDRESS_COLUMNS],
    ]
)
"""Every standardised table, request or master, has exactly these columns.

`side` is "request" or "master". On the request side `tin` is the TIN the
requester supplied (or NULL), `tax_year` and `disclosure_block` are NULL.
`surname_dm_first` is the phonetic code of the first surname token, for blocking.
"""

TAXPAYER_COLUMNS = ("tin", "first_name", "middle_name", "last_name", "suffix", "dob")
WORLD_ADDRESS_COLUMNS = ("tin", "tax_year", "street", "unit", "city", "state", "zip")

_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0", ""})
_DOB_FORMATS = (
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})$"),
    re.compile(r"^(?P<m>\d{1,2})-(?P<d>\d{1,2})-(?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)


@dataclass(frozen=True, slots=True)
class WorldTables:
    """The raw tables of a world folder, every column read as text."""

    taxpayers: pa.Table
    addresses: pa.Table
    requests: pa.Table | None


@lru_cache(maxsize=1 << 16)
def normalize_dob(value: str) -> str | None:
    """ISO `YYYY-MM-DD` for a real calendar date in a common US or ISO layout, else None.

    A date that cannot be read is "no information" rather than an error: the
    DOB is optional evidence, and a wrong guess at its layout could only make
    two different people look alike.
    """
    text = value.strip()
    for pattern in _DOB_FORMATS:
        found = pattern.match(text)
        if found:
            try:
                parsed = date(int(found["y"]), int(found["m"]), int(found["d"]))
            except ValueError:
                return None
            return parsed.isoformat()
    return None


def normalize_tin(value: str) -> str | None:
    """The nine digits of a TIN written with or without dashes and spaces, else None."""
    digits = re.sub(r"[\s-]", "", value)
    return digits if len(digits) == 9 and digits.isdigit() else None


def parse_block_flag(value: str, *, row: int) -> bool:
    """Read a `disclosure_block` cell; anything but a clear yes/no is refused."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise WorldError(
        f"taxpayers row {row}: disclosure_block is {value!r}; expected true/false, yes/no or 1/0"
    )


def read_world(world: Path) -> WorldTables:
    """Read `taxpayers`, `addresses` and (if present) `requests` from a world folder.

    Each may be `.csv` or `.parquet`. Every column is read as text so that a
    TIN keeps its leading zeros and nothing is guessed.
    """
    if not world.is_dir():
        raise WorldError(f"{world} is not a folder")
    taxpayers = _read_one(world, "taxpayers", required=True)
    addresses = _read_one(world, "addresses", required=True)
    requests = _read_one(world, "requests", required=False)
    assert taxpayers is not None and addresses is not None
    _require(taxpayers, TAXPAYER_COLUMNS, world / "taxpayers")
    _require(addresses, WORLD_ADDRESS_COLUMNS, world / "addresses")
    return WorldTables(taxpayers=taxpayers, addresses=addresses, requests=requests)


def _read_one(world: Path, name: str, *, required: bool) -> pa.Table | None:
    rel = _world_relation(duckdb.connect(), world, name, required=required)
    if rel is None:
        return None
    table: pa.Table = rel.to_arrow_table()
    return table


def _world_file(world: Path, name: str) -> Path | None:
    for suffix in (".csv", ".parquet"):
        path = world / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def _world_relation(
    con: duckdb.DuckDBPyConnection, world: Path, name: str, *, required: bool
) -> duckdb.DuckDBPyRelation | None:
    """One table of a world folder with every column as text, or None if absent and optional."""
    path = _world_file(world, name)
    if path is None:
        if required:
            raise WorldError(f"{world} has no {name}.csv or {name}.parquet")
        return None
    if path.suffix == ".csv":
        return con.read_csv(str(path), header=True, all_varchar=True)
    rel = con.read_parquet(str(path))
    return rel.select(", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in rel.columns))


def _require(table: pa.Table, columns: Iterable[str], where: Path) -> None:
    _require_columns(table.column_names, columns, where)


def _require_columns(present: Sequence[str], columns: Iterable[str], where: Path) -> None:
    missing = [c for c in columns if c not in present]
    if missing:
        raise WorldError(f"{where}: missing column(s) {', '.join(missing)}")


def _texts(table: pa.Table, column: str) -> list[str]:
    if column not in table.column_names:
        return [""] * table.num_rows
    return ["" if v is None else str(v) for v in table.column(column).to_pylist()]


def _map_distinct(values: Sequence[str], fn: Callable[[str], str | None]) -> list[str | None]:
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for v in values:
        if v not in cache:
            cache[v] = fn(v)
        out.append(cache[v])
    return out


CHUNK_ROWS = 1_000_000
"""Rows standardised per call, which bounds the standardisers' per-call caches."""


def _chunks(table: pa.Table) -> Iterable[pa.Table]:
    for start in range(0, max(table.num_rows, 1), CHUNK_ROWS):
        yield table.slice(start, CHUNK_ROWS)


def _names(table: pa.Table) -> pa.Table:
    from custos.standardize.names import name_columns

    parts = [
        name_columns(
            _texts(chunk, "first_name"),
            _texts(chunk, "middle_name"),
            _texts(chunk, "last_name"),
            _texts(chunk, "suffix"),
        )
        for chunk in _chunks(table)
    ]
    result: pa.Table = pa.concat_tables(parts)
    return result


def _addresses(table: pa.Table) -> pa.Table:
    from custos.standardize.addresses import address_columns

    parts = [
        address_columns(
            _texts(chunk, "street"),
            _texts(chunk, "unit"),
            _texts(chunk, "city"),
            _texts(chunk, "state"),
            _texts(chunk, "zip"),
        )
        for chunk in _chunks(table)
    ]
    result: pa.Table = pa.concat_tables(parts)
    return result


def standardize_master(taxpayers: pa.Table, addresses: pa.Table) -> pa.Table:
    """The master side: one standardised row per taxpayer-address.

    Names are standardised once per taxpayer and joined to each address row.
    An address row whose TIN is not a taxpayer is refused, as is a tax year
    that is not a number: a silently lost row could hide a disclosure block.
    The work is the streamed `write_master`'s, in a throw-away folder.
    """
    _require(taxpayers, TAXPAYER_COLUMNS, Path("taxpayers"))
    _require(addresses, WORLD_ADDRESS_COLUMNS, Path("addresses"))
    with tempfile.TemporaryDirectory(prefix="custos-master-") as tmp:
        stage = _stage(Path(tmp))
        try:
            _stage_people(stage, _slices(taxpayers))
            _stage_places(stage, _slices(addresses))
            _check_staged(stage)
            table: pa.Table = stage.sql(_MASTER_SQL_NULLED).to_arrow_table()
            return table.cast(STD_SCHEMA)
        finally:
            stage.close()


@dataclass(frozen=True, slots=True)
class MasterFile:
    """A standardised master file on disk and what went into it."""

    path: Path
    rows: int
    taxpayers: int
    key: str
    seconds: float
    cached: bool


def write_master(
    world: Path, out: Path, *, work: Path | None = None, workers: int = 1
) -> MasterFile:
    """Standardise a world folder's master file into Parquet, never holding it whole.

    Taxpayers and addresses are read and standardised `CHUNK_ROWS` at a
    time (each distinct address once per chunk) and staged in an on-disk
    DuckDB database; the join, the `unique_id` numbering and the final order
    are DuckDB's, which spills to disk rather than growing without bound.
    The rows are exactly `standardize_master`'s, in its order. `workers`
    processes standardise addresses (the bulk of the work) side by side.
    """
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="custos-master-", dir=work or out.parent) as tmp:
        stage = _stage(Path(tmp))
        try:
            reader = duckdb.connect()
            reader.execute("SET enable_progress_bar = false")
            taxpayers = _world_relation(reader, world, "taxpayers", required=True)
            addresses = _world_relation(reader, world, "addresses", required=True)
            assert taxpayers is not None and addresses is not None
            _require_columns(taxpayers.columns, TAXPAYER_COLUMNS, world / "taxpayers")
            _require_columns(addresses.columns, WORLD_ADDRESS_COLUMNS, world / "addresses")
            people = _stage_people(stage, _batches(taxpayers))
            _stage_places(stage, _batches(addresses), workers=workers)
            reader.close()
            _check_staged(stage)
            partial = out.with_name(out.name + ".partial")
            stage.execute(
                f"COPY ({_MASTER_SQL_NULLED}) TO '{_sql_path(partial)}' "
                "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
            )
            partial.replace(out)
            counted = stage.execute("SELECT count(*) FROM places").fetchone()
            assert counted is not None
        finally:
            stage.close()
    return MasterFile(
        path=out,
        rows=int(counted[0]),
        taxpayers=people,
        key="",
        seconds=time.perf_counter() - started,
        cached=False,
    )


def read_master(path: Path) -> pa.Table:
    """A standardised master written by `write_master`, as a `STD_SCHEMA` table."""
    import pyarrow.parquet as pq

    table: pa.Table = pq.read_table(path)
    return table.select(STD_SCHEMA.names).cast(STD_SCHEMA)


def master_key(world: Path) -> str:
    """sha256 of the master file's bytes and of the code and tables that standardise it.

    A change to the name or address standardisers (or their data files)
    changes the key, so a cached master is never stale.
    """
    digest = hashlib.sha256()
    for name in ("taxpayers", "addresses"):
        path = _world_file(world, name)
        if path is None:
            raise WorldError(f"{world} has no {name}.csv or {name}.parquet")
        digest.update(f"{path.name}\0".encode())
        _hash_file(digest, path)
    digest.update(standardizer_fingerprint().encode())
    return digest.hexdigest()


def standardizer_fingerprint() -> str:
    """sha256 of this module and every file of `custos.standardize` (code and data)."""
    import custos.standardize

    digest = hashlib.sha256()
    root = Path(custos.standardize.__file__).parent
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in [Path(__file__), *files]:
        digest.update(f"{path.name}\0".encode())
        _hash_file(digest, path)
    return digest.hexdigest()


def cached_master(world: Path, cache: Path | None = None, *, workers: int = 1) -> MasterFile:
    """The standardised master of a world folder, from the cache when its key is there.

    The cache (by default `<world>/.custos-cache`) holds
    `master-<key>.parquet`, keyed by `master_key`; a second run on the same
    master file with the same standardisers reads it instead of redoing it.
    """
    started = time.perf_counter()
    key = master_key(world)
    folder = cache or world / ".custos-cache"
    path = folder / f"master-{key[:32]}.parquet"
    if path.exists():
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        return MasterFile(
            path=path,
            rows=meta.num_rows,
            taxpayers=-1,
            key=key,
            seconds=time.perf_counter() - started,
            cached=True,
        )
    written = write_master(world, path, workers=workers)
    return MasterFile(
        path=path,
        rows=written.rows,
        taxpayers=written.taxpayers,
        key=key,
        seconds=time.perf_counter() - started,
        cached=False,
    )


def _hash_file(digest: Any, path: Path) -> None:
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


STAGE_MEMORY_LIMIT = "3GB"
"""DuckDB's memory for the join and sort of the master; beyond it, it spills to disk."""


def _stage(folder: Path) -> duckdb.DuckDBPyConnection:
    """An on-disk DuckDB database with empty `people` and `places` tables."""
    con = duckdb.connect(str(folder / "stage.duckdb"))
    con.execute(f"SET memory_limit = '{STAGE_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{_sql_path(folder / 'spill')}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"CREATE TABLE people (tin VARCHAR, dob VARCHAR, disclosure_block BOOLEAN, {_ddl(NAME_COLUMNS)})"
    )
    con.execute(
        f"CREATE TABLE places (tin VARCHAR, tax_year INTEGER, row_no BIGINT, {_ddl(ADDRESS_COLUMNS)})"
    )
    return con


def _ddl(columns: Iterable[str]) -> str:
    def kind(c: str) -> str:
        return "VARCHAR[]" if c in LIST_COLUMNS else "BOOLEAN" if c in BOOL_COLUMNS else "VARCHAR"

    return ", ".join(f"{c} {kind(c)}" for c in columns)


def _slices(table: pa.Table) -> Iterator[pa.Table]:
    for start in range(0, table.num_rows, CHUNK_ROWS):
        yield table.slice(start, CHUNK_ROWS)


def _batches(rel: duckdb.DuckDBPyRelation) -> Iterator[pa.Table]:
    reader = rel.to_arrow_reader(CHUNK_ROWS)
    for batch in reader:
        yield pa.Table.from_batches([batch])


def _column(table: pa.Table, column: str) -> pa.Array:
    """A column as plain strings, "" for missing (as `_texts` reads it)."""
    if column not in table.column_names:
        return pa.array([""] * table.num_rows, pa.string())
    values = table.column(column).combine_chunks().cast(pa.string())
    result: pa.Array = pc.fill_null(values, "")
    return result


def _stage_people(stage: duckdb.DuckDBPyConnection, chunks: Iterable[pa.Table]) -> int:
    """Standardise taxpayers chunk by chunk into the staging table `people`; their count."""
    from custos.standardize.names import name_columns

    done = 0
    for chunk in chunks:
        blocks = [
            parse_block_flag(v, row=done + i + 1)
            for i, v in enumerate(_texts(chunk, "disclosure_block"))
        ]
        people = name_columns(
            _column(chunk, "first_name"),
            _column(chunk, "middle_name"),
            _column(chunk, "last_name"),
            _column(chunk, "suffix"),
        )
        people = people.append_column("tin", _column(chunk, "tin"))
        people = people.append_column(
            "dob", pa.array(_map_distinct(_texts(chunk, "dob"), normalize_dob), pa.string())
        )
        people = people.append_column("disclosure_block", pa.array(blocks, pa.bool_()))
        stage.register("people_chunk", people)
        select = ", ".join(_null_if_empty(c) for c in NAME_COLUMNS)
        stage.execute(
            f"INSERT INTO people BY NAME SELECT tin, dob, disclosure_block, {select} "
            "FROM people_chunk"
        )
        stage.unregister("people_chunk")
        done += chunk.num_rows
    return done


def _stage_places(
    stage: duckdb.DuckDBPyConnection, chunks: Iterable[pa.Table], *, workers: int = 1
) -> int:
    """Standardise address rows chunk by chunk into the staging table `places`.

    Within a chunk each distinct (street, unit, city, state, zip) is
    standardised once: households share an address, and a taxpayer's
    history repeats it across years. With `workers` > 1 the distinct
    addresses of the next chunks are standardised in that many spawned
    processes while this one stages the last; chunks are staged in order.
    """
    pending: deque[tuple[pa.Table, int, list[int], np.ndarray, Future[pa.Table]]] = deque()
    done = 0
    with _pool(workers) as pool:
        for chunk in chunks:
            years: list[int] = []
            for i, v in enumerate(_texts(chunk, "tax_year")):
                if not v.strip().isdigit():
                    raise WorldError(
                        f"addresses row {done + i + 1}: tax_year is {v!r}; expected a year"
                    )
                years.append(int(v))
            raw = [_column(chunk, c) for c in ("street", "unit", "city", "state", "zip")]
            first, inverse = _distinct_rows(raw)
            picked = [r.take(pa.array(first)).to_pylist() for r in raw]
            pending.append((chunk, done, years, inverse, pool.submit(_std_addresses, picked)))
            done += chunk.num_rows
            while len(pending) > max(workers, 1) - 1:
                _stage_chunk(stage, *pending.popleft())
        while pending:
            _stage_chunk(stage, *pending.popleft())
    return done


def _std_addresses(columns: list[list[str]]) -> pa.Table:
    from custos.standardize.addresses import address_columns

    table: pa.Table = address_columns(*columns)
    return table


class _InProcess(Executor):
    """`submit` runs at once, here: the one-worker case without a pool."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _pool(workers: int) -> Executor:
    if workers <= 1:
        return _InProcess()
    import multiprocessing

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def _stage_chunk(
    stage: duckdb.DuckDBPyConnection,
    chunk: pa.Table,
    offset: int,
    years: list[int],
    inverse: np.ndarray,
    standardized: Future[pa.Table],
) -> None:
    places = standardized.result().take(pa.array(inverse))
    places = places.append_column("tin", _column(chunk, "tin"))
    places = places.append_column("tax_year", pa.array(years, pa.int32()))
    places = places.append_column(
        "row_no", pa.array(np.arange(offset, offset + chunk.num_rows), pa.int64())
    )
    stage.register("places_chunk", places)
    select = ", ".join(_null_if_empty(c) for c in ADDRESS_COLUMNS)
    stage.execute(
        f"INSERT INTO places BY NAME SELECT tin, tax_year, row_no, {select} FROM places_chunk"
    )
    stage.unregister("places_chunk")


def _distinct_rows(columns: Sequence[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct combination of values, and each row's combination.

    Columns are folded in one at a time, renumbering the combinations so far
    densely, so the running key never overflows.
    """
    n = len(columns[0]) if columns else 0
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        encoded = pc.dictionary_encode(column)
        codes = np.asarray(encoded.indices, dtype=np.int64)
        _, key = np.unique(key * len(encoded.dictionary) + codes, return_inverse=True)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _check_staged(stage: duckdb.DuckDBPyConnection) -> None:
    orphans = stage.execute(
        "SELECT count(*), min(p.tin) FROM places p ANTI JOIN people t ON p.tin = t.tin"
    ).fetchone()
    assert orphans is not None
    if orphans[0]:
        raise WorldError(
            f"{orphans[0]} address row(s) name a TIN not in taxpayers, e.g. {orphans[1]!r}"
        )
    dupes = stage.execute(
        "SELECT tin FROM people GROUP BY tin HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if dupes:
        raise WorldError(f"taxpayers: TIN {dupes[0]!r} appears more than once")


_MASTER_SQL = f"""
    WITH joined AS (
        SELECT p.*, {", ".join(f"t.{c} AS {c}" for c in NAME_COLUMNS)},
               t.dob AS dob, t.disclosure_block AS disclosure_block,
               row_number() OVER (PARTITION BY p.tin, p.tax_year ORDER BY p.row_no) AS nth
        FROM places p JOIN people t ON p.tin = t.tin
    )
    SELECT
        CASE WHEN nth = 1 THEN tin || '-' || tax_year
             ELSE tin || '-' || tax_year || '-' || nth END AS unique_id,
        'master' AS side, tin, CAST(tax_year AS INTEGER) AS tax_year,
        dob, disclosure_block, {", ".join((*NAME_COLUMNS, *ADDRESS_COLUMNS))}
    FROM joined
    ORDER BY tin, tax_year, nth
"""
"""The staged people and places joined: ids numbered in input order, rows in id order."""

_MASTER_SQL_NULLED = f"""
    SELECT unique_id, side, tin, tax_year, dob, disclosure_block,
           {", ".join(NAME_COLUMNS)}, surname_dm[1] AS surname_dm_first,
           {", ".join(ADDRESS_COLUMNS)}
    FROM ({_MASTER_SQL})
"""
"""`_MASTER_SQL` in `STD_SCHEMA`'s column order, with `surname_dm_first`, for Parquet."""


def standardize_requests(requests: pa.Table) -> pa.Table:
    """The request side: one standardised row per request, id = `request_id`.

    Takes the contract's subject columns (any may be absent except the name
    and street, which the gate has already required).
    """
    _require(requests, ("request_id",), Path("requests"))
    ids = _texts(requests, "request_id")
    if len(set(ids)) != len(ids):
        raise WorldError("requests: request_id must be unique among the requests to match")
    names = _names(requests)
    places = _addresses(requests)
    table = pa.Table.from_arrays(
        [*names.columns, *places.columns],
        names=[*names.column_names, *places.column_names],
    )
    table = table.append_column("unique_id", pa.array(ids, pa.string()))
    table = table.append_column(
        "tin", pa.array(_map_distinct(_texts(requests, "tin"), normalize_tin))
    )
    table = table.append_column(
        "dob", pa.array(_map_distinct(_texts(requests, "dob"), normalize_dob))
    )
    return assemble_requests(table)


def first_of_each_id(requests: pa.Table) -> pa.Table:
    """The first row of each request id (a later duplicate is the gate's to reject)."""
    seen: set[str] = set()
    keep = []
    for rid in _texts(requests, "request_id"):
        keep.append(rid not in seen)
        seen.add(rid)
    return requests.filter(pa.array(keep, pa.bool_()))


def assemble_requests(table: pa.Table) -> pa.Table:
    """Conform an already standardised request table (unique_id, tin, dob + std columns)."""
    con = duckdb.connect()
    con.register("r", table)
    sql = f"""
        SELECT unique_id, 'request' AS side, tin, CAST(NULL AS INTEGER) AS tax_year, dob,
               CAST(NULL AS BOOLEAN) AS disclosure_block, {_std_select()}
        FROM r
    """
    return _conform(con.sql(sql).to_arrow_table())


def requests_table(requests: Sequence[Request]) -> pa.Table:
    """The raw subject columns of gated `Request`s, ready for `standardize_requests`."""
    columns: dict[str, list[str]] = {"request_id": [r.request_id for r in requests]}
    for name in SUBJECT_COLUMNS:
        columns[name] = [getattr(r.subject, name) for r in requests]
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def _null_if_empty(column: str) -> str:
    if column in LIST_COLUMNS:
        return (
            f"CASE WHEN {column} IS NULL OR len(list_filter({column}, lambda x: x <> '')) = 0 "
            f"THEN NULL ELSE list_filter({column}, lambda x: x <> '') END AS {column}"
        )
    if column in BOOL_COLUMNS:
        return f"CAST({column} AS BOOLEAN) AS {column}"
    return f"NULLIF(TRIM(CAST({column} AS VARCHAR)), '') AS {column}"


def _std_select() -> str:
    columns = [_null_if_empty(c) for c in (*NAME_COLUMNS, *ADDRESS_COLUMNS)]
    return ", ".join(columns)


def _conform(table: pa.Table) -> pa.Table:
    """Add `surname_dm_first` and cast to `STD_SCHEMA`, in its column order."""
    dm = table.column("surname_dm").to_pylist()
    first = [v[0] if v else None for v in dm]
    table = table.append_column("surname_dm_first", pa.array(first, pa.string()))
    return table.select(STD_SCHEMA.names).cast(STD_SCHEMA)


def check_std(table: pa.Table, what: str) -> None:
    """Refuse a table that is not a standardised table, naming what is missing."""
    missing = [c for c in STD_SCHEMA.names if c not in table.column_names]
    if missing:
        raise WorldError(
            f"{what} is not a standardised table: missing column(s) {', '.join(missing)}"
        )
