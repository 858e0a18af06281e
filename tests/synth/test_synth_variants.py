"""The name and address variant functions other modules' tests rely on."""

from __future__ import annotations

import random

import pytest
import usaddress
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_gate_rules import address_sufficient

from custos.synth.addresses import (
    DEFICIENCIES,
    MISSING,
    deficient_address,
    new_residence,
    street_text,
    written_address,
    zip_table,
)
from custos.synth.names import (
    fold,
    given_aliases,
    ocr_confuse,
    strip_diacritics,
    surname_forms,
    tables,
    typo,
)
from custos.synth.people import BLOCK_SIZE, Person, generate_block
from custos.synth.rand import STREAM_FRESH
from custos.synth.requests import written_name
from custos.synth.truth import AddressEvidence, NameEvidence, fits

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzáéíóúñ", min_size=3, max_size=14).map(
    str.capitalize
)


@given(names, st.integers(0, 2**32))
def test_typo_changes_the_name_but_keeps_its_first_letter(name: str, seed: int) -> None:
    out = typo(name, random.Random(seed))
    assert out != name
    assert out[0] == name[0]
    assert abs(len(out) - len(name)) <= 1


@given(st.text(min_size=1, max_size=20), st.integers(0, 2**32))
def test_ocr_confuse_alters_at_most_one_spot(text: str, seed: int) -> None:
    out = ocr_confuse(text, random.Random(seed))
    assert out[:1] == text[:1]
    assert abs(len(out) - len(text)) <= 1


@given(st.text(max_size=30))
def test_strip_diacritics_is_idempotent_and_fold_is_stable(text: str) -> None:
    once = strip_diacritics(text)
    assert strip_diacritics(once) == once
    assert fold(fold(text)) == fold(text)


def test_strip_diacritics_on_names() -> None:
    assert strip_diacritics("José Muñoz Ávila") == "Jose Munoz Avila"
    assert strip_diacritics("Nguyễn Văn Đức") == "Nguyen Van Duc"


def test_nicknames_from_the_brief_are_known() -> None:
    t = tables()
    for full, nick in [
        ("guadalupe", "lupe"),
        ("francisco", "paco"),
        ("francisco", "pancho"),
        ("jose", "pepe"),
        ("jesus", "chuy"),
        ("ignacio", "nacho"),
        ("eduardo", "lalo"),
        ("guillermo", "memo"),
        ("alberto", "beto"),
        ("roberto", "beto"),
        ("antonio", "tono"),
        ("dolores", "lola"),
        ("consuelo", "chelo"),
        ("concepcion", "concha"),
        ("william", "bill"),
        ("robert", "bob"),
        ("elizabeth", "liz"),
    ]:
        assert nick in given_aliases(t.given_by_key[full]), (full, nick)
    assert "chema" in given_aliases(t.given_by_key["jose"], "María")


@given(st.integers(0, 2**32))
def test_surname_forms_show_at_least_one_real_surname(seed: int) -> None:
    t = tables()
    u = random.Random(seed)
    s1, s2 = t.surname_by_key["de la cruz"], t.surname_by_key["garcia"]
    last, spill, ids = surname_forms(s1, s2, u)
    assert ids and ids <= {s1, s2}
    shown = fold(f"{last} {spill}")
    assert "cruz" in shown or "garcia" in shown


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_written_addresses_are_sufficient_and_parseable(seed: int) -> None:
    u = random.Random(seed)
    res = new_residence(u, u.randrange(len(zip_table().zip5)))
    a = written_address(res, u)
    assert address_sufficient(a.street, a.city, a.state, a.zip), a
    tags = usaddress.tag(a.street)[0]
    assert tags["AddressNumber"] == str(res.house)
    assert a.street.split()[0] == str(res.house)


@pytest.mark.parametrize("kind", DEFICIENCIES + MISSING)
def test_each_deficiency_makes_an_address_insufficient(kind: str) -> None:
    u = random.Random(7)
    for _ in range(30):
        res = new_residence(u, u.randrange(len(zip_table().zip5)))
        a = deficient_address(kind, res, u)
        assert not address_sufficient(a.street, a.city, a.state, a.zip), (kind, a)
        assert (not a.street) == (kind in MISSING)


def test_master_street_text_parses() -> None:
    u = random.Random(3)
    for _ in range(200):
        res = new_residence(u, u.randrange(len(zip_table().zip5)))
        tags = usaddress.tag(street_text(res.street_id, res.house))[0]
        assert tags["AddressNumber"] == str(res.house) and tags["StreetName"]


@pytest.fixture(scope="module")
def fresh_people() -> list[Person]:
    block = generate_block(4, STREAM_FRESH, 0, BLOCK_SIZE, 0)
    return [block.person(i) for i in range(0, BLOCK_SIZE, 7)]


def test_a_written_name_still_fits_its_person(fresh_people: list[Person]) -> None:
    """Every variant the generator writes for a person is one the labeller accepts as them."""
    u = random.Random(11)
    for p in fresh_people:
        for _ in range(5):
            n = written_name(p, u)
            assert n.first.strip() and n.last.strip()
            evidence = NameEvidence(
                n.first_id,
                n.first_folded,
                n.initial_only,
                n.middle_initial,
                n.surname_ids,
                n.suffix_folded,
                "",
                "",
            )
            assert fits(p, evidence, AddressEvidence(p.current.key, "")), n
