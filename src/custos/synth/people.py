"""Synthetic taxpayers and their address histories, generated a block at a time.

A block is BLOCK_SIZE consecutive people, generated from its own random stream
(seed, stream, block index), so the master file comes out the same whatever
the chunk size and any block can be regenerated alone to look a person up.

People come in units that make matching hard in the ways real files do:

- single people (most);
- households: a couple (a Hispanic wife usually keeps her surnames; an Anglo
  one usually takes her husband's), possibly with adult children who carry the
  father's first and the mother's first surname and who move out over the years;
- father and son with the same name (Sr/Jr or II), sharing the family's early
  addresses, the son usually moving out later;
- twins: same surname, same date of birth, same addresses, different first
  names — sometimes near-identical ones (Juan/Juana) or the same first name with
  different middle names (José Luis / José Carlos);
- namesakes: two unrelated people with the same first and last name whose
  current addresses are in the same city.

Each person has 2–6 addresses, one per distinct tax year in 2015–2024; the one
with the latest year is current. Moves stay in the same city half the time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custos.synth.addresses import (
    DIRECTIONS,
    SUFFIXES,
    UNIT_KINDS,
    Residence,
    address_keys,
    house_numbers,
    move_zips,
    sample_zips,
    street_table,
    streets_of_zip,
    unit_parts,
    zip_table,
)
from custos.synth.names import (
    ANGLO,
    ARABIC,
    CHINESE,
    FEMALE,
    FILIPINO,
    HISPANIC,
    INDIAN,
    MALE,
    VIETNAMESE,
    strip_diacritics,
    tables,
)
from custos.synth.rand import rng_for
from custos.synth.tins import tin_numbers, tin_strings

BLOCK_SIZE = 4096
"""People per block; fixed so that output does not depend on the chunk size."""

SINGLE, HEAD, SPOUSE, CHILD, SR, JR, TWIN, NAMESAKE = range(8)
ROLE_NAMES = ("single", "head", "spouse", "child", "sr", "jr", "twin", "namesake")

_TEMPLATES: tuple[tuple[tuple[int, ...], float], ...] = (
    ((SINGLE,), 0.605),
    ((HEAD, SPOUSE), 0.18),
    ((HEAD, SPOUSE, CHILD), 0.06),
    ((HEAD, SPOUSE, CHILD, CHILD), 0.03),
    ((HEAD, CHILD), 0.04),
    ((SR, JR), 0.025),
    ((SR, SPOUSE, JR), 0.015),
    ((TWIN, TWIN), 0.015),
    ((HEAD, TWIN, TWIN), 0.01),
    ((SINGLE, NAMESAKE), 0.02),
)
_TEMPLATE_P = np.array([p for _, p in _TEMPLATES]) / sum(p for _, p in _TEMPLATES)
_TEMPLATE_SIZE = np.array([len(r) for r, _ in _TEMPLATES])
_TEMPLATE_MATRIX = np.array([[*r, *([-1] * (4 - len(r)))] for r, _ in _TEMPLATES])
_FAMILY_TEMPLATES = np.array([False, False, True, True, True, True, True, False, True, False])

CULTURE_SHARES = np.array([0.45, 0.31, 0.04, 0.06, 0.06, 0.045, 0.035])
"""Hispanic, Anglo, Vietnamese, Chinese, Indian, Filipino, Arabic."""
_ANGLO_GIVEN = np.array([0.08, 0.0, 0.25, 0.35, 0.05, 0.15, 0.05])
"""Share of each culture given an Anglo first name (David Chen, Kevin Nguyen)."""
_MIDDLE_P = np.array([0.35, 0.7, 0.85, 0.1, 0.2, 0.85, 0.35])
_ITIN_P = np.array([0.10, 0.004, 0.03, 0.04, 0.05, 0.03, 0.05])
_ACCENTS_P = np.array([0.35, 0.0, 0.3, 0.0, 0.0, 0.0, 0.0])
_SPOUSE_TAKES = np.array([0.35, 0.8, 0.3, 0.4, 0.6, 0.85, 0.3])

SUFFIX_TEXT = ("", "Jr", "Sr", "II", "III")
SOURCES = ("return", "change_of_address", "third_party", "irs_determined")
_SOURCE_P = np.array([0.7, 0.12, 0.12, 0.06])
FILING = ("single", "married_filing_jointly", "married_filing_separately", "head_of_household")
AGI_BANDS = ("under_25k", "25k_50k", "50k_100k", "100k_200k", "over_200k")
_AGI_P = np.array([0.3, 0.27, 0.25, 0.13, 0.05])

FIRST_YEAR, LAST_YEAR = 2015, 2024
_YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)
_YEAR_W = 1.0 + (_YEARS - FIRST_YEAR) * 0.15
_EPOCH_2025 = (np.datetime64("2025-01-01") - np.datetime64("1970-01-01")).astype(int)

_SIMILAR_TWINS: tuple[tuple[str, int, str, int], ...] = (
    ("juan", MALE, "juana", FEMALE),
    ("mario", MALE, "maria", FEMALE),
    ("francisco", MALE, "francisca", FEMALE),
    ("antonio", MALE, "antonia", FEMALE),
    ("daniel", MALE, "daniela", FEMALE),
    ("gabriel", MALE, "gabriela", FEMALE),
    ("adrian", MALE, "adriana", FEMALE),
    ("alejandro", MALE, "alejandra", FEMALE),
    ("fernando", MALE, "fernanda", FEMALE),
    ("julio", MALE, "julia", FEMALE),
    ("victor", MALE, "victoria", FEMALE),
    ("eric", MALE, "erika", FEMALE),
    ("daniel", MALE, "danielle", FEMALE),
    ("christian", MALE, "cristina", FEMALE),
    ("mary grace", FEMALE, "mary ann", FEMALE),
    ("jose", MALE, "josefina", FEMALE),
)

TAXPAYER_COLUMNS = (
    "tin",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "disclosure_block",
    "filing_status",
    "agi_band",
)
ADDRESS_COLUMNS = ("tin", "tax_year", "street", "unit", "city", "state", "zip", "source")


@dataclass(frozen=True, slots=True)
class Person:
    """One generated person with everything requests and truth labels need."""

    index: int
    tin: str
    culture: int
    sex: int
    role: int
    unit: tuple[int, int]
    """(block, unit) — people in one unit are related and share addresses."""
    first_id: int
    middle_id: int
    """-1 none; below the number of given names a given name, else a surname (+offset)."""
    middle_text: str
    s1: int
    s2: int
    surnames_on_file: frozenset[int]
    """Surname ids the master file's last_name shows (a single surname when it drops the second)."""
    suffix: str
    dob: str
    blocked: bool
    residences: tuple[Residence, ...]
    years: tuple[int, ...]

    @property
    def current(self) -> Residence:
        return self.residences[-1]

    @property
    def first_text(self) -> str:
        return tables().given[self.first_id].text


@dataclass(frozen=True, slots=True)
class Block:
    """A block of people as arrays (one row per person, per residence, per address row)."""

    block: int
    offset: int
    unit: np.ndarray
    role: np.ndarray
    culture: np.ndarray
    sex: np.ndarray
    first: np.ndarray
    middle: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    last_form: np.ndarray
    accents: np.ndarray
    upper: np.ndarray
    suffix: np.ndarray
    dob: np.ndarray
    tin: np.ndarray
    blocked: np.ndarray
    filing: np.ndarray
    agi: np.ndarray
    res_zip: np.ndarray
    res_street: np.ndarray
    res_house: np.ndarray
    res_unit_kind: np.ndarray
    res_unit_no: np.ndarray
    res_unit_letter: np.ndarray
    row_member: np.ndarray
    row_year: np.ndarray
    row_res: np.ndarray
    row_source: np.ndarray
    row_upper: np.ndarray
    row_full: np.ndarray

    @property
    def size(self) -> int:
        return len(self.role)

    def row_keys(self) -> np.ndarray:
        """Building key (ZIP, street, house) of every address row."""
        r = self.row_res
        return address_keys(self.res_zip[r], self.res_street[r], self.res_house[r])

    def person(self, local: int) -> Person:
        rows = np.nonzero(self.row_member == local)[0]
        g = tables()
        middle = int(self.middle[local])
        n_given = len(g.given)
        if middle < 0:
            middle_text = ""
        elif middle < n_given:
            middle_text = g.given[middle].text
        else:
            middle_text = g.surnames[middle - n_given].text
        s1, s2 = int(self.s1[local]), int(self.s2[local])
        on_file = {s1} if s2 < 0 or self.last_form[local] == 2 else {s1, s2}
        res = self.row_res[rows]
        letters = self.res_unit_letter[res].tolist()
        residences = tuple(
            Residence(z, st, h, k, no, "" if let < 0 else "ABCDEF"[let])
            for z, st, h, k, no, let in zip(
                self.res_zip[res].tolist(),
                self.res_street[res].tolist(),
                self.res_house[res].tolist(),
                self.res_unit_kind[res].tolist(),
                self.res_unit_no[res].tolist(),
                letters,
                strict=True,
            )
        )
        return Person(
            index=self.offset + local,
            tin=f"{int(self.tin[local]):09d}",
            culture=int(self.culture[local]),
            sex=int(self.sex[local]),
            role=int(self.role[local]),
            unit=(self.block, int(self.unit[local])),
            first_id=int(self.first[local]),
            middle_id=middle,
            middle_text=middle_text,
            s1=s1,
            s2=s2,
            surnames_on_file=frozenset(on_file),
            suffix=SUFFIX_TEXT[int(self.suffix[local])],
            dob=str(np.datetime64(int(self.dob[local]), "D")),
            blocked=bool(self.blocked[local]),
            residences=residences,
            years=tuple(self.row_year[rows].tolist()),
        )

    def unit_members(self, local: int) -> list[int]:
        """Local indices of everyone in `local`'s unit, `local` included."""
        return [int(i) for i in np.nonzero(self.unit == self.unit[local])[0]]

    def taxpayers(self) -> pa.Table:
        """The block's rows of the taxpayers file."""
        g = tables()
        n_sur = len(g.surnames)
        mid = np.where(self.middle < 0, len(g.given) + n_sur, self.middle)
        first = _text("given", self.first, self.accents)
        middle = _text("middle", mid, self.accents)
        second = np.where(self.s2 < 0, n_sur, self.s2)
        t1 = _text("surname", self.s1, self.accents)
        t2 = _text("surname", second, self.accents)
        form = np.where((self.s2 < 0) | (self.last_form == 2), 2, self.last_form)
        sep = pa.array(np.array([" ", "-", "", " y "])[form])
        t2 = pc.if_else(pa.array(form == 2), "", t2)
        last = pc.binary_join_element_wise(t1, sep, t2, "")
        up = pa.array(self.upper)
        first, middle, last = (pc.if_else(up, pc.utf8_upper(x), x) for x in (first, middle, last))
        return pa.table(
            {
                "tin": tin_strings(self.tin),
                "first_name": first,
                "middle_name": middle,
                "last_name": last,
                "suffix": pa.array(np.array(SUFFIX_TEXT)[self.suffix]),
                "dob": pa.array(self.dob.astype(np.int32), pa.date32()).cast(pa.string()),
                "disclosure_block": pa.array(self.blocked),
                "filing_status": pa.array(np.array(FILING)[self.filing]),
                "agi_band": pa.array(np.array(AGI_BANDS)[self.agi]),
            }
        )

    def addresses(self) -> pa.Table:
        """The block's rows of the addresses file, by taxpayer then tax year."""
        st = street_table()
        zt = zip_table()
        r = self.row_res
        sid = self.res_street[r]
        per_base = len(SUFFIXES) * len(DIRECTIONS)
        base = sid // per_base
        suffix = (sid // len(DIRECTIONS)) % len(SUFFIXES)
        direction = sid % len(DIRECTIONS)
        dir_words = np.array([f"{d[1]} " if d[1] else "" for d in DIRECTIONS])
        suffix_words = np.where(
            self.row_full,
            np.array([s[0] for s in SUFFIXES])[suffix],
            np.array([s[1] for s in SUFFIXES])[suffix],
        )
        street = pc.binary_join_element_wise(
            pa.array(self.res_house[r]).cast(pa.string()),
            pc.binary_join_element_wise(
                pa.array(dir_words[direction]), pa.array(np.array(st.bases)[base]), ""
            ),
            pa.array(suffix_words),
            " ",
        )
        kind = self.res_unit_kind[r]
        letter = self.res_unit_letter[r]
        unit_word = np.array([*UNIT_KINDS, ""])[np.where(kind < 0, len(UNIT_KINDS), kind)]
        unit_id = pc.binary_join_element_wise(
            pa.array(self.res_unit_no[r]).cast(pa.string()),
            pa.array(np.array([*"ABCDEF", ""])[np.where(letter < 0, 6, letter)]),
            "",
        )
        unit = pc.if_else(
            pa.array(kind < 0),
            "",
            pc.binary_join_element_wise(pa.array(unit_word), unit_id, " "),
        )
        z = self.res_zip[r]
        city = pa.array(np.array(zt.city, dtype=object)[z], pa.string())
        up = pa.array(self.row_upper)
        street, unit, city = (pc.if_else(up, pc.utf8_upper(x), x) for x in (street, unit, city))
        return pa.table(
            {
                "tin": tin_strings(self.tin[self.row_member]),
                "tax_year": pa.array(self.row_year.astype(np.int16)),
                "street": street,
                "unit": unit,
                "city": city,
                "state": pa.array(np.array(zt.state, dtype=object)[z], pa.string()),
                "zip": pa.array(np.array(zt.zip5, dtype=object)[z], pa.string()),
                "source": pa.array(np.array(SOURCES)[self.row_source]),
            }
        )


@functools.cache
def _name_texts(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(with diacritics, without) display texts: given names, surnames, or middles."""
    g = tables()
    given = [x.text for x in g.given]
    surnames = [s.text for s in g.surnames]
    texts = {"given": given, "surname": [*surnames, ""], "middle": [*given, *surnames, ""]}[kind]
    full = np.array(texts, dtype=object)
    plain = np.array([strip_diacritics(t) for t in texts], dtype=object)
    return full, plain


def _text(kind: str, idx: np.ndarray, accents: np.ndarray) -> pa.Array:
    full, plain = _name_texts(kind)
    return pa.array(np.where(accents, full[idx], plain[idx]), pa.string())


def generate_block(seed: int, stream: int, block: int, size: int, offset: int) -> Block:
    """People offset .. offset+size-1 of `stream` (master or fresh), block `block`."""
    rng = rng_for(seed, stream, block)
    g = tables()
    n = size

    types = rng.choice(len(_TEMPLATES), size=n, p=_TEMPLATE_P)
    ends = np.cumsum(_TEMPLATE_SIZE[types])
    k = int(np.searchsorted(ends, n)) + 1
    types = types[:k]
    sizes = _TEMPLATE_SIZE[types]
    flat = _TEMPLATE_MATRIX[types].ravel()
    role = flat[flat >= 0][:n]
    unit = np.repeat(np.arange(k), sizes)[:n]
    unit_start = (np.cumsum(sizes) - sizes)[unit]
    utype = types[unit]

    unit_culture = rng.choice(7, size=k, p=CULTURE_SHARES)
    culture = unit_culture[unit].copy()
    mixed = (role == SPOUSE) & (rng.random(n) < 0.1)
    culture[mixed] = rng.choice(7, size=int(mixed.sum()), p=CULTURE_SHARES)

    u_sex = rng.random(n)
    p_female = np.array([0.5, 0.15, 0.5, 0.5, 0.0, 0.0, 0.5, 0.5])[role]
    p_female = np.where((role == HEAD) & (utype == 4), 0.7, p_female)
    sex = (u_sex < p_female).astype(np.int64)
    spouse = role == SPOUSE
    sex[spouse] = 1 - sex[unit_start[spouse]]
    namesake = role == NAMESAKE
    sex[namesake] = sex[np.nonzero(namesake)[0] - 1]

    # Ages and dates of birth.
    parent_age = np.clip(rng.normal(56, 10, k), 40, 88)
    adult_age = np.clip(rng.normal(43, 14, k), 19, 88)
    unit_age = np.where(_FAMILY_TEMPLATES[types], parent_age, adult_age)
    twin_u = rng.random(k)
    own_age = np.clip(rng.normal(41, 15, n), 18, 90)
    u_age = rng.random(n)
    base = unit_age[unit]
    child_age = 18 + u_age * np.maximum(base - 38, 0)
    twin_age = np.where(
        _TEMPLATE_MATRIX[types][:, 0] == HEAD,
        18 + twin_u * np.maximum(unit_age - 38, 0),
        18 + twin_u * 30,
    )[unit]
    age = np.select(
        [
            role == SINGLE,
            role == NAMESAKE,
            role == HEAD,
            role == SR,
            role == SPOUSE,
            role == TWIN,
        ],
        [own_age, own_age, base, base, np.maximum(base + rng.normal(-1.5, 4, n), 18), twin_age],
        child_age,
    )
    dob = (_EPOCH_2025 - np.round(age * 365.2425)).astype(np.int64)

    # Given names.
    gculture = np.where(rng.random(n) < _ANGLO_GIVEN[culture], ANGLO, culture)
    first = _sample_given(gculture, sex, rng.random(n))
    twin2 = (role == TWIN) & (np.roll(role, 1) == TWIN) & (unit == np.roll(unit, 1))
    twin2[0] = False
    t2 = np.nonzero(twin2)[0]
    redraw = _sample_given(gculture[t2], sex[t2], rng.random(len(t2)))
    first[t2] = np.where(redraw == first[t2 - 1], first[t2], redraw)
    same = first[t2] == first[t2 - 1]
    pool_next = np.array(
        [_next_in_pool(int(gculture[i]), int(sex[i]), int(first[i])) for i in t2[same]],
        dtype=np.int64,
    )
    first[t2[same]] = pool_next
    twin_style = rng.random(len(t2))
    similar_pick = rng.integers(0, len(_SIMILAR_TWINS), len(t2))
    same_first_twins: list[int] = []
    for j, i in enumerate(t2):
        if twin_style[j] < 0.15 and culture[i] in (HISPANIC, FILIPINO, ANGLO):
            a, sa, b, sb = _SIMILAR_TWINS[int(similar_pick[j])]
            first[i - 1], sex[i - 1] = g.given_by_key[a], sa
            first[i], sex[i] = g.given_by_key[b], sb
        elif twin_style[j] < 0.27 and culture[i] == HISPANIC:
            first[i], sex[i] = first[i - 1], sex[i - 1]
            same_first_twins.append(int(i))
    jr = np.nonzero(role == JR)[0]
    first[jr] = first[unit_start[jr]]
    ns = np.nonzero(namesake)[0]
    first[ns] = first[ns - 1]
    gculture[ns] = gculture[ns - 1]

    # Middle names.
    n_given = len(g.given)
    middle = np.full(n, -1, dtype=np.int64)
    u_mid = rng.random(n)
    u_mid2 = rng.random(n)
    p_mid = _MIDDLE_P[culture].copy()
    maria = first == g.given_by_key["maria"]
    jose_juan = (first == g.given_by_key["jose"]) | (first == g.given_by_key["juan"])
    hisp = culture == HISPANIC
    p_mid = np.where(hisp & maria, 0.75, np.where(hisp & jose_juan, 0.5, p_mid))
    has_mid = u_mid < p_mid
    has_mid[same_first_twins] = True
    has_mid[np.array(same_first_twins, dtype=np.int64) - 1] = True
    for mc in range(7):
        at = np.nonzero(has_mid & (culture == mc))[0]
        if not len(at):
            continue
        if mc == VIETNAMESE:
            for s in (MALE, FEMALE):
                sub = at[sex[at] == s]
                middle[sub] = g.middle_pools[s].sample(u_mid2[sub])
        elif mc == FILIPINO:
            middle[at] = n_given + g.surname_pools[FILIPINO].sample(u_mid2[at])
        elif mc in (INDIAN, ARABIC):
            middle[at] = g.given_pools[(mc, MALE)].sample(u_mid2[at])
        else:
            pool_culture = ANGLO if mc == CHINESE else mc
            middle[at] = _sample_given(np.full(len(at), pool_culture), sex[at], u_mid2[at])
    chema = hisp & (first == g.given_by_key["jose"]) & (u_mid < 0.06)
    middle[chema] = g.given_by_key["maria"]
    middle[middle == first] = -1
    for tw in same_first_twins:
        if middle[tw] == middle[tw - 1] or middle[tw] < 0 or middle[tw - 1] < 0:
            middle[tw - 1] = _next_in_pool(HISPANIC, int(sex[tw]), int(first[tw]))
            middle[tw] = _next_in_pool(HISPANIC, int(sex[tw]), int(middle[tw - 1]))
            if middle[tw] == first[tw]:
                middle[tw] = _next_in_pool(HISPANIC, int(sex[tw]), int(middle[tw]))
    middle[jr] = middle[unit_start[jr]]

    # Surnames: A B for the family line, C D for the spouse's family.
    fam = np.stack([_sample_surnames(unit_culture, rng.random(k)) for _ in range(4)])
    a, b, c_, d = (x[unit] for x in fam)
    own_culture = culture != unit_culture[unit]
    s_own = _sample_surnames(culture, rng.random(n))
    s_own2 = _sample_surnames(culture, rng.random(n))
    c_ = np.where(own_culture, s_own, c_)
    d = np.where(own_culture, s_own2, d)
    compound = culture == HISPANIC
    s1 = a.copy()
    s2 = np.where(compound, b, -1)
    kids = (role == CHILD) | (role == TWIN)
    s2 = np.where(kids & compound, c_, s2)
    takes = rng.random(n) < _SPOUSE_TAKES[culture]
    s1 = np.where(spouse, np.where(takes, a, c_), s1)
    s2 = np.where(spouse, np.where(compound & ~takes, d, -1), s2)
    filipina_wife = spouse & takes & (culture == FILIPINO)
    middle[filipina_wife] = n_given + c_[filipina_wife]
    s1[ns] = s1[ns - 1]
    s2[ns] = s2[ns - 1]
    last_form = rng.choice(4, size=n, p=[0.68, 0.12, 0.17, 0.03])

    suffix = np.zeros(n, dtype=np.int64)
    jr_style = rng.random(n)
    suffix[jr] = np.where(jr_style[jr] < 0.85, 1, 3)
    sr_of_jr = unit_start[jr]
    suffix[sr_of_jr] = np.where((jr_style[jr] < 0.85) & (rng.random(len(jr)) < 0.5), 2, 0)
    lone = (role == SINGLE) & (culture == ANGLO) & (rng.random(n) < 0.025)
    suffix[lone] = np.where(rng.random(int(lone.sum())) < 0.7, 1, 4)

    accents = rng.random(n) < _ACCENTS_P[culture]
    upper = rng.random(n) < 0.1
    itin = rng.random(n) < _ITIN_P[culture]
    index = offset + np.arange(n, dtype=np.int64)
    tin = tin_numbers(seed, index, itin)
    blocked = rng.random(n) < 0.002
    married = (role == HEAD) & np.isin(utype, [1, 2, 3]) | spouse | ((role == SR) & (utype == 6))
    filing = np.where(
        married,
        np.where(rng.random(n) < 0.82, 1, 2),
        np.where((role == HEAD) | (rng.random(n) < 0.12), 3, 0),
    )
    agi = rng.choice(len(AGI_BANDS), size=n, p=_AGI_P)

    homes = _homes(role, unit, k, culture)
    res, rows = _residences(rng, homes, role, culture, n)
    return Block(
        block=block,
        offset=offset,
        unit=unit,
        role=role,
        culture=culture,
        sex=sex,
        first=first,
        middle=middle,
        s1=s1,
        s2=s2,
        last_form=last_form,
        accents=accents,
        upper=upper,
        suffix=suffix,
        dob=dob,
        tin=tin,
        blocked=blocked,
        filing=filing,
        agi=agi,
        res_zip=res[0],
        res_street=res[1],
        res_house=res[2],
        res_unit_kind=res[3],
        res_unit_no=res[4],
        res_unit_letter=res[5],
        row_member=rows[0],
        row_year=rows[1],
        row_res=rows[2],
        row_source=rows[3],
        row_upper=rows[4].astype(bool),
        row_full=rows[5].astype(bool),
    )


def _sample_given(culture: np.ndarray, sex: np.ndarray, u: np.ndarray) -> np.ndarray:
    t = tables()
    out = np.empty(len(u), dtype=np.int64)
    for c in np.unique(culture):
        for s in (MALE, FEMALE):
            at = (culture == c) & (sex == s)
            if at.any():
                out[at] = t.given_pools[(int(c), s)].sample(u[at])
    return out


def _next_in_pool(culture: int, sex: int, given: int) -> int:
    """The name after `given` in its pool: a different, still plausible name."""
    ids = tables().given_pools[(culture, sex)].ids
    where = np.nonzero(ids == given)[0]
    at = int(where[0]) + 1 if len(where) else 0
    return int(ids[at % len(ids)])


def _sample_surnames(culture: np.ndarray, u: np.ndarray) -> np.ndarray:
    t = tables()
    out = np.empty(len(u), dtype=np.int64)
    for c in np.unique(culture):
        at = culture == c
        out[at] = t.surname_pools[int(c)].sample(u[at])
    return out


@dataclass(frozen=True, slots=True)
class _Homes:
    member_home: np.ndarray
    home_culture: np.ndarray
    partner_home: np.ndarray
    """For a namesake's home, the home of the person whose name they share; else -1."""


def _homes(role: np.ndarray, unit: np.ndarray, k: int, culture: np.ndarray) -> _Homes:
    ns = np.nonzero(role == NAMESAKE)[0]
    member_home = unit.astype(np.int64).copy()
    member_home[ns] = k + np.arange(len(ns))
    n_homes = k + len(ns)
    first_of_unit = np.zeros(k, dtype=np.int64)
    first_of_unit[unit[::-1]] = np.arange(len(unit))[::-1]
    home_culture = np.concatenate([culture[first_of_unit], culture[ns]])
    partner = np.full(n_homes, -1, dtype=np.int64)
    partner[k + np.arange(len(ns))] = member_home[ns - 1]
    return _Homes(member_home, home_culture, partner)


def _pick_years(
    rng: np.random.Generator, count: np.ndarray, floor: np.ndarray, ceiling: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each chain, `count` distinct years in (floor, ceiling], weighted to recent ones.

    Returns (chain, year) pairs sorted by chain then year; `count` is clipped to
    the years available.
    """
    m = len(count)
    count = np.minimum(count, np.maximum(ceiling - floor, 0))
    keys = rng.random((m, len(_YEARS))) ** (1.0 / _YEAR_W)
    outside = (_YEARS[None, :] <= floor[:, None]) | (_YEARS[None, :] > ceiling[:, None])
    keys[outside] = -1.0
    order = np.argsort(-keys, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(len(_YEARS)), (m, len(_YEARS))), 1)
    chain, col = np.nonzero(ranks < count[:, None])
    return chain, _YEARS[col]


def _chain_zips(
    rng: np.random.Generator, chain: np.ndarray, start: np.ndarray, culture: np.ndarray
) -> np.ndarray:
    """ZIPs along each chain of residences (rows sorted by chain), each a move from the last.

    A chain with `start` >= 0 begins with a move away from that ZIP; otherwise
    its first ZIP is drawn from where the chain's culture lives.
    """
    m = len(chain)
    zips = np.empty(m, dtype=np.int64)
    first_row = np.ones(m, dtype=bool)
    first_row[1:] = chain[1:] != chain[:-1]
    u_kind = rng.random(m)
    u_where = rng.random(m)
    c = culture[chain]
    fresh = first_row & (start[chain] < 0)
    zips[fresh] = sample_zips(c[fresh], u_where[fresh])
    moved = first_row & (start[chain] >= 0)
    zips[moved] = move_zips(start[chain][moved], c[moved], u_kind[moved], u_where[moved])
    pos = np.arange(m) - np.maximum.accumulate(np.where(first_row, np.arange(m), 0))
    for p in range(1, int(pos.max(initial=0)) + 1):
        at = np.nonzero(pos == p)[0]
        zips[at] = move_zips(zips[at - 1], c[at], u_kind[at], u_where[at])
    return zips


def _residences(
    rng: np.random.Generator,
    homes: _Homes,
    role: np.ndarray,
    culture: np.ndarray,
    n: int,
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    zt = zip_table()
    n_homes = len(homes.home_culture)
    k_home = rng.choice(np.arange(2, 7), size=n_homes, p=[0.25, 0.3, 0.22, 0.13, 0.1])
    last = rng.choice(np.array([2022, 2023, 2024]), size=n_homes, p=[0.12, 0.28, 0.6])
    chain, years = _pick_years(rng, k_home - 1, np.full(n_homes, FIRST_YEAR - 1), last - 1)
    chain = np.concatenate([chain, np.arange(n_homes)])
    years = np.concatenate([years, last])
    order = np.lexsort((years, chain))
    home_chain, home_years = chain[order], years[order]
    home_zip = _chain_zips(rng, home_chain, np.full(n_homes, -1), homes.home_culture)
    home_start = np.searchsorted(home_chain, np.arange(n_homes))
    home_count = np.bincount(home_chain, minlength=n_homes)
    home_last_row = home_start + home_count - 1
    ns_homes = np.nonzero(homes.partner_home >= 0)[0]
    if len(ns_homes):
        partner_zip = home_zip[home_last_row[homes.partner_home[ns_homes]]]
        u = rng.random(len(ns_homes))
        home_zip[home_last_row[ns_homes]] = zt.city_start[partner_zip] + np.minimum(
            (u * zt.city_len[partner_zip]).astype(np.int64), zt.city_len[partner_zip] - 1
        )

    # Who moves out of the family home: grown children, sons named after fathers, some twins.
    member_home = homes.member_home
    p_move = np.array([0.0, 0.0, 0.0, 0.7, 0.0, 0.7, 0.35, 0.0])[role]
    mover = rng.random(n) < p_move
    mk = home_count[member_home]
    shared = np.where(mover, 1 + (rng.random(n) * (mk - 1)).astype(np.int64), mk)
    mv = np.nonzero(mover)[0]
    floor = home_years[home_start[member_home[mv]] + shared[mv] - 1]
    want = 1 + (rng.random(len(mv)) * (6 - shared[mv])).astype(np.int64)
    own_chain, own_years = _pick_years(rng, want, floor, np.full(len(mv), LAST_YEAR))
    own_start = home_zip[home_start[member_home[mv]] + shared[mv] - 1]
    own_zip = _chain_zips(rng, own_chain, own_start, culture[mv])

    total_shared = int(shared.sum())
    member_of_shared = np.repeat(np.arange(n), shared)
    offset_in = np.arange(total_shared) - np.repeat(np.cumsum(shared) - shared, shared)
    shared_res = home_start[member_home[member_of_shared]] + offset_in
    n_home_res = len(home_chain)
    res_zip = np.concatenate([home_zip, own_zip])
    m_res = len(res_zip)
    street = streets_of_zip(res_zip, rng.random(m_res))
    house = house_numbers(rng.random(m_res))
    kind, number, letter = unit_parts(rng.random(m_res), rng.random(m_res), 0.3)

    row_member = np.concatenate([member_of_shared, mv[own_chain]])
    row_year = np.concatenate([home_years[shared_res], own_years])
    row_res = np.concatenate([shared_res, n_home_res + np.arange(len(own_chain))])
    order = np.lexsort((row_year, row_member))
    row_member, row_year, row_res = row_member[order], row_year[order], row_res[order]
    r = len(row_member)
    source = rng.choice(len(SOURCES), size=r, p=_SOURCE_P)
    upper = rng.random(r) < 0.1
    full = rng.random(r) < 0.15
    return (
        (res_zip, street, house, kind, number, letter),
        (row_member, row_year, row_res, source, upper, full),
    )
