"""Name standardisation throughput: rows per second for `name_columns`.

Usage (from the repository root):

    .venv/bin/python benchmarks/bench_names.py                    # 1 M rows
    .venv/bin/python benchmarks/bench_names.py --rows 10000000 --firsts 20000 --surnames 500000

Builds synthetic names with realistic duplication: a Zipf-like draw from
`--firsts` distinct given names and `--surnames` distinct surnames (made from
syllables, with accents, hyphenated and two-part Hispanic surnames, particles,
glued suffixes, nicknames and initials), a middle name or initial on about
40 % of rows. Prints rows/s for a cold pass (caches cleared) and a warm pass,
the distinct-value counts the cold pass had to standardise, and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time

import numpy as np

from custos.standardize.names import clear_caches, name_columns

SYLLABLES = [
    "ma",
    "ri",
    "a",
    "jo",
    "se",
    "lu",
    "is",
    "an",
    "to",
    "nio",
    "gua",
    "da",
    "lu",
    "pe",
    "car",
    "men",
    "fran",
    "cis",
    "co",
    "je",
    "sus",
    "ro",
    "ber",
    "to",
    "el",
    "e",
    "na",
    "gar",
    "ci",
    "her",
    "nan",
    "dez",
    "lo",
    "pez",
    "mar",
    "ti",
    "nez",
    "gon",
    "za",
    "lez",
    "pe",
    "rez",
    "ro",
    "dri",
    "guez",
    "san",
    "chez",
    "ra",
    "mi",
    "rez",
    "tor",
    "res",
    "ngu",
    "yen",
    "tran",
    "chen",
    "wil",
    "li",
    "am",
    "son",
    "ka",
    "th",
    "ryn",
    "mi",
    "chael",
    "da",
    "vid",
    "sa",
    "rah",
    "pa",
    "tri",
    "cia",
    "ja",
    "mes",
    "li",
    "nh",
    "wei",
    "pri",
    "ya",
    "o",
    "mar",
    "ah",
    "med",
]
ACCENTS = str.maketrans({"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "n": "ñ"})
NICKNAMES = ["Paco", "Pancho", "Lupe", "Pepe", "Beto", "Chuy", "Bill", "Bob", "Kathy", "Memo"]
PARTICLES = ["de la", "del", "de los", "da", "van der", "y"]
SUFFIXES = [" Jr", ", Jr.", " Sr", " III", " II"]


def _word(rng: random.Random, low: int, high: int) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(low, high)))
    if rng.random() < 0.15:
        word = (
            word.translate(ACCENTS)
            if rng.random() < 0.5
            else word[:-1] + word[-1].translate(ACCENTS)
        )
    return word.capitalize()


def _distinct(rng: random.Random, n: int, make: object) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < n:
        seen[make()] = None  # type: ignore[operator]
    return list(seen)


def _first_names(rng: random.Random, n: int) -> list[str]:
    def make() -> str:
        roll = rng.random()
        if roll < 0.02:
            return rng.choice(NICKNAMES) + rng.choice(["", " " + _word(rng, 2, 3)])
        if roll < 0.12:
            return f"{_word(rng, 2, 3)} {_word(rng, 2, 3)}"
        name = _word(rng, 2, 3)
        return name.upper() if roll > 0.9 else name

    return _distinct(rng, n, make)


def _surnames(rng: random.Random, n: int) -> list[str]:
    def make() -> str:
        roll = rng.random()
        if roll < 0.10:
            return f"{_word(rng, 2, 3)}-{_word(rng, 2, 3)}"
        if roll < 0.25:
            return f"{_word(rng, 2, 3)} {_word(rng, 2, 3)}"
        if roll < 0.30:
            return f"{rng.choice(PARTICLES)} {_word(rng, 2, 3)}"
        if roll < 0.32:
            return _word(rng, 2, 3) + rng.choice(SUFFIXES)
        return _word(rng, 2, 3)

    return _distinct(rng, n, make)


def _zipf_pick(np_rng: np.random.Generator, pool: list[str], rows: int) -> list[str]:
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.8
    idx = np_rng.choice(len(pool), size=rows, p=weights / weights.sum())
    values = np.array(pool, dtype=object)
    return list(values[idx])


def build(rows: int, firsts: int, surnames: int, seed: int) -> tuple[list[str], ...]:
    rng, np_rng = random.Random(seed), np.random.default_rng(seed)
    first = _zipf_pick(np_rng, _first_names(rng, firsts), rows)
    last = _zipf_pick(np_rng, _surnames(rng, surnames), rows)
    initials = [f"{c}." for c in "ABCDEFGHIJKLMNOPRSTVW"] + list("ABCDEFGHJKLMR")
    middle_pool = [*initials, *_first_names(rng, 300)]
    roll = np_rng.random(rows)
    picked = _zipf_pick(np_rng, middle_pool, rows)
    middle = [m if r < 0.4 else "" for m, r in zip(picked, roll, strict=True)]
    suffix = [("JR" if r < 0.01 else "SR" if r < 0.015 else "") for r in np_rng.random(rows)]
    return first, middle, last, suffix


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--firsts", type=int, default=5_000)
    parser.add_argument("--surnames", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    first, middle, last, suffix = build(args.rows, args.firsts, args.surnames, args.seed)
    built = time.perf_counter() - t0
    pairs = len(set(zip(first, middle, strict=True)))
    print(
        f"built {args.rows:,} rows in {built:.1f} s: {len(set(first)):,} distinct first, "
        f"{pairs:,} distinct (first, middle), {len(set(last)):,} distinct last"
    )

    clear_caches()
    t0 = time.perf_counter()
    table = name_columns(first, middle, last, suffix)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    name_columns(first, middle, last, suffix)
    warm = time.perf_counter() - t0

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cold: {cold:.2f} s, {args.rows / cold:,.0f} rows/s")
    print(f"warm: {warm:.2f} s, {args.rows / warm:,.0f} rows/s")
    print(f"peak RSS {rss_mib:,.0f} MiB; {table.num_rows:,} rows x {table.num_columns} columns")
    sample = table.slice(0, 3).to_pylist()
    for row in sample:
        print(
            "  ", {k: row[k] for k in ("given_std", "given_canon", "surname_tokens", "suffix_std")}
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
