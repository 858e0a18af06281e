"""The standardised tables: one schema, NULL for missing, refusals with a reason."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from match_builders import Person, Place, master, request_rows, requests, world_tables

from custos.errors import WorldError
from custos.match.prepare import (
    STD_SCHEMA,
    normalize_dob,
    normalize_tin,
    parse_block_flag,
    read_world,
    requests_table,
    standardize_master,
    standardize_requests,
)
from custos.model import Request, Subject

HOME = Place("12 Main St", "62701", unit="3B")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
def test_dob_layouts_all_read_as_iso(day: date) -> None:
    iso = day.isoformat()
    us = f"{day.month}/{day.day}/{day.year}"
    assert normalize_dob(iso) == iso
    assert normalize_dob(us) == iso
    assert normalize_dob(day.strftime("%Y%m%d")) == iso
    assert normalize_dob(f" {iso} ") == iso


@pytest.mark.parametrize("text", ["", "unknown", "2023-02-30", "13/01/1990", "1990-1", "19900230"])
def test_unreadable_dob_is_no_information(text: str) -> None:
    assert normalize_dob(text) is None


@given(st.text(alphabet="0123456789- ", max_size=14))
def test_tin_is_nine_digits_or_nothing(text: str) -> None:
    tin = normalize_tin(text)
    assert tin is None or (len(tin) == 9 and tin.isdigit())


def test_tin_with_dashes() -> None:
    assert normalize_tin("123-45-6789") == "123456789"
    assert normalize_tin("12345678") is None


def test_block_flag_is_strict() -> None:
    assert parse_block_flag("TRUE", row=1) and parse_block_flag(" yes", row=1)
    assert not parse_block_flag("", row=1) and not parse_block_flag("0", row=1)
    with pytest.raises(WorldError, match="row 4: disclosure_block is 'maybe'"):
        parse_block_flag("maybe", row=4)


def test_master_has_one_row_per_address_with_the_taxpayer_on_each() -> None:
    ana = Person(
        "ANA",
        "RUIZ",
        dob="1990-05-06",
        tin="123456789",
        block=True,
        history=(
            (2022, HOME),
            (2024, Place("9 Elm St", "62702")),
            (2024, Place("10 Elm St", "62702")),
        ),
    )
    table = master(ana)
    assert table.schema == STD_SCHEMA
    rows = table.to_pylist()
    assert [r["unique_id"] for r in rows] == [
        "123456789-2022",
        "123456789-2024",
        "123456789-2024-2",
    ]
    assert {r["tin"] for r in rows} == {"123456789"}
    assert all(
        r["disclosure_block"] and r["dob"] == "1990-05-06" and r["side"] == "master" for r in rows
    )
    assert [r["unit_number"] for r in rows] == ["3B", None, None]


def test_missing_values_are_null_not_empty() -> None:
    table = requests(("q", Person("Ana", "Ruiz"), Place("12 Main St", "62701")))
    row = table.to_pylist()[0]
    assert table.schema == STD_SCHEMA
    assert row["suffix_std"] is None and row["middle_std"] is None and row["unit_number"] is None
    assert row["tin"] is None and row["dob"] is None and row["tax_year"] is None
    assert row["surname_tokens"] == ["RUIZ"]


def test_address_of_an_unknown_taxpayer_is_refused() -> None:
    taxpayers, addresses = world_tables(
        Person("Ana", "Ruiz", tin="123456789", history=((2024, HOME),))
    )
    addresses = addresses.set_column(
        addresses.column_names.index("tin"), "tin", pa.array(["999999999"])
    )
    with pytest.raises(WorldError, match=r"not in taxpayers, e\.g\. '999999999'"):
        standardize_master(taxpayers, addresses)


def test_taxpayer_listed_twice_is_refused() -> None:
    taxpayers, addresses = world_tables(
        Person("Ana", "Ruiz", tin="123456789", history=((2024, HOME),))
    )
    with pytest.raises(WorldError, match="TIN '123456789' appears more than once"):
        standardize_master(pa.concat_tables([taxpayers, taxpayers]), addresses)


def test_bad_tax_year_is_refused_with_its_row() -> None:
    taxpayers, addresses = world_tables(
        Person("Ana", "Ruiz", tin="123456789", history=((2024, HOME),))
    )
    addresses = addresses.set_column(
        addresses.column_names.index("tax_year"), "tax_year", pa.array(["20x4"])
    )
    with pytest.raises(WorldError, match="addresses row 1: tax_year is '20x4'"):
        standardize_master(taxpayers, addresses)


def test_duplicate_request_ids_are_refused() -> None:
    rows = request_rows(("q", Person("Ana", "Ruiz"), HOME), ("q", Person("Bo", "Li"), HOME))
    with pytest.raises(WorldError, match="request_id must be unique"):
        standardize_requests(rows)


def test_requests_table_carries_every_subject_field() -> None:
    req = Request(
        row=1,
        line=2,
        request_id="A-1",
        subject=Subject(
            first_name="Ana", last_name="Ruiz", street="12 Main St", zip="62701", tin="123-45-6789"
        ),
    )
    table = requests_table([req])
    assert table.to_pylist()[0]["tin"] == "123-45-6789"
    assert table.column("request_id").to_pylist() == ["A-1"]
    assert {"first_name", "street", "zip", "dob", "unit"} <= set(table.column_names)


def test_world_without_taxpayers_is_refused(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "addresses.csv").write_text(
        "tin,tax_year,street,unit,city,state,zip\n", encoding="utf-8"
    )
    with pytest.raises(WorldError, match=r"no taxpayers\.csv or taxpayers\.parquet"):
        read_world(folder)


def test_world_missing_a_column_is_refused(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "taxpayers.csv").write_text(
        "tin,first_name,last_name\n012345678,Ana,Ruiz\n", encoding="utf-8"
    )
    (folder / "addresses.csv").write_text(
        "tin,tax_year,street,unit,city,state,zip\n", encoding="utf-8"
    )
    with pytest.raises(WorldError, match="missing column"):
        read_world(folder)


def test_world_keeps_leading_zeros(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "taxpayers.csv").write_text(
        "tin,first_name,middle_name,last_name,suffix,dob\n012345678,Ana,,Ruiz,,1990-05-06\n",
        encoding="utf-8",
    )
    (folder / "addresses.csv").write_text(
        "tin,tax_year,street,unit,city,state,zip\n012345678,2024,12 Main St,,Springfield,IL,02701\n",
        encoding="utf-8",
    )
    world = read_world(folder)
    assert world.taxpayers.column("tin").to_pylist() == ["012345678"]
    assert world.addresses.column("zip").to_pylist() == ["02701"]
    assert world.requests is None
