"""SQL predicates on standardised columns, shared by the model and the decision.

The comparison levels the model scores and the decision's deterministic
address check are built from the same expressions, so "the same street"
means one thing everywhere. (The decision's name check is
`custos.standardize.names.name_agreement`; the name levels here follow its
definitions.) Each function takes the two column
suffixes or table aliases and returns a DuckDB boolean expression.

A predicate is only ever true when both values are present: NULL compares as
unknown, so a missing value never counts as agreement.
"""

from __future__ import annotations

STREET_CLOSE = 0.9
"""Jaro-Winkler similarity at which two street names count as the same street."""

GIVEN_CLOSE = 0.92
"""Jaro-Winkler similarity at which two given names are spelling variants (as in
`custos.standardize.names`, whose `name_agreement` the decision uses)."""

CLOSE_EDIT_MIN_LENGTH = 5
"""Names at least this long are also spelling variants one Damerau-Levenshtein edit apart."""

TYPO_MIN_LENGTH = 5
"""Shortest surname token for which one edit still counts as the same token."""


def col(name: str, side: str) -> str:
    """`name_l` for a Splink side suffix ("l"/"r"), or `side.name` for a table alias."""
    return f"{name}_{side}" if side in ("l", "r") else f"{side}.{name}"


def given_nickname(a: str, b: str) -> str:
    """The canonical sets overlap (PACO and FRANCISCO, BILL and WILLIAM)."""
    return f"len(list_intersect({col('given_canon_set', a)}, {col('given_canon_set', b)})) >= 1"


def given_token(a: str, b: str) -> str:
    """A given name of one is among the given names of the other (MARIA GUADALUPE, LUPE)."""
    return (
        f"(list_contains({col('given_tokens', b)}, {col('given_std', a)}) "
        f"OR list_contains({col('given_tokens', a)}, {col('given_std', b)}))"
    )


def given_initial(a: str, b: str) -> str:
    """One side wrote only an initial and it is the other's first letter."""
    return (
        f"((length({col('given_std', a)}) = 1 OR length({col('given_std', b)}) = 1) "
        f"AND {col('given_initial', a)} = {col('given_initial', b)})"
    )


def given_gendered(a: str, b: str) -> str:
    """Spanish masculine/feminine pairs (MARIO/MARIA, JUAN/JUANA): close in spelling,
    but different people, often a couple at one address. A doubled final A (IRMAA) is a typo."""
    x, y = col("given_std", a), col("given_std", b)
    return (
        f"(({x} = {y} || 'A' AND right({y}, 1) <> 'A') OR ({y} = {x} || 'A' AND right({x}, 1) <> 'A') OR "
        f"(length({x}) = length({y}) AND left({x}, -1) = left({y}, -1) "
        f"AND list_sort([right({x}, 1), right({y}, 1)]) IN (['A', 'O'], ['A', 'E'])))"
    )


def given_close(a: str, b: str) -> str:
    """Spelling variants: Jaro-Winkler >= GIVEN_CLOSE, or one edit on names of five letters or more."""
    x, y = col("given_std", a), col("given_std", b)
    return (
        f"(jaro_winkler_similarity({x}, {y}) >= {GIVEN_CLOSE} OR "
        f"(least(length({x}), length({y})) >= {CLOSE_EDIT_MIN_LENGTH} "
        f"AND damerau_levenshtein({x}, {y}) = 1))"
    )


def given_phonetic(a: str, b: str) -> str:
    return f"{col('given_dm', a)} = {col('given_dm', b)}"


def surname_overlap(a: str, b: str, at_least: int = 1) -> str:
    return (
        f"len(list_intersect({col('surname_tokens', a)}, {col('surname_tokens', b)})) >= {at_least}"
    )


def surname_typo(a: str, b: str) -> str:
    """Some surname token of one is within one edit of a token of the other (SMITH, SMYTH).

    Only tokens of at least `TYPO_MIN_LENGTH` letters: one edit turns LI into LE.
    """
    return (
        f"len(list_filter({col('surname_tokens', a)}, lambda x: length(x) >= {TYPO_MIN_LENGTH} "
        f"AND list_bool_or(list_transform({col('surname_tokens', b)}, "
        f"lambda y: length(y) >= {TYPO_MIN_LENGTH} AND damerau_levenshtein(x, y) <= 1)))) >= 1"
    )


def surname_phonetic(a: str, b: str) -> str:
    return f"len(list_intersect({col('surname_dm', a)}, {col('surname_dm', b)})) >= 1"


def names_swapped(a: str, b: str) -> str:
    """Given name and surname written the other way round (LOPEZ JUAN / JUAN LOPEZ)."""
    return (
        f"(list_contains({col('surname_tokens', b)}, {col('given_std', a)}) "
        f"AND list_contains({col('surname_tokens', a)}, {col('given_std', b)}))"
    )


def street_close(a: str, b: str) -> str:
    """A spelling variant of the same street: Jaro-Winkler >= STREET_CLOSE, or one edit
    on names of five letters or more (IHDEPENDENCE, LAKEV1EW).

    Numbered streets must keep their number: without that guard 112TH and
    113TH, or 1ST and 7TH, would count as one street.
    """
    sa, sb = col("street_name", a), col("street_name", b)
    similar = (
        f"(jaro_winkler_similarity({sa}, {sb}) >= {STREET_CLOSE} OR "
        f"(least(length({sa}), length({sb})) >= {CLOSE_EDIT_MIN_LENGTH} "
        f"AND damerau_levenshtein({sa}, {sb}) <= 1))"
    )
    numbered = f"(regexp_matches({sa}, '^[0-9]') OR regexp_matches({sb}, '^[0-9]'))"
    same_number = f"regexp_extract({sa}, '^[0-9]+') = regexp_extract({sb}, '^[0-9]+')"
    return f"({similar} AND (NOT {numbered} OR {same_number}))"


def street_agrees(a: str, b: str) -> str:
    return f"({col('street_name', a)} = {col('street_name', b)} OR {street_close(a, b)})"


def unit_conflicts(a: str, b: str) -> str:
    """Both name a unit and the units differ: a different dwelling."""
    return f"coalesce({col('unit_number', a)} <> {col('unit_number', b)}, false)"


def address_agrees(a: str, b: str) -> str:
    """The decision's address check: house number and street, and ZIP or city; same unit if both have one."""
    return (
        f"(coalesce({col('house_number', a)} = {col('house_number', b)}, false) "
        f"AND coalesce({street_agrees(a, b)}, false) "
        f"AND (coalesce({col('zip5', a)} = {col('zip5', b)}, false) "
        f"OR coalesce({col('city_std', a)} = {col('city_std', b)}, false)) "
        f"AND NOT {unit_conflicts(a, b)})"
    )


def dob_close(a: str, b: str) -> str:
    """One digit wrong, two digits transposed, or day and month swapped."""
    da, db = col("dob", a), col("dob", b)
    return (
        f"(damerau_levenshtein({da}, {db}) <= 1 OR "
        f"(substr({da}, 1, 4) = substr({db}, 1, 4) "
        f"AND substr({da}, 6, 2) = substr({db}, 9, 2) AND substr({da}, 9, 2) = substr({db}, 6, 2)))"
    )
