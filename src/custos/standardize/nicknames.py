"""Which canonical given names a nickname may stand for (BILL → WILLIAM, BETO → ALBERTO or ROBERTO).

Two sources, both folded to ASCII upper case before use:

- **English**: the `nicknames` package (NickNamer's table). Its rows are noisy
  — some run backwards ("bill has_nickname william") and some link unrelated
  names — so a package row "F has_nickname N" is kept as "N may stand for F"
  only when N is shorter than F, or as long, with the same initial and no
  reverse row (JIMMY → JAMES, SALLY → SARAH). Rows listed in
  `data/names_nickname_exclusions.csv` are dropped as well; each carries its reason.
  `data/names_nicknames_extra.csv` adds the rows the package lacks (EVIE for
  EVELYN, LIAM for WILLIAM, HARRY for HENRY; transliterations such as
  MUHAMMAD/MOHAMMED), each with its source.
- **Spanish**: `data/spanish_hypocoristics.csv`, kept in this repository, one
  row per (hypocoristic, full name) with the public reference it came from.
  A hypocoristic may stand for several names (BETO: ALBERTO, ROBERTO …).

A name may always stand for itself, so `canonical_set` contains the name.
The set is what a matcher should test for overlap; `canonical` is one
deterministic representative (the alphabetically first canonical other than
the name itself) for exact-equality comparisons and term frequencies.
Canonicals may be multi-word ("JOSE MARIA" for CHEMA): see `compound_canonicals`.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator, Mapping
from importlib import resources

from nicknames import NickNamer

SPANISH_TABLE = "spanish_hypocoristics.csv"
EXCLUSIONS_TABLE = "names_nickname_exclusions.csv"
EXTRA_TABLE = "names_nicknames_extra.csv"


def _rows(filename: str, columns: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of a packaged CSV, refusing a file whose header lacks `columns`."""
    text = resources.files("custos.standardize").joinpath("data", filename).read_text("utf-8")
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{filename} lacks column(s) {', '.join(missing)}")
    for row in reader:
        yield {c: (row.get(c) or "").strip() for c in columns}


def _fold(name: str) -> str:
    from custos.standardize.names import fold

    return fold(name)


def _sourced_table(filename: str) -> dict[str, set[str]]:
    """Nickname → full names from a repository table of (nickname, canonical, source).

    A row without a source is refused: every mapping must say where it came from.
    """
    table: dict[str, set[str]] = {}
    for i, row in enumerate(_rows(filename, ("nickname", "canonical", "source")), start=2):
        if not (row["nickname"] and row["canonical"] and row["source"]):
            raise ValueError(f"{filename} line {i}: nickname, canonical and source are required")
        table.setdefault(_fold(row["nickname"]), set()).add(_fold(row["canonical"]))
    return table


@functools.cache
def spanish_table() -> Mapping[str, frozenset[str]]:
    """Hypocoristic → full names it may stand for, from the repository table."""
    return {k: frozenset(v) for k, v in _sourced_table(SPANISH_TABLE).items()}


@functools.cache
def _exclusions() -> frozenset[tuple[str, str]]:
    rows = _rows(EXCLUSIONS_TABLE, ("nickname", "canonical", "reason"))
    return frozenset((_fold(r["nickname"]), _fold(r["canonical"])) for r in rows)


@functools.cache
def english_table() -> Mapping[str, frozenset[str]]:
    """Nickname → canonical names from the `nicknames` package, cleaned as the module says,
    plus the repository's extra table."""
    lookup: dict[str, set[str]] = NickNamer.default_lookup()
    excluded = _exclusions()
    table: dict[str, set[str]] = {}
    for full, nicks in lookup.items():
        for nick in nicks:
            reverse = full in lookup.get(nick, set())
            shorter = len(nick) < len(full)
            same_length_variant = len(nick) == len(full) and nick[0] == full[0] and not reverse
            if not (shorter or same_length_variant):
                continue
            key, value = _fold(nick), _fold(full)
            if key and value and key != value and (key, value) not in excluded:
                table.setdefault(key, set()).add(value)
    for key, values in _sourced_table(EXTRA_TABLE).items():
        table.setdefault(key, set()).update(values)
    return {k: frozenset(v) for k, v in table.items()}


@functools.cache
def compound_canonicals() -> frozenset[str]:
    """Multi-word canonical names ("JOSE MARIA", "MARIA TERESA").

    A person whose first two given names form one of these can be called by
    its hypocoristic (CHEMA), so the standardiser adds it to their set.
    """
    values = [v for vs in spanish_table().values() for v in vs]
    values += [v for vs in english_table().values() for v in vs]
    return frozenset(v for v in values if " " in v)


@functools.lru_cache(maxsize=1 << 16)
def canonical_set(name: str) -> tuple[str, ...]:
    """Sorted canonical names `name` (folded, upper case) may stand for, itself included.

    Empty for an empty name; just the name for a name neither table knows.
    """
    if not name:
        return ()
    found = {name} | spanish_table().get(name, frozenset()) | english_table().get(name, frozenset())
    return tuple(sorted(found))


@functools.lru_cache(maxsize=1 << 16)
def canonical(name: str) -> str:
    """One deterministic canonical: Spanish table first, then English, first in sort order.

    The name itself when neither table maps it (JOSE → JOSE, PACO → FRANCISCO,
    BETO → ALBERTO, the first of its three full names).
    """
    for table in (spanish_table(), english_table()):
        options = table.get(name)
        if options:
            return min(options)
    return name


@functools.cache
def _by_canonical() -> Mapping[str, tuple[str, ...]]:
    found: dict[str, set[str]] = {}
    for table in (spanish_table(), english_table()):
        for nick, fulls in table.items():
            for full in fulls:
                found.setdefault(full, set()).add(nick)
    return {k: tuple(sorted(v)) for k, v in found.items()}


def nicknames_of(name: str) -> tuple[str, ...]:
    """The nicknames that may stand for `name` (folded, upper case), sorted; () if none."""
    return _by_canonical().get(name, ())
