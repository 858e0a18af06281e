"""US street addresses: where people live, and how requesters write it down.

City, state and ZIP come from the `zipcodes` package (active STANDARD ZIPs), so
every master address is internally consistent. Streets are drawn per ZIP from a
fixed, seed-independent set of 30–180 street names, so neighbours share streets
as they do on a map. A residence is identified by (ZIP, street, house number);
the unit is compared separately.

The variant and deficiency functions are public: the standardiser and gate
tests use them to produce requests written the way agencies write them.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import usaddress
import zipcodes

from custos.synth.names import ocr_confuse, typo
from custos.synth.rand import Uniform, below, between, chance, pick

SUFFIXES: tuple[tuple[str, str, float], ...] = (
    ("Street", "St", 0.30),
    ("Avenue", "Ave", 0.15),
    ("Drive", "Dr", 0.12),
    ("Road", "Rd", 0.10),
    ("Lane", "Ln", 0.07),
    ("Court", "Ct", 0.05),
    ("Way", "Way", 0.05),
    ("Boulevard", "Blvd", 0.04),
    ("Place", "Pl", 0.04),
    ("Circle", "Cir", 0.03),
    ("Terrace", "Ter", 0.02),
    ("Parkway", "Pkwy", 0.01),
    ("Trail", "Trl", 0.01),
    ("Highway", "Hwy", 0.01),
)
"""(full word, USPS Publication 28 abbreviation, share)."""

INFORMAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "St": ("Str", "ST."),
    "Ave": ("Av", "Aven", "Avn"),
    "Dr": ("Drv", "Driv"),
    "Rd": ("Rd.",),
    "Ln": ("La",),
    "Ct": ("Crt",),
    "Blvd": ("Bvd", "Boul"),
    "Pl": ("Pl.",),
    "Cir": ("Circ", "Crcl"),
    "Ter": ("Terr",),
    "Pkwy": ("Pky", "Pkway"),
    "Trl": ("Tr",),
    "Hwy": ("Hiway",),
    "Way": ("Wy",),
}

DIRECTIONS: tuple[tuple[str, str, float], ...] = (
    ("", "", 0.84),
    ("North", "N", 0.04),
    ("South", "S", 0.04),
    ("East", "E", 0.03),
    ("West", "W", 0.03),
    ("Northeast", "NE", 0.005),
    ("Northwest", "NW", 0.005),
    ("Southeast", "SE", 0.005),
    ("Southwest", "SW", 0.005),
)

UNIT_KINDS: tuple[str, ...] = ("Apt", "Unit", "#", "Ste")
_UNIT_KIND_P = np.array([0.74, 0.18, 0.06, 0.02])
_UNIT_WORDS: dict[str, tuple[str, ...]] = {
    "Apt": ("Apt", "APT", "Apt.", "Apartment", "#"),
    "Unit": ("Unit", "UNIT", "#"),
    "#": ("#", "Apt", "Unit"),
    "Ste": ("Ste", "Suite", "#"),
}
_NUMBER_WORDS = (
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
)

STATE_POPULATION: dict[str, float] = {
    "CA": 39.5, "TX": 29.1, "FL": 21.5, "NY": 20.2, "PA": 13.0, "IL": 12.8, "OH": 11.8,
    "GA": 10.7, "NC": 10.4, "MI": 10.1, "NJ": 9.3, "VA": 8.6, "WA": 7.7, "AZ": 7.2,
    "MA": 7.0, "TN": 6.9, "IN": 6.8, "MD": 6.2, "MO": 6.2, "WI": 5.9, "CO": 5.8,
    "MN": 5.7, "SC": 5.1, "AL": 5.0, "LA": 4.7, "KY": 4.5, "OR": 4.2, "OK": 4.0,
    "CT": 3.6, "UT": 3.3, "IA": 3.2, "NV": 3.1, "AR": 3.0, "MS": 3.0, "KS": 2.9,
    "NM": 2.1, "NE": 2.0, "ID": 1.8, "WV": 1.8, "HI": 1.5, "NH": 1.4, "ME": 1.4,
    "RI": 1.1, "MT": 1.1, "DE": 1.0, "SD": 0.9, "ND": 0.8, "AK": 0.7, "DC": 0.7,
    "VT": 0.6, "WY": 0.6, "PR": 3.2, "GU": 0.15, "VI": 0.1,
}  # fmt: skip
"""Approximate residents in millions (2020 census scale), used as relative weights."""

CULTURE_STATES: dict[int, dict[str, float]] = {
    0: {
        "CA": 15.6, "TX": 11.4, "FL": 5.7, "NY": 3.9, "IL": 2.3, "AZ": 2.2, "NJ": 2.0,
        "CO": 1.3, "GA": 1.1, "NC": 1.1, "PA": 1.1, "NM": 1.0, "WA": 1.0, "NV": 0.9,
        "MA": 0.9, "VA": 0.9, "MD": 0.7, "OR": 0.6, "CT": 0.6, "UT": 0.5, "OK": 0.5,
        "IN": 0.5, "TN": 0.4, "KS": 0.4, "PR": 3.1,
    },
    2: {"CA": 0.8, "TX": 0.27, "WA": 0.08, "FL": 0.07, "VA": 0.06, "GA": 0.06, "MA": 0.05,
        "PA": 0.04, "NY": 0.04, "LA": 0.03, "OK": 0.02, "CO": 0.02, "OR": 0.03},
    3: {"CA": 1.8, "NY": 0.9, "TX": 0.25, "NJ": 0.18, "MA": 0.18, "IL": 0.14, "WA": 0.15,
        "PA": 0.12, "FL": 0.1, "MD": 0.1, "HI": 0.05},
    4: {"CA": 0.95, "TX": 0.5, "NJ": 0.4, "NY": 0.35, "IL": 0.25, "GA": 0.15, "FL": 0.15,
        "VA": 0.15, "PA": 0.15, "WA": 0.15, "MI": 0.12, "NC": 0.12, "MA": 0.12, "OH": 0.1,
        "MD": 0.1},
    5: {"CA": 1.6, "HI": 0.37, "WA": 0.18, "NV": 0.17, "TX": 0.19, "NY": 0.15, "IL": 0.15,
        "NJ": 0.15, "FL": 0.15, "VA": 0.1, "GU": 0.05},
    6: {"MI": 0.25, "CA": 0.3, "NY": 0.15, "NJ": 0.1, "IL": 0.1, "TX": 0.12, "FL": 0.1,
        "OH": 0.07, "VA": 0.07, "PA": 0.06, "MA": 0.05},
}  # fmt: skip
"""Where each non-Anglo culture concentrates (relative weights); the rest of the
country gets a small share in proportion to population."""

PLACEHOLDER_STREETS: tuple[str, ...] = (
    "Failed to Provide",
    "FAILED TO PROVIDE",
    "Unknown Address",
    "UNKNOWN ADDRESS",
    "Unknown",
    "NA NA",
    "N/A",
    "None",
    "Refused",
    "Not Provided",
    "No Address",
    "Homeless",
    "TBD",
    "XXX",
    "Don't Care 12345",
    "Dont Care 12345",
)
"""Street values seen in place of an address (DOMAIN.md, failure 1)."""

FACILITY_KINDS: tuple[str, ...] = (
    "{county} Jail",
    "{county} Detention Center",
    "{county} Correctional Facility",
    "{county} Adult Detention Center",
    "{city} Processing Center",
    "{city} Service Processing Center",
    "{city} Contract Detention Facility",
    "Federal Detention Center {city}",
)
"""Jails and detention facilities named without a building location."""


@dataclass(frozen=True, slots=True)
class ZipTable:
    """Active STANDARD ZIPs sorted by (state, city, zip), with their neighbourhoods."""

    zip5: tuple[str, ...]
    city: tuple[str, ...]
    state: tuple[str, ...]
    county: tuple[str, ...]
    alt_cities: tuple[tuple[str, ...], ...]
    city_start: np.ndarray
    city_len: np.ndarray
    state_start: np.ndarray
    state_len: np.ndarray
    culture_cum: dict[int, np.ndarray]
    states: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StreetTable:
    """Street names, suffixes and directionals; a street id combines the three."""

    bases: tuple[str, ...]
    numbered: tuple[bool, ...]
    suffix_cum: np.ndarray
    dir_cum: np.ndarray

    @property
    def count(self) -> int:
        return len(self.bases) * len(SUFFIXES) * len(DIRECTIONS)

    def parts(self, street_id: int) -> tuple[int, int, int]:
        """(base, suffix, direction) indices of a street id."""
        base, rest = divmod(street_id, len(SUFFIXES) * len(DIRECTIONS))
        suffix, direction = divmod(rest, len(DIRECTIONS))
        return base, suffix, direction


@dataclass(frozen=True, slots=True)
class Residence:
    """One dwelling: where it is, and the unit within the building if any."""

    zip_idx: int
    street_id: int
    house: int
    unit_kind: int = -1
    unit_no: int = 0
    unit_letter: str = ""

    @property
    def key(self) -> int:
        return address_key(self.zip_idx, self.street_id, self.house)

    @property
    def unit_id(self) -> str:
        """The unit's identifier without its designator ("4B"), "" when none."""
        return "" if self.unit_kind < 0 else f"{self.unit_no}{self.unit_letter}"


@dataclass(frozen=True, slots=True)
class WrittenAddress:
    street: str
    unit: str
    city: str
    state: str
    zip: str
    unit_shown: bool = False
    """Whether the unit appears anywhere in the written address."""


def address_key(zip_idx: int, street_id: int, house: int) -> int:
    """The identity of a building: ZIP, street and house number packed in 46 bits."""
    return (zip_idx << 31) | (street_id << 15) | house


def address_keys(zip_idx: np.ndarray, street_id: np.ndarray, house: np.ndarray) -> np.ndarray:
    """Vectorised `address_key`."""
    return (
        (zip_idx.astype(np.int64) << 31)
        | (street_id.astype(np.int64) << 15)
        | house.astype(np.int64)
    )


def splitmix(x: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of 64-bit integers."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@functools.cache
def zip_table() -> ZipTable:
    """The ZIP table, built once from `zipcodes`."""
    every: list[dict[str, Any]] = zipcodes.list_all()  # type: ignore[no-untyped-call]
    rows = sorted(
        (
            z
            for z in every
            if z["zip_code_type"] == "STANDARD" and z["active"] and z["state"] in STATE_POPULATION
        ),
        key=lambda z: (z["state"], z["city"], z["zip_code"]),
    )
    n = len(rows)
    city_start = np.zeros(n, dtype=np.int32)
    city_len = np.zeros(n, dtype=np.int32)
    state_start = np.zeros(n, dtype=np.int32)
    state_len = np.zeros(n, dtype=np.int32)
    for starts, lens, key in (
        (city_start, city_len, lambda r: (r["state"], r["city"])),
        (state_start, state_len, lambda r: r["state"]),
    ):
        i = 0
        while i < n:
            j = i
            k = key(rows[i])
            while j < n and key(rows[j]) == k:
                j += 1
            starts[i:j] = i
            lens[i:j] = j - i
            i = j
    states = tuple(r["state"] for r in rows)
    per_zip_pop = np.array([STATE_POPULATION[s] for s in states]) / state_len
    culture_cum = {1: np.cumsum(per_zip_pop)}
    for c in (0, 2, 3, 4, 5, 6):
        conc = CULTURE_STATES[c]
        scale = sum(conc.values()) * 0.12 / sum(STATE_POPULATION.values())
        w = np.array([conc.get(s, STATE_POPULATION[s] * scale) for s in states]) / state_len
        culture_cum[c] = np.cumsum(w)
    return ZipTable(
        zip5=tuple(r["zip_code"] for r in rows),
        city=tuple(r["city"] for r in rows),
        state=states,
        county=tuple(r["county"] or f"{r['city']} County" for r in rows),
        alt_cities=tuple(
            tuple(c for c in r["acceptable_cities"] if c.replace(" ", "").isalpha()) for r in rows
        ),
        city_start=city_start,
        city_len=city_len,
        state_start=state_start,
        state_len=state_len,
        culture_cum=culture_cum,
        states=tuple(sorted(set(states))),
    )


@functools.cache
def street_table() -> StreetTable:
    """The street-name table, loaded once."""
    text = (
        resources.files("custos.synth").joinpath("data").joinpath("streets.csv").read_text("utf-8")
    )
    rows = [r for r in csv.reader(text.splitlines()) if r and not r[0].startswith("#")]
    return StreetTable(
        bases=tuple(r[1] for r in rows),
        numbered=tuple(r[0] == "numbered" for r in rows),
        suffix_cum=np.cumsum([s[2] for s in SUFFIXES]),
        dir_cum=np.cumsum([d[2] for d in DIRECTIONS]),
    )


@functools.cache
def _street_palette_size() -> int:
    return street_table().count


def streets_of_zip(zip_idx: np.ndarray, slot_u: np.ndarray) -> np.ndarray:
    """Street ids for residences in `zip_idx`, one of that ZIP's fixed set of streets.

    The set depends on the ZIP only (30–180 streets), not on the seed; base name,
    suffix and directional are drawn with realistic shares from the ZIP's hash.
    """
    st = street_table()
    z = zip_idx.astype(np.uint64)
    n_slots = 30 + (splitmix(z) % np.uint64(151)).astype(np.int64)
    slot = np.minimum((slot_u * n_slots).astype(np.int64), n_slots - 1)
    h = splitmix(z * np.uint64(1_000_003) + slot.astype(np.uint64))
    u_base = (h >> np.uint64(40)).astype(np.float64) / float(1 << 24)
    u_suf = ((h >> np.uint64(20)) & np.uint64(0xFFFFF)).astype(np.float64) / float(1 << 20)
    u_dir = (h & np.uint64(0xFFFFF)).astype(np.float64) / float(1 << 20)
    base = np.minimum((u_base * len(st.bases)).astype(np.int64), len(st.bases) - 1)
    suffix = np.minimum(
        np.searchsorted(st.suffix_cum, u_suf * st.suffix_cum[-1]), len(SUFFIXES) - 1
    )
    direction = np.minimum(np.searchsorted(st.dir_cum, u_dir * st.dir_cum[-1]), len(DIRECTIONS) - 1)
    ids: np.ndarray = (base * len(SUFFIXES) + suffix) * len(DIRECTIONS) + direction
    return ids


def sample_zips(culture: np.ndarray, u: np.ndarray) -> np.ndarray:
    """ZIP indices for people of `culture`, by where each culture lives."""
    zt = zip_table()
    out = np.empty(len(u), dtype=np.int64)
    for c in np.unique(culture):
        at = culture == c
        cum = zt.culture_cum[int(c)]
        out[at] = np.minimum(np.searchsorted(cum, u[at] * cum[-1]), len(cum) - 1)
    return out


def move_zips(
    previous: np.ndarray, culture: np.ndarray, u_kind: np.ndarray, u_where: np.ndarray
) -> np.ndarray:
    """Where people move from `previous`: same city (half), same state, or anywhere."""
    zt = zip_table()
    same_city = zt.city_start[previous] + np.minimum(
        (u_where * zt.city_len[previous]).astype(np.int64), zt.city_len[previous] - 1
    )
    same_state = zt.state_start[previous] + np.minimum(
        (u_where * zt.state_len[previous]).astype(np.int64), zt.state_len[previous] - 1
    )
    anywhere = sample_zips(culture, u_where)
    return np.where(u_kind < 0.5, same_city, np.where(u_kind < 0.78, same_state, anywhere))


def house_numbers(u: np.ndarray) -> np.ndarray:
    """House numbers, mostly 2–5 digits, never above 19,999."""
    return np.minimum((10 ** (1.0 + u * 3.3)).astype(np.int64), 19_999)


def unit_parts(u: np.ndarray, u2: np.ndarray, share: float) -> tuple[np.ndarray, ...]:
    """(kind or -1, number, letter index or -1) for a share of residences."""
    has = u < share
    kind_u = (u / share) % 1.0
    kind = np.where(has, np.searchsorted(np.cumsum(_UNIT_KIND_P), kind_u), -1)
    floor_style = u2 < 0.4
    number = np.where(
        floor_style,
        (1 + (u2 * 37.0).astype(np.int64) % 15) * 100 + (u2 * 997.0).astype(np.int64) % 30 + 1,
        1 + (u2 * 4001.0).astype(np.int64) % 40,
    )
    letter = np.where(((u2 * 7919.0) % 1.0) < 0.15, (u2 * 104729.0).astype(np.int64) % 6, -1)
    return kind.astype(np.int64), number.astype(np.int64), letter.astype(np.int64)


def street_text(street_id: int, house: int, *, full_suffix: bool = False) -> str:
    """The master-file form of a street line: "1234 N Oak St"."""
    st = street_table()
    base, suffix, direction = st.parts(street_id)
    parts = [str(house)]
    if DIRECTIONS[direction][1]:
        parts.append(DIRECTIONS[direction][1])
    parts.append(st.bases[base])
    parts.append(SUFFIXES[suffix][0] if full_suffix else SUFFIXES[suffix][1])
    return " ".join(parts)


def unit_text(kind: int, number: int, letter: int | str) -> str:
    """The master-file form of a unit: "Apt 12", "Unit 3B", "# 204"; "" for none."""
    if kind < 0:
        return ""
    let = letter if isinstance(letter, str) else ("" if letter < 0 else "ABCDEF"[letter])
    return f"{UNIT_KINDS[kind]} {number}{let}"


def written_street(res: Residence, u: Uniform, *, typo_rate: float = 0.07) -> str:
    """The street line of `res` the way a requester might write it.

    Suffix abbreviated, spelled out, dotted or informal; directional spelled
    out, dotted or (rarely) dropped; low numbered streets as words; a typo or
    OCR slip in the name. The house number is never altered: a different
    number is a different building.
    """
    st = street_table()
    base_i, suffix_i, dir_i = st.parts(res.street_id)
    base = st.bases[base_i]
    if st.numbered[base_i] and int(base[:-2]) <= 10 and chance(u, 0.15):
        base = _NUMBER_WORDS[int(base[:-2]) - 1]
    elif chance(u, typo_rate) and len(base) >= 5 and not st.numbered[base_i]:
        base = typo(base, u) if chance(u, 0.8) else ocr_confuse(base.upper(), u)
    full, abbr, _ = SUFFIXES[suffix_i]
    r = u.random()
    if r < 0.5:
        suffix = abbr
    elif r < 0.78:
        suffix = full
    elif r < 0.9:
        suffix = abbr + "." if abbr != "Way" else abbr
    else:
        suffix = pick(u, INFORMAL_SUFFIX[abbr])
    dfull, dabbr, _ = DIRECTIONS[dir_i]
    direction = ""
    if dabbr:
        r = u.random()
        if r < 0.6:
            direction = dabbr
        elif r < 0.8:
            direction = dfull
        elif r < 0.97:
            direction = dabbr + "."
    words = [str(res.house), direction, base, suffix]
    return " ".join(w for w in words if w)


def written_unit(res: Residence, u: Uniform) -> tuple[str, str]:
    """(text appended to the street, unit column) for `res`'s unit, or missing."""
    if res.unit_kind < 0:
        return "", ""
    r = u.random()
    if r < 0.3:
        return "", ""
    word = pick(u, _UNIT_WORDS[UNIT_KINDS[res.unit_kind]])
    ident = res.unit_id
    text = f"{word}{ident}" if word == "#" and chance(u, 0.5) else f"{word} {ident}"
    if r < 0.75:
        return "", text if not chance(u, 0.1) else ident
    return text, ""


def written_address(
    res: Residence, u: Uniform, *, zip4: float = 0.15, typo_rate: float = 0.07
) -> WrittenAddress:
    """A valid, sufficient address for `res` in one of the ways requesters write it.

    City and ZIP agree with the state; one of city or ZIP may be missing, never
    both; ZIP+4 sometimes; unit in its column, appended to the street, or
    dropped. A gate must accept every address this returns.
    """
    zt = zip_table()
    for _ in range(6):
        street = written_street(res, u, typo_rate=typo_rate)
        appended, unit = written_unit(res, u)
        if appended:
            street = f"{street} {appended}"
        if _parses(street, res.house):
            break
    else:
        street = street_text(res.street_id, res.house)
        appended, unit = "", unit_text(res.unit_kind, res.unit_no, res.unit_letter)
    city = zt.city[res.zip_idx]
    alts = zt.alt_cities[res.zip_idx]
    zip5 = zt.zip5[res.zip_idx]
    r = u.random()
    if r < 0.03:
        city = ""
    elif r < 0.06:
        zip5 = ""
    elif r < 0.08 and alts:
        city = pick(u, alts)
    if zip5 and chance(u, zip4):
        zip5 = f"{zip5}-{between(u, 1, 9998):04d}"
    r = u.random()
    if r < 0.18:
        street, city, unit = street.upper(), city.upper(), unit.upper()
    elif r < 0.2:
        street = street.lower()
    return WrittenAddress(street, unit, city, zt.state[res.zip_idx], zip5, bool(appended or unit))


def _parses(street: str, house: int) -> bool:
    """Whether usaddress reads the house number and a street name where they are.

    Some informal forms ("2515 7th Stree") fool the parser; a valid request
    must not depend on a gate being more lenient than usaddress.
    """
    try:
        tags = usaddress.tag(street)[0]
    except usaddress.RepeatedLabelError:
        return False
    return bool(tags.get("AddressNumber") == str(house) and tags.get("StreetName"))


DEFICIENCIES: tuple[str, ...] = (
    "placeholder",
    "po_box",
    "facility",
    "no_house_number",
    "digits_only",
    "no_zip_no_city_state",
    "zip_wrong_state",
    "bad_state",
    "unknown_zip",
)
"""Ways an address is insufficient (reason `insufficient_address`)."""

MISSING: tuple[str, ...] = ("blank", "zip_only", "city_state_only")
"""Ways an address is missing: no street at all (reason `missing_address`)."""


def deficient_address(kind: str, res: Residence, u: Uniform) -> WrittenAddress:
    """An address with exactly the deficiency `kind` and otherwise well formed.

    `kind` is one of DEFICIENCIES or MISSING. City, state and ZIP stay those of
    `res` (consistent) unless the deficiency is about them.
    """
    zt = zip_table()
    city, state, zip5 = zt.city[res.zip_idx], zt.state[res.zip_idx], zt.zip5[res.zip_idx]
    good = written_address(res, u, zip4=0.0, typo_rate=0.0)
    if kind == "placeholder":
        return WrittenAddress(pick(u, PLACEHOLDER_STREETS), "", city, state, zip5)
    if kind == "po_box":
        box = between(u, 1, 9999)
        form = pick(
            u, ("PO Box {n}", "P.O. Box {n}", "P O Box {n}", "POB {n}", "Post Office Box {n}")
        )
        street = "General Delivery" if chance(u, 0.08) else form.format(n=box)
        return WrittenAddress(street, "", city, state, zip5)
    if kind == "facility":
        county = zt.county[res.zip_idx]
        name = pick(u, FACILITY_KINDS).format(county=county, city=city)
        return WrittenAddress(name, "", city, state, zip5)
    if kind == "no_house_number":
        street = good.street.split(" ", 1)[1]
        return WrittenAddress(street, good.unit, city, state, zip5)
    if kind == "digits_only":
        return WrittenAddress(str(between(u, 10, 99999)), "", city, state, zip5)
    if kind == "no_zip_no_city_state":
        return WrittenAddress(good.street, good.unit, "", "", "")
    if kind == "zip_wrong_state":
        other = below(u, len(zt.zip5))
        while zt.state[other] == state:
            other = below(u, len(zt.zip5))
        return WrittenAddress(good.street, good.unit, city, state, zt.zip5[other])
    if kind == "bad_state":
        return WrittenAddress(good.street, good.unit, city, pick(u, ("XX", "ZZ", "QQ", "UK")), zip5)
    if kind == "unknown_zip":
        return WrittenAddress(good.street, good.unit, city, state, pick(u, ("00000", "99999")))
    if kind == "blank":
        return WrittenAddress("", "", "", "", "")
    if kind == "zip_only":
        return WrittenAddress("", "", "", "", zip5)
    if kind == "city_state_only":
        return WrittenAddress("", "", city, state, "")
    raise ValueError(f"unknown address deficiency {kind!r}")


def new_residence(u: Uniform, zip_idx: int, *, unit_share: float = 0.3) -> Residence:
    """A residence on one of `zip_idx`'s streets (scalar form of the block generator)."""
    street = int(streets_of_zip(np.array([zip_idx]), np.array([u.random()]))[0])
    house = int(house_numbers(np.array([u.random()]))[0])
    kind, number, letter = unit_parts(np.array([u.random()]), np.array([u.random()]), unit_share)
    let = int(letter[0])
    return Residence(
        zip_idx, street, house, int(kind[0]), int(number[0]), "" if let < 0 else "ABCDEF"[let]
    )


def zip_in_city(zip_idx: int, u: Uniform) -> int:
    """A ZIP of the same city as `zip_idx` (possibly the same ZIP)."""
    zt = zip_table()
    return int(zt.city_start[zip_idx]) + below(u, int(zt.city_len[zip_idx]))
