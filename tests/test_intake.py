"""Intake: every data row becomes one Request or one MalformedRow; bad files get one clear refusal."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import gc
import io
import json
import random
import re
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custos import intake
from custos.errors import BatchFileError
from custos.intake import Batch, Format, read_batch, read_batch_bytes
from custos.model import REQUIRED_COLUMNS, Request, Subject

SUBJECT_FIELDS = tuple(f.name for f in dataclasses.fields(Subject))
REQUEST_FIELDS = tuple(
    f.name for f in dataclasses.fields(Request) if f.name not in ("row", "line", "subject")
)
COLUMNS = REQUEST_FIELDS + SUBJECT_FIELDS
HEADER = "request_id,first_name,last_name,street\n"
ROW = "R{i},Ana{i},García,{i} Main St\n"


# --- helpers ------------------------------------------------------------------------


def assert_accounted(batch: Batch) -> None:
    """The intake invariant: rows 1..rows each appear once, as a request or as malformed."""
    requests = [r.row for r in batch.requests]
    malformed = [m.row for m in batch.malformed]
    assert requests == sorted(requests)
    assert malformed == sorted(malformed)
    assert sorted(requests + malformed) == list(range(1, batch.rows + 1))
    assert batch.rows == len(batch.requests) + len(batch.malformed)
    for m in batch.malformed:
        assert m.error and m.line >= 1


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


def csv_bytes(rows: int, header: str = HEADER) -> bytes:
    return (header + "".join(ROW.format(i=i) for i in range(1, rows + 1))).encode()


def refusal(data: bytes, fmt: Format = "csv", **kwargs: object) -> str:
    with pytest.raises(BatchFileError) as caught:
        read_batch_bytes(data, fmt, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def request_values(r: Request) -> dict[str, str]:
    values = {name: getattr(r, name) for name in REQUEST_FIELDS}
    values.update({name: getattr(r.subject, name) for name in SUBJECT_FIELDS})
    return values


def parquet_bytes(table: pa.Table, **kwargs: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **kwargs)
    return sink.getvalue()


# --- CSV: the ordinary cases ------------------------------------------------------------


def test_reads_every_contract_column_and_numbers_rows(tmp_path: Path) -> None:
    header = ",".join(COLUMNS) + "\n"
    row = ",".join(f"{c}-1" for c in COLUMNS) + "\n"
    path = write(tmp_path, "requests.csv", header + row + row.replace("-1", "-2"))
    batch = read_batch(path)
    assert (batch.source, batch.fmt, batch.rows, batch.encoding) == (str(path), "csv", 2, "UTF-8")
    assert batch.malformed == ()
    first, second = batch.requests
    assert (first.row, first.line, second.row, second.line) == (1, 2, 2, 3)
    assert request_values(first) == {c: f"{c}-1" for c in COLUMNS}
    assert second.subject.zip == "zip-2"


def test_missing_optional_columns_read_as_empty_and_agency_comes_from_argument() -> None:
    batch = read_batch_bytes(csv_bytes(1), "csv", agency="DHS-ICE")
    (r,) = batch.requests
    assert (r.request_id, r.subject.first_name, r.subject.street) == ("R1", "Ana1", "1 Main St")
    assert (r.case_number, r.subject.zip, r.subject.tin, r.agency) == ("", "", "", "DHS-ICE")


def test_agency_column_wins_and_blank_cells_fall_back_to_argument() -> None:
    data = "request_id,first_name,last_name,street,Agency\nR1,A,B,1 Main,FBI\nR2,A,B,1 Main, \n"
    batch = read_batch_bytes(data.encode(), "csv", agency="DHS")
    assert [r.agency for r in batch.requests] == ["FBI", "DHS"]


def test_blank_lines_are_not_rows_but_count_as_lines() -> None:
    data = "\n" + HEADER + "\nR1,A,B,1 Main\n\n   \n\r\nR2,A,B,2 Main\n\n"
    batch = read_batch_bytes(data.encode(), "csv")
    assert_accounted(batch)
    assert [(r.row, r.line, r.request_id) for r in batch.requests] == [(1, 4, "R1"), (2, 8, "R2")]


def test_quoted_newlines_keep_the_value_and_the_line_count() -> None:
    data = HEADER + 'R1,"Ana\nMaría",B,"1 Main St\r\nApt 2"\nR2,A,B,2 Main\n'
    batch = read_batch_bytes(data.encode(), "csv")
    first, second = batch.requests
    assert first.subject.first_name == "Ana\nMaría"
    assert first.subject.street == "1 Main St\r\nApt 2"
    assert (first.line, second.line) == (2, 5)


def test_stray_whitespace_around_values_is_stripped() -> None:
    data = HEADER + '  R1 ,\tAna\u00a0, García  ,  " 1 Main St " \n'
    (r,) = read_batch_bytes(data.encode(), "csv").requests
    assert (r.request_id, r.subject.first_name, r.subject.last_name) == ("R1", "Ana", "García")
    assert r.subject.street == '" 1 Main St "'


def test_header_case_spacing_and_hyphens_do_not_matter() -> None:
    data = " Request ID ,FIRST-NAME,Last  Name,\ufeffSTREET ,Zip\nR1,Ana,Lee,1 Main,02134\n"
    (r,) = read_batch_bytes(data.encode(), "csv").requests
    assert (r.request_id, r.subject.first_name, r.subject.last_name) == ("R1", "Ana", "Lee")
    assert (r.subject.street, r.subject.zip) == ("1 Main", "02134")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    data = (HEADER + 'R1,Ana,Lee,"1 Main St, Apt 2"\n').replace(",", delimiter)
    (r,) = read_batch_bytes(data.encode(), "csv").requests
    assert r.subject.street == "1 Main St" + delimiter + " Apt 2"


def test_tab_separated_file_by_extension(tmp_path: Path) -> None:
    path = write(tmp_path, "batch.tsv", HEADER.replace(",", "\t") + "R1\tAna, Jr\tLee\t1 Main\n")
    (r,) = read_batch(path).requests
    assert r.subject.first_name == "Ana, Jr"


def test_csv_with_300_columns_reads_the_ones_it_needs() -> None:
    extra = [f"extra_{i}" for i in range(296)]
    names = [*extra[:150], "street", "last_name", *extra[150:], "first_name", "request_id"]
    rows = [[f"v{r}_{c}" for c in range(300)] for r in range(3)]
    sink = io.StringIO()
    csv.writer(sink).writerows([names, *rows])
    batch = read_batch_bytes(sink.getvalue().encode(), "csv")
    assert [r.request_id for r in batch.requests] == ["v0_299", "v1_299", "v2_299"]
    assert batch.requests[2].subject.street == "v2_150"
    assert batch.requests[1].subject.first_name == "v1_298"


def test_old_mac_line_endings() -> None:
    data = HEADER.replace("\n", "\r") + "R1,A,B,1 Main\rR2,A,B,2 Main\r"
    batch = read_batch_bytes(data.encode(), "csv")
    assert [(r.request_id, r.line) for r in batch.requests] == [("R1", 2), ("R2", 3)]


def test_header_only_file_is_an_empty_batch() -> None:
    batch = read_batch_bytes(HEADER.encode(), "csv")
    assert (batch.rows, batch.requests, batch.malformed) == (0, (), ())


# --- CSV: encodings -----------------------------------------------------------------


def test_utf8_bom_is_removed_from_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "\ufeff" + HEADER + "R1,José,Núñez,1 Main\n")
    batch = read_batch(path)
    assert batch.encoding == "UTF-8 with BOM"
    assert batch.requests[0].request_id == "R1"
    assert batch.requests[0].subject.last_name == "Núñez"


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "UTF-16LE with BOM"),
        ("utf-16-be", "UTF-16BE without BOM"),
        ("utf-16-le", "UTF-16LE without BOM"),
    ],
)
def test_utf16_files(encoding: str, name: str) -> None:
    text = HEADER + "R1,José,Nguyễn,1 Main\r\nR2,Zoë,李,2 Main\r\n"
    batch = read_batch_bytes(text.encode(encoding), "csv")
    assert batch.encoding == name
    assert [r.subject.last_name for r in batch.requests] == ["Nguyễn", "李"]
    assert [r.line for r in batch.requests] == [2, 3]


def test_utf16_big_endian_with_bom() -> None:
    data = codecs.BOM_UTF16_BE + (HEADER + "R1,José,Lee,1 Main\n").encode("utf-16-be")
    batch = read_batch_bytes(data, "csv")
    assert batch.encoding == "UTF-16BE with BOM"
    assert batch.requests[0].subject.first_name == "José"


def test_utf32_with_bom() -> None:
    batch = read_batch_bytes((HEADER + "R1,José,Lee,1 Main\n").encode("utf-32"), "csv")
    assert batch.encoding == "UTF-32LE with BOM"
    assert batch.requests[0].subject.first_name == "José"


def test_legacy_windows_1252_file_is_decoded_whole() -> None:
    data = HEADER + "R1,José,Müller,1 Main\n" + ROW.format(i=2) * 50 + "R3,Zoë,Ñuñez,€ St\n"
    batch = read_batch_bytes(data.encode("cp1252"), "csv")
    assert batch.encoding == "Windows-1252"
    assert batch.malformed == ()
    assert batch.requests[0].subject.first_name == "José"
    assert batch.requests[-1].subject.street == "€ St"


def test_mixed_encodings_make_only_the_foreign_rows_malformed() -> None:
    data = (
        (HEADER + "R1,José,Lee,1 Main\n").encode()
        + "R2,José,Lee,2 Main\n".encode("cp1252")
        + "R3,Zoë,Lee,3 Main\n".encode()
    )
    batch = read_batch_bytes(data, "csv")
    assert_accounted(batch)
    assert [r.request_id for r in batch.requests] == ["R1", "R3"]
    (bad,) = batch.malformed
    assert (bad.row, bad.line, bad.request_id) == (2, 3, "R2")
    assert "0xE9" in bad.error and "UTF-8" in bad.error
    assert batch.encoding.startswith("UTF-8")


def test_undefined_windows_1252_byte_makes_its_row_malformed() -> None:
    data = (HEADER + "R1,José,Lee,1 Main\n").encode("cp1252") + b"R2,Jo\x81,Lee,2 Main\n"
    batch = read_batch_bytes(data, "csv")
    assert [r.request_id for r in batch.requests] == ["R1"]
    assert "0x81" in batch.malformed[0].error


# --- CSV: bad rows ------------------------------------------------------------------


def test_wrong_number_of_fields_is_malformed_with_request_id() -> None:
    data = HEADER + "R1,A,B\nR2,A,B,1 Main,extra\nR3,A,B,3 Main\n"
    batch = read_batch_bytes(data.encode(), "csv")
    assert_accounted(batch)
    assert [(m.row, m.line, m.request_id) for m in batch.malformed] == [(1, 2, "R1"), (2, 3, "R2")]
    assert "3 fields; the header has 4" in batch.malformed[0].error
    assert [r.request_id for r in batch.requests] == ["R3"]


def test_nul_byte_makes_the_row_malformed() -> None:
    data = HEADER + "R1,A\0na,B,1 Main\nR2,A,B,2 Main\n"
    batch = read_batch_bytes(data.encode(), "csv")
    assert [(m.row, m.line, m.request_id) for m in batch.malformed] == [(1, 2, "R1")]
    assert "NUL" in batch.malformed[0].error
    assert [r.request_id for r in batch.requests] == ["R2"]


def test_unbalanced_quote_costs_one_row_not_the_rest_of_the_file() -> None:
    data = HEADER + 'R1,"Ana,B,1 Main\nR2,A,B,2 Main\nR3,A,"B\n3",3 Main\nR4,A,B,4 Main\n'
    batch = read_batch_bytes(data.encode(), "csv")
    assert_accounted(batch)
    assert [(m.row, m.line, m.request_id) for m in batch.malformed] == [(1, 2, "R1")]
    assert "not closed" in batch.malformed[0].error
    assert [(r.request_id, r.line) for r in batch.requests] == [("R2", 3), ("R3", 4), ("R4", 6)]
    assert batch.requests[1].subject.last_name == "B\n3"


def test_quote_left_open_at_end_of_file_is_one_malformed_row() -> None:
    data = HEADER + 'R1,A,B,1 Main\nR2,"A,B\n'
    batch = read_batch_bytes(data.encode(), "csv")
    assert_accounted(batch)
    assert [r.request_id for r in batch.requests] == ["R1"]
    assert batch.malformed[0].row == 2


def test_field_over_the_csv_field_limit_is_malformed() -> None:
    big = "x" * (csv.field_size_limit() + 10)
    data = HEADER + f"R1,A,B,{big}\nR2,A,B,2 Main\n"
    batch = read_batch_bytes(data.encode(), "csv")
    assert_accounted(batch)
    assert batch.malformed[0].row == 1 and "field limit" in batch.malformed[0].error
    assert [r.request_id for r in batch.requests] == ["R2"]


def test_long_line_over_the_limit_is_a_malformed_row() -> None:
    data = HEADER + "R1,A,B," + "x" * 5000 + "\nR2,A,B,2 Main\n"
    batch = read_batch_bytes(data.encode(), "csv", max_line=1000)
    assert_accounted(batch)
    (bad,) = batch.malformed
    assert (bad.row, bad.line) == (1, 2)
    assert "longer than 1000 characters" in bad.error
    assert [(r.request_id, r.line) for r in batch.requests] == [("R2", 3)]


def test_line_exactly_at_the_limit_with_crlf_stays_one_line() -> None:
    line = "R1,A,B," + "x" * 90
    data = HEADER.replace("\n", "\r\n") + line + "\r\nR2,A,B,2 Main\r\n"
    batch = read_batch_bytes(data.encode(), "csv", max_line=len(line) + 1)
    assert_accounted(batch)
    assert [(r.request_id, r.line) for r in batch.requests] == [("R1", 2), ("R2", 3)]


def test_a_two_gigabyte_line_is_skipped_in_bounded_memory(tmp_path: Path) -> None:
    """Stands in for a 2 GB line: a 16 MiB line under a 64 KiB limit is never held whole."""
    path = tmp_path / "long.csv"
    limit = 64 * 1024
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER + "R1,A,B,1 Main\nR2,A,B,")
        for _ in range(256):
            fh.write("y" * limit)
        fh.write("\nR3,A,B,3 Main\n")
    tracemalloc.start()
    try:
        batch = read_batch(path, max_line=limit)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert_accounted(batch)
    assert [(m.row, m.line) for m in batch.malformed] == [(2, 3)]
    assert [r.request_id for r in batch.requests] == ["R1", "R3"]
    assert peak < 6 * (1 << 20)  # the line is 16 MiB


def test_a_twenty_megabyte_line_with_the_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "long20.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER + "R1,A,B,1 Main\nR2,A,B,")
        for _ in range(20):
            fh.write("z" * (1 << 20))
        fh.write("\nR3,A,B,3 Main\n")
    tracemalloc.start()
    try:
        batch = read_batch(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(m.row, m.line) for m in batch.malformed] == [(2, 3)]
    assert "longer than 1048576 characters" in batch.malformed[0].error
    assert [r.request_id for r in batch.requests] == ["R1", "R3"]
    assert peak < 8 * (1 << 20)


def test_header_line_over_the_limit_is_refused() -> None:
    data = ("request_id," + "x" * 5000 + ",first_name,last_name,street\nR1,A,B,C,D\n").encode()
    assert "header (line 1) is longer than 1000" in refusal(data, max_line=1000)


# --- whole-file refusals ------------------------------------------------------------


def test_missing_required_column_is_refused_naming_it() -> None:
    message = refusal(b"request_id,first_name,city\nR1,A,Boston\n")
    assert "lacks the required column(s) last_name, street" in message
    assert "'city'" in message


def test_column_named_twice_is_refused() -> None:
    assert "names column zip twice" in refusal((HEADER.strip() + ",ZIP,zip\n").encode())


def test_oversize_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", csv_bytes(200))
    with pytest.raises(BatchFileError, match=r"larger than the limit of 1000 bytes"):
        read_batch(path, max_bytes=1000)
    assert "larger than the limit" in refusal(csv_bytes(200), max_bytes=1000)


def test_oversize_parquet_inflation_is_refused() -> None:
    table = pa.table({c: ["x" * 1000] * 200 for c in REQUIRED_COLUMNS})
    data = parquet_bytes(table, compression="zstd", use_dictionary=False)
    assert "decompresses to" in refusal(data, "parquet", max_bytes=len(data) + 1)


def test_empty_and_blank_files_are_refused(tmp_path: Path) -> None:
    assert "is empty" in refusal(b"")
    assert "only blank lines" in refusal(b"\r\n  \n\t\n")
    assert "only blank lines" in refusal(b"\n\n", "jsonl")
    with pytest.raises(BatchFileError, match="is empty"):
        read_batch(write(tmp_path, "empty.csv", b""))


def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BatchFileError, match="no such file"):
        read_batch(tmp_path / "nope.csv")
    with pytest.raises(BatchFileError, match="is a directory"):
        read_batch(tmp_path)


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "locked.csv", csv_bytes(1))

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(BatchFileError, match=r"locked\.csv cannot be read: Permission denied"):
        read_batch(path)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "a PNG image"),
        (b"PK\x03\x04" + bytes(200), "a ZIP archive"),
        (b"\x1f\x8b\x08\x00" + bytes(200), "gzip-compressed"),
        (b"%PDF-1.7\n" + bytes(200), "a PDF document"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "an executable"),
    ],
)
def test_binary_file_is_refused_by_what_it_is(tmp_path: Path, data: bytes, what: str) -> None:
    for name in ("requests.csv", "requests.jsonl", "requests.dat"):
        with pytest.raises(BatchFileError, match=re.escape(what)):
            read_batch(write(tmp_path, name, data))


def test_garbage_bytes_file_is_refused(tmp_path: Path) -> None:
    garbage = random.Random(7).randbytes(100_000)
    for name in ("garbage.csv", "garbage.jsonl", "garbage.bin"):
        with pytest.raises(BatchFileError, match="does not look like text"):
            read_batch(write(tmp_path, name, garbage))


def test_text_that_is_not_a_table_is_refused() -> None:
    prose = b"Dear custodian,\nplease find attached our requests.\nRegards\n"
    assert "lacks the required column(s)" in refusal(prose)
    assert "not JSON Lines" in refusal(prose, "jsonl")
    assert "not a Parquet file" in refusal(prose, "parquet")


def test_header_with_nul_bytes_is_refused() -> None:
    assert "NUL" in refusal(b"request_id\0,first_name,last_name,street\nR1,A,B,C\n")


def test_parquet_named_csv_is_refused_with_a_hint(tmp_path: Path) -> None:
    data = parquet_bytes(pa.table({c: ["x"] for c in REQUIRED_COLUMNS}))
    with pytest.raises(BatchFileError, match=r"Parquet file, not CSV; give it a \.parquet name"):
        read_batch(write(tmp_path, "requests.csv", data))


def test_unknown_format_name_is_refused() -> None:
    assert "unknown format" in refusal(csv_bytes(1), "xlsx")  # type: ignore[arg-type]


# --- format from the content --------------------------------------------------------


def test_format_sniffed_when_the_extension_says_nothing(tmp_path: Path) -> None:
    csv_path = write(tmp_path, "a.txt", csv_bytes(2))
    jsonl_path = write(tmp_path, "b.json", json.dumps({c: "J" for c in REQUIRED_COLUMNS}))
    table = pa.table({c: ["P1"] for c in REQUIRED_COLUMNS})
    parquet_path = write(tmp_path, "c.data", parquet_bytes(table))
    assert read_batch(csv_path).fmt == "csv"
    assert read_batch(jsonl_path).fmt == "jsonl"
    assert read_batch(parquet_path).fmt == "parquet"
    with pytest.raises(BatchFileError, match="JSON array"):
        read_batch(write(tmp_path, "d.json", '[{"request_id": "1"}]'))


# --- JSON Lines ---------------------------------------------------------------------


def test_jsonl_values_become_text_and_bad_lines_become_malformed(tmp_path: Path) -> None:
    lines = [
        {
            "request_id": "J1",
            "First Name": " Ana ",
            "last_name": "Lee",
            "street": "1 Main",
            "zip": 2134,
            "tin": None,
            "dob": True,
            "unit": 2.5,
            "ignored": {"nested": 1},
        },
        "",
        "[1, 2]",
        {"request_id": "J3", "first_name": ["A"], "last_name": "L", "street": "S"},
        '{"request_id": "J4", "first_name": "A",',
        {"request_id": "J5", "first_name": "A\u0000", "last_name": "L", "street": "S"},
        {"request_id": "J6", "zip": "1", "ZIP": "2"},
        '{"request_id": "J7", "first_name": NaN}',
        '{"request_id": "J8", "first_name": "\\ud800"}',
        "[" * 100_000 + "]" * 100_000,
        {"request_id": "J9", "first_name": "Zoë"},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    batch = read_batch(write(tmp_path, "r.jsonl", text), agency="FBI")
    assert_accounted(batch)
    assert batch.fmt == "jsonl" and batch.rows == 10
    first, last = batch.requests
    assert (first.row, first.line, last.row, last.line) == (1, 1, 10, 11)
    assert first.subject.first_name == "Ana" and first.subject.zip == "2134"
    assert (first.subject.tin, first.subject.dob, first.subject.unit) == ("", "true", "2.5")
    assert first.agency == "FBI"
    assert last.subject.first_name == "Zoë" and last.subject.street == ""
    errors = {m.line: (m.request_id, m.error) for m in batch.malformed}
    assert errors[3] == ("", "a JSON line must be an object; this is an array")
    assert errors[4] == ("J3", "value of 'first_name' is an array, not text")
    assert errors[5][0] == "J4" and errors[5][1].startswith("not valid JSON")
    assert "NUL" in errors[6][1]
    assert "both name column zip" in errors[7][1]
    assert "NaN is not valid JSON" in errors[8][1]
    assert "surrogate" in errors[9][1]
    assert errors[10][1] == "not valid JSON: nested too deeply"


def test_jsonl_line_over_the_limit_is_malformed() -> None:
    good = json.dumps({"request_id": "J1", "first_name": "A", "last_name": "B", "street": "S"})
    data = good + "\n" + '{"request_id": "J2", "x": "' + "y" * 5000 + '"}\n' + good + "\n"
    batch = read_batch_bytes(data.encode(), "jsonl", max_line=1000)
    assert_accounted(batch)
    assert [m.line for m in batch.malformed] == [2]
    assert [r.line for r in batch.requests] == [1, 3]


def test_jsonl_without_any_object_or_required_key_is_refused() -> None:
    assert "none of its 2 non-blank lines" in refusal(b'1\n"x"\n', "jsonl")
    assert "no object has the required key(s) last_name, street" in refusal(
        b'{"request_id": "1", "first_name": "A"}\n', "jsonl"
    )


def test_jsonl_in_utf16_and_with_bom() -> None:
    text = '{"request_id": "J1", "first_name": "José", "last_name": "L", "street": "S"}\n'
    for data in (text.encode("utf-16"), codecs.BOM_UTF8 + text.encode()):
        (r,) = read_batch_bytes(data, "jsonl").requests
        assert r.subject.first_name == "José"


# --- Parquet ------------------------------------------------------------------------


def test_parquet_reads_row_groups_and_casts_values_to_text() -> None:
    n = 1000
    table = pa.table(
        {
            "Request ID": [f"P{i}" for i in range(n)],
            "first_name": pa.array([f" F{i} " for i in range(n)]).dictionary_encode(),
            "last_name": pa.array(["L"] * n, pa.large_string()),
            "street": [None if i % 2 else f"{i} Main" for i in range(n)],
            "zip": pa.array([2134 + i for i in range(n)], pa.int64()),
            "dob": pa.array([None] * n, pa.date32()),
            "unit": pa.array([b"4B"] * n, pa.binary()),
            "tags": [[i] for i in range(n)],
        }
    )
    batch = read_batch_bytes(parquet_bytes(table, row_group_size=300), "parquet", agency="A")
    assert_accounted(batch)
    assert batch.rows == n and batch.malformed == () and batch.encoding == ""
    r = batch.requests[7]
    assert (r.row, r.line, r.request_id, r.subject.first_name) == (8, 8, "P7", "F7")
    assert (r.subject.street, r.subject.zip, r.subject.dob, r.subject.unit) == (
        "",
        "2141",
        "",
        "4B",
    )
    assert batch.requests[-1].row == n


def test_parquet_values_that_are_not_text_make_rows_malformed() -> None:
    table = pa.table(
        {
            "request_id": ["P1", "P2", "P3", "P4"],
            "first_name": [["A"], None, None, None],
            "last_name": ["L", "L\x00", "L", "L"],
            "street": pa.array([b"S", b"S", b"\xff", b"S"], pa.binary()),
        }
    )
    batch = read_batch_bytes(parquet_bytes(table), "parquet")
    assert_accounted(batch)
    assert [r.request_id for r in batch.requests] == ["P4"]
    errors = [(m.row, m.request_id, m.error) for m in batch.malformed]
    assert errors == [
        (1, "P1", "value of 'first_name' is a list, not text"),
        (2, "P2", "value of 'last_name' contains a NUL character"),
        (3, "P3", "value of 'street' is binary data that is not UTF-8 text"),
    ]


def test_parquet_with_a_corrupt_row_group_accounts_for_its_rows() -> None:
    n = 1000
    table = pa.table(
        {
            "request_id": [f"P{i}" for i in range(n)],
            "first_name": [f"F{i}" * 5 for i in range(n)],
            "last_name": ["L"] * n,
            "street": [f"{i} Main St" for i in range(n)],
        }
    )
    data = bytearray(parquet_bytes(table, row_group_size=250, compression="snappy"))
    column = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(2).column(1)
    start = column.data_page_offset + 20
    for i in range(start, start + 200):
        data[i] = (data[i] * 7 + 13) % 256
    batch = read_batch_bytes(bytes(data), "parquet")
    assert_accounted(batch)
    assert batch.rows == n
    assert [r.request_id for r in batch.requests[:500]] == [f"P{i}" for i in range(500)]
    assert all(501 <= m.row <= 750 and "row group 2" in m.error for m in batch.malformed)


def test_parquet_refusals() -> None:
    assert "not a readable Parquet file" in refusal(b"PAR1" + bytes(100), "parquet")
    table = pa.table({"request_id": ["1"], "first_name": ["A"]})
    assert "the schema lacks the required column(s) last_name, street" in refusal(
        parquet_bytes(table), "parquet"
    )


# --- the machinery ------------------------------------------------------------------


def test_bulk_constructor_makes_ordinary_frozen_instances() -> None:
    values = [f"v{i}" for i in range(len(SUBJECT_FIELDS))]
    built = intake._new_subject(*values)
    plain = Subject(*values)
    assert type(built) is Subject
    assert built == plain and hash(built) == hash(plain) and repr(built) == repr(plain)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.city = "x"  # type: ignore[misc]
    request = intake._new_request(1, 2, *["x"] * 8, built)
    assert type(request) is Request and request.subject is built


def test_collector_state_is_restored_even_when_a_file_is_refused() -> None:
    assert gc.isenabled()
    read_batch_bytes(csv_bytes(3), "csv")
    assert gc.isenabled()
    refusal(b"\x89PNG\r\n\x1a\n")
    refusal(b"request_id\nR1\n")
    assert gc.isenabled()
    gc.disable()
    try:
        read_batch_bytes(csv_bytes(3), "csv")
        assert not gc.isenabled()
    finally:
        gc.enable()


# --- properties ---------------------------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")


def read_or_refuse(data: bytes, fmt: Format, **kwargs: object) -> Batch | None:
    try:
        batch = read_batch_bytes(data, fmt, **kwargs)  # type: ignore[arg-type]
    except BatchFileError as exc:
        assert str(exc)
        return None
    assert_accounted(batch)
    return batch


@PROPERTY
@given(data=st.binary(max_size=3000), fmt=st.sampled_from(FORMATS))
def test_random_bytes_are_refused_or_fully_accounted(data: bytes, fmt: Format) -> None:
    read_or_refuse(data, fmt)


@PROPERTY
@given(data=st.binary(max_size=2000), fmt=st.sampled_from(FORMATS))
def test_random_bytes_after_a_valid_start_are_refused_or_fully_accounted(
    data: bytes, fmt: Format
) -> None:
    start = {
        "csv": HEADER.encode(),
        "jsonl": b'{"request_id": "1", "first_name": "A", "last_name": "B", "street": "S"}\n',
        "parquet": parquet_bytes(pa.table({c: ["x"] for c in REQUIRED_COLUMNS}))[:-30],
    }[fmt]
    read_or_refuse(start + data, fmt)


CLEAN_CELLS = st.sampled_from(["R1", "Ana", "García", "1 Main St", "李", "Zoë", ""])
DIRTY_PIECES = st.sampled_from(
    ['"', '""', ",", "\n", "\r\n", "\r", "\0", "x" * 70, "\u2028", "\t", ";", " ", "\x1c", "\ufeff"]
)
CELLS = st.one_of(
    CLEAN_CELLS,
    CLEAN_CELLS,
    CLEAN_CELLS.map(lambda s: f'"{s}"'),
    st.lists(st.one_of(CLEAN_CELLS, DIRTY_PIECES), max_size=4).map("".join),
)
CSV_LINES = st.tuples(
    st.lists(CELLS, min_size=3, max_size=5).map(",".join),
    st.sampled_from(["\n", "\n", "\r\n", "\r", "\n\n", " \n", ""]),
).map("".join)
CSV_BODIES = st.lists(st.one_of(CSV_LINES, CSV_LINES, CSV_LINES, DIRTY_PIECES), max_size=25).map(
    "".join
)
CLEAN_LINES = st.tuples(
    st.lists(
        st.one_of(CLEAN_CELLS, st.sampled_from(['"a, b"', '"say ""hi"""'])), min_size=4, max_size=4
    ).map(",".join),
    st.sampled_from(["\n", "\r\n"]),
).map("".join)
MOSTLY_CLEAN_BODIES = st.lists(
    st.one_of(CLEAN_LINES, CLEAN_LINES, CLEAN_LINES, CSV_LINES), max_size=25
).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "mixed"])


def encode(text: str, encoding: str) -> bytes:
    if encoding == "mixed":
        half = len(text) // 2
        return text[:half].encode() + text[half:].encode("cp1252", "replace")
    return text.encode(encoding, "replace")


@PROPERTY
@given(
    body=CSV_BODIES,
    encoding=ENCODINGS,
    header=st.sampled_from([HEADER, "Request ID;First Name;LAST-NAME;street;zip\n", "\n" + HEADER]),
)
def test_csvish_text_is_refused_or_fully_accounted(body: str, encoding: str, header: str) -> None:
    batch = read_or_refuse(encode(header + body, encoding), "csv", max_line=64)
    if batch is not None:
        assert all(r.line > 1 for r in batch.requests)


@PROPERTY
@given(
    body=st.one_of(
        st.lists(CLEAN_LINES, max_size=25).map("".join), MOSTLY_CLEAN_BODIES, CSV_BODIES
    ),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "mixed"]),
    max_line=st.sampled_from([48, 4096]),
)
def test_fast_path_agrees_with_the_reference_reader(
    body: str, encoding: str, max_line: int
) -> None:
    data = encode(HEADER + body, encoding)
    results: list[Batch | str] = []
    for fast in (True, False):
        try:
            reopen = (lambda mode="rb": io.BytesIO(data)) if fast else None
            stream = io.BytesIO(data)
            enc = intake._text_encoding(data[: intake._HEAD_BYTES], "x.csv", "csv")
            results.append(intake._read_csv(stream, enc, "x.csv", max_line, "", fast=reopen))
        except BatchFileError as exc:
            results.append(str(exc))
    assert results[0] == results[1]


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
JSON_OBJECTS = st.fixed_dictionaries(
    {c: JSON_SCALARS for c in REQUIRED_COLUMNS},
    optional={
        k: JSON_VALUES
        for k in [*COLUMNS, "Request ID", "ZIP", "other"]
        if k not in REQUIRED_COLUMNS
    },
)


@PROPERTY
@given(
    lines=st.lists(
        st.one_of(
            JSON_OBJECTS.map(json.dumps),
            JSON_OBJECTS.map(json.dumps),
            JSON_OBJECTS.map(lambda o: json.dumps(o, ensure_ascii=False)),
            JSON_OBJECTS.map(lambda o: json.dumps(o, ensure_ascii=False)[:-1]),
            JSON_VALUES.map(json.dumps),
            st.text(max_size=30),
            st.just(""),
        ),
        min_size=1,
        max_size=30,
    ),
    encoding=ENCODINGS,
    max_line=st.sampled_from([200, 4096]),
)
def test_json_lines_are_refused_or_fully_accounted(
    lines: list[str], encoding: str, max_line: int
) -> None:
    batch = read_or_refuse(encode("\n".join(lines), encoding), "jsonl", max_line=max_line)
    if batch is not None:
        assert all(r.line >= 1 for r in batch.requests)


TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
    | st.sampled_from(",;\"'\n\r\t |"),
    max_size=25,
)
ROWS = st.lists(st.fixed_dictionaries({c: TEXT for c in COLUMNS}), min_size=1, max_size=25)


def expected(rows: Sequence[dict[str, str]], lines: Sequence[int], agency: str) -> list[Request]:
    out = []
    for number, (row, line) in enumerate(zip(rows, lines, strict=True), start=1):
        values = {c: row[c].strip() for c in COLUMNS}
        values["agency"] = values["agency"] or agency
        subject = Subject(**{c: values[c] for c in SUBJECT_FIELDS})
        out.append(Request(number, line, **{c: values[c] for c in REQUEST_FIELDS}, subject=subject))
    return out


@PROPERTY
@given(
    rows=ROWS,
    order=st.randoms(use_true_random=False),
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_csv_round_trip(rows: list[dict[str, str]], order: random.Random, encoding: str) -> None:
    columns = list(COLUMNS)
    order.shuffle(columns)
    sink = io.StringIO(newline="")
    writer = csv.writer(sink)
    writer.writerow([c.upper().replace("_", " ") if order.random() < 0.3 else c for c in columns])
    lines, line = [], 2
    for row in rows:
        piece = io.StringIO(newline="")
        csv.writer(piece).writerow([row[c] for c in columns])
        text = piece.getvalue()
        lines.append(line)
        line += len(re.findall(r"\r\n|\r|\n", text))
        sink.write(text)
    batch = read_batch_bytes(sink.getvalue().encode(encoding), "csv", agency="ENV")
    assert batch.malformed == ()
    assert list(batch.requests) == expected(rows, lines, "ENV")


@PROPERTY
@given(rows=ROWS, ascii_only=st.booleans())
def test_jsonl_round_trip(rows: list[dict[str, str]], ascii_only: bool) -> None:
    text = "".join(json.dumps(row, ensure_ascii=ascii_only) + "\n" for row in rows)
    batch = read_batch_bytes(text.encode(), "jsonl", agency="ENV")
    assert batch.malformed == ()
    assert list(batch.requests) == expected(rows, range(1, len(rows) + 1), "ENV")


@PROPERTY
@given(rows=ROWS, group=st.integers(1, 10))
def test_parquet_round_trip(rows: list[dict[str, str]], group: int) -> None:
    table = pa.table({c: [row[c] for row in rows] for c in COLUMNS})
    batch = read_batch_bytes(parquet_bytes(table, row_group_size=group), "parquet", agency="ENV")
    assert batch.malformed == ()
    assert list(batch.requests) == expected(rows, range(1, len(rows) + 1), "ENV")
