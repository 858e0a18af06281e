"""The request batch: who is asked about, how it is written, and what is wrong with it.

The batch is planned up front from the seed (which rows are valid, which carry
which single defect, which master taxpayers are the subjects, who signs each
row), so the master file can be streamed once and the chosen subjects
collected as they pass. Rows are then written a block at a time; each block of
REQUEST_BLOCK rows has its own random stream, so the batch does not depend on
the chunk size either.

Kinds of valid rows:

- OWN: a master taxpayer at one of their own addresses — usually an older one,
  sometimes the current one — written the way agencies write names and
  addresses.
- TIN_ELSEWHERE: a master taxpayer's own name and TIN, but an address in their
  city that is not in their history (what the August 2025 TIN track released).
- HOUSEMATE: one of a taxpayer's addresses with a different person's name
  (someone else living there who is not in the file).
- NAMESAKE_ELSEWHERE: a master taxpayer's name at an address in their city
  they never lived at.
- FRESH: someone not in the master file at all, generated like a taxpayer from
  a separate stream (so their TINs can never be a master TIN); if their
  address happens to be a master building, a spare person is used.

Invalid rows take an OWN or FRESH row and inject exactly one defect.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from custos.model import REQUEST_COLUMNS, SUBJECT_COLUMNS, ReasonCode
from custos.synth import reasons
from custos.synth.addresses import (
    DEFICIENCIES,
    MISSING,
    Residence,
    WrittenAddress,
    deficient_address,
    new_residence,
    written_address,
    zip_in_city,
    zip_table,
)
from custos.synth.names import (
    CHINESE,
    GOES_BY_MIDDLE,
    PAIR_NICKNAMES,
    VIETNAMESE,
    arabic_article_variant,
    fold,
    given_aliases,
    ocr_confuse,
    particle_variant,
    strip_diacritics,
    surname_forms,
    tables,
    typo,
    written_given,
)
from custos.synth.people import Person
from custos.synth.rand import (
    STREAM_PLAN,
    STREAM_REQUESTS,
    Draws,
    Uniform,
    below,
    between,
    chance,
    pick,
    rng_for,
)
from custos.synth.truth import AddressEvidence, Label, NameEvidence, label

REQUEST_BLOCK = 4096
COLUMNS: tuple[str, ...] = (*REQUEST_COLUMNS, *SUBJECT_COLUMNS)
AGENCY = "DHS-ICE"


class Kind(IntEnum):
    OWN = 0
    TIN_ELSEWHERE = 1
    HOUSEMATE = 2
    NAMESAKE_ELSEWHERE = 3
    FRESH = 4


IN_FILE_KINDS = frozenset({Kind.OWN, Kind.TIN_ELSEWHERE, Kind.HOUSEMATE, Kind.NAMESAKE_ELSEWHERE})

DEFECTS: tuple[ReasonCode, ...] = (
    ReasonCode.MISSING_NAME,
    ReasonCode.MISSING_ADDRESS,
    ReasonCode.INSUFFICIENT_ADDRESS,
    ReasonCode.PURPOSE_NOT_CRIMINAL,
    ReasonCode.MISSING_TAX_PERIODS,
    ReasonCode.INVALID_TAX_PERIODS,
    ReasonCode.MISSING_STATUTE,
    ReasonCode.STATUTE_NOT_AUTHORIZED,
    ReasonCode.MISSING_REASON,
    ReasonCode.BOILERPLATE_REASON,
    ReasonCode.UNAUTHORIZED_OFFICIAL,
    ReasonCode.IMPLAUSIBLE_CERTIFICATION,
    ReasonCode.DUPLICATE_REQUEST_ID,
)
_D = {code: i for i, code in enumerate(DEFECTS)}

BOILERPLATE_MIN_ROWS = 25
BOILERPLATE_SHARE = 0.02
MAX_SUBJECTS_PER_OFFICIAL = 200
OFFICIAL_CAP = 170
"""Rows one official signs at most; with the odd duplicate copied in, well under 180."""
IMPLAUSIBLE_ROWS = 230
HARD_SHARE = 0.12
"""Share of valid OWN rows aimed at a hard case rather than at a random taxpayer."""


@dataclass(frozen=True, slots=True)
class Profile:
    """The shape of a batch: shares of each kind of row and of optional fields."""

    name: str
    valid: tuple[tuple[Kind, float], ...]
    defect_budget: float
    """Share of rows with a non-address defect (boilerplate and implausible included)."""
    defect_weights: tuple[tuple[ReasonCode, float], ...]
    address_defects: tuple[tuple[ReasonCode, float], ...] = ()
    """Shares of rows whose address is missing or insufficient, outside the budget."""
    p_tin: float = 0.25
    p_dob: float = 0.4
    p_current: float = 0.25
    p_wrong_tin: float = 0.12


_DEFAULT_DEFECTS = (
    (ReasonCode.MISSING_NAME, 5.0),
    (ReasonCode.MISSING_ADDRESS, 8.0),
    (ReasonCode.INSUFFICIENT_ADDRESS, 26.0),
    (ReasonCode.PURPOSE_NOT_CRIMINAL, 10.0),
    (ReasonCode.MISSING_TAX_PERIODS, 5.0),
    (ReasonCode.INVALID_TAX_PERIODS, 8.0),
    (ReasonCode.MISSING_STATUTE, 5.0),
    (ReasonCode.STATUTE_NOT_AUTHORIZED, 7.0),
    (ReasonCode.MISSING_REASON, 5.0),
    (ReasonCode.UNAUTHORIZED_OFFICIAL, 9.0),
    (ReasonCode.DUPLICATE_REQUEST_ID, 3.0),
)

PROFILES: dict[str, Profile] = {
    "default": Profile(
        name="default",
        valid=(
            (Kind.OWN, 0.37),
            (Kind.TIN_ELSEWHERE, 0.04),
            (Kind.HOUSEMATE, 0.02),
            (Kind.NAMESAKE_ELSEWHERE, 0.02),
            (Kind.FRESH, 0.45),
        ),
        defect_budget=0.10,
        defect_weights=_DEFAULT_DEFECTS,
    ),
    "aug2025": Profile(
        name="aug2025",
        valid=(
            (Kind.OWN, 0.043),
            (Kind.TIN_ELSEWHERE, 0.21),
            (Kind.HOUSEMATE, 0.015),
            (Kind.NAMESAKE_ELSEWHERE, 0.03),
            (Kind.FRESH, 0.292),
        ),
        defect_budget=0.06,
        defect_weights=tuple(
            (c, w)
            for c, w in _DEFAULT_DEFECTS
            if c not in (ReasonCode.MISSING_ADDRESS, ReasonCode.INSUFFICIENT_ADDRESS)
        ),
        address_defects=(
            (ReasonCode.INSUFFICIENT_ADDRESS, 0.31),
            (ReasonCode.MISSING_ADDRESS, 0.04),
        ),
        p_tin=0.85,
        p_dob=0.6,
        p_current=0.3,
        p_wrong_tin=0.05,
    ),
}

_DEFICIENCY_P = (0.3, 0.15, 0.15, 0.12, 0.05, 0.08, 0.07, 0.04, 0.04)
_SUFFIX_FORMS = {
    "Jr": ("Jr", "JR", "Jr.", "jr"),
    "Sr": ("Sr", "SR", "Sr."),
    "II": ("II",),
    "III": ("III",),
}


@dataclass(frozen=True, slots=True)
class Plan:
    """Row-by-row decisions taken before anything is generated."""

    kind: np.ndarray
    defect: np.ndarray
    """Index into DEFECTS, or -1 for a valid row."""
    subject: np.ndarray
    """Master index of the row's subject, or -1."""
    fresh_slot: np.ndarray
    """Slot in the pool of people not in the file, or -1."""
    dup_source: np.ndarray
    official: tuple[str, ...]
    roster: tuple[str, ...]
    """Authorised official ids, in roster order."""
    boilerplate: str
    dup_sources: frozenset[int]
    """Rows that a later duplicate copies."""
    hard: np.ndarray
    """Rows whose subject is swapped, while the master file streams, for a hard case
    (father or son of the same name, a twin, a namesake) from the same block."""

    @property
    def size(self) -> int:
        return len(self.kind)

    def chosen_subjects(self) -> np.ndarray:
        """Distinct master indices that rows name, sorted."""
        s = self.subject[self.subject >= 0]
        return np.unique(s)


def _allocate(total: int, shares: list[float]) -> list[int]:
    """Integer counts proportional to `shares`, summing to `total` (largest remainder)."""
    s = sum(shares)
    if total <= 0 or s <= 0:
        return [0] * len(shares)
    raw = [total * x / s for x in shares]
    counts = [math.floor(r) for r in raw]
    rest = sorted(range(len(shares)), key=lambda i: raw[i] - counts[i], reverse=True)
    for i in rest[: total - sum(counts)]:
        counts[i] += 1
    return counts


def plan_requests(seed: int, requests: int, taxpayers: int, profile: Profile) -> Plan:
    """Decide every row's kind, defect, subject and official."""
    rng = rng_for(seed, STREAM_PLAN)
    m = requests
    addr_counts = [round(m * s) for _, s in profile.address_defects]
    budget = round(m * profile.defect_budget)
    threshold = max(BOILERPLATE_MIN_ROWS, BOILERPLATE_SHARE * m)
    n_boiler = math.floor(threshold) + 1 + max(2, math.ceil(0.002 * m))
    if n_boiler > 0.45 * budget:
        n_boiler = 0
    n_implausible = IMPLAUSIBLE_ROWS + math.ceil(0.001 * m)
    if n_implausible > 0.35 * budget or m < 2000:
        n_implausible = 0
    other = _allocate(budget - n_boiler - n_implausible, [w for _, w in profile.defect_weights])
    defect_counts: dict[ReasonCode, int] = dict.fromkeys(DEFECTS, 0)
    for (code, _), c in zip(profile.defect_weights, other, strict=True):
        defect_counts[code] += c
    for (code, _), c in zip(profile.address_defects, addr_counts, strict=True):
        defect_counts[code] += c
    defect_counts[ReasonCode.BOILERPLATE_REASON] = n_boiler
    defect_counts[ReasonCode.IMPLAUSIBLE_CERTIFICATION] = n_implausible
    n_defects = sum(defect_counts.values())
    if n_defects > m:
        raise ValueError(f"a batch of {m} requests is too small for profile {profile.name!r}")
    valid_counts = _allocate(m - n_defects, [s for _, s in profile.valid])

    kind = np.concatenate(
        [
            np.full(c, int(k), dtype=np.int8)
            for (k, _), c in zip(profile.valid, valid_counts, strict=True)
        ]
        + [np.full(n_defects, -1, dtype=np.int8)]
    )
    defect = np.concatenate(
        [np.full(m - n_defects, -1, dtype=np.int8)]
        + [np.full(c, _D[code], dtype=np.int8) for code, c in defect_counts.items()]
    )
    order = rng.permutation(m)
    kind, defect = kind[order], defect[order]
    valid_at = np.nonzero(defect < 0)[0]
    if m and defect[0] >= 0 and len(valid_at):
        j = int(valid_at[0])
        kind[[0, j]] = kind[[j, 0]]
        defect[[0, j]] = defect[[j, 0]]
    bad = defect >= 0
    implausible = defect == _D[ReasonCode.IMPLAUSIBLE_CERTIFICATION]
    base_in_file = rng.random(m) < 0.5
    kind[bad] = np.where(base_in_file[bad] & ~implausible[bad], int(Kind.OWN), int(Kind.FRESH))

    needs_subject = np.isin(kind, [int(k) for k in IN_FILE_KINDS])
    q = int(needs_subject.sum())
    subject = np.full(m, -1, dtype=np.int64)
    if q:
        subject[needs_subject] = rng.choice(taxpayers, size=q, replace=q > taxpayers)
    fresh = kind == int(Kind.FRESH)
    fresh_slot = np.full(m, -1, dtype=np.int64)
    fresh_slot[fresh] = np.arange(int(fresh.sum()))

    dup_source = np.full(m, -1, dtype=np.int64)
    dup = np.nonzero(defect == _D[ReasonCode.DUPLICATE_REQUEST_ID])[0]
    valid_at = np.nonzero(defect < 0)[0]
    for i in dup:
        before = valid_at[: int(np.searchsorted(valid_at, i))]
        if len(before):
            dup_source[i] = before[int(rng.integers(len(before)))]
        else:
            defect[i] = _D[ReasonCode.MISSING_REASON]

    official, roster = _officials(rng, defect, dup_source)
    boiler = reasons.BOILERPLATE_REASONS[int(rng.integers(len(reasons.BOILERPLATE_REASONS)))]
    sources = frozenset(int(x) for x in dup_source[dup_source >= 0])
    hard = (kind == int(Kind.OWN)) & (defect < 0) & (rng.random(m) < HARD_SHARE)
    return Plan(
        kind, defect, subject, fresh_slot, dup_source, official, roster, boiler, sources, hard
    )


def _officials(
    rng: np.random.Generator, defect: np.ndarray, dup_source: np.ndarray
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    m = len(defect)
    unauthorized = defect == _D[ReasonCode.UNAUTHORIZED_OFFICIAL]
    implausible = defect == _D[ReasonCode.IMPLAUSIBLE_CERTIFICATION]
    dup = dup_source >= 0
    regular = np.nonzero(~unauthorized & ~implausible & ~dup)[0]
    caps: list[int] = []
    while sum(caps) < len(regular):
        caps.append(int(rng.integers(60, OFFICIAL_CAP + 1)))
    slots = np.repeat(np.arange(len(caps)), caps)
    chosen = slots[rng.permutation(len(slots))[: len(regular)]]
    n_roster = len(caps) + (1 if implausible.any() else 0)
    roster = tuple(f"ICE-{i + 1:04d}" for i in range(n_roster))
    official = np.empty(m, dtype=object)
    official[regular] = np.array(roster, dtype=object)[chosen] if len(caps) else []
    if implausible.any():
        official[implausible] = roster[-1]
    bad_at = np.nonzero(unauthorized)[0]
    pool = _unauthorized_ids(rng, math.ceil(len(bad_at) / 150) + 1, set(roster))
    official[bad_at] = np.array(pool, dtype=object)[
        np.repeat(np.arange(len(pool)), 150)[rng.permutation(150 * len(pool))[: len(bad_at)]]
    ]
    for i in np.nonzero(dup)[0]:
        official[i] = official[dup_source[i]]
    return tuple(str(o) for o in official), roster


def _unauthorized_ids(rng: np.random.Generator, count: int, roster: set[str]) -> list[str]:
    fixed = ["DIRECTOR", "ICE-HQ", "ACTING DIRECTOR", "ERO-FIELD-OFFICE", "", "ICE-9999"]
    out = [f for f in fixed if f not in roster]
    prefixes = ("CBP", "USCIS", "HSI", "ERO", "DHS", "CBP-OFO")
    seen = set(out)
    while len(out) < count:
        cand = f"{prefixes[int(rng.integers(len(prefixes)))]}-{int(rng.integers(1, 10000)):04d}"
        if cand not in seen and cand not in roster:
            seen.add(cand)
            out.append(cand)
    order = rng.permutation(len(out))
    return [out[i] for i in order[: max(count, 1)]]


@dataclass(frozen=True, slots=True)
class WrittenName:
    """A name as written in a request, with what it means for the labeller."""

    first: str
    middle: str
    last: str
    suffix: str
    first_id: int
    first_folded: str
    initial_only: bool
    middle_initial: str
    surname_ids: frozenset[int]
    suffix_folded: str


def written_name(p: Person, u: Uniform, *, swap: float = 0.03) -> WrittenName:
    """`p`'s name the way a requester might write it, still recognisably `p`.

    Nicknames and spellings, a compound given name run together or replaced by
    its hypocoristic, the second given name used alone (María Guadalupe →
    Guadalupe), an initial only, a middle name as initial or missing, compound
    surnames in all their forms, particles dropped or fused, diacritics
    stripped, typos and OCR slips in one name, suffix kept or dropped, first and
    last swapped, and changes of case.
    """
    t = tables()
    g = t.given[p.first_id]
    mid_given = 0 <= p.middle_id < len(t.given)
    mkey = fold(p.middle_text)
    first_id = p.first_id
    initial_only = False
    middle: str | None = None
    middle_initial = ""
    pair = PAIR_NICKNAMES.get((g.key, mkey), ()) if mid_given else ()
    if pair and chance(u, 0.4):
        first, first_id, middle = pick(u, pair), -1, ""
    elif mid_given and chance(u, 0.05):
        first = f"{g.text}{pick(u, (' ', '-'))}{p.middle_text}"
        first_id, middle, middle_initial = -1, "", mkey[:1]
    elif mid_given and g.key in GOES_BY_MIDDLE and chance(u, 0.12):
        first, first_id, middle = p.middle_text, -1, ""
    elif chance(u, 0.02):
        first, initial_only = g.text[0] + pick(u, (".", "")), True
    else:
        first = written_given(p.first_id, u, nickname=0.12, spelling=0.06)
        if chance(u, 0.04):
            first = typo(first, u)
        elif chance(u, 0.015):
            first = ocr_confuse(first.upper() if chance(u, 0.5) else first, u)
    if middle is None:
        middle = ""
        if p.middle_text:
            r = u.random()
            if r < 0.4:
                middle, middle_initial = p.middle_text, mkey[:1]
            elif r < 0.75:
                middle, middle_initial = p.middle_text[0] + pick(u, ("", ".")), mkey[:1]
    if p.s2 >= 0:
        last, spill, ids = surname_forms(p.s1, p.s2, u)
        if spill:
            middle, middle_initial = f"{middle} {spill}".strip(), ""
            ids = frozenset({p.s1, p.s2})
    else:
        last = arabic_article_variant(particle_variant(t.surnames[p.s1], u), u)
        ids = frozenset({p.s1})
    if chance(u, 0.03):
        last = typo(last, u)
    elif chance(u, 0.015):
        last = ocr_confuse(last.upper() if chance(u, 0.5) else last, u)
    suffix = suffix_folded = ""
    if p.suffix and chance(u, 0.55):
        written = pick(u, _SUFFIX_FORMS[p.suffix])
        suffix_folded = fold(p.suffix)
        if chance(u, 0.15):
            last = f"{last} {written}"
        else:
            suffix = written
    if chance(u, 0.55):
        first, middle, last = (strip_diacritics(x) for x in (first, middle, last))
    folded_first = fold(first) if not initial_only else fold(g.text)[:1]
    if chance(u, 0.15 if p.culture in (VIETNAMESE, CHINESE) else swap):
        first, last = last, first
    r = u.random()
    if r < 0.2:
        first, middle, last, suffix = (x.upper() for x in (first, middle, last, suffix))
    elif r < 0.23:
        first, middle, last = (x.lower() for x in (first, middle, last))
    return WrittenName(
        first,
        middle,
        last,
        suffix,
        first_id,
        folded_first,
        initial_only,
        middle_initial,
        ids,
        suffix_folded,
    )


def other_person(p: Person, u: Uniform, *, keep_surname: bool) -> Person:
    """Someone else who might live at `p`'s address: another first name, same or other surname."""
    t = tables()
    pool = t.given_pools[(p.culture, p.sex)].ids
    aliases = given_aliases(p.first_id, p.middle_text)
    first = p.first_id
    for _ in range(20):
        first = int(pool[below(u, len(pool))])
        g = t.given[first]
        if first != p.first_id and g.key not in aliases and g.key[:1] != fold(p.first_text)[:1]:
            break
    s1, s2 = p.s1, p.s2
    if not keep_surname:
        spool = t.surname_pools[p.culture].ids
        for _ in range(20):
            s1 = int(spool[below(u, len(spool))])
            if s1 not in (p.s1, p.s2):
                break
        s2 = -1
    return dataclasses.replace(
        p,
        first_id=first,
        middle_id=-1,
        middle_text="",
        s1=s1,
        s2=s2,
        surnames_on_file=frozenset({s1}),
        suffix="",
        dob="",
    )


def wrong_tin(tin: str, u: Uniform) -> str:
    """`tin` with two neighbouring digits swapped or one digit changed."""
    digits = list(tin)
    for _ in range(10):
        i = below(u, 8)
        if chance(u, 0.5) and digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        else:
            digits[i] = str((int(digits[i]) + between(u, 1, 9)) % 10)
        if "".join(digits) != tin:
            return "".join(digits)
    return tin


def written_tin(tin: str, u: Uniform) -> str:
    return f"{tin[:3]}-{tin[3:5]}-{tin[5:]}" if chance(u, 0.25) else tin


def shifted_dob(dob: str, u: Uniform) -> str:
    d = np.datetime64(dob) + np.timedelta64(between(u, 30, 9000) * pick(u, (-1, 1)), "D")
    return str(d)


class People:
    """Where the request builder finds people: master subjects and occupants, and the fresh pool."""

    def __init__(
        self,
        subject: Callable[[int], int],
        master: Callable[[int], Person],
        occupants: Callable[[int, frozenset[int]], list[int]],
        fresh: Callable[[int], Person],
        outside_tin: Callable[[int], str],
    ) -> None:
        self.subject = subject
        """The master index of row i's subject (after any hard-case swap)."""
        self.master = master
        self.occupants = occupants
        """Master indices of everyone with an address row at a building key whose
        master-file surname is one of the given surname ids (nobody else can fit)."""
        self.fresh = fresh
        self.outside_tin = outside_tin
        """A TIN, by row number, that belongs to nobody in the master file or the fresh pool."""


@dataclass(frozen=True, slots=True)
class Row:
    fields: dict[str, str]
    truth: Label


def build_block(
    seed: int, block: int, plan: Plan, profile: Profile, people: People, sources: dict[int, Row]
) -> list[Row]:
    """Rows block*REQUEST_BLOCK .. of the batch, with their truth labels.

    `sources` carries rows that later duplicates copy; it is filled here and
    must be passed from block to block.
    """
    u = Draws(rng_for(seed, STREAM_REQUESTS, block), batch=8192)
    start = block * REQUEST_BLOCK
    stop = min(plan.size, start + REQUEST_BLOCK)
    width = max(7, len(str(plan.size)))
    rows: list[Row] = []
    for i in range(start, stop):
        request_id = f"REQ-{i + 1:0{width}d}"
        src = int(plan.dup_source[i])
        if src >= 0:
            original = sources[src]
            rows.append(
                Row(
                    dict(original.fields),
                    Label(
                        "rejected", ReasonCode.DUPLICATE_REQUEST_ID.value, original.truth.true_tin
                    ),
                )
            )
            continue
        row = _build_row(i, request_id, plan, profile, people, u)
        if i in plan.dup_sources:
            sources[i] = row
        rows.append(row)
    return rows


def _surnames(p: Person) -> frozenset[int]:
    return frozenset(s for s in (p.s1, p.s2) if s >= 0)


def _pick_residence(p: Person, u: Uniform, p_current: float) -> Residence:
    if len(p.residences) == 1 or chance(u, p_current):
        return p.current
    return p.residences[below(u, len(p.residences) - 1)]


def _residence_elsewhere(p: Person, u: Uniform, people: People) -> Residence:
    """A building in `p`'s current city that `p` never lived at (and, if possible, nobody did)."""
    own = {r.key for r in p.residences}
    res = p.current
    for _ in range(6):
        res = new_residence(u, zip_in_city(p.current.zip_idx, u))
        if res.key not in own and not people.occupants(res.key, _surnames(p)):
            break
    return res


def _build_row(
    i: int, request_id: str, plan: Plan, profile: Profile, people: People, u: Uniform
) -> Row:
    kind = Kind(int(plan.kind[i]))
    defect = DEFECTS[int(plan.defect[i])] if plan.defect[i] >= 0 else None
    drawn_from = ""
    tin = ""
    dob = ""
    if kind == Kind.FRESH:
        slot = int(plan.fresh_slot[i])
        person = people.fresh(2 * slot)
        res = _pick_residence(person, u, profile.p_current)
        if people.occupants(res.key, _surnames(person)):
            person = people.fresh(2 * slot + 1)
            res = _pick_residence(person, u, profile.p_current)
        name_of = person
        if chance(u, profile.p_tin):
            tin = person.tin
    else:
        subject = people.master(people.subject(i))
        drawn_from = subject.tin
        name_of = subject
        if kind == Kind.OWN:
            res = _pick_residence(subject, u, profile.p_current)
            if chance(u, profile.p_tin):
                tin = wrong_tin(subject.tin, u) if chance(u, profile.p_wrong_tin) else subject.tin
        elif kind == Kind.TIN_ELSEWHERE:
            res = _residence_elsewhere(subject, u, people)
            tin = subject.tin
        elif kind == Kind.HOUSEMATE:
            res = _pick_residence(subject, u, profile.p_current)
            name_of = other_person(subject, u, keep_surname=chance(u, 0.75))
            if chance(u, profile.p_tin):
                tin = people.outside_tin(i)
        else:
            res = _residence_elsewhere(subject, u, people)
            name_of = dataclasses.replace(subject, dob=shifted_dob(subject.dob, u))
            if chance(u, profile.p_tin):
                tin = people.outside_tin(i)
    if chance(u, profile.p_dob):
        dob = name_of.dob or shifted_dob(_subject_dob(people, i), u)
    name = written_name(name_of, u)
    address = written_address(res, u)
    section, statute = reasons.statute(u)
    zt = zip_table()
    fields = {
        "request_id": request_id,
        "case_number": reasons.case_number(u),
        "purpose": reasons.purpose(u),
        "statute": statute,
        "tax_periods": reasons.tax_periods(u),
        "reason": reasons.reason(section, zt.city[res.zip_idx], u),
        "requesting_official": plan.official[i],
        "first_name": name.first,
        "middle_name": name.middle,
        "last_name": name.last,
        "suffix": name.suffix,
        "dob": dob,
        "street": address.street,
        "unit": address.unit,
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "tin": written_tin(tin, u) if tin else "",
    }
    if defect is not None:
        _inject(defect, fields, res, plan, u)
        return Row(fields, Label("rejected", defect.value, drawn_from))
    evidence = NameEvidence(
        first_id=name.first_id,
        first_folded=name.first_folded,
        initial_only=name.initial_only,
        middle_initial=name.middle_initial,
        surname_ids=name.surname_ids,
        suffix=name.suffix_folded,
        dob=dob,
        tin=tin,
    )
    where = AddressEvidence(res.key, res.unit_id if address.unit_shown else "")
    candidates = [people.master(j) for j in people.occupants(res.key, name.surname_ids)]
    return Row(fields, label(candidates, evidence, where, drawn_from))


def _subject_dob(people: People, i: int) -> str:
    """The date of birth of row i's subject, for inventing a housemate's."""
    return people.master(people.subject(i)).dob


def _inject(
    defect: ReasonCode, fields: dict[str, str], res: Residence, plan: Plan, u: Uniform
) -> None:
    """Put exactly one defect into an otherwise valid row."""
    if defect == ReasonCode.MISSING_NAME:
        fields["first_name" if chance(u, 0.6) else "last_name"] = pick(u, ("", " "))
    elif defect == ReasonCode.MISSING_ADDRESS:
        _set_address(fields, deficient_address(pick(u, MISSING), res, u))
    elif defect == ReasonCode.INSUFFICIENT_ADDRESS:
        r = u.random() * sum(_DEFICIENCY_P)
        acc = 0.0
        kind = DEFICIENCIES[-1]
        for k, p in zip(DEFICIENCIES, _DEFICIENCY_P, strict=True):
            acc += p
            if r < acc:
                kind = k
                break
        _set_address(fields, deficient_address(kind, res, u))
    elif defect == ReasonCode.PURPOSE_NOT_CRIMINAL:
        fields["purpose"] = pick(u, reasons.CIVIL_PURPOSES)
    elif defect == ReasonCode.MISSING_TAX_PERIODS:
        fields["tax_periods"] = pick(u, ("", " "))
    elif defect == ReasonCode.INVALID_TAX_PERIODS:
        fields["tax_periods"] = pick(u, reasons.INVALID_PERIODS)
    elif defect == ReasonCode.MISSING_STATUTE:
        fields["statute"] = pick(u, ("", " "))
    elif defect == ReasonCode.STATUTE_NOT_AUTHORIZED:
        fields["statute"] = pick(u, reasons.UNAUTHORIZED_STATUTES)
    elif defect == ReasonCode.MISSING_REASON:
        fields["reason"] = pick(u, ("", " "))
    elif defect == ReasonCode.BOILERPLATE_REASON:
        fields["reason"] = reasons.boilerplate(plan.boilerplate, u)
    # UNAUTHORIZED_OFFICIAL and IMPLAUSIBLE_CERTIFICATION are in plan.official already.


def _set_address(fields: dict[str, str], a: WrittenAddress) -> None:
    fields.update(street=a.street, unit=a.unit, city=a.city, state=a.state, zip=a.zip)
