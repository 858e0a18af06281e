"""The comparisons the linkage model scores, as Splink comparison dictionaries.

Each comparison is an ordered list of levels; a pair falls in the first level
whose condition holds. Null levels ("no information") carry no weight. The
conditions come from `predicates`, which the decision also uses, so a level
and the matching deterministic check cannot drift apart.

Dictionaries rather than Splink creator objects, because the trained model
is saved as JSON and hashed: what is saved is exactly what is scored.

The `_l` side is always the request and `_r` the master row (`predict_between`
puts requests on the left; training names the datasets so that they sort the
same way). Every level but the suffix's is symmetric anyway.
"""

from __future__ import annotations

from typing import Any

from custos.match import predicates as p

Level = dict[str, Any]
Comparison = dict[str, Any]


def _level(sql: str, label: str, **extra: Any) -> Level:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*columns: str) -> Level:
    sql = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return _level(sql, "null", is_null_level=True)


def _else() -> Level:
    return _level("ELSE", "else")


def _exact(column: str, label: str = "exact", tf: bool = False) -> Level:
    extra: dict[str, Any] = (
        {"tf_adjustment_column": column, "tf_adjustment_weight": 1.0} if tf else {}
    )
    return _level(f"{column}_l = {column}_r", label, **extra)


def _comparison(name: str, description: str, levels: list[Level]) -> Comparison:
    return {
        "output_column_name": name,
        "comparison_description": description,
        "comparison_levels": levels,
    }


def given_name() -> Comparison:
    """Given name: exact (term-frequency adjusted), nickname, other given token, initial,
    masculine/feminine pair (MARIO/MARIA: its own level, so it is never "close"), close, phonetic."""
    return _comparison(
        "given_name",
        "given name",
        [
            _null("given_std"),
            _exact("given_std", tf=True),
            _level(p.given_nickname("l", "r"), "nickname"),
            _level(p.given_token("l", "r"), "other given token"),
            _level(p.given_initial("l", "r"), "initial"),
            _level(p.given_gendered("l", "r"), "masculine/feminine pair"),
            _level(p.given_close("l", "r"), "close spelling"),
            _level(p.given_phonetic("l", "r"), "double metaphone"),
            _else(),
        ],
    )


def surname() -> Comparison:
    """Surname tokens: exact (tf adjusted), both tokens, one token, swapped with given, typo, phonetic."""
    return _comparison(
        "surname",
        "surname tokens",
        [
            _null("surname_tokens"),
            _exact("surname_std", tf=True),
            _level(p.surname_overlap("l", "r", 2), "two tokens in common"),
            _level(p.surname_overlap("l", "r", 1), "one token in common"),
            _level(p.names_swapped("l", "r"), "given and surname swapped"),
            _level(p.surname_typo("l", "r"), "one edit on a token"),
            _level(p.surname_phonetic("l", "r"), "double metaphone"),
            _else(),
        ],
    )


def middle_name() -> Comparison:
    return _comparison(
        "middle_name",
        "middle name",
        [
            _null("middle_std"),
            _exact("middle_std"),
            _level(
                "(length(middle_std_l) = 1 OR length(middle_std_r) = 1) "
                "AND substr(middle_std_l, 1, 1) = substr(middle_std_r, 1, 1)",
                "initial",
            ),
            _else(),
        ],
    )


def suffix() -> Comparison:
    """JR, SR, II...: the request (left) naming none is no information; naming one the
    record lacks is evidence against (the record of a Jr carries it); a clash is strong."""
    return _comparison(
        "suffix",
        "generational suffix",
        [
            _level("suffix_std_l IS NULL", "null (the request names none)", is_null_level=True),
            _exact("suffix_std"),
            _level("suffix_std_r IS NULL", "the record has none"),
            _else(),
        ],
    )


def dob() -> Comparison:
    return _comparison(
        "dob",
        "date of birth",
        [
            _null("dob"),
            _exact("dob"),
            _level("substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", "same year and month"),
            _level(p.dob_close("l", "r"), "one digit, a transposition or day/month swapped"),
            _else(),
        ],
    )


def tin() -> Comparison:
    """TIN agreement is evidence like any other; the decision never relies on it alone.

    A TIN one digit or one transposition away from the record's is treated as
    no information: it may be a slip on the right person's TIN or someone
    else's TIN with a slip, and either way it must not tell two people apart.
    """
    return _comparison(
        "tin",
        "TIN",
        [
            _level(
                "tin_l IS NULL OR tin_r IS NULL OR damerau_levenshtein(tin_l, tin_r) = 1",
                "null, or one slip away",
                is_null_level=True,
            ),
            _exact("tin"),
            _else(),
        ],
    )


def house_number() -> Comparison:
    return _comparison(
        "house_number", "house number", [_null("house_number"), _exact("house_number"), _else()]
    )


def street_name() -> Comparison:
    return _comparison(
        "street_name",
        "street name",
        [
            _null("street_name"),
            _exact("street_name"),
            _level(p.street_close("l", "r"), f"jaro-winkler >= {p.STREET_CLOSE}"),
            _else(),
        ],
    )


def unit() -> Comparison:
    """Unit: neither has one is no information; one missing is weak; a different unit is a different home."""
    return _comparison(
        "unit",
        "unit number",
        [
            _level("unit_number_l IS NULL AND unit_number_r IS NULL", "null", is_null_level=True),
            _exact("unit_number"),
            _level("unit_number_l IS NULL OR unit_number_r IS NULL", "one missing"),
            _else(),
        ],
    )


def zip5() -> Comparison:
    return _comparison("zip5", "ZIP5", [_null("zip5"), _exact("zip5"), _else()])


def city() -> Comparison:
    return _comparison("city", "city", [_null("city_std"), _exact("city_std"), _else()])


def comparisons() -> list[Comparison]:
    """Every comparison of the model, names first, then DOB and TIN, then the address."""
    return [
        given_name(),
        surname(),
        middle_name(),
        suffix(),
        dob(),
        tin(),
        house_number(),
        street_name(),
        unit(),
        zip5(),
        city(),
    ]


COMPARISON_NAMES: tuple[str, ...] = tuple(c["output_column_name"] for c in comparisons())
