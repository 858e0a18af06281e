"""Personal names standardised into the columns the matcher compares.

Small spelling and formatting differences between a request and the master
file caused missed matches (DOMAIN.md, failure mode 4); these rules remove the
differences that carry no information and keep the ones that do:

- **Fold**: Unicode to ASCII upper case (José → JOSE, Muñoz → MUNOZ, Nguyễn →
  NGUYEN, ß → SS, Đ → D); apostrophes vanish (O'Brien → OBRIEN); every other
  non-letter, hyphens and periods included, separates tokens. Scripts with no
  Latin decomposition (Cyrillic, Han …) fold to nothing. Inside a word with
  letters, a digit a scanner reads for a letter becomes it (ZHA0 → ZHAO,
  SETH1 → SETHI); other digits are dropped.
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
  MARIA ANGELES) go — a one-letter connector (Y, E) only between two names,
  since first or last it is an initial (E. A. JUAREZ). An initial is a
  one-letter token ("J." → J).
- **Nicknames**: see `custos.standardize.nicknames`; `given_canon_set` is what
  to test for overlap, `given_canon` one deterministic member of it. It also
  holds the first two given names run together (XIAO MING → XIAOMING).
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
from dataclasses import dataclass, replace

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
    "typo",
    "truncated",
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
_OCR_DIGITS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B"})
"""Digits a scanner reads for letters (ZHA0, SETH1, 5MITH); only inside a word with letters."""
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
            if not token.isdigit():
                token = token.translate(_OCR_DIGITS)
            token = _DIGITS.sub("", token)
        if token:
            out.append(token)
    return tuple(out)


def _tokens(field: str) -> list[str]:
    return list(_field_tokens(field))


def _drop_particles(tokens: list[str], particles: frozenset[str]) -> list[str]:
    kept = [t for t in tokens if t not in particles]
    return kept or tokens


def _drop_given_particles(tokens: list[str]) -> list[str]:
    """Connectors out of given names (MARIA DEL CARMEN → MARIA CARMEN); a one-letter
    connector (Y, E) only between two names: first or last it is an initial (E. A. JUAREZ,
    CARLOS E. LOPEZ)."""
    last = len(tokens) - 1
    kept = [
        t
        for i, t in enumerate(tokens)
        if t not in GIVEN_PARTICLES or (len(t) == 1 and i in (0, last))
    ]
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
    tokens = _drop_given_particles(head + _tokens(middle))
    while len(tokens) > 1 and tokens[0] in TITLES:
        tokens = tokens[1:]
    tokens, suffix_at_end = _strip_suffixes(tokens)
    std = tokens[0] if tokens else ""
    canon_set = set(nicknames.canonical_set(std))
    compound = " ".join(tokens[:2])
    if compound in nicknames.compound_canonicals():
        canon_set.add(compound)
    if len(tokens) > 1 and len(tokens[0]) > 1 and len(tokens[1]) > 1:
        canon_set.add(tokens[0] + tokens[1])
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
    A doubled final A (YOLANDAA, IRMAA) is a typo, not a feminine form.
    """
    short, long_ = sorted((x, y), key=len)
    if long_ == short + "A" and not short.endswith("A"):
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


OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("RN", "M"),
    ("CL", "D"),
    ("VV", "W"),
    ("LI", "H"),
    ("RI", "N"),
)
"""Letter groups a scanner reads for one letter (and the reverse); one-letter confusions
(E/C, I/L) are ordinary one-letter edits."""

TYPO_MIN_LENGTH = 3
"""Shortest name (or surname token) for which one slip may still be a `typo`."""
TRUNCATION_MIN_LENGTH = 3
"""Shortest form that may be a truncation of a longer given name (LEO, ALE, NETO)."""


def _ocr_slip(x: str, y: str) -> bool:
    """One letter group read as another (JOHRISON/JOHNSON via RI/N, SIUHNG/SIULING via H/LI)."""
    for one, other in ((x, y), (y, x)):
        for group, letter in OCR_CONFUSIONS:
            if len(one) - len(other) != len(group) - len(letter):
                continue
            start = one.find(group, 1)
            while start >= 1:
                if one[:start] + letter + one[start + len(group) :] == other:
                    return True
                start = one.find(group, start + 1)
    return False


def _slip(x: str, y: str) -> bool:
    """One keyed or scanned slip on a short word: same first letter, at least
    `TYPO_MIN_LENGTH` letters each, one Damerau-Levenshtein edit or one OCR confusion.

    Weaker than `_close`: on three- and four-letter words one edit also turns
    one real name into another (JOHN/JOAN, WANG/WONG), so callers accept it
    only when the written form is no one's name in the file.
    """
    if x == y or min(len(x), len(y)) < TYPO_MIN_LENGTH or x[0] != y[0]:
        return False
    if _gendered_pair(x, y):
        return False
    return jellyfish.damerau_levenshtein_distance(x, y) == 1 or _ocr_slip(x, y)


def _truncated(x: str, y: str) -> bool:
    """One given name is the other cut short at either end (LEO/LEONARDO, FREDO/ALFREDO),
    the short form at least `TRUNCATION_MIN_LENGTH` letters and two shorter than the other.

    `name_agreement` does not call a first given token a truncation when a second
    given name follows it: XIAO of XIAO MING is a syllable, not XIAOHONG cut short.
    """
    short, long_ = sorted((x, y), key=len)
    if len(short) < TRUNCATION_MIN_LENGTH or len(long_) < len(short) + 2:
        return False
    return long_.startswith(short) or long_.endswith(short)


def _joined_given(name: StdName) -> StdName:
    """The name with its first two given tokens written as one (XIAO MING → XIAOMING)."""
    tokens = name.given_tokens
    if len(tokens) < 2 or len(tokens[0]) < 2 or len(tokens[1]) < 2:
        return name
    joined = (tokens[0] + tokens[1], *tokens[2:])
    return replace(
        name,
        given_std=joined[0],
        given_tokens=joined,
        middle_std=joined[1] if len(joined) > 1 else "",
    )


def _first_given_level(a: StdName, b: StdName) -> str:
    x, y = a.given_std, b.given_std
    if x == y:
        return "exact"
    if set(a.given_canon_set) & set(b.given_canon_set):
        return "nickname"
    if (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
        return "initial"
    if _gendered_pair(x, y):
        return "none"
    if _close(x, y):
        return "close"
    if _slip(x, y):
        return "typo"
    short, long_ = (a, b) if len(x) < len(y) else (b, a)
    if _truncated(x, y) and not _syllable_of(short, long_):
        return "truncated"
    if _slip_of_a_nickname(x, y) or _slip_of_a_nickname(y, x):
        return "typo"
    return "none"


def _syllable_of(a: StdName, b: StdName) -> bool:
    """a's first given token is followed by another given name (not one of b's surnames)
    and b's given name is one word: XIAO of XIAO MING against XIAOHONG is a syllable,
    not a truncation; GIL of GIL FLORES against GILBERTO FLORES is one."""
    return (
        _joined_given(a) is not a
        and a.given_tokens[1] not in b.surname_tokens
        and _joined_given(b) is b
    )


def _slip_of_a_nickname(x: str, y: str) -> bool:
    """x is one slip from a nickname of y (NKKI for NIKKI, for NICOLE; MIKEG for MIKE)."""
    return len(x) >= TYPO_MIN_LENGTH and any(_slip(x, n) for n in nicknames.nicknames_of(y))


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
    - ``typo``: one edit or one OCR confusion (RN/M, RI/N, LI/H, CL/D, VV/W) with
      the first letter kept, on names of three letters or more (LUIX/LUIS,
      JUSTIRI/JUSTIN). Weaker than close: JOHN/JOAN are a typo apart too.
    - ``truncated``: one is the other cut short at either end, at least three
      letters and two shorter (LEO/LEONARDO, FREDO/ALFREDO).
    - ``swapped``: given name of each is a surname token of the other
      (LOPEZ JUAN / JUAN LOPEZ) — given and surname then agree crosswise.
    - ``none``: otherwise, or either given name is missing, or the first given
      names agree but the second ones conflict (JOHN Q / JOHN R, MARIA ELENA /
      MARIA GUADALUPE: often two relatives at one address).

    Given names written in two tokens or in one (XIAO MING / XIAOMING) are
    compared run together, also when only close (ABDELRAHMAN / ABDUL RAHMAN). Surnames are not compared except for ``swapped``;
    the decision combines this level with `surname_overlap`.
    """
    if not a.given_std or not b.given_std:
        return "none"
    joined_a, joined_b = _joined_given(a), _joined_given(b)
    if joined_a.given_std == b.given_std and joined_a is not a:
        a = joined_a
    elif joined_b.given_std == a.given_std and joined_b is not b:
        b = joined_b
    level = _first_given_level(a, b)
    if level == "none":
        for x, y in ((joined_a, b), (a, joined_b)):
            if (x is not a or y is not b) and _first_given_level(x, y) == "close":
                a, b, level = x, y, "close"
                break
    if level != "none":
        return "none" if _middle_conflicts(a, b) else level
    if _goes_by_other_given(a, b):
        return "nickname"
    if _given_in_surname(a, b) and _given_in_surname(b, a):
        return "swapped"
    return "none"


def _given_in_surname(a: StdName, b: StdName) -> bool:
    """a's given name is among b's surname tokens, or is b's surname run together (WAIMAN / WAI MAN)."""
    return a.given_std in b.surname_tokens or (
        len(b.surname_tokens) > 1 and a.given_std == "".join(b.surname_tokens)
    )


def surname_overlap(a: StdName, b: StdName) -> bool:
    """Whether two surnames share a token.

    True when a token is in both (HERNANDEZ LOPEZ / LOPEZ), when a token of at
    least five letters is one Damerau-Levenshtein edit from a token of at least
    five letters on the other side (HERNANDEZ / HERNANDES), when both join to
    the same letters (DELACRUZ / DELA CRUZ), or when a token is another's with
    a particle fused to its front (DEJESUS / DE JESUS VEGA, ALRASHID /
    AL-RASHID). Missing surnames never overlap.
    """
    if not a.surname_tokens or not b.surname_tokens:
        return False
    if set(a.surname_tokens) & set(b.surname_tokens):
        return True
    if "".join(a.surname_tokens) == "".join(b.surname_tokens):
        return True
    if any(
        _fused_particle(x, y) or _fused_particle(y, x)
        for x in a.surname_tokens
        for y in b.surname_tokens
    ):
        return True
    return any(
        jellyfish.damerau_levenshtein_distance(x, y) <= 1
        for x in a.surname_tokens
        if len(x) >= SURNAME_EDIT_MIN_LENGTH
        for y in b.surname_tokens
        if len(y) >= SURNAME_EDIT_MIN_LENGTH
    )


FUSED_PARTICLES: tuple[str, ...] = tuple(
    sorted(
        {
            "DE",
            "DEL",
            "DELA",
            "DELAS",
            "DELOS",
            "DA",
            "DAS",
            "DO",
            "DOS",
            "DI",
            "VAN",
            "VANDER",
            "VANDEN",
            "VON",
            "AL",
            "EL",
            "ABU",
            "BIN",
            "IBN",
        },
        key=len,
        reverse=True,
    )
)
"""Particles (and runs of them) that forms fuse onto a surname: DELATORRE, ALRASHID."""
FUSED_ROOT_MIN_LENGTH = 3
"""Shortest surname left after a fused particle (DELEON → LEON; DIAZ is not DI + AZ)."""


def _fused_particle(fused: str, root: str) -> bool:
    """`fused` is `root` with a particle run into its front (DEJESUS, JESUS)."""
    if len(root) < FUSED_ROOT_MIN_LENGTH or len(fused) <= len(root) or not fused.endswith(root):
        return False
    return fused[: len(fused) - len(root)] in FUSED_PARTICLES


def surname_slip(a: StdName, b: StdName, known: frozenset[str] | set[str]) -> bool:
    """A surname token of `a` is one slip (`_slip`: a keyed edit or an OCR confusion, the
    first letter kept, three letters or more) from one of `b`'s, and is itself in no
    one's surname in `known` (WOKD for WOOD; never WANG for WONG, or CHAN for CHEN).

    Catches the slips `surname_overlap` leaves out on short surnames; the
    decision accepts it only with a given name that agrees without a slip.
    """
    return any(x not in known and _slip(x, y) for x in a.surname_tokens for y in b.surname_tokens)
