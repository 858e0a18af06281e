"""Standardised request and master tables, the two sides of every link.

Both sides get the same columns (`STD_SCHEMA`) so that Splink can train on
their union and compare them column for column. The master side has one row
per taxpayer-address — the whole address history, not only the current
address — because the requester's address must be found in the taxpayer's
own history before anything is disclosed. Missing values are SQL NULL (never
"" or []), which is what Splink's null levels test for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa

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
    con = duckdb.connect()
    csv, parquet = world / f"{name}.csv", world / f"{name}.parquet"
    if csv.exists():
        rel = con.read_csv(str(csv), header=True, all_varchar=True)
    elif parquet.exists():
        rel = con.read_parquet(str(parquet))
        rel = rel.select(", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in rel.columns))
    elif required:
        raise WorldError(f"{world} has no {name}.csv or {name}.parquet")
    else:
        return None
    table: pa.Table = rel.to_arrow_table()
    return table


def _require(table: pa.Table, columns: Iterable[str], where: Path) -> None:
    missing = [c for c in columns if c not in table.column_names]
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
    """
    _require(taxpayers, TAXPAYER_COLUMNS, Path("taxpayers"))
    _require(addresses, WORLD_ADDRESS_COLUMNS, Path("addresses"))
    tins = _texts(taxpayers, "tin")
    blocks = [
        parse_block_flag(v, row=i + 1) for i, v in enumerate(_texts(taxpayers, "disclosure_block"))
    ]
    people = _names(taxpayers)
    people = people.append_column("tin", pa.array(tins, pa.string()))
    people = people.append_column(
        "dob", pa.array(_map_distinct(_texts(taxpayers, "dob"), normalize_dob))
    )
    people = people.append_column("disclosure_block", pa.array(blocks, pa.bool_()))

    years: list[int] = []
    for i, v in enumerate(_texts(addresses, "tax_year")):
        if not v.strip().isdigit():
            raise WorldError(f"addresses row {i + 1}: tax_year is {v!r}; expected a year")
        years.append(int(v))
    places = _addresses(addresses)
    places = places.append_column("tin", pa.array(_texts(addresses, "tin"), pa.string()))
    places = places.append_column("tax_year", pa.array(years, pa.int32()))
    places = places.append_column("row_no", pa.array(range(addresses.num_rows), pa.int64()))
    return assemble_master(people, places)


def assemble_master(people: pa.Table, places: pa.Table) -> pa.Table:
    """Join standardised taxpayers (names, tin, dob, disclosure_block) to their addresses.

    `places` carries tin, tax_year and the address columns (and optionally
    `row_no`, the input order). The unique id is `tin-tax_year`, with a
    `-n` suffix when a taxpayer has several addresses in one year.
    """
    con = duckdb.connect()
    con.register("people", people)
    con.register("places", places)
    orphans = con.execute(
        "SELECT count(*), min(p.tin) FROM places p ANTI JOIN people t ON p.tin = t.tin"
    ).fetchone()
    assert orphans is not None
    if orphans[0]:
        raise WorldError(
            f"{orphans[0]} address row(s) name a TIN not in taxpayers, e.g. {orphans[1]!r}"
        )
    dupes = con.execute(
        "SELECT tin FROM people GROUP BY tin HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if dupes:
        raise WorldError(f"taxpayers: TIN {dupes[0]!r} appears more than once")
    order = "p.row_no" if "row_no" in places.column_names else "p.tax_year"
    sql = f"""
        WITH joined AS (
            SELECT p.*, {_person_select("t")},
                   t.dob AS dob_, t.disclosure_block AS disclosure_block_,
                   row_number() OVER (PARTITION BY p.tin, p.tax_year ORDER BY {order}) AS nth
            FROM places p JOIN people t ON p.tin = t.tin
        )
        SELECT
            CASE WHEN nth = 1 THEN tin || '-' || tax_year
                 ELSE tin || '-' || tax_year || '-' || nth END AS unique_id,
            'master' AS side, tin, CAST(tax_year AS INTEGER) AS tax_year,
            dob_ AS dob, disclosure_block_ AS disclosure_block,
            {_std_select()}
        FROM joined
        ORDER BY tin, tax_year, nth
    """
    return _conform(con.sql(sql).to_arrow_table())


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


def _person_select(alias: str) -> str:
    return ", ".join(f"{alias}.{c} AS {c}" for c in NAME_COLUMNS)


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
