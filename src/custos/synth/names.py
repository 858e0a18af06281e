"""Name tables and the ways a requester writes a name differently from the master file.

The tables (`data/given_names.csv`, `data/surnames.csv`) are synthetic
compilations of common given names and surnames per culture, with nicknames and
alternative spellings. A name has one id per ASCII-folded spelling, shared
across cultures ("José" and the Filipino "Jose" are one given name), so the
truth labeller can compare names by id.

The variant functions are public because the standardisers' tests use them to
produce realistic dirty input: diacritics stripped, typos, OCR confusions,
nicknames, compound surnames written in the many ways US forms force on them.
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from dataclasses import dataclass
from importlib import resources

import numpy as np

from custos.synth.rand import Uniform, below, chance, pick

CULTURES: tuple[str, ...] = (
    "hispanic",
    "anglo",
    "vietnamese",
    "chinese",
    "indian",
    "filipino",
    "arabic",
)
HISPANIC, ANGLO, VIETNAMESE, CHINESE, INDIAN, FILIPINO, ARABIC = range(7)
MALE, FEMALE = 0, 1

PARTICLES: tuple[str, ...] = ("de la", "de los", "de las", "del", "de", "dela", "delos")
"""Surname particles, longest first so "de la Cruz" is not read as "de" + "la Cruz"."""

PAIR_NICKNAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("jose", "maria"): ("Chema",),
    ("maria", "guadalupe"): ("Lupe", "Lupita"),
    ("maria", "dolores"): ("Lola",),
    ("maria", "concepcion"): ("Concha",),
    ("maria", "consuelo"): ("Chelo",),
    ("maria", "jose"): ("Majo",),
    ("maria", "luisa"): ("Malu",),
    ("maria", "fernanda"): ("Mafer",),
    ("maria", "isabel"): ("Maribel",),
    ("maria", "elena"): ("Malena",),
}
"""Hypocoristics of a compound given name (first + middle), by ASCII-folded key."""

GOES_BY_MIDDLE: frozenset[str] = frozenset({"maria", "jose", "juan", "ana", "mary"})
"""First names whose bearers are often known by their second given name."""

_KEYBOARD = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}

OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("rn", "m"),
    ("m", "rn"),
    ("cl", "d"),
    ("d", "cl"),
    ("vv", "w"),
    ("w", "vv"),
    ("li", "h"),
    ("O", "0"),
    ("o", "0"),
    ("0", "O"),
    ("l", "1"),
    ("1", "l"),
    ("I", "1"),
    ("S", "5"),
    ("5", "S"),
    ("B", "8"),
    ("8", "B"),
    ("e", "c"),
    ("n", "ri"),
)
"""Character confusions typical of scanned and re-keyed forms."""


@dataclass(frozen=True, slots=True)
class GivenName:
    """A given name: display form (with diacritics), folded key, nicknames, spellings."""

    id: int
    text: str
    key: str
    nicknames: tuple[str, ...]
    spellings: tuple[str, ...]
    syllables: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Surname:
    """A surname: display form, folded key, and its particle ("de la") and root ("Cruz")."""

    id: int
    text: str
    key: str
    particle: str
    root: str


@dataclass(frozen=True, slots=True)
class NamePool:
    """The ids of one culture's (and sex's) names with cumulative weights for sampling."""

    ids: np.ndarray
    cum: np.ndarray

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Ids for uniforms `u`, by weight."""
        at = np.searchsorted(self.cum, u * self.cum[-1], side="right")
        ids: np.ndarray = self.ids[np.minimum(at, len(self.ids) - 1)]
        return ids


@dataclass(frozen=True, slots=True)
class NameTables:
    given: tuple[GivenName, ...]
    surnames: tuple[Surname, ...]
    given_pools: dict[tuple[int, int], NamePool]
    """(culture, sex) -> pool; culture index into CULTURES."""
    middle_pools: dict[int, NamePool]
    """sex -> pool of Vietnamese middle names (Văn, Thị, ...)."""
    surname_pools: dict[int, NamePool]
    given_by_key: dict[str, int]
    surname_by_key: dict[str, int]
    nickname_owners: dict[str, frozenset[int]]
    """Folded nickname or spelling -> the given-name ids it stands for."""


def strip_diacritics(text: str) -> str:
    """The text without accents ("José Muñoz" -> "Jose Munoz", "Đức" -> "Duc")."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The comparison key of a name: no accents, casefolded, punctuation to spaces."""
    plain = strip_diacritics(text).casefold()
    cleaned = "".join(c if c.isalnum() else " " for c in plain)
    return " ".join(cleaned.split())


def _weights(explicit: list[float | None]) -> np.ndarray:
    out = np.empty(len(explicit))
    for rank, w in enumerate(explicit):
        out[rank] = w if w is not None else 100.0 / (rank + 10) ** 0.9
    return out


def _rows(name: str) -> list[list[str]]:
    text = (
        resources.files("custos.synth").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    return [r for r in csv.reader(text.splitlines()) if r and not r[0].startswith("#")]


def _split_particle(text: str) -> tuple[str, str]:
    low = text.casefold()
    for p in PARTICLES:
        if low.startswith(p + " "):
            return text[: len(p)], text[len(p) + 1 :]
    return "", text


@functools.cache
def tables() -> NameTables:
    """The name tables, loaded once."""
    given: list[GivenName] = []
    given_by_key: dict[str, int] = {}
    nick: dict[int, list[str]] = {}
    spell: dict[int, list[str]] = {}
    pool_members: dict[tuple[str, int], list[int]] = {}
    for culture, sex, raw, nicknames, spellings in _rows("given_names.csv"):
        text = raw.replace("_", "")
        key = fold(text)
        if key not in given_by_key:
            given_by_key[key] = len(given)
            given.append(GivenName(len(given), text, key, (), (), tuple(raw.split("_"))))
            nick[given_by_key[key]] = []
            spell[given_by_key[key]] = []
        gid = given_by_key[key]
        nick[gid] += [n for n in nicknames.split("|") if n and n not in nick[gid]]
        spell[gid] += [s for s in spellings.split("|") if s and s not in spell[gid]]
        sex_code = MALE if sex == "M" else FEMALE
        members = pool_members.setdefault((culture, sex_code), [])
        if gid not in members:
            members.append(gid)
    given = [
        GivenName(g.id, g.text, g.key, tuple(nick[g.id]), tuple(spell[g.id]), g.syllables)
        for g in given
    ]
    surnames: list[Surname] = []
    surname_by_key: dict[str, int] = {}
    surname_members: dict[str, list[tuple[int, float | None]]] = {}
    for culture, text, weight in _rows("surnames.csv"):
        key = fold(text)
        if key not in surname_by_key:
            particle, root = _split_particle(text)
            surname_by_key[key] = len(surnames)
            surnames.append(Surname(len(surnames), text, key, particle, root))
        surname_members.setdefault(culture, []).append(
            (surname_by_key[key], float(weight) if weight else None)
        )

    def pool(ids: list[int], explicit: list[float | None]) -> NamePool:
        return NamePool(np.array(ids, dtype=np.int32), np.cumsum(_weights(explicit)))

    given_pools = {
        (CULTURES.index(c), s): pool(ids, [None] * len(ids))
        for (c, s), ids in pool_members.items()
        if c in CULTURES
    }
    middle_pools = {
        s: pool(ids, [None] * len(ids))
        for (c, s), ids in pool_members.items()
        if c == "vietnamese_middle"
    }
    surname_pools = {
        CULTURES.index(c): pool([i for i, _ in m], [w for _, w in m])
        for c, m in surname_members.items()
    }
    owners: dict[str, set[int]] = {}
    for g in given:
        for alias in (*g.nicknames, *g.spellings):
            owners.setdefault(fold(alias), set()).add(g.id)
    return NameTables(
        given=tuple(given),
        surnames=tuple(surnames),
        given_pools=given_pools,
        middle_pools=middle_pools,
        surname_pools=surname_pools,
        given_by_key=given_by_key,
        surname_by_key=surname_by_key,
        nickname_owners={k: frozenset(v) for k, v in owners.items()},
    )


def given_aliases(first_id: int, middle_text: str = "") -> frozenset[str]:
    """Every folded form under which the bearer of `first_id` may be named.

    The name itself, its spellings and nicknames, and — for a compound given
    name such as José María — the compound's own hypocoristic (Chema) and the
    two names run together ("Jose Maria", "Jose-Maria").
    """
    g = tables().given[first_id]
    forms = {g.key, *(fold(s) for s in g.spellings), *(fold(n) for n in g.nicknames)}
    if len(g.syllables) > 1:
        forms.add(fold(" ".join(g.syllables)))
    if middle_text:
        mkey = fold(middle_text)
        forms.add(f"{g.key} {mkey}")
        forms.update(fold(n) for n in PAIR_NICKNAMES.get((g.key, mkey), ()))
        if g.key in GOES_BY_MIDDLE:
            forms.add(mkey)
    return frozenset(forms)


def typo(text: str, u: Uniform) -> str:
    """One keyboard slip: a neighbouring key, a dropped, doubled or swapped letter.

    The first letter is kept (people rarely mistype it, and blocking relies on
    it); a name of fewer than three letters comes back unchanged.
    """
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 3:
        return text
    for _ in range(8):
        i = letters[1 + below(u, len(letters) - 1)]
        c = text[i]
        kind = below(u, 4)
        if kind == 0:
            near = _KEYBOARD.get(c.lower(), "")
            if not near:
                continue
            r = pick(u, near)
            out = text[:i] + (r.upper() if c.isupper() else r) + text[i + 1 :]
        elif kind == 1:
            out = text[:i] + text[i + 1 :]
        elif kind == 2:
            out = text[:i] + c + text[i:]
        else:
            if i + 1 >= len(text) or not text[i + 1].isalpha():
                continue
            out = text[:i] + text[i + 1] + c + text[i + 2 :]
        if out != text and out.strip():
            return out
    return text


def ocr_confuse(text: str, u: Uniform) -> str:
    """One OCR-style confusion (rn→m, 0↔O, 1↔l, ...) if the text offers one, else the text."""
    options = [(a, b) for a, b in OCR_CONFUSIONS if a in text[1:]]
    if not options:
        return text
    a, b = pick(u, options)
    spots = [i for i in range(1, len(text)) if text.startswith(a, i)]
    i = pick(u, spots)
    return text[:i] + b + text[i + len(a) :]


def recase(text: str, u: Uniform, upper: float = 0.2, lower: float = 0.03) -> str:
    """Upper-case or lower-case the text some of the time, as keyed data is."""
    r = u.random()
    if r < upper:
        return text.upper()
    if r < upper + lower:
        return text.lower()
    return text


def written_given(first_id: int, u: Uniform, *, nickname: float, spelling: float) -> str:
    """The given name as a requester might write it: a nickname, a spelling, or as is."""
    g = tables().given[first_id]
    if g.nicknames and chance(u, nickname):
        return pick(u, g.nicknames)
    if g.spellings and chance(u, spelling):
        return pick(u, g.spellings)
    if len(g.syllables) > 1 and chance(u, 0.35):
        return pick(u, (" ", "-")).join(s.capitalize() for s in g.syllables)
    return g.text


def surname_forms(s1: int, s2: int, u: Uniform) -> tuple[str, str, frozenset[int]]:
    """A Hispanic compound surname as forms write it: (last, spill into middle, ids shown).

    Both surnames, only the first, hyphenated, joined by "y", order swapped, or
    the paternal surname pushed into the middle-name field by a form that
    takes the last word as the surname. Particles are kept, dropped or fused
    ("de la Cruz" / "Cruz" / "Delacruz").
    """
    t = tables()
    a = particle_variant(t.surnames[s1], u)
    if s2 < 0:
        return a, "", frozenset({s1})
    b = particle_variant(t.surnames[s2], u)
    r = u.random()
    if r < 0.42:
        return f"{a} {b}", "", frozenset({s1, s2})
    if r < 0.72:
        return a, "", frozenset({s1})
    if r < 0.82:
        return f"{a}-{b}", "", frozenset({s1, s2})
    if r < 0.86:
        return f"{a} y {b}", "", frozenset({s1, s2})
    if r < 0.92:
        return f"{b} {a}", "", frozenset({s1, s2})
    return b, a, frozenset({s2})


def particle_variant(s: Surname, u: Uniform) -> str:
    """A surname with a particle written as is, capitalised, fused, or dropped."""
    if not s.particle:
        return s.text
    r = u.random()
    if r < 0.5:
        return s.text
    if r < 0.7:
        return " ".join(w.capitalize() for w in s.particle.split()) + " " + s.root
    if r < 0.85:
        return (s.particle.replace(" ", "") + s.root).capitalize()
    return s.root


def arabic_article_variant(text: str, u: Uniform) -> str:
    """ "Al-Masri" as "Al Masri", "Almasri" or "Masri"; other names unchanged."""
    for art in ("Al-", "El-", "Abu-", "Abdel-"):
        if text.startswith(art):
            rest = text[len(art) :]
            stem = art[:-1]
            return pick(u, (text, f"{stem} {rest}", f"{stem}{rest.lower()}", rest))
    return text
