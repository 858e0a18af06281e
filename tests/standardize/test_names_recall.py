"""The name rules added for recall (issue #3), each with the wrongful path it must not open.

Every rule here was found from a missed match on a generated world (docs/matching.md,
"Missed matches by cause"); every rule has a pair of different people it must keep apart.
"""

from __future__ import annotations

import csv
from importlib import resources

import pytest

from custos.standardize import nicknames
from custos.standardize.names import (
    StdName,
    name_agreement,
    standardize_name,
    surname_overlap,
    surname_slip,
)


def std(first: str = "", middle: str = "", last: str = "", suffix: str = "") -> StdName:
    return standardize_name(first, middle, last, suffix)


def level(a: tuple[str, ...], b: tuple[str, ...]) -> str:
    """The agreement level, checked to be symmetric."""
    forward = name_agreement(std(*a), std(*b))
    assert name_agreement(std(*b), std(*a)) == forward
    return forward


# --- OCR digits ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "surname"),
    [
        ("ZHA0", "ZHAO"),
        ("Seth1", "SETHI"),
        ("5MITH", "SMITH"),
        ("RAM0S GONZALEZ", "RAMOS GONZALEZ"),
    ],
)
def test_a_digit_read_for_a_letter_becomes_the_letter(raw: str, surname: str) -> None:
    assert std("Ana", last=raw).surname_std == surname


def test_digits_on_their_own_and_suffix_words_are_unchanged() -> None:
    assert std("Ana", last="Ruiz 3rd").suffix_std == "III"
    assert std("Ana", last="Ruiz 42").surname_std == "RUIZ"
    assert std("J0N", last="Roe").given_std == "JON"


# --- given names in one token or two ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Xiao-Ming", "", "Cao"), ("Xiaoming", "", "Cao")),
        (("Zhi Wei", "", "Xie"), ("Zhiwei", "", "Xie")),
        (("Guo Qiang", "James", "Yang"), ("Guoqiang", "James", "Yang")),
        (("Xiao", "Ming", "Cao"), ("Xiaoming", "", "Cao")),
    ],
)
def test_a_given_name_split_in_two_agrees_with_it_run_together(
    a: tuple[str, ...], b: tuple[str, ...]
) -> None:
    assert level(a, b) == "exact"


def test_run_together_given_names_still_tell_siblings_apart() -> None:
    assert level(("Xiao Ming", "", "Cao"), ("Xiaohong", "", "Cao")) == "none"
    assert level(("Xiao", "Ming", "Cao"), ("Xiao", "Hong", "Cao")) == "none"
    assert level(("Guo Qiang", "James", "Yang"), ("Guoqiang", "Peter", "Yang")) == "none"


def test_swapped_names_with_the_given_name_run_together() -> None:
    assert level(("Mak", "", "Wing Kei"), ("Wingkei", "", "Mak")) == "swapped"
    assert level(("Mak", "", "Wing Kei"), ("Wingyan", "", "Mak")) == "none"


# --- slips on short names, OCR confusions ----------------------------------------------------


@pytest.mark.parametrize(
    ("written", "record"),
    [
        ("Luix", "Luis"),
        ("Srah", "Sarah"),
        ("Moha", "Mona"),
        ("Justiri", "Justin"),
        ("Jihn", "John"),
    ],
)
def test_one_slip_on_a_short_name_or_an_ocr_confusion_is_a_typo(written: str, record: str) -> None:
    assert level((written, "", "Roe"), (record, "", "Roe")) == "typo"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("Luis", "Ruis"),  # first letter differs
        ("Li", "Le"),  # too short
        ("Juan", "Juana"),  # masculine/feminine
        ("Mario", "Maria"),
        ("Lina", "Luisa"),  # two edits
    ],
)
def test_what_is_not_a_typo(x: str, y: str) -> None:
    assert level((x, "", "Roe"), (y, "", "Roe")) == "none"


@pytest.mark.parametrize(("x", "y"), [("Yolandaa", "Yolanda"), ("Irmaa", "Irma")])
def test_a_doubled_final_a_is_a_slip_not_a_feminine_form(x: str, y: str) -> None:
    assert level((x, "", "Roe"), (y, "", "Roe")) in {"close", "typo"}


# --- truncations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short", "full"),
    [("Vik", "Vikram"), ("Enzo", "Lorenzo"), ("Dani", "Daniela"), ("Jose", "Josefina")],
)
def test_a_name_cut_short_at_either_end_is_truncated(short: str, full: str) -> None:
    # Only `truncated`, never stronger: JOSE may be a brother of JOSEFINA, so the
    # decision asks for a DOB or TIN and a short form that is no one's name.
    assert level((short, "", "Roe"), (full, "", "Roe")) == "truncated"


@pytest.mark.parametrize(("x", "y"), [("Xu", "Xuan"), ("Juan", "Juana"), ("Kamal", "Kamala")])
def test_what_is_not_a_truncation(x: str, y: str) -> None:
    # XU: too short; JUANA, KAMALA: one letter longer, the feminine form.
    assert level((x, "", "Roe"), (y, "", "Roe")) == "none"


# --- surnames: fused particles, slips --------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Dejesus", "de Jesus Vega"),
        ("Delatorre", "de la Torre de la Fuente"),
        ("Alrashid", "Al-Rashid"),
        ("Abughazaleh", "Abu-Ghazaleh"),
        ("Deanda", "de Anda Torres"),
    ],
)
def test_a_particle_fused_to_the_surname_still_overlaps(a: str, b: str) -> None:
    assert surname_overlap(std("Ana", last=a), std("Ana", last=b))
    assert surname_overlap(std("Ana", last=b), std("Ana", last=a))


def test_a_fused_particle_needs_a_real_root() -> None:
    assert not surname_overlap(std("Ana", last="Diaz"), std("Ana", last="Az"))
    assert not surname_overlap(std("Ana", last="Dejesus"), std("Ana", last="Jesse"))


def test_a_slip_on_a_short_surname_that_is_no_ones_surname() -> None:
    assert surname_slip(std("Jie", last="Wonng"), std("Jie", last="Wong"), frozenset())
    assert surname_slip(std("Ethan", last="Johrison"), std("Ethan", last="Johnson"), frozenset())
    assert surname_slip(std("Ana", last="Wokd"), std("Ana", last="Wood"), frozenset({"WOOD"}))


def test_a_surname_that_is_someone_elses_is_never_a_slip() -> None:
    known = frozenset({"WANG", "WONG", "CHEN", "CHAN"})
    assert not surname_slip(std("Jie", last="Wang"), std("Jie", last="Wong"), known)
    assert not surname_slip(std("Li", last="Chen"), std("Li", last="Chan"), known)
    assert not surname_slip(std("Li", last="Hu"), std("Li", last="Hua"), frozenset())
    assert not surname_slip(std("Ana", last="Kood"), std("Ana", last="Wood"), frozenset())


# --- nickname tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nickname", "full"),
    [
        ("Evie", "Evelyn"),
        ("Liam", "William"),
        ("Harry", "Henry"),
        ("Lety", "Leticia"),
        ("Chepina", "Josefina"),
        ("Güicho", "Luis"),
        ("Muhammad", "Mohammed"),
    ],
)
def test_added_nicknames_map_to_their_full_name(nickname: str, full: str) -> None:
    assert level((nickname, "", "Roe"), (full, "", "Roe")) == "nickname"


def test_added_nicknames_do_not_join_two_full_names() -> None:
    # JOE may be JOSEPH or YOUSSEF, but JOSEPH is not YOUSSEF; TINO is not both
    # AGUSTIN and CELESTINO to each other.
    assert level(("Joseph", "", "Roe"), ("Youssef", "", "Roe")) == "none"
    assert level(("Agustin", "", "Roe"), ("Celestino", "", "Roe")) == "none"


def test_every_extra_nickname_row_cites_a_source() -> None:
    path = resources.files("custos.standardize").joinpath("data", nicknames.EXTRA_TABLE)
    rows = list(csv.DictReader(path.read_text("utf-8").splitlines()))
    assert len(rows) > 20
    assert all(r["nickname"] and r["canonical"] and r["source"].strip() for r in rows)


def test_a_truncation_with_a_second_given_name_on_both_sides() -> None:
    assert level(("Dani", "Victoria", "Roe"), ("Daniela", "Victoria", "Roe")) == "truncated"
    assert level(("Tina", "Villanueva", "Roe"), ("Cristina", "Villanueva", "Roe")) == "truncated"


@pytest.mark.parametrize(
    ("written", "record"),
    [("Nkki", "Nicole"), ("Mikeg", "Michael"), ("Brabie", "Barbara"), ("Arinie", "Ann")],
)
def test_a_slip_on_a_nickname_is_a_typo(written: str, record: str) -> None:
    assert level((written, "", "Roe"), (record, "", "Roe")) == "typo"


def test_a_slip_on_a_nickname_of_someone_else_is_not() -> None:
    # MIKEG is a slip of MIKE (MICHAEL), not of anything PETER is called.
    assert level(("Mikeg", "", "Roe"), ("Peter", "", "Roe")) == "none"


def test_a_one_letter_connector_first_or_last_is_an_initial() -> None:
    assert std("E.", "A.", "Juarez").given_tokens == ("E", "A")
    assert std("Carlos", "E.", "Lopez").given_tokens == ("CARLOS", "E")
    assert std("Maria", "y Jose", "Lopez").given_tokens == ("MARIA", "JOSE")
    assert level(("E.", "A.", "Juarez"), ("Esteban", "Agustin", "Juarez")) == "initial"
    assert level(("Carlos", "E.", "Lopez"), ("Carlos", "Jorge", "Lopez")) == "none"


def test_run_together_given_names_are_also_compared_for_spelling() -> None:
    assert level(("Abdelrahman", "", "Odeh"), ("Abdul Rahman", "", "Odeh")) == "close"


def test_a_surname_in_the_middle_field_does_not_hide_a_truncation() -> None:
    # GIL FLORES: FLORES is the record's surname, not a second syllable of the given name.
    assert level(("Gil", "Flores", "Nunez"), ("Gilberto", "", "Flores-Nunez")) == "truncated"
    # The long name's second given name does not matter either.
    assert level(("Tin", "M", "Garcia"), ("Martin", "Manuel", "Garcia")) == "truncated"
