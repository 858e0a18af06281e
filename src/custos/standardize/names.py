"""Personal names standardised into the columns the matcher compares.

Small spelling and formatting differences between a request and the master
file caused missed matches (DOMAIN.md, failure mode 4); these rules remove the
differences that carry no information and keep the ones that do:

- **Fold**: Unicode to ASCII upper case (José → JOSE, Muñoz → MUNOZ, Nguyễn →
  NGUYEN, ß → SS, Đ → D); apostrophes vanish (O'Brien → OBRIEN); every other
  non-letter, hyphens and periods included, separates tokens. Scripts with no
  Latin decomposition (Cyrillic, Han …) fold to nothing.
- **Surnames** become a token list: hyphens split (Hernández-López → HERNANDEZ
  LOPEZ), particles go (de la Cruz y Pérez → CRUZ PEREZ), unless the surname is
  nothing but particles (a Vietnamese "La", a lone "De": kept). A detached O, D
  or MC joins the next token (O BRIEN → OBRIEN, MC DONALD → MCDONALD).
- **Suffixes** JR, SR, II, III, IV (also JUNIOR, 2ND, 3RD …) get their own column,
  from the suffix field or trailing the last or first name ("SMITH, JR.",
  "JOHN JR"). Professional ones (ESQ, MD, PHD …) are dropped. A field that
  holds only a suffix-like word keeps it as the name.
- **Given names**: first and middle merge into `given_tokens` (so "MARIA
  GUADALUPE" in the first field and MARIA + GUADALUPE in two fields agree);
  leading titles (MR, DR …) and Spanish connectors (MARIA DE LOS ANGELES →
  MARIA ANGELES) go. An initial is a one-letter token ("J." → J).
- **Nicknames**: see `custos.standardize.nicknames`; `given_canon_set` is what
  to test for overlap, `given_canon` one deterministic member of it.
- **Phonetics**: Double Metaphone primary codes; a token without one (H, W)
  adds nothing to `surname_dm`, so an empty code never counts as agreement.

Standardising is pure and cached per distinct value; `name_columns` also
deduplicates its inputs, because the master file has ~10 M names but far
fewer distinct ones. Standardising the output again changes nothing.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import jellyfish
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from metaphone import doublemetaphone

from custos.standardize import nicknames

__all__ = [
    "CLOSE_JARO_WINKLER",
    "NAME_AGREEMENT_LEVELS",
    "StdName",
    "clear_caches",
    "fold",
    "name_agreement",
    "name_columns",
    "standardize_name",
    "surname_overlap",
]

SURNAME_PARTICLES = frozenset(
    [
        "DE",
        "DEL",
        "LA",
        "LAS",
        "LOS",
        "Y",
        "E",
        "DA",
        "DAS",
        "DO",
        "DOS",
        "DI",
        "VAN",
        "VON",
        "DER",
        "DEN",
        "AL",
        "EL",
        "BIN",
        "IBN",
        "BINT",
        "ABU",
    ]
)
"""Words dropped from surnames. MC is not one (MCDONALD keeps it), nor LE or DU (Vietnamese
and Chinese surnames)."""

GIVEN_PARTICLES = frozenset(["DE", "DEL", "LA", "LAS", "LOS", "Y", "E", "DA", "DAS", "DO", "DOS"])
"""Connectors dropped from given names (MARIA DEL CARMEN → MARIA CARMEN)."""

GENERATIONAL_SUFFIXES: dict[str, str] = {
    "JR": "JR",
    "JNR": "JR",
    "JUNIOR": "JR",
    "SR": "SR",
    "SNR": "SR",
    "SENIOR": "SR",
    "II": "II",
    "2ND": "II",
    "2D": "II",
    "III": "III",
    "3RD": "III",
    "3D": "III",
    "IV": "IV",
    "4TH": "IV",
}
PROFESSIONAL_SUFFIXES = frozenset(["ESQ", "MD", "PHD", "DDS", "DMD", "DVM", "CPA", "RN"])
TITLES = frozenset(["MR", "MRS", "MS", "MISS", "DR", "REV"])
_JOINING_PREFIXES = frozenset({"O", "D", "MC"})

CLOSE_JARO_WINKLER = 0.92
"""Jaro-Winkler similarity from which two given names are `close`."""
CLOSE_EDIT_MIN_LENGTH = 5
"""Shortest given name for which one Damerau-Levenshtein edit is `close` (JOHN/JOAN is not)."""
SURNAME_EDIT_MIN_LENGTH = 5
"""Shortest surname token for which one edit still counts as overlap."""

NAME_AGREEMENT_LEVELS: tuple[str, ...] = (
    "exact",
    "nickname",
    "initial",
    "close",
    "swapped",
    "none",
)
"""`name_agreement` levels, strongest first."""

_APOSTROPHES = "'’‘`´ʼʻ′"
_SPECIAL_LETTERS = {
    "ß": "SS",
    "ẞ": "SS",
    "Æ": "AE",
    "æ": "AE",
    "Œ": "OE",
    "œ": "OE",
    "Ø": "O",
    "ø": "O",
    "Ł": "L",
    "ł": "L",
    "Đ": "D",
    "đ": "D",
    "Ð": "D",
    "ð": "D",
    "Þ": "TH",
    "þ": "TH",
    "Ħ": "H",
    "ħ": "H",
    "ı": "I",
    "ĸ": "K",
    "Ŋ": "NG",
    "ŋ": "NG",
    "ſ": "S",
}
_FOLD_TABLE = str.maketrans({**dict.fromkeys(_APOSTROPHES, ""), **_SPECIAL_LETTERS})
_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_DIGITS = re.compile(r"[0-9]+")
_CACHE_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class StdName:
    """One standardised name; empty string / empty tuple where a part is missing.

    Fields are the columns of `name_columns` (tuples there become lists).
    """

    given_std: str
    given_tokens: tuple[str, ...]
    middle_std: str
    given_canon: str
    given_canon_set: tuple[str, ...]
    given_initial: str
    surname_tokens: tuple[str, ...]
    surname_std: str
    surname_first: str
    suffix_std: str
    given_dm: str
    surname_dm: tuple[str, ...]
    full_name_std: str


def fold(text: str) -> str:
    """ASCII upper case, apostrophes removed, any other run of non-alphanumerics one space."""
    bare = text.translate(_FOLD_TABLE)
    if not bare.isascii():
        decomposed = unicodedata.normalize("NFKD", bare)
        bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", bare.upper()).strip()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _field_tokens(field: str) -> tuple[str, ...]:
    """Folded tokens; digits kept only in suffix words (3RD), dropped elsewhere."""
    out = []
    for token in fold(field).split():
        if token not in GENERATIONAL_SUFFIXES:
            token = _DIGITS.sub("", token)
        if token:
            out.append(token)
    return tuple(out)


def _tokens(field: str) -> list[str]:
    return list(_field_tokens(field))


def _drop_particles(tokens: list[str], particles: frozenset[str]) -> list[str]:
    kept = [t for t in tokens if t not in particles]
    return kept or tokens


def _strip_suffixes(tokens: list[str]) -> tuple[list[str], str]:
    """Trailing generational/professional suffixes off a field that has more than them."""
    suffix = ""
    while len(tokens) > 1 and (
        tokens[-1] in GENERATIONAL_SUFFIXES or tokens[-1] in PROFESSIONAL_SUFFIXES
    ):
        found = GENERATIONAL_SUFFIXES.get(tokens.pop(), "")
        suffix = suffix or found
    return tokens, suffix


def _join_prefixes(tokens: list[str]) -> list[str]:
    """O BRIEN → OBRIEN, MC DONALD → MCDONALD; right to left, so the result is a fixed point."""
    out: list[str] = []
    for token in reversed(tokens):
        if out and token in _JOINING_PREFIXES and len(out[-1]) > 1:
            joined = token + out[-1]
            if joined not in SURNAME_PARTICLES:
                out[-1] = joined
                continue
        out.append(token)
    out.reverse()
    return out


@dataclass(frozen=True, slots=True)
class _Given:
    tokens: tuple[str, ...]
    glued_suffix: str
    std: str
    middle: str
    canon: str
    canon_set: tuple[str, ...]
    initial: str
    dm: str


@dataclass(frozen=True, slots=True)
class _Surname:
    tokens: tuple[str, ...]
    glued_suffix: str
    std: str
    first: str
    dm: tuple[str, ...]


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _given(first: str, middle: str) -> _Given:
    head, suffix_in_first = _strip_suffixes(_tokens(first))
    tokens = _drop_particles(head + _tokens(middle), GIVEN_PARTICLES)
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens = tokens[1:]
    tokens, suffix_at_end = _strip_suffixes(tokens)
    std = tokens[0] if tokens else ""
    canon_set = set(nicknames.canonical_set(std))
    compound = " ".join(tokens[:2])
    if compound in nicknames.compound_canonicals():
        canon_set.add(compound)
    return _Given(
        tokens=tuple(tokens),
        glued_suffix=suffix_at_end or suffix_in_first,
        std=std,
        middle=tokens[1] if len(tokens) > 1 else "",
        canon=nicknames.canonical(std),
        canon_set=tuple(sorted(canon_set)),
        initial=std[:1],
        dm=_metaphone(std),
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _surname(last: str) -> _Surname:
    tokens = _drop_particles(_tokens(last), SURNAME_PARTICLES)
    tokens, suffix = _strip_suffixes(tokens)
    tokens = _join_prefixes(tokens)
    codes = tuple(code for code in map(_metaphone, tokens) if code)
    return _Surname(
        tokens=tuple(tokens),
        glued_suffix=suffix,
        std=" ".join(tokens),
        first=tokens[0] if tokens else "",
        dm=codes,
    )


@functools.lru_cache(maxsize=1 << 12)
def _suffix(suffix: str) -> str:
    """The generational suffix a suffix field names, or "" (ESQ, MD, free text)."""
    return next(
        (GENERATIONAL_SUFFIXES[t] for t in fold(suffix).split() if t in GENERATIONAL_SUFFIXES), ""
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _metaphone(token: str) -> str:
    return str(doublemetaphone(token)[0]) if token else ""


def clear_caches() -> None:
    """Forget every standardised value, to measure a cold start or bound a long process's memory."""
    for cached in (_field_tokens, _given, _surname, _suffix, _metaphone):
        cached.cache_clear()


def _text(value: object, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(
            f"standardize_name: {field} must be a str or None, not {type(value).__name__}"
        )
    return value


def standardize_name(
    first: str | None, middle: str | None = "", last: str | None = "", suffix: str | None = ""
) -> StdName:
    """Standardise one name; None counts as missing. Never raises on any str input.

    The explicit suffix field wins over a suffix glued to the last name, which
    wins over one glued to the first or middle name.
    """
    given = _given(_text(first, "first"), _text(middle, "middle"))
    surname = _surname(_text(last, "last"))
    return StdName(
        given_std=given.std,
        given_tokens=given.tokens,
        middle_std=given.middle,
        given_canon=given.canon,
        given_canon_set=given.canon_set,
        given_initial=given.initial,
        surname_tokens=surname.tokens,
        surname_std=surname.std,
        surname_first=surname.first,
        suffix_std=_suffix(_text(suffix, "suffix")) or surname.glued_suffix or given.glued_suffix,
        given_dm=given.dm,
        surname_dm=surname.dm,
        full_name_std=" ".join(p for p in (given.std, surname.std) if p),
    )


# --- bulk -------------------------------------------------------------------------------------

NAME_SCHEMA = pa.schema(
    [
        ("given_std", pa.string()),
        ("given_tokens", pa.list_(pa.string())),
        ("middle_std", pa.string()),
        ("given_canon", pa.string()),
        ("given_canon_set", pa.list_(pa.string())),
        ("given_initial", pa.string()),
        ("surname_tokens", pa.list_(pa.string())),
        ("surname_std", pa.string()),
        ("surname_first", pa.string()),
        ("suffix_std", pa.string()),
        ("given_dm", pa.string()),
        ("surname_dm", pa.list_(pa.string())),
        ("full_name_std", pa.string()),
    ]
)
"""The columns of `name_columns`, in order. Empty values are NULL, never "" or []."""


def _column(
    values: Sequence[str | None] | pa.Array | pa.ChunkedArray | None, name: str, n: int
) -> pa.Array:
    """A string column of length n with "" for missing; a clear error for anything else."""
    if values is None:
        return pa.array([""] * n, pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if not (
            pa.types.is_string(values.type)
            or pa.types.is_large_string(values.type)
            or pa.types.is_null(values.type)
        ):
            raise TypeError(f"name_columns: {name} must hold strings, not {values.type}")
        array = values.cast(pa.string())
    else:
        try:
            array = pa.array(values, pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            raise _bad_value(values, name) from None
    if len(array) != n:
        raise ValueError(f"name_columns: {name} has {len(array)} values, first_name has {n}")
    return pc.fill_null(array, "")


def _bad_value(values: Sequence[object], name: str) -> Exception:
    """The specific error for the first value Arrow could not take as a string."""
    for i, v in enumerate(values):
        if v is not None and not isinstance(v, str):
            return TypeError(
                f"name_columns: {name}[{i}] is {type(v).__name__}, expected str or None"
            )
        if isinstance(v, str) and not _is_utf8(v):
            return ValueError(
                f"name_columns: {name}[{i}] is not valid Unicode text (a lone surrogate)"
            )
    return TypeError(f"name_columns: {name} is not a sequence of str or None")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _taken(values: Iterable[str], index: np.ndarray) -> pa.Array:
    """Per-distinct strings ("" → NULL) spread back to rows by `index`."""
    distinct = pa.array([v or None for v in values], pa.string())
    return distinct.take(pa.array(index))


def _taken_lists(values: Sequence[tuple[str, ...]], index: np.ndarray) -> pa.Array:
    """Per-distinct token tuples (() → NULL) spread back to rows by `index`.

    Built from one flat value array and offsets: a Python list per value
    would cost more than the standardising itself.
    """
    lengths = np.fromiter((len(v) for v in values), dtype=np.int32, count=len(values))
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = pa.array(list(itertools.chain.from_iterable(values)), pa.string())
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat, mask=pa.array(lengths == 0))
    return lists.take(pa.array(index))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many small, acyclic values.

    Hundreds of thousands of new tuples and dataclasses would otherwise
    trigger repeated collections that cost as much as the standardising.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def name_columns(
    first: Sequence[str | None] | pa.Array | pa.ChunkedArray,
    middle: Sequence[str | None] | pa.Array | pa.ChunkedArray | None = None,
    last: Sequence[str | None] | pa.Array | pa.ChunkedArray | None = None,
    suffix: Sequence[str | None] | pa.Array | pa.ChunkedArray | None = None,
) -> pa.Table:
    """Standardise many names at once: the `NAME_SCHEMA` table, one row per input row.

    Each distinct (first, middle) pair, last name and suffix is standardised
    once, so the cost follows the number of distinct values, not of rows.
    Missing inputs (None, or an absent column) count as empty; empty outputs
    are NULL so Splink reads them as "no information".
    """
    n = len(first)
    f, m, la, sx = (
        _column(first, "first", n),
        _column(middle, "middle", n),
        _column(last, "last", n),
        _column(suffix, "suffix", n),
    )
    f_enc, m_enc = pc.dictionary_encode(f), pc.dictionary_encode(m)
    f_idx = np.asarray(f_enc.indices, dtype=np.int64)
    m_idx = np.asarray(m_enc.indices, dtype=np.int64)
    m_size = max(len(m_enc.dictionary), 1)
    pairs, pair_row = np.unique(f_idx * m_size + m_idx, return_inverse=True)
    f_words, m_words = f_enc.dictionary.to_pylist(), m_enc.dictionary.to_pylist()
    la_enc, sx_enc = pc.dictionary_encode(la), pc.dictionary_encode(sx)
    la_row = np.asarray(la_enc.indices, dtype=np.int64)
    sx_row = np.asarray(sx_enc.indices, dtype=np.int64)
    with _gc_paused():
        givens = [_given(f_words[p // m_size], m_words[p % m_size]) for p in pairs.tolist()]
        surnames = [_surname(v) for v in la_enc.dictionary.to_pylist()]
        suffixes = [_suffix(v) for v in sx_enc.dictionary.to_pylist()]

    given_std = _taken((g.std for g in givens), pair_row)
    surname_std = _taken((s.std for s in surnames), la_row)
    suffix_std = pc.coalesce(
        _taken(suffixes, sx_row),
        _taken((s.glued_suffix for s in surnames), la_row),
        _taken((g.glued_suffix for g in givens), pair_row),
    )
    full = pc.utf8_trim(
        pc.binary_join_element_wise(
            pc.fill_null(given_std, ""), pc.fill_null(surname_std, ""), " "
        ),
        " ",
    )
    full = pc.if_else(pc.equal(full, ""), pa.scalar(None, pa.string()), full)
    columns = {
        "given_std": given_std,
        "given_tokens": _taken_lists([g.tokens for g in givens], pair_row),
        "middle_std": _taken((g.middle for g in givens), pair_row),
        "given_canon": _taken((g.canon for g in givens), pair_row),
        "given_canon_set": _taken_lists([g.canon_set for g in givens], pair_row),
        "given_initial": _taken((g.initial for g in givens), pair_row),
        "surname_tokens": _taken_lists([s.tokens for s in surnames], la_row),
        "surname_std": surname_std,
        "surname_first": _taken((s.first for s in surnames), la_row),
        "suffix_std": suffix_std,
        "given_dm": _taken((g.dm for g in givens), pair_row),
        "surname_dm": _taken_lists([s.dm for s in surnames], la_row),
        "full_name_std": full,
    }
    return pa.Table.from_pydict(columns, schema=NAME_SCHEMA)


# --- agreement --------------------------------------------------------------------------------


def _gendered_pair(x: str, y: str) -> bool:
    """Spanish masculine/feminine pairs: MARIO/MARIA, JUAN/JUANA, FELIPE/FELIPA.

    They are one edit apart and Jaro-Winkler-close, but name different people
    (often a couple or siblings at one address), so they are never `close`.
    """
    short, long_ = sorted((x, y), key=len)
    if long_ == short + "A":
        return True
    return len(x) == len(y) and x[:-1] == y[:-1] and {x[-1], y[-1]} in ({"A", "O"}, {"A", "E"})


def _close(x: str, y: str) -> bool:
    """Spelling variants: Jaro-Winkler >= 0.92, or one Damerau-Levenshtein edit on names of
    at least five letters; never a masculine/feminine pair or an initial."""
    if x == y:
        return bool(x)
    if len(x) < 2 or len(y) < 2 or _gendered_pair(x, y):
        return False
    if jellyfish.jaro_winkler_similarity(x, y) >= CLOSE_JARO_WINKLER:
        return True
    return (
        min(len(x), len(y)) >= CLOSE_EDIT_MIN_LENGTH
        and jellyfish.damerau_levenshtein_distance(x, y) == 1
    )


def _same_given(x: str, y: str) -> bool:
    """Equal, a shared canonical, or close — for one given token against another."""
    if x == y:
        return True
    if set(nicknames.canonical_set(x)) & set(nicknames.canonical_set(y)):
        return True
    return _close(x, y)


def _first_given_level(a: StdName, b: StdName) -> str:
    x, y = a.given_std, b.given_std
    if x == y:
        return "exact"
    if set(a.given_canon_set) & set(b.given_canon_set):
        return "nickname"
    if (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
        return "initial"
    if _close(x, y):
        return "close"
    return "none"


def _middle_conflicts(a: StdName, b: StdName) -> bool:
    """Both have a second given name and they cannot be the same (JOHN Q / JOHN R).

    A second given token that is one of the other's surnames is not a
    conflict: a maternal surname often lands in the middle-name field.
    """
    x, y = a.middle_std, b.middle_std
    if not x or not y or x in b.surname_tokens or y in a.surname_tokens:
        return False
    if len(x) == 1 or len(y) == 1:
        return x[0] != y[0]
    return not _same_given(x, y)


def _goes_by_other_given(a: StdName, b: StdName) -> bool:
    """One's first given name is a later given name of the other (GUADALUPE / MARIA GUADALUPE)."""
    for one, other in ((a, b), (b, a)):
        if len(one.given_std) > 1 and any(
            len(t) > 1
            and (t == one.given_std or set(nicknames.canonical_set(t)) & set(one.given_canon_set))
            for t in other.given_tokens[1:]
        ):
            return True
    return False


def name_agreement(a: StdName, b: StdName) -> str:
    """How the given names of two standardised names agree, strongest level first.

    - ``exact``: same `given_std`.
    - ``nickname``: the `given_canon_set`s overlap (BILL/WILLIAM, BETO/ROBERTO,
      PACO/PANCHO), or one's first given name is, or shares a canonical with, a
      later given name of the other (LUPE / MARIA GUADALUPE).
    - ``initial``: one given name is a single letter, the other's initial.
    - ``close``: Jaro-Winkler >= 0.92, or one Damerau-Levenshtein edit when both
      have at least five letters; masculine/feminine pairs (MARIO/MARIA) never are.
    - ``swapped``: given name of each is a surname token of the other
      (LOPEZ JUAN / JUAN LOPEZ) — given and surname then agree crosswise.
    - ``none``: otherwise, or either given name is missing, or the first given
      names agree but the second ones conflict (JOHN Q / JOHN R, MARIA ELENA /
      MARIA GUADALUPE: often two relatives at one address).

    Surnames are not compared except for ``swapped``; the decision combines this
    level with `surname_overlap`.
    """
    if not a.given_std or not b.given_std:
        return "none"
    level = _first_given_level(a, b)
    if level != "none":
        return "none" if _middle_conflicts(a, b) else level
    if _goes_by_other_given(a, b):
        return "nickname"
    if a.given_std in b.surname_tokens and b.given_std in a.surname_tokens:
        return "swapped"
    return "none"


def surname_overlap(a: StdName, b: StdName) -> bool:
    """Whether two surnames share a token.

    True when a token is in both (HERNANDEZ LOPEZ / LOPEZ), when a token of at
    least five letters is one Damerau-Levenshtein edit from a token of at least
    five letters on the other side (HERNANDEZ / HERNANDES), or when both join to
    the same letters (DELACRUZ / DELA CRUZ). Missing surnames never overlap.
    """
    if not a.surname_tokens or not b.surname_tokens:
        return False
    if set(a.surname_tokens) & set(b.surname_tokens):
        return True
    if "".join(a.surname_tokens) == "".join(b.surname_tokens):
        return True
    return any(
        jellyfish.damerau_levenshtein_distance(x, y) <= 1
        for x in a.surname_tokens
        if len(x) >= SURNAME_EDIT_MIN_LENGTH
        for y in b.surname_tokens
        if len(y) >= SURNAME_EDIT_MIN_LENGTH
    )
