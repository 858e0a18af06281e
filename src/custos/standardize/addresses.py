"""US street addresses in USPS Publication 28 form, and whether one is a real address.

`parse_street` splits an address into Pub 28 parts (house number, directionals,
street name, C1 suffix abbreviation, C2 unit designator, city, state, ZIP5) so
that "1402 West Eighteenth Street, Apt. 3" and "1402 W 18th St #3" compare
equal. Common clean forms go through one regular expression; anything else
falls back to `usaddress`. Results are cached by the distinct raw string,
because a batch or a master file repeats the same streets, cities and ZIPs.

`sufficiency` is the gate's address rule (DOMAIN.md failure 1): in 2025 the
only check was "contains a 5- or 9-digit number", so "Don't Care 12345" passed.
Here an address is sufficient only if it is not a placeholder, is not only a
PO box or general delivery, has a house number and a street name, and has
either a ZIP or a city and state; a ZIP must exist (the offline `zipcodes`
package) and lie in the stated state, and a state must be a USPS code.

Placeholders. A street (or city) is a placeholder when, after folding to upper
case ASCII, deleting apostrophes and periods, turning other punctuation into
spaces, and setting digits aside:

- nothing is left, i.e. it is only digits and punctuation ("12345", "12345-6789", "--");
- what is left contains one of these phrases as whole words: FAILED TO PROVIDE,
  NOT PROVIDED, NOT GIVEN, NOT KNOWN, NOT STATED, NOT AVAILABLE, NOT APPLICABLE,
  NO ADDRESS, NO FIXED ADDRESS, NO FIXED ABODE, NO STREET, ADDRESS UNKNOWN,
  UNKNOWN ADDRESS, WHEREABOUTS UNKNOWN, DONT CARE, DO NOT CARE, DONT KNOW,
  DO NOT KNOW, TO BE DETERMINED, SEE ABOVE, SAME AS ABOVE, DO NOT USE,
  DO NOT MAIL, RETURN TO SENDER, UNDELIVERABLE, REFUSED, DECLINED, HOMELESS;
- or every word left is a filler word: NA, NONE, NULL, NIL, UNKNOWN, UNK, UNKN,
  TBD, TBA, ADDRESS, ADDR, BLANK, EMPTY, MISSING, UNAVAILABLE, TRANSIENT,
  DUMMY, PLACEHOLDER, a single X, or one character repeated three or more
  times (XXX, ZZZZ, AAA).

So "Failed to Provide", "Unknown Address", "Unknown", "NA NA", "N/A", "None",
"Don't Care 12345", "Refused", "Not Provided", "No Address", "Homeless", "TBD",
"XXX" and "12345" are all placeholders; "123 Unknown St" is not.

Sources: USPS Publication 28, Appendix C1 (street suffixes,
`data/addresses_street_suffixes.csv`), Appendix C2 (secondary unit designators,
`data/addresses_unit_designators.csv`), Appendix B (state abbreviations,
`data/addresses_states.csv`). A few informal suffixes Pub 28 does not list
("Stree", "La", "Tr", "Blv") are kept apart in `data/addresses_informal_suffixes.csv`.
"""

from __future__ import annotations

import builtins
import csv
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import usaddress

from custos.model import Subject

DATA = Path(__file__).resolve().parent / "data"

MAX_STREET_CHARS = 300
"""Longer street values are not addresses; they are refused unparsed."""

PLACEHOLDER_PHRASES: tuple[str, ...] = (
    "FAILED TO PROVIDE",
    "NOT PROVIDED",
    "NOT GIVEN",
    "NOT KNOWN",
    "NOT STATED",
    "NOT AVAILABLE",
    "NOT APPLICABLE",
    "NO ADDRESS",
    "NO FIXED ADDRESS",
    "NO FIXED ABODE",
    "NO STREET",
    "ADDRESS UNKNOWN",
    "UNKNOWN ADDRESS",
    "WHEREABOUTS UNKNOWN",
    "DONT CARE",
    "DO NOT CARE",
    "DONT KNOW",
    "DO NOT KNOW",
    "TO BE DETERMINED",
    "SEE ABOVE",
    "SAME AS ABOVE",
    "DO NOT USE",
    "DO NOT MAIL",
    "RETURN TO SENDER",
    "UNDELIVERABLE",
    "REFUSED",
    "DECLINED",
    "HOMELESS",
)
PLACEHOLDER_WORDS: frozenset[str] = frozenset(
    {
        "NA",
        "NONE",
        "NULL",
        "NIL",
        "UNKNOWN",
        "UNK",
        "UNKN",
        "TBD",
        "TBA",
        "ADDRESS",
        "ADDR",
        "BLANK",
        "EMPTY",
        "MISSING",
        "UNAVAILABLE",
        "TRANSIENT",
        "DUMMY",
        "PLACEHOLDER",
        "X",
    }
)

DIRECTIONALS: dict[str, str] = {
    "N": "N",
    "S": "S",
    "E": "E",
    "W": "W",
    "NE": "NE",
    "NW": "NW",
    "SE": "SE",
    "SW": "SW",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
}

DWELLING_UNIT = "APT"
"""APT, UNIT, "#" and a bare unit number all become this designator.

Requesters and the master file write the same dwelling unit with any of them
(Pub 28 uses "#" for an unknown designator), so keeping them apart would only
make equal addresses compare unequal. Other C2 designators (STE, BLDG, LOT...)
keep their own abbreviation.
"""
_INTERCHANGEABLE_UNITS = frozenset({"APT", "UNIT", "#"})


def _read_table(name: str) -> Iterator[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        yield from csv.DictReader(line for line in fh if not line.startswith("# "))


def _load_suffixes() -> tuple[dict[str, str], dict[str, str]]:
    to_standard: dict[str, str] = {}
    to_primary: dict[str, str] = {}
    for row in _read_table("addresses_street_suffixes.csv"):
        to_standard[row["written"]] = row["standard"]
        to_primary[row["written"]] = row["primary_name"]
        to_primary[row["primary_name"]] = row["primary_name"]
    for row in _read_table("addresses_informal_suffixes.csv"):
        to_standard.setdefault(row["written"], row["standard"])
        to_primary.setdefault(row["written"], to_primary[row["standard"]])
    return to_standard, to_primary


def _load_units() -> dict[str, str]:
    units = {"#": "#"}
    for row in _read_table("addresses_unit_designators.csv"):
        units[row["name"]] = row["standard"]
        units[row["standard"]] = row["standard"]
    return units


def _load_states() -> dict[str, str]:
    states: dict[str, str] = {}
    for row in _read_table("addresses_states.csv"):
        states[row["name"]] = row["code"]
        states[row["code"]] = row["code"]
    return states


STREET_SUFFIXES, _SUFFIX_PRIMARY = _load_suffixes()
"""Pub 28 C1 (plus a few informal forms): every written street suffix → its standard abbreviation."""
_ABBREVIATED_SUFFIXES = frozenset(
    standard for standard in STREET_SUFFIXES.values() if _SUFFIX_PRIMARY[standard] != standard
)
"""Standard abbreviations that are not words themselves (ST, AVE, CT, MT...): one inside a
street name means the regular expression has likely swallowed a city or state."""
UNIT_DESIGNATORS = _load_units()
"""Pub 28 C2: every designator name or abbreviation (and "#") → its abbreviation."""
STATE_CODES = _load_states()
"""USPS state and possession names and codes → the two-letter code."""


@dataclass(frozen=True, slots=True)
class StdAddress:
    """An address in Pub 28 parts; "" where a part is absent (std-spec.md)."""

    house_number: str = ""
    predir: str = ""
    street_name: str = ""
    street_suffix: str = ""
    postdir: str = ""
    unit_type: str = ""
    unit_number: str = ""
    city_std: str = ""
    state: str = ""
    zip5: str = ""
    is_po_box: bool = False
    parse_ok: bool = False

    @property
    def street_line(self) -> str:
        """The delivery line in Pub 28 order, e.g. "1402 W 18TH ST APT 3"."""
        parts = (
            self.house_number,
            self.predir,
            self.street_name,
            self.street_suffix,
            self.postdir,
            self.unit_type,
            self.unit_number,
        )
        return " ".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class _StreetParts:
    house_number: str = ""
    predir: str = ""
    street_name: str = ""
    street_suffix: str = ""
    postdir: str = ""
    unit_type: str = ""
    unit_number: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    is_po_box: bool = False


_EMPTY_PARTS = _StreetParts()
_DELETE = str.maketrans("", "", ".'`\"")
_DELETE_IN_WORDS = str.maketrans("", "", ".'`\"/")
_NOT_KEPT = re.compile(r"[^A-Z0-9#/&\- ]+")
_LONE_HYPHEN = re.compile(r"(?<![A-Z0-9])-+|-+(?![A-Z0-9])")
_WORDS_ONLY = re.compile(r"[^A-Z0-9 ]+")
_DIGITS = re.compile(r"[0-9]+")
_PO_BOX = re.compile(r"\b(?:P ?O ?BOX|POBOX|POST OFFICE BOX|POST BOX|GENERAL DELIVERY|GEN DEL)\b")
_ZIP = re.compile(r"([0-9]{5})(?:[- ]?[0-9]{4})?")
_PLACEHOLDER_PHRASE = re.compile(rf"\b(?:{'|'.join(PLACEHOLDER_PHRASES)})\b")
_FILLER = rf"(?:{'|'.join(sorted(PLACEHOLDER_WORDS, key=len, reverse=True))})"
_FILLER_ONLY = re.compile(rf"(?:{_FILLER}|([A-Z])\1{{2,}})(?: (?:{_FILLER}|([A-Z])\2{{2,}}))*")
_HOUSE_NUMBER = re.compile(r"[NSEW]?\d+[A-Z]?(?:[-/ ]?[NSEW]?\d+[A-Z]?)*(?: 1/2)?")
"""A building number: 1402, 12A, 12-14, 12 1/2, W123N456 (Wisconsin grid); not 3RD or LOS."""
_NUMERIC_ORDINAL = re.compile(r"(\d+)(?:ST|ND|RD|TH)")


def _alternatives(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_FAST = re.compile(
    rf"(?P<num>\d+[A-Z]?(?:-\d+[A-Z]?)?(?: 1/2)?)"
    rf"(?: (?P<pre>{_alternatives(list(DIRECTIONALS))}))?"
    rf"(?P<name>(?: [A-Z0-9]+)+?)"
    rf" (?P<suf>{_alternatives(list(STREET_SUFFIXES))})"
    rf"(?: (?P<post>{_alternatives(list(DIRECTIONALS))}))?"
    rf"(?: (?P<unit>(?:{_alternatives(list(UNIT_DESIGNATORS))})"
    rf"(?: [A-Z0-9]+(?:-[A-Z0-9]+)?|[0-9][A-Z0-9]*(?:-[A-Z0-9]+)?)?))?"
)
_UNIT_GLUED = re.compile(rf"({_alternatives([u for u in UNIT_DESIGNATORS if u != '#'])})([0-9].*)")

_ORDINAL_WORDS: dict[str, int] = {
    "FIRST": 1,
    "SECOND": 2,
    "THIRD": 3,
    "FOURTH": 4,
    "FIFTH": 5,
    "SIXTH": 6,
    "SEVENTH": 7,
    "EIGHTH": 8,
    "NINTH": 9,
    "TENTH": 10,
    "ELEVENTH": 11,
    "TWELFTH": 12,
    "THIRTEENTH": 13,
    "FOURTEENTH": 14,
    "FIFTEENTH": 15,
    "SIXTEENTH": 16,
    "SEVENTEENTH": 17,
    "EIGHTEENTH": 18,
    "NINETEENTH": 19,
    "TWENTIETH": 20,
    "THIRTIETH": 30,
    "FORTIETH": 40,
    "FIFTIETH": 50,
    "SIXTIETH": 60,
    "SEVENTIETH": 70,
    "EIGHTIETH": 80,
    "NINETIETH": 90,
}
_TENS: dict[str, int] = {
    "TWENTY": 20,
    "THIRTY": 30,
    "FORTY": 40,
    "FIFTY": 50,
    "SIXTY": 60,
    "SEVENTY": 70,
    "EIGHTY": 80,
    "NINETY": 90,
}


def fold(text: str) -> str:
    """Upper-case ASCII: diacritics dropped (José → JOSE), other non-ASCII removed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return text.upper()


def _clean_street(text: str) -> str:
    text = _NOT_KEPT.sub(" ", fold(text).translate(_DELETE)).replace("#", " # ")
    return " ".join(_LONE_HYPHEN.sub(" ", text).split())


def _words(text: str) -> str:
    """Upper ASCII words: apostrophes, periods and slashes deleted, other punctuation a space."""
    return " ".join(_WORDS_ONLY.sub(" ", fold(text).translate(_DELETE_IN_WORDS)).split())


def is_placeholder(text: str) -> bool:
    """True for a value that stands in for an address (see the module docstring).

    A blank value is *missing*, not a placeholder, so it returns False.
    """
    if not text.strip():
        return False
    letters = " ".join(_DIGITS.sub(" ", _words(text)).split())
    if not letters:
        return True
    return (
        _PLACEHOLDER_PHRASE.search(letters) is not None
        or _FILLER_ONLY.fullmatch(letters) is not None
    )


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}TH"
    return f"{n}{ {1: 'ST', 2: 'ND', 3: 'RD'}.get(n % 10, 'TH') }"


def _std_street_name(name: str, has_suffix: bool) -> str:
    """Ordinals in Pub 28 form: EIGHTEENTH, 18 (before a suffix), 18th → 18TH."""
    tokens = name.replace("-", " ").split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in _TENS and nxt in _ORDINAL_WORDS and _ORDINAL_WORDS[nxt] < 10:
            out.append(_ordinal(_TENS[tok] + _ORDINAL_WORDS[nxt]))
            i += 2
            continue
        if tok in _ORDINAL_WORDS:
            tok = _ordinal(_ORDINAL_WORDS[tok])
        elif (m := _NUMERIC_ORDINAL.fullmatch(tok)) is not None:
            tok = _ordinal(int(m.group(1)))
        out.append(tok)
        i += 1
    if has_suffix and len(out) == 1 and out[0].isdigit():
        out[0] = _ordinal(int(out[0]))
    return " ".join(out)


def _std_unit(clean: str) -> tuple[str, str]:
    """(designator, number) from cleaned "APT 4", "# 4B", "STE 200", "4", "3-B", "REAR"."""
    tokens = clean.split()
    if not tokens:
        return "", ""
    kind = ""
    if tokens[0] in UNIT_DESIGNATORS:
        kind = UNIT_DESIGNATORS[tokens.pop(0)]
    elif (m := _UNIT_GLUED.fullmatch(tokens[0])) is not None:
        kind = UNIT_DESIGNATORS[m.group(1)]
        tokens[0] = m.group(2)
    if tokens and tokens[0] == "#":
        tokens.pop(0)
    number = "".join(tokens).replace("-", "").replace("#", "")
    if kind in _INTERCHANGEABLE_UNITS or (number and not kind):
        kind = DWELLING_UNIT
    return kind, number


def _fast_parts(clean: str) -> _StreetParts | None:
    """The common clean form, or None to leave the string to usaddress.

    "123 Main St Hartford CT" would match as street "MAIN ST HARTFORD", suffix
    CT; an abbreviated suffix inside the name (other than a leading ST for
    Saint) sends such strings to the full parser instead.
    """
    m = _FAST.fullmatch(clean)
    if m is None:
        return None
    name_tokens = m.group("name").split()
    if any(t in _ABBREVIATED_SUFFIXES for t in name_tokens[1:]) or (
        name_tokens[0] in _ABBREVIATED_SUFFIXES and name_tokens[0] != "ST"
    ):
        return None
    unit = m.group("unit")
    unit_type, unit_number = _std_unit(unit) if unit else ("", "")
    return _StreetParts(
        house_number=m.group("num"),
        predir=DIRECTIONALS[m.group("pre")] if m.group("pre") else "",
        street_name=_std_street_name(m.group("name").strip(), has_suffix=True),
        street_suffix=STREET_SUFFIXES[m.group("suf")],
        postdir=DIRECTIONALS[m.group("post")] if m.group("post") else "",
        unit_type=unit_type,
        unit_number=unit_number,
    )


def _tag(clean: str) -> dict[str, str]:
    """usaddress labels → text; on a repeated label, its first contiguous run wins."""
    try:
        tagged, _kind = usaddress.tag(clean)
        return {str(k): str(v) for k, v in tagged.items()}
    except usaddress.RepeatedLabelError:
        pass
    runs: dict[str, list[str]] = {}
    closed: set[str] = set()
    previous = ""
    for token, label in usaddress.parse(clean):
        if label != previous and previous:
            closed.add(previous)
        if label not in closed:
            runs.setdefault(label, []).append(str(token))
        previous = label
    return {label: " ".join(tokens) for label, tokens in runs.items()}


def _parser_parts(clean: str, po_box: bool) -> _StreetParts:
    try:
        tags = _tag(clean)
    except Exception:  # usaddress's tagger is a black box; unparseable text is not an error here
        return _StreetParts(is_po_box=po_box)

    def get(label: str) -> str:
        return _clean_street(tags.get(label, ""))

    number = " ".join(
        p
        for p in (get("AddressNumberPrefix"), get("AddressNumber"), get("AddressNumberSuffix"))
        if p
    )
    name_parts: list[str] = []
    if number and _HOUSE_NUMBER.fullmatch(number) is None:
        name_parts.append(number)
        number = ""
    predir = get("StreetNamePreDirectional")
    if predir and predir not in DIRECTIONALS:
        name_parts.append(predir)
        predir = ""
    pre_type = get("StreetNamePreType")
    name_parts += [get("StreetNamePreModifier"), _SUFFIX_PRIMARY.get(pre_type, pre_type)]
    name_parts.append(get("StreetName"))
    suffix = get("StreetNamePostType")
    if suffix and suffix not in STREET_SUFFIXES:
        name_parts.append(suffix)
        suffix = ""
    postdir = get("StreetNamePostDirectional")
    if postdir and postdir not in DIRECTIONALS:
        name_parts.append(postdir)
        postdir = ""
    name_parts.append(get("StreetNamePostModifier"))
    name = " ".join(p for p in name_parts if p)
    unit_text = " ".join(p for p in (get("OccupancyType"), get("OccupancyIdentifier")) if p)
    if not unit_text:
        unit_text = " ".join(p for p in (get("SubaddressType"), get("SubaddressIdentifier")) if p)
    unit_type, unit_number = _std_unit(unit_text)
    box = any(k in tags for k in ("USPSBoxType", "USPSBoxID", "USPSBoxGroupType"))
    return _StreetParts(
        house_number=number,
        predir=DIRECTIONALS.get(predir, ""),
        street_name=_std_street_name(name, has_suffix=bool(suffix)),
        street_suffix=STREET_SUFFIXES.get(suffix, ""),
        postdir=DIRECTIONALS.get(postdir, ""),
        unit_type=unit_type,
        unit_number=unit_number,
        city=tags.get("PlaceName", ""),
        state=tags.get("StateName", ""),
        zip=tags.get("ZipCode", ""),
        is_po_box=po_box or box,
    )


@lru_cache(maxsize=1 << 17)
def _street_parts(street: str) -> _StreetParts:
    clean = _clean_street(street)
    if not clean:
        return _EMPTY_PARTS
    po_box = _PO_BOX.search(clean) is not None
    if len(clean) > MAX_STREET_CHARS:
        return _StreetParts(is_po_box=po_box)
    if not po_box and (fast := _fast_parts(clean)) is not None:
        return fast
    return _parser_parts(clean, po_box)


@lru_cache(maxsize=1 << 12)
def _unit_parts(unit: str) -> tuple[str, str]:
    return _std_unit(_clean_street(unit))


@lru_cache(maxsize=1 << 16)
def std_city(city: str) -> str:
    """Upper ASCII words, SAINT → ST; a placeholder city ("UNKNOWN", "N/A") is ""."""
    if is_placeholder(city):
        return ""
    return " ".join("ST" if w == "SAINT" else w for w in _words(city).split())


@lru_cache(maxsize=1 << 10)
def std_state(state: str) -> str:
    """The two-letter USPS code for a code or a full name; "" when it is neither."""
    return STATE_CODES.get(_words(state), "")


@lru_cache(maxsize=1 << 16)
def std_zip5(zip_code: str) -> str:
    """The 5-digit ZIP of a ZIP or ZIP+4 ("60608-1234" → "60608"); "" for anything else."""
    m = _ZIP.fullmatch(zip_code.strip())
    return m.group(1) if m else ""


def _combine(parts: _StreetParts, unit: str, city: str, state: str, zip_code: str) -> StdAddress:
    unit_type, unit_number = (
        _unit_parts(unit) if unit.strip() else (parts.unit_type, parts.unit_number)
    )
    return StdAddress(
        house_number=parts.house_number,
        predir=parts.predir,
        street_name=parts.street_name,
        street_suffix=parts.street_suffix,
        postdir=parts.postdir,
        unit_type=unit_type,
        unit_number=unit_number,
        city_std=std_city(city if city.strip() else parts.city),
        state=std_state(state if state.strip() else parts.state),
        zip5=std_zip5(zip_code if zip_code.strip() else parts.zip),
        is_po_box=parts.is_po_box,
        parse_ok=bool(parts.house_number and parts.street_name),
    )


def parse_street(
    street: str, unit: str = "", city: str = "", state: str = "", zip: str = ""
) -> StdAddress:
    """Standardise one address; never raises on text.

    A unit may sit in `street` ("123 Main St Apt 4") or in `unit`; `unit`
    wins when both are given. City, state and ZIP written inside `street`
    are used only when their own fields are blank.
    """
    return _combine(_street_parts(street), unit, city, state, zip)


ADDRESS_COLUMNS: tuple[str, ...] = (
    "house_number",
    "predir",
    "street_name",
    "street_suffix",
    "postdir",
    "unit_type",
    "unit_number",
    "city_std",
    "state",
    "zip5",
    "is_po_box",
    "parse_ok",
)


def address_columns(
    street: Sequence[str | None],
    unit: Sequence[str | None],
    city: Sequence[str | None],
    state: Sequence[str | None],
    zip: Sequence[str | None],
) -> Any:
    """A pyarrow Table of `ADDRESS_COLUMNS`, one row per input row.

    Empty strings become NULL so Splink reads them as "no information"; the
    two booleans are never NULL. Each distinct street is parsed once per call,
    so call it per chunk (say a million rows) to bound memory.
    """
    import pyarrow as pa

    n = len(street)
    if not (len(unit) == len(city) == len(state) == len(zip) == n):
        raise ValueError("address_columns: street, unit, city, state and zip differ in length")
    parsed: dict[str, _StreetParts] = {}
    rows: list[StdAddress] = []
    for s, u, c, st, z in builtins.zip(street, unit, city, state, zip, strict=True):
        key = s or ""
        parts = parsed.get(key)
        if parts is None:
            parts = parsed[key] = _street_parts(key)
        rows.append(_combine(parts, u or "", c or "", st or "", z or ""))
    columns: dict[str, Any] = {}
    for name in ADDRESS_COLUMNS[:-2]:
        columns[name] = pa.array([getattr(r, name) or None for r in rows], type=pa.string())
    columns["is_po_box"] = pa.array([r.is_po_box for r in rows], type=pa.bool_())
    columns["parse_ok"] = pa.array([r.parse_ok for r in rows], type=pa.bool_())
    return pa.table(columns)


_zip_states: dict[str, str] | None = None


def zip_states() -> dict[str, str]:
    """ZIP5 → USPS state code for every ZIP the offline `zipcodes` package knows.

    Built once, on first use: `zipcodes.matching` scans its whole list per call.
    Decommissioned ZIPs are kept, since an older address may still carry one.
    """
    global _zip_states
    if _zip_states is None:
        import zipcodes

        list_all: Callable[[], list[dict[str, Any]]] = zipcodes.list_all
        _zip_states = {str(z["zip_code"]): str(z["state"]) for z in list_all()}
    return _zip_states


@lru_cache(maxsize=1 << 16)
def address_insufficiency(street: str, city: str, state: str, zip_code: str) -> str | None:
    """Why this address is not a real, locatable US street address; None if it is."""
    if not street.strip():
        return "no street"
    if is_placeholder(street):
        return "the street is a placeholder, not an address"
    parts = _street_parts(street)
    std = _combine(parts, "", city, state, zip_code)
    if std.is_po_box and not std.parse_ok:
        return "a PO box, rural route box or general delivery is not a street address"
    if not std.house_number:
        return "the street has no house number"
    if not std.street_name:
        return "the street has no street name"
    raw_zip = zip_code if zip_code.strip() else parts.zip
    raw_state = state if state.strip() else parts.state
    if raw_zip.strip():
        if not std.zip5:
            return "the ZIP is not a 5-digit ZIP or ZIP+4"
        zip_state = zip_states().get(std.zip5)
        if zip_state is None:
            return "the ZIP does not exist"
        if std.state and zip_state != std.state:
            return "the ZIP is not in the stated state"
    if raw_state.strip() and not std.state:
        return "the state is not a USPS state or territory code"
    if not std.zip5 and not (std.city_std and std.state):
        return "neither a ZIP nor a city and state"
    return None


def sufficiency(subject: Subject) -> str | None:
    """The gate's address-sufficiency rule on a request's subject; None means sufficient."""
    return address_insufficiency(subject.street, subject.city, subject.state, subject.zip)
