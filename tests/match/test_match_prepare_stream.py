"""The streamed master standardisation gives the old in-memory result, row for row.

`reference_master` is the implementation `standardize_master` had before it
streamed (kept verbatim here as the oracle); the chunk size is shrunk so a
small world crosses many chunk boundaries.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from custos.errors import WorldError
from custos.match import prepare
from custos.match.prepare import (
    STD_SCHEMA,
    _addresses,
    _conform,
    _map_distinct,
    _names,
    _std_select,
    _texts,
    cached_master,
    master_key,
    normalize_dob,
    parse_block_flag,
    read_master,
    read_world,
    standardize_master,
    write_master,
)

NAME_COLUMNS = prepare.NAME_COLUMNS


def reference_master(taxpayers: pa.Table, addresses: pa.Table) -> pa.Table:
    """The pre-streaming `standardize_master` + `assemble_master`, unchanged."""
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
    years = [int(v) for v in _texts(addresses, "tax_year")]
    places = _addresses(addresses)
    places = places.append_column("tin", pa.array(_texts(addresses, "tin"), pa.string()))
    places = places.append_column("tax_year", pa.array(years, pa.int32()))
    places = places.append_column("row_no", pa.array(range(addresses.num_rows), pa.int64()))
    con = duckdb.connect()
    con.register("people", people)
    con.register("places", places)
    person = ", ".join(f"t.{c} AS {c}" for c in NAME_COLUMNS)
    sql = f"""
        WITH joined AS (
            SELECT p.*, {person},
                   t.dob AS dob_, t.disclosure_block AS disclosure_block_,
                   row_number() OVER (PARTITION BY p.tin, p.tax_year ORDER BY p.row_no) AS nth
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


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from custos.synth.world import generate

    folder = tmp_path_factory.mktemp("stream") / "world"
    generate(folder, taxpayers=3000, requests=10, seed=23, fmt="parquet")
    return folder


@pytest.fixture(scope="module")
def expected(world: Path) -> pa.Table:
    tables = read_world(world)
    return reference_master(tables.taxpayers, tables.addresses)


def test_in_memory_master_equals_the_old_one_row_for_row(
    world: Path, expected: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 700)
    tables = read_world(world)
    got = standardize_master(tables.taxpayers, tables.addresses)
    assert got.schema == STD_SCHEMA
    assert got.num_rows == expected.num_rows > 3000
    assert got.equals(expected)


def test_master_written_from_the_folder_equals_the_old_one(
    world: Path, expected: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 1000)
    written = write_master(world, tmp_path / "master.parquet")
    assert written.rows == expected.num_rows and written.taxpayers == 3000
    assert read_master(written.path).equals(expected)


def test_two_worker_processes_give_the_same_master(
    world: Path, expected: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 2500)
    written = write_master(world, tmp_path / "master.parquet", workers=2)
    assert read_master(written.path).equals(expected)


def test_csv_world_gives_the_same_master(world: Path, expected: pa.Table, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    con = duckdb.connect()
    for name in ("taxpayers", "addresses"):
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{world / name}.parquet')) "
            f"TO '{folder / name}.csv' (HEADER)"
        )
    assert read_master(write_master(folder, tmp_path / "m.parquet").path).equals(expected)


def test_second_run_reads_the_cache_and_a_changed_master_misses_it(
    world: Path, expected: pa.Table, tmp_path: Path
) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    for name in ("taxpayers", "addresses"):
        (folder / f"{name}.parquet").write_bytes((world / f"{name}.parquet").read_bytes())
    first = cached_master(folder, tmp_path / "cache")
    second = cached_master(folder, tmp_path / "cache")
    assert not first.cached and second.cached and second.path == first.path
    assert read_master(second.path).equals(expected)

    tables = read_world(folder)
    fewer = tables.addresses.slice(0, tables.addresses.num_rows - 1)
    con = duckdb.connect()
    con.register("a", fewer)
    con.execute(f"COPY a TO '{folder / 'addresses.parquet'}' (FORMAT parquet)")
    third = cached_master(folder, tmp_path / "cache")
    assert not third.cached and third.key != first.key
    assert third.rows == expected.num_rows - 1
    assert master_key(folder) == third.key


def test_bad_rows_are_refused_with_their_row_numbers_across_chunks(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepare, "CHUNK_ROWS", 500)
    tables = read_world(world)
    years = tables.addresses.column("tax_year").to_pylist()
    years[1234] = "20x4"
    bad_years = tables.addresses.set_column(
        tables.addresses.column_names.index("tax_year"), "tax_year", pa.array(years)
    )
    with pytest.raises(WorldError, match="addresses row 1235: tax_year is '20x4'"):
        standardize_master(tables.taxpayers, bad_years)

    flags = tables.taxpayers.column("disclosure_block").to_pylist()
    flags[2001] = "maybe"
    bad_flags = tables.taxpayers.set_column(
        tables.taxpayers.column_names.index("disclosure_block"), "disclosure_block", pa.array(flags)
    )
    with pytest.raises(WorldError, match="taxpayers row 2002: disclosure_block is 'maybe'"):
        standardize_master(bad_flags, tables.addresses)


def test_empty_master_is_an_empty_table() -> None:
    taxpayers = pa.table({c: pa.array([], pa.string()) for c in prepare.TAXPAYER_COLUMNS})
    addresses = pa.table({c: pa.array([], pa.string()) for c in prepare.WORLD_ADDRESS_COLUMNS})
    got = standardize_master(taxpayers, addresses)
    assert got.num_rows == 0 and got.schema == STD_SCHEMA
