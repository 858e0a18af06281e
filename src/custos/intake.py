"""Batch intake: every data row of a request file becomes a `Request` or a `MalformedRow`.

Intake reads CSV (and other delimited text), JSON Lines and Parquet. It promises:

* **One outcome per row.** ``rows == len(requests) + len(malformed)`` and each row
  number ``1..rows`` appears exactly once. A row that cannot be read never stops the
  batch; blank lines are not rows.
* **One clear refusal per file.** A file that is not a request batch at all — missing,
  unreadable, empty, larger than ``max_bytes``, binary, not a table, a header without
  the required columns, a header line longer than ``max_line`` — raises
  `BatchFileError` with one message that names the file and the problem.
* **Bounded memory per line.** No line is held whole if it is longer than ``max_line``
  characters (1 MiB by default): a 2 GB line costs a few MiB of buffers, not 2 GB.

Decisions where the contract was silent:

* *Encodings.* A byte-order mark decides (UTF-8, UTF-16, UTF-32); UTF-16 without a
  BOM is recognised from its zero bytes. Otherwise the file is UTF-8 unless it has
  bytes that are not UTF-8 and no non-ASCII UTF-8 sequence at all, in which case it is
  a legacy file read as Windows-1252. A file with both (UTF-8 with some rows in another
  encoding) stays UTF-8 and the rows with undecodable bytes are malformed: guessing a
  second encoding per row could silently change a name, and a request about a person
  must say exactly what the requester wrote.
* *Values* are stripped of leading and trailing whitespace (``str.strip``). Missing
  optional columns read as ``""``. An ``agency`` column fills `Request.agency`; where
  its value is blank the ``agency`` argument is used.
* *Fields.* A row with a different number of fields from the header, a NUL byte, bytes
  that cannot be decoded, a line over ``max_line`` or a field over the csv module's
  field limit (131,072 characters) is malformed. When a quoted field opened on one line
  never closes properly, that line is malformed and the lines it swallowed are read
  again on their own, so one stray quote costs one row, not the rest of the file.
* *JSON Lines:* each line one object; scalars become text (``true``/``false`` for
  booleans, numbers as written by Python, ``null`` as ``""``); an array or object as the
  value of a column intake reads makes the row malformed. Keys are normalised like CSV
  headers. The file is refused when no object carries a required key.
* *Parquet* is read one row group at a time, only the columns intake needs; values are
  cast to text. A row group that cannot be decoded makes each of its rows malformed.

UTF-8 CSV takes a fast path through Arrow's CSV reader, rows with the wrong number of
fields included; any other irregularity (blank lines, NUL bytes, bytes that are not
UTF-8, quoted newlines, long lines, a parse error) sends the whole file to the
line-by-line reader, which is the reference: the fast path returns exactly what it
would, only sooner.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Final, Literal, TypeVar, cast, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from custos.errors import BatchFileError
from custos.model import REQUIRED_COLUMNS, MalformedRow, Request, Subject

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LINE",
    "Batch",
    "Format",
    "read_batch",
    "read_batch_bytes",
]

Format = Literal["csv", "jsonl", "parquet"]

DEFAULT_MAX_BYTES: Final = 1024 * 1024 * 1024
"""Largest request file intake accepts, in bytes."""

DEFAULT_MAX_LINE: Final = 1024 * 1024
"""Longest physical line intake reads, in characters; longer lines are not held in memory."""

_EXTENSIONS: Final[dict[str, Format]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".psv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DELIMITERS: Final = (",", "\t", ";", "|")
_HEAD_BYTES: Final = 64 * 1024
_SCAN_BYTES: Final = 1024 * 1024
_FLUSH_ROWS: Final = 8192
_PARQUET_BATCH: Final = 65536
_PARQUET_INFLATION: Final = 8
"""A Parquet file may decompress to at most this many times ``max_bytes``."""

_WHITESPACE: Final = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
_HEADER_SEPARATORS: Final = re.compile(r"[\s\-]+")
_UNDECODABLE: Final = re.compile("[\udc00-\udcff]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_NON_ASCII: Final = re.compile("[\u0080-\ud7ff\ue000-\U0010ffff]")
_JSON_ID: Final = re.compile(r'"request[ _-]?id"\s*:\s*"([^"\\]{1,200})"', re.IGNORECASE)
_MARK_ERRORS: Final = "custos-intake-mark"


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    """Decode each bad byte as a lone surrogate, which no valid decoding yields.

    A row can then be found to contain undecodable bytes, and which, without
    stopping the stream.
    """
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start : exc.end]
        return "".join(chr(0xDC00 + b) for b in bad), exc.end
    raise exc


codecs.register_error(_MARK_ERRORS, _mark_undecodable)


@dataclass(frozen=True, slots=True)
class Batch:
    """A read request file: the readable rows and the malformed ones, both in row order.

    `encoding` says how a text file was decoded (empty for Parquet), so a
    requester told that a row was undecodable can see what intake assumed.
    """

    source: str
    fmt: str
    rows: int
    requests: tuple[Request, ...]
    malformed: tuple[MalformedRow, ...]
    encoding: str = ""


# --- construction in bulk -------------------------------------------------------------

_T = TypeVar("_T")


def _bulk_constructor(cls: type[_T]) -> Callable[..., _T]:
    """A positional constructor for a frozen, slotted dataclass that is 3x faster.

    A frozen dataclass sets each field through ``object.__setattr__``; for 1.28 M
    requests that is most of intake's time. The builder fills the same slots
    directly and then becomes `cls`, so what it returns is an ordinary instance,
    equal to, hashing like, and as frozen as one made by ``cls(...)``. If `cls` has
    any init logic of its own, the class itself is returned.
    """
    names = tuple(f.name for f in fields(cast(Any, cls)))
    plain = (
        getattr(cls, "__slots__", None) == names
        and not hasattr(cls, "__post_init__")
        and all(f.init for f in fields(cast(Any, cls)))
    )
    if not plain:
        return cls
    body = "".join(f"        self.{n} = {n}\n" for n in names)
    source = (
        "class Builder:\n"
        f"    __slots__ = {names!r}\n"
        f"    def __init__(self, {', '.join(names)}):\n"
        f"{body}"
        "        self.__class__ = target\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, {"target": cls}, namespace)
    builder: Callable[..., _T] = namespace["Builder"]
    probe = tuple(f"v{i}" for i in range(len(names)))
    try:
        if builder(*probe) != cls(*probe):
            return cls
    except TypeError:
        return cls
    return builder


_new_subject = _bulk_constructor(Subject)
_new_request = _bulk_constructor(Request)
_SUBJECT_FIELDS: Final = tuple(f.name for f in fields(Subject))
_REQUEST_FIELDS: Final = tuple(f.name for f in fields(Request))
_READ_COLUMNS: Final = (
    *(n for n in _REQUEST_FIELDS if n not in ("row", "line", "subject")),
    *_SUBJECT_FIELDS,
)
"""Every column intake reads: the request's own fields (with `agency`) and the subject's."""


class _GcPause:
    """Pauses the cyclic garbage collector while batches are built, nesting across threads.

    Intake creates millions of acyclic objects that live as long as the batch; with
    the collector running, a 1.28 M-row batch spends about half its time in
    collections that can free nothing. The collector's prior state is restored when
    the last reader finishes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._restore = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._restore:
                    gc.enable()


_gc_paused = _GcPause()


def _build(
    numbers: Sequence[int],
    lines: Sequence[int],
    columns: Mapping[str, Sequence[str]],
    agency: str,
) -> list[Request]:
    """Requests from stripped column values; absent columns read as empty."""

    def column(name: str) -> Iterable[str]:
        return columns[name] if name in columns else repeat("")

    agencies: Iterable[str] = (
        [a or agency for a in columns["agency"]] if "agency" in columns else repeat(agency)
    )
    subjects = list(map(_new_subject, *(column(n) for n in _SUBJECT_FIELDS)))
    special: dict[str, Iterable[Any]] = {
        "row": numbers,
        "line": lines,
        "subject": subjects,
        "agency": agencies,
    }
    args = [special[n] if n in special else column(n) for n in _REQUEST_FIELDS]
    return list(map(_new_request, *args))


class _Collector:
    """Rows as they are read: readable ones in bulk, malformed ones one by one."""

    def __init__(self, layout: _Layout, agency: str) -> None:
        self.layout = layout
        self.agency = agency
        self.rows = 0
        self.requests: list[Request] = []
        self.malformed: list[MalformedRow] = []
        self._numbers: list[int] = []
        self._lines: list[int] = []
        self._values: list[Sequence[str]] = []

    def add(self, line: int, values: Sequence[str]) -> None:
        """Take a readable row; `values` is indexed by the layout's positions."""
        self.rows += 1
        self._numbers.append(self.rows)
        self._lines.append(line)
        self._values.append(values)
        if len(self._values) >= _FLUSH_ROWS:
            self.flush()

    def reject(self, line: int, error: str, request_id: str = "") -> None:
        self.flush()
        self.rows += 1
        self.malformed.append(MalformedRow(self.rows, line, error, request_id))

    def extend(self, count: int, requests: list[Request], malformed: list[MalformedRow]) -> None:
        """Take `count` rows already built, numbered from ``self.rows + 1`` on."""
        self.flush()
        self.requests.extend(requests)
        self.malformed.extend(malformed)
        self.rows += count

    def flush(self) -> None:
        if not self._values:
            return
        values = self._values
        columns = {
            name: list(map(str.strip, map(itemgetter(pos), values)))
            for name, pos in self.layout.positions.items()
        }
        self.requests.extend(_build(self._numbers, self._lines, columns, self.agency))
        self._numbers, self._lines, self._values = [], [], []

    def batch(self, source: str, fmt: Format, encoding: str) -> Batch:
        self.flush()
        return Batch(source, fmt, self.rows, tuple(self.requests), tuple(self.malformed), encoding)


# --- entry points ---------------------------------------------------------------------


def read_batch(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    agency: str = "",
    max_line: int = DEFAULT_MAX_LINE,
) -> Batch:
    """Read a request file; the format comes from the extension, else from the content.

    Raises `BatchFileError` for a file that cannot be taken as a batch at all.
    """
    path = Path(path)
    source = str(path)
    try:
        if not path.exists():
            raise BatchFileError(f"{source}: no such file")
        if path.is_dir():
            raise BatchFileError(f"{source} is a directory, not a request file")
        if not path.is_file():
            raise BatchFileError(f"{source} is not a regular file")
        size = path.stat().st_size
        _check_size(source, size, max_bytes)
        with path.open("rb") as stream:
            fmt = _EXTENSIONS.get(path.suffix.lower())
            return _read_stream(stream, path.open, fmt, source, max_bytes, max_line, agency)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise BatchFileError(f"{source} cannot be read: {reason}") from exc


def read_batch_bytes(
    data: bytes,
    fmt: Format,
    *,
    source: str = "<upload>",
    max_bytes: int = DEFAULT_MAX_BYTES,
    agency: str = "",
    max_line: int = DEFAULT_MAX_LINE,
) -> Batch:
    """Read a request file held in memory (an HTTP upload) in the stated format."""
    if fmt not in get_args(Format):
        raise BatchFileError(f"{source}: unknown format {fmt!r}; expected csv, jsonl or parquet")
    _check_size(source, len(data), max_bytes)

    def reopen(mode: str = "rb") -> IO[bytes]:
        return io.BytesIO(data)

    return _read_stream(reopen(), reopen, fmt, source, max_bytes, max_line, agency)


def _check_size(source: str, size: int, max_bytes: int) -> None:
    if size == 0:
        raise BatchFileError(f"{source} is empty")
    if size > max_bytes:
        raise BatchFileError(
            f"{source} is {_mib(size)}, larger than the limit of {_mib(max_bytes)}"
        )


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def _read_stream(
    stream: IO[bytes],
    reopen: Callable[..., IO[bytes]],
    fmt: Format | None,
    source: str,
    max_bytes: int,
    max_line: int,
    agency: str,
) -> Batch:
    head = stream.read(_HEAD_BYTES)
    stream.seek(0)
    if fmt is None:
        fmt = _sniff_format(head, source)
    with _gc_paused():
        if fmt == "parquet":
            return _read_parquet(stream, head, source, max_bytes, agency)
        encoding = _text_encoding(head, source, fmt)
        if fmt == "jsonl":
            return _read_jsonl(stream, encoding, source, max_line, agency)
        return _read_csv(stream, encoding, source, max_line, agency, fast=reopen)


# --- what the bytes are -------------------------------------------------------------

_MAGIC: Final = (
    (b"PAR1", "a Parquet file"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook is one)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"(\xb5/\xfd", "a Zstandard-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.xls or .doc)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "an executable"),
)
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32LE with BOM"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32BE with BOM"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16LE with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16BE with BOM"),
)
_FORMAT_NAMES: Final[dict[Format, str]] = {
    "csv": "CSV",
    "jsonl": "JSON Lines",
    "parquet": "Parquet",
}


@dataclass(frozen=True, slots=True)
class _Encoding:
    """How a text file is decoded; `eight_bit` means UTF-8 or a legacy code page, undecided."""

    codec: str
    name: str
    eight_bit: bool = False


def _magic(head: bytes) -> str | None:
    for signature, what in _MAGIC:
        if head.startswith(signature):
            return what
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file"
    return None


def _sniff_format(head: bytes, source: str) -> Format:
    """The format of a file whose name does not say: Parquet, JSON Lines, else delimited text."""
    if head.startswith(b"PAR1"):
        return "parquet"
    what = _magic(head)
    if what is not None:
        raise BatchFileError(f"{source} is {what}, not a request batch (CSV, JSON Lines, Parquet)")
    encoding = _text_encoding(head, source, None)
    text = head.decode(encoding.codec, _MARK_ERRORS).lstrip(_WHITESPACE + "\ufeff")
    if text.startswith("{"):
        return "jsonl"
    if text.startswith("["):
        raise BatchFileError(
            f"{source} looks like a JSON array; intake reads JSON Lines, one object per line"
        )
    return "csv"


def _text_encoding(head: bytes, source: str, fmt: Format | None) -> _Encoding:
    """The encoding of a text file from its first bytes; refuses what is not text."""
    what = _magic(head)
    if what is not None:
        expected = _FORMAT_NAMES[fmt] if fmt else "text"
        hint = "; give it a .parquet name" if what == "a Parquet file" else ""
        raise BatchFileError(f"{source} is {what}, not {expected}{hint}")
    encoding = _declared_encoding(head)
    if encoding.eight_bit:
        sample = head.decode("latin-1")
    else:
        decoder = codecs.getincrementaldecoder(encoding.codec)(_MARK_ERRORS)
        sample = decoder.decode(head, final=len(head) < _HEAD_BYTES)
    if not sample.strip(_WHITESPACE + "\ufeff") and len(head) < _HEAD_BYTES:
        kind = "no JSON objects" if fmt == "jsonl" else "no header line"
        raise BatchFileError(f"{source} has {kind}: it contains only blank lines")
    noise = sum(1 for ch in sample if _is_noise(ch))
    if noise > 0.05 * len(sample):
        what = _FORMAT_NAMES[fmt] if fmt else "a request batch"
        raise BatchFileError(
            f"{source} does not look like text ({noise} of its first {len(sample)} characters "
            f"are control codes or undecodable); it cannot be read as {what}"
        )
    return encoding


def _is_noise(ch: str) -> bool:
    code = ord(ch)
    return (code < 32 and ch not in "\t\n\r\f\v") or code == 0x7F or 0xDC00 <= code <= 0xDCFF


def _declared_encoding(head: bytes) -> _Encoding:
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return _Encoding(codec, name)
    sample = head[:4096]
    pairs = len(sample) // 2
    if pairs >= 2:
        even = sample[0 : pairs * 2 : 2].count(0) / pairs
        odd = sample[1 : pairs * 2 : 2].count(0) / pairs
        if odd > 0.4 and even < 0.05:
            return _Encoding("utf-16-le", "UTF-16LE without BOM")
        if even > 0.4 and odd < 0.05:
            return _Encoding("utf-16-be", "UTF-16BE without BOM")
    return _Encoding("utf-8", "UTF-8", eight_bit=True)


def _settle(stream: IO[bytes], encoding: _Encoding) -> tuple[_Encoding, str | None]:
    """The final encoding, and how to name it when a line has undecodable bytes.

    A file with a BOM (or UTF-16 zeros) is what it says. A file without is read once
    through: it is a legacy Windows-1252 file only if it has bytes that are not UTF-8
    and no valid non-ASCII UTF-8 at all; with both, it is UTF-8 with some undecodable
    rows. The name is None when no line can be undecodable.
    """
    if not encoding.eight_bit:
        return encoding, encoding.name
    stream.seek(0)
    valid_non_ascii = invalid = False
    carry = b""
    while True:
        block = stream.read(_SCAN_BYTES)
        data = carry + block
        cut = len(data)
        if block:
            # end the chunk after an ASCII byte, so that no UTF-8 sequence is cut
            for i in range(len(data) - 1, max(len(data) - 5, -1), -1):
                if data[i] < 0x80:
                    cut = i + 1
                    break
        part, carry = data[:cut], data[cut:]
        try:
            part.decode("utf-8")
            valid_non_ascii = valid_non_ascii or not part.isascii()
        except UnicodeDecodeError:
            invalid = True
            if not valid_non_ascii:
                text = part.decode("utf-8", "surrogateescape")
                valid_non_ascii = _NON_ASCII.search(text) is not None
        if (invalid and valid_non_ascii) or not block:
            break
    stream.seek(0)
    if invalid and not valid_non_ascii:
        return _Encoding("cp1252", "Windows-1252"), "Windows-1252"
    if invalid:
        return (
            _Encoding("utf-8", "UTF-8 (some lines in another encoding)"),
            "UTF-8 like the rest of the file",
        )
    return _Encoding("utf-8", "UTF-8"), None


@contextmanager
def _text_view(stream: IO[bytes], codec: str, newline: str) -> Iterator[io.TextIOWrapper]:
    """Decoded text over `stream` from its start, leaving `stream` open afterwards."""
    stream.seek(0)
    text = io.TextIOWrapper(cast(Any, stream), encoding=codec, errors=_MARK_ERRORS, newline=newline)
    try:
        yield text
    finally:
        text.detach()


# --- physical lines -------------------------------------------------------------------


class _Lines:
    """The physical lines of a text, numbered, bounded in length, their defects noted.

    A line longer than the limit is skipped to its end without being held and stands
    as an empty line; its defect says why. `taken` lists the lines handed out since it
    was last cleared (a csv reader pulls exactly the lines of one record), and lines
    put back in `pushback` are handed out again before any new one. `undecodable`
    names the encoding in messages about undecodable bytes; None skips that check.
    """

    def __init__(
        self, text: io.TextIOWrapper, limit: int, *, undecodable: str | None, ends: str
    ) -> None:
        self._readline = text.readline
        self.limit = limit
        self._undecodable = undecodable
        self._ends = tuple(ends)
        self._ahead: str | None = None
        self.number = 0
        self.taken: list[tuple[int, str]] = []
        self.defects: dict[int, tuple[str, str]] = {}
        self.pushback: deque[tuple[int, str]] = deque()
        self.stream = self._generate()

    def _generate(self) -> Iterator[str]:
        taken, pushback, readline, limit = self.taken, self.pushback, self._readline, self.limit
        check = _UNDECODABLE.search if self._undecodable is not None else None
        while True:
            if pushback:
                item = pushback.popleft()
            else:
                if self._ahead is None:
                    text = readline(limit)
                else:
                    text, self._ahead = self._ahead, None
                if not text:
                    return
                self.number += 1
                if len(text) >= limit or "\0" in text or (check is not None and check(text)):
                    text = self._inspect(self.number, text)
                item = (self.number, text)
            taken.append(item)
            yield item[1]

    def restart(self) -> Iterator[str]:
        """A fresh stream of lines, for when lines were put back after the old one ended."""
        self.stream = self._generate()
        return self.stream

    def _rest_of_line(self, text: str) -> str:
        """A line cut at the limit right after a CR may end in LF: keep CRLF one ending."""
        if text.endswith("\r") and "\r" in self._ends:
            after = self._readline(self.limit)
            if after == "\n":
                return text + after
            self._ahead = after or None
        return text

    def _inspect(self, number: int, text: str) -> str:
        if len(text) >= self.limit:
            text = self._rest_of_line(text)
            if not text.endswith(self._ends) and self._skip_rest():
                message = f"line {number} is longer than {self.limit} characters"
                self.defects[number] = ("long", message)
                return "\n"
        if "\0" in text:
            self.defects[number] = ("nul", f"line {number} contains a NUL byte")
        elif self._undecodable is not None:
            found = _UNDECODABLE.search(text)
            if found is not None:
                byte = ord(found.group()) - 0xDC00
                message = f"line {number} has bytes that are not {self._undecodable} (0x{byte:02X})"
                self.defects[number] = ("undecodable", message)
        return text

    def _skip_rest(self) -> bool:
        """Discard the rest of an over-long line; False if the line in fact ended here."""
        skipped = False
        while True:
            if self._ahead is None:
                more = self._readline(self.limit)
            else:
                more, self._ahead = self._ahead, None
            if not more:
                return skipped
            skipped = True
            if len(more) >= self.limit:
                more = self._rest_of_line(more)
            if more.endswith(self._ends):
                return True

    def defect(self, lines: Iterable[tuple[int, str]]) -> str | None:
        """The first defect among these lines, if any."""
        for number, _ in lines:
            found = self.defects.get(number)
            if found is not None:
                return found[1]
        return None


# --- columns --------------------------------------------------------------------------


def _column_key(name: str) -> str:
    """How a header names a column: case, spacing and hyphens do not matter."""
    return _HEADER_SEPARATORS.sub("_", name.strip().strip("\ufeff\u200b").casefold()).strip("_")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each column intake reads sits among the file's columns."""

    width: int
    positions: dict[str, int]


def _layout(names: Sequence[str], source: str, what: str) -> _Layout:
    """The layout of a header; refuses a header without the required columns."""
    positions: dict[str, int] = {}
    wanted = set(_READ_COLUMNS)
    for pos, raw in enumerate(names):
        key = _column_key(raw)
        if key not in wanted:
            continue
        if key in positions:
            first = names[positions[key]]
            raise BatchFileError(
                f"{source}: {what} names column {key} twice ({first!r} and {raw!r}); "
                "it is not clear which one to read"
            )
        positions[key] = pos
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        shown = ", ".join(repr(n[:40]) for n in names[:12]) + (", …" if len(names) > 12 else "")
        raise BatchFileError(
            f"{source}: {what} lacks the required column(s) {', '.join(missing)} "
            f"(it has {len(names)}: {shown})"
        )
    return _Layout(len(names), positions)


def _recover_id(values: Sequence[str], layout: _Layout) -> str:
    """The request id of an unreadable row, when its cell is itself clean (best effort)."""
    pos = layout.positions["request_id"]
    if pos >= len(values):
        return ""
    value = values[pos].strip()
    if len(value) > 200 or "\0" in value or _SURROGATE.search(value):
        return ""
    return value


# --- CSV ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Header:
    line: int
    delimiter: str
    layout: _Layout
    end_offset: int
    """Bytes from the start of the file to the first data line (UTF-8 only)."""


def _csv_header(lines: _Lines, source: str, preferred: str, *, tentative: bool) -> _Header | None:
    """Find and parse the header line; None if `tentative` and it is not valid UTF-8."""
    texts: list[str] = []
    for text in lines.stream:
        texts.append(text)
        number = lines.number
        kind, _ = lines.defects.get(number, ("", ""))
        if not kind and not text.strip(_WHITESPACE + "\ufeff"):
            continue
        if kind == "undecodable" and tentative:
            return None
        if kind == "nul":
            raise BatchFileError(
                f"{source}: the header (line {number}) contains NUL bytes; this is not a text table"
            )
        if kind == "long":
            raise BatchFileError(
                f"{source}: the header (line {number}) is longer than {lines.limit} "
                "characters; this is not a request batch"
            )
        if kind:
            raise BatchFileError(f"{source}: the header (line {number}) cannot be decoded")
        lines.taken.clear()
        delimiter, names = _split_header(text, preferred)
        layout = _layout(names, source, "the header")
        offset = sum(len(t.encode("utf-8")) for t in texts)
        return _Header(number, delimiter, layout, offset)
    raise BatchFileError(f"{source} has no header line: it contains only blank lines")


def _split_header(text: str, preferred: str) -> tuple[str, list[str]]:
    """Pick the delimiter under which the header names the most required columns."""
    order = (preferred, *(d for d in _DELIMITERS if d != preferred))
    best: tuple[tuple[int, int, int], str, list[str]] | None = None
    for rank, delimiter in enumerate(order):
        try:
            names = next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error:
            continue
        keys = {_column_key(n) for n in names}
        score = (sum(1 for c in REQUIRED_COLUMNS if c in keys), min(len(names), 2), -rank)
        if best is None or score > best[0]:
            best = (score, delimiter, names)
    if best is None:
        return ",", [text]
    return best[1], best[2]


def _read_csv(
    stream: IO[bytes],
    encoding: _Encoding,
    source: str,
    max_line: int,
    agency: str,
    *,
    fast: Callable[..., IO[bytes]] | None,
) -> Batch:
    """Delimited text; `fast` opens a second stream over the file for Arrow, None to skip it."""
    suffix = Path(source).suffix.lower()
    preferred = {".tsv": "\t", ".tab": "\t", ".psv": "|"}.get(suffix, ",")
    if fast is not None and encoding.codec in ("utf-8", "utf-8-sig"):
        bom = len(codecs.BOM_UTF8) if encoding.codec == "utf-8-sig" else 0
        with _text_view(stream, encoding.codec, "") as text:
            lines = _Lines(text, max_line, undecodable="UTF-8", ends="\r\n")
            header = _csv_header(lines, source, preferred, tentative=encoding.eight_bit)
        if header is not None:
            with fast("rb") as own:
                fast_rows = _csv_fast(own, header, bom, max_line, agency)
            if fast_rows is not None:
                requests, malformed = fast_rows
                name = "UTF-8" if encoding.eight_bit else encoding.name
                rows = len(requests) + len(malformed)
                return Batch(source, "csv", rows, tuple(requests), tuple(malformed), name)
    encoding, undecodable = _settle(stream, encoding)
    with _text_view(stream, encoding.codec, "") as text:
        lines = _Lines(text, max_line, undecodable=undecodable, ends="\r\n")
        found = _csv_header(lines, source, preferred, tentative=False)
        if found is None:  # pragma: no cover - only a tentative read returns None
            raise BatchFileError(f"{source}: the header cannot be decoded")
        return _csv_rows(lines, found, agency).batch(source, "csv", encoding.name)


def _csv_rows(lines: _Lines, header: _Header, agency: str) -> _Collector:
    """The reference reader: csv records, each checked, numbered and collected."""
    layout = header.layout
    width = layout.width
    rows = _Collector(layout, agency)
    reader = csv.reader(lines.stream, delimiter=header.delimiter)
    taken = lines.taken
    while True:
        taken.clear()
        error: str | None = None
        try:
            values: list[str] = next(reader)
        except StopIteration:
            if not taken:
                break
            values, error = [], "the file ends inside a quoted field"
        except csv.Error as exc:
            values, error = [], str(exc)
        if not taken:
            break
        record = taken
        start = record[0][0]
        defect = lines.defect(record) if lines.defects else None
        if defect is not None:
            rows.reject(start, defect, _recover_id(values, layout))
            continue
        if error is None and len(values) == width:
            rows.add(start, values)
            continue
        blank = len(record) == 1 and len(values) <= 1 and not "".join(values).strip(_WHITESPACE)
        if error is None and blank:
            continue
        if len(record) > 1 and _swallowed(record[1:], header.delimiter, width):
            first = next(csv.reader([record[0][1]], delimiter=header.delimiter), [])
            rows.reject(
                start,
                f"a quoted field opened on line {start} is not closed; "
                "the lines after it were read on their own",
                _recover_id(first, layout),
            )
            lines.pushback.extendleft(reversed(record[1:]))
            reader = csv.reader(lines.restart(), delimiter=header.delimiter)
            continue
        if error is not None:
            message = f"cannot be parsed: {error}"
        else:
            message = _field_count_error(len(values), width)
        if len(record) > 1:
            message += f" (lines {start}-{record[-1][0]})"
        rows.reject(start, message, _recover_id(values, layout))
    return rows


def _swallowed(record: Sequence[tuple[int, str]], delimiter: str, width: int) -> bool:
    """Whether any of these lines is a complete row on its own (so a stray quote ate it)."""
    for _, text in record:
        try:
            values = next(csv.reader([text], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(values) == width:
            return True
    return False


class _Probe:
    """Hands the data region of a CSV file to Arrow, whole lines at a time, checking each.

    The fast path is valid only when every row is exactly one physical line, no line is
    blank or too long, and there are no NUL bytes, lone carriage returns or invalid
    UTF-8 anywhere, nor a byte-order mark at its start. `regular` says whether that held for everything read so far. Arrow
    is only ever given complete lines that passed, so it never meets undecodable text;
    at the first irregular line it is told the data has ended.
    """

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._carry = b""
        self._started = False
        self.lines = 0
        self.regular = True
        self.finished = False

    @property
    def closed(self) -> bool:
        return False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        while not self.finished:
            block = self._stream.read(size if size > 0 else _SCAN_BYTES)
            data = self._carry + block
            if not block:
                self.finished = True
                self._carry = b""
                return data if data and self._check(data, final=True) else b""
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                if len(data) > self._limit:
                    self._stop()
                else:
                    self._carry = data
                continue
            chunk, self._carry = data[:cut], data[cut:]
            if self._check(chunk, final=False):
                return chunk
        return b""

    def _stop(self) -> None:
        self.regular = False
        self.finished = True

    def _check(self, chunk: bytes, *, final: bool) -> bool:
        """Whether these complete lines (the last one unterminated if `final`) are regular."""
        bom = not self._started and chunk.startswith(codecs.BOM_UTF8)  # Arrow would drop it
        self._started = True
        if bom or b"\0" in chunk or len(self._carry) > self._limit:
            self._stop()
            return False
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            self._stop()
            return False
        data = np.frombuffer(chunk, dtype=np.uint8)
        if b"\r" in chunk:
            after = np.flatnonzero(data == 13) + 1
            if after[-1] >= len(data) or not bool((data[after] == 10).all()):
                self._stop()
                return False
        ends = np.flatnonzero(data == 10)
        if final:
            ends = np.append(ends, len(data))
        gaps = np.diff(ends, prepend=-1)
        before = data[np.maximum(ends - 1, 0)]
        blank = (gaps == 1) | ((gaps == 2) & (before == 13))
        if bool(blank.any()) or int(gaps.max()) > self._limit:
            self._stop()
            return False
        self.lines += len(ends)
        return True

    def drain(self) -> None:
        """Read what Arrow left unread, so the checks cover the whole region."""
        while not self.finished:
            self.read(_SCAN_BYTES)


def _csv_fast(
    stream: IO[bytes], header: _Header, bom: int, max_line: int, agency: str
) -> tuple[list[Request], list[MalformedRow]] | None:
    """Clean UTF-8 CSV through Arrow's reader; None whenever the reference reader is needed.

    Rows with the wrong number of fields stay on this path as malformed rows, with
    the message the reference reader gives; anything else irregular gives None.
    `stream` is Arrow's alone: it is never shared with the reference reader, so no
    read Arrow may still have under way can move the other's position.
    """
    limit = min(max_line, csv.field_size_limit() - 1)
    stream.seek(bom + header.end_offset)
    probe = _Probe(stream, limit)
    layout = header.layout
    names = [f"c{i}" for i in range(layout.width)]
    wanted = {key: names[pos] for key, pos in layout.positions.items()}
    skipped: list[tuple[int, str]] = []

    def skip(row: Any) -> str:
        skipped.append((row.number, row.text))
        return "skip"

    chunks: list[dict[str, list[str]]] = []
    distinct: set[str] = set()
    reader: Any = None
    try:
        reader = pacsv.open_csv(
            probe,
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=max(_SCAN_BYTES, limit + 2), use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=header.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=skip,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(wanted.values()),
                column_types={c: pa.string() for c in wanted.values()},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for chunk in reader:
            if not probe.regular:
                return None
            chunks.append(
                {
                    key: _texts(
                        pc.utf8_trim(chunk.column(col), characters=_WHITESPACE), distinct, key
                    )
                    for key, col in wanted.items()
                }
            )
    except (pa.ArrowException, ValueError):
        return None
    finally:
        if reader is not None:
            reader.close()
    probe.drain()
    good = sum(len(next(iter(c.values()), [])) for c in chunks)
    if not probe.regular or probe.lines != good + len(skipped):
        return None
    malformed: list[MalformedRow] = []
    for number, text in sorted(skipped):
        values = next(csv.reader([text], delimiter=header.delimiter), [])
        if len(values) == layout.width or not "".join(values).strip(_WHITESPACE):
            return None
        error = _field_count_error(len(values), layout.width)
        line = header.line + number
        malformed.append(MalformedRow(number, line, error, _recover_id(values, layout)))
    keep = np.ones(good + len(skipped) + 1, dtype=bool)
    keep[0] = False
    keep[[number for number, _ in skipped]] = False
    numbers = np.flatnonzero(keep).tolist()
    requests: list[Request] = []
    for columns in chunks:
        done = len(requests)
        taken = numbers[done : done + len(next(iter(columns.values()), []))]
        lines = [header.line + n for n in taken]
        requests.extend(_build(taken, lines, columns, agency))
    return requests, malformed


def _texts(array: Any, distinct: set[str] | None = None, key: str = "") -> list[str]:
    """An Arrow string column as Python strings, each distinct value made once.

    Most request columns repeat (purpose, statute, official, city, state); sharing
    one string per value keeps a 1.28 M-row batch's memory to what its distinct
    values need. Columns found mostly distinct are added to `distinct` and not
    tried again.
    """
    if distinct is not None and key in distinct:
        return array.to_pylist()  # type: ignore[no-any-return]
    encoded = pc.dictionary_encode(array)
    words = encoded.dictionary
    if len(words) * 2 > len(array):
        if distinct is not None and len(array) >= 1000:
            distinct.add(key)
        return array.to_pylist()  # type: ignore[no-any-return]
    return list(map(words.to_pylist().__getitem__, encoded.indices.to_pylist()))


def _field_count_error(fields: int, width: int) -> str:
    return f"row has {fields} fields; the header has {width} columns"


# --- JSON Lines -----------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a " + type(value).__name__


def _json_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def _read_jsonl(
    stream: IO[bytes], encoding: _Encoding, source: str, max_line: int, agency: str
) -> Batch:
    encoding, undecodable = _settle(stream, encoding)
    layout = _Layout(len(_READ_COLUMNS), {n: i for i, n in enumerate(_READ_COLUMNS)})
    rows = _Collector(layout, agency)
    keys: dict[str, str] = {}
    seen: set[str] = set()
    objects = lines_read = 0
    with _text_view(stream, encoding.codec, "\n") as text:
        lines = _Lines(text, max_line, undecodable=undecodable, ends="\n")
        for line in lines.stream:
            number = lines.number
            defect = lines.defect(lines.taken)
            lines.taken.clear()
            if defect is None and not line.strip(_WHITESPACE):
                continue
            lines_read += 1
            if defect is not None:
                rows.reject(number, defect, _json_id(line))
                continue
            try:
                value = json.loads(line, parse_constant=_reject_constant)
            except json.JSONDecodeError as exc:
                rows.reject(
                    number, f"not valid JSON: {exc.msg} (column {exc.colno})", _json_id(line)
                )
                continue
            except (ValueError, RecursionError) as exc:
                reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                rows.reject(number, f"not valid JSON: {reason}", _json_id(line))
                continue
            if not isinstance(value, dict):
                rows.reject(number, f"a JSON line must be an object; this is {_json_kind(value)}")
                continue
            objects += 1
            values, problem = _object_values(value, keys, seen)
            if problem is not None:
                rows.reject(number, problem, _recover_id(values, layout))
            else:
                rows.add(number, values)
    if objects == 0:
        raise BatchFileError(
            f"{source} is not JSON Lines: none of its {lines_read} non-blank lines could be "
            "read as a JSON object"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise BatchFileError(f"{source}: no object has the required key(s) {', '.join(missing)}")
    return rows.batch(source, "jsonl", encoding.name)


def _json_id(line: str) -> str:
    found = _JSON_ID.search(line)
    return found.group(1).strip() if found else ""


_READ_INDEX: Final = {n: i for i, n in enumerate(_READ_COLUMNS)}


def _object_values(
    obj: dict[str, Any], keys: dict[str, str], seen: set[str]
) -> tuple[list[str], str | None]:
    """The object's values in `_READ_COLUMNS` order, and the first reason it is unreadable."""
    values = [""] * len(_READ_COLUMNS)
    filled: dict[str, str] = {}
    problem: str | None = None
    for raw, value in obj.items():
        key = keys.get(raw)
        if key is None:
            key = keys[raw] = _column_key(raw)
        index = _READ_INDEX.get(key)
        if index is None:
            continue
        seen.add(key)
        if key in filled:
            problem = problem or f"keys {filled[key]!r} and {raw!r} both name column {key}"
            continue
        filled[key] = raw
        text = _json_text(value)
        if text is None:
            problem = problem or f"value of {raw!r} is {_json_kind(value)}, not text"
            continue
        if "\0" in text:
            problem = problem or f"value of {raw!r} contains a NUL character"
        elif _SURROGATE.search(text):
            problem = problem or f"value of {raw!r} contains an unpaired surrogate escape"
        elif len(text) > csv.field_size_limit():
            problem = (
                problem or f"value of {raw!r} is longer than {csv.field_size_limit()} characters"
            )
        values[index] = text
    return values, problem


# --- Parquet --------------------------------------------------------------------------


def _read_parquet(
    stream: IO[bytes], head: bytes, source: str, max_bytes: int, agency: str
) -> Batch:
    if not head.startswith(b"PAR1"):
        what = _magic(head)
        detail = f"it is {what}" if what else "it lacks the PAR1 signature"
        raise BatchFileError(f"{source} is not a Parquet file: {detail}")
    try:
        parquet = pq.ParquetFile(stream)
        names = list(parquet.schema_arrow.names)
        meta = parquet.metadata
        groups = [meta.row_group(g) for g in range(meta.num_row_groups)]
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise BatchFileError(f"{source} is not a readable Parquet file: {_brief(exc)}") from exc
    layout = _layout(names, source, "the schema")
    inflated = sum(g.total_byte_size for g in groups)
    if inflated > _PARQUET_INFLATION * max_bytes:
        raise BatchFileError(
            f"{source} decompresses to {_mib(inflated)}, more than {_PARQUET_INFLATION} times "
            f"the limit of {_mib(max_bytes)}"
        )
    selected = {key: names[pos] for key, pos in layout.positions.items()}
    rows = _Collector(layout, agency)
    for index, group in enumerate(groups):
        expected = group.num_rows
        done = 0
        problem = ""
        try:
            for chunk in parquet.iter_batches(
                batch_size=_PARQUET_BATCH, row_groups=[index], columns=list(selected.values())
            ):
                _parquet_rows(rows, chunk, selected)
                done += chunk.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            problem = f"row group {index} could not be read: {_brief(exc)}"
        if done < expected:
            problem = problem or f"row group {index} ended after {done} of {expected} rows"
            for _ in range(expected - done):
                rows.reject(rows.rows + 1, problem)
    return rows.batch(source, "parquet", "")


def _brief(exc: BaseException) -> str:
    """The first line of a library's error, printable, for a message that names the file."""
    text = str(exc).strip().splitlines()
    first = text[0][:300] if text else type(exc).__name__
    return "".join(ch if ch.isprintable() else "?" for ch in first)


def _parquet_rows(rows: _Collector, chunk: Any, selected: Mapping[str, str]) -> None:
    """Add an Arrow record batch's rows; a value that is not usable text makes its row malformed."""
    n = chunk.num_rows
    texts: dict[str, Any] = {}
    problems: list[tuple[np.ndarray, str]] = []
    for key, raw in selected.items():
        texts[key], found = _as_text(chunk.column(raw), raw)
        problems.extend(found)
    bad = np.zeros(n, dtype=bool)
    for mask, _ in problems:
        bad |= mask
    start = rows.rows + 1
    keep = np.flatnonzero(~bad)
    malformed: list[MalformedRow] = []
    if bool(bad.any()):
        ids = texts["request_id"].to_pylist()
        for i in np.flatnonzero(bad).tolist():
            message = next(m for mask, m in problems if mask[i])
            rid = ids[i].strip()
            rid = "" if len(rid) > 200 or "\0" in rid else rid
            malformed.append(MalformedRow(start + i, start + i, message, rid))
        texts = {key: text.take(pa.array(keep)) for key, text in texts.items()}
    columns = {
        key: _texts(pc.utf8_trim(text, characters=_WHITESPACE)) for key, text in texts.items()
    }
    numbers = (keep + start).tolist()
    rows.extend(n, _build(numbers, numbers, columns, rows.agency), malformed)


_NESTED: Final = (
    (pa.types.is_struct, "a struct"),
    (pa.types.is_map, "a map"),
    (pa.types.is_list, "a list"),
    (pa.types.is_large_list, "a list"),
    (pa.types.is_fixed_size_list, "a list"),
    (pa.types.is_union, "a union"),
)


def _as_text(array: Any, name: str) -> tuple[Any, list[tuple[np.ndarray, str]]]:
    """A column as non-null strings, with masks of the rows whose value is not usable text."""
    n = len(array)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    kind = next((what for test, what in _NESTED if test(array.type)), None)
    if kind is not None:
        mask = np.asarray(pc.is_valid(array).to_numpy(zero_copy_only=False), dtype=bool)
        return pa.array([""] * n, pa.string()), [(mask, f"value of {name!r} is {kind}, not text")]
    problems: list[tuple[np.ndarray, str]] = []
    if (
        pa.types.is_binary(array.type)
        or pa.types.is_large_binary(array.type)
        or pa.types.is_fixed_size_binary(array.type)
    ):
        decoded: list[str | None] = []
        invalid = np.zeros(n, dtype=bool)
        for i, raw in enumerate(array.to_pylist()):
            if raw is None:
                decoded.append(None)
                continue
            try:
                decoded.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                decoded.append("")
                invalid[i] = True
        text = pa.array(decoded, pa.string())
        problems.append((invalid, f"value of {name!r} is binary data that is not UTF-8 text"))
    else:
        try:
            text = pc.cast(array, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            text = pa.array([None if v is None else str(v) for v in array.to_pylist()], pa.string())
    text = text.fill_null("")
    nul = np.asarray(pc.match_substring(text, "\x00").to_numpy(zero_copy_only=False), dtype=bool)
    problems.append((nul, f"value of {name!r} contains a NUL character"))
    limit = csv.field_size_limit()
    long = np.asarray(
        pc.greater(pc.utf8_length(text), limit).to_numpy(zero_copy_only=False), dtype=bool
    )
    problems.append((long, f"value of {name!r} is longer than {limit} characters"))
    return text, problems
