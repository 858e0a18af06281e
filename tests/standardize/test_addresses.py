"""Address standardisation (USPS Pub 28 parts) and the gate's address-sufficiency rule."""

from __future__ import annotations

from dataclasses import astuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custos.model import Subject
from custos.standardize.addresses import (
    ADDRESS_COLUMNS,
    PLACEHOLDER_PHRASES,
    PLACEHOLDER_WORDS,
    STATE_CODES,
    STREET_SUFFIXES,
    UNIT_DESIGNATORS,
    StdAddress,
    address_columns,
    address_insufficiency,
    is_placeholder,
    parse_street,
    std_city,
    std_state,
    std_zip5,
    sufficiency,
    zip_states,
)


def street_parts(a: StdAddress) -> tuple[str, ...]:
    return (
        a.house_number,
        a.predir,
        a.street_name,
        a.street_suffix,
        a.postdir,
        a.unit_type,
        a.unit_number,
    )


# --- parsing examples -------------------------------------------------------------------------


def test_common_form_parses_into_pub28_parts() -> None:
    a = parse_street("1402 W 18th St Apt 3", city="Chicago", state="IL", zip="60608-1234")
    assert a == StdAddress(
        house_number="1402",
        predir="W",
        street_name="18TH",
        street_suffix="ST",
        unit_type="APT",
        unit_number="3",
        city_std="CHICAGO",
        state="IL",
        zip5="60608",
        parse_ok=True,
    )
    assert a.street_line == "1402 W 18TH ST APT 3"


@pytest.mark.parametrize(
    "written",
    [
        "1402 West Eighteenth Street, Apt. 3",
        "1402 w. 18 st #3",
        "1402 W 18TH ST UNIT 3",
        "1402 W. 18th Street   # 3",
        "1402 WEST 18TH STREET APARTMENT 3",
        "1402 W 18th St Apt3",
    ],
)
def test_formatting_variants_standardise_equal(written: str) -> None:
    assert parse_street(written).street_line == "1402 W 18TH ST APT 3"


@pytest.mark.parametrize(
    ("written", "line"),
    [
        ("123 Avenue B", "123 AVENUE B"),
        ("123 Ave B", "123 AVENUE B"),
        ("100 Highway 18", "100 HIGHWAY 18"),
        ("12 1/2 Main St", "12 1/2 MAIN ST"),
        ("500 Martin Luther King, Jr. Blvd", "500 MARTIN LUTHER KING JR BLVD"),
        ("1600 Pennsylvania Avenue NW", "1600 PENNSYLVANIA AVE NW"),
        ("123 E Main St Ste 200", "123 E MAIN ST STE 200"),
        ("123 Twenty-First St", "123 21ST ST"),
        ("123 North Ave", "123 NORTH AVE"),
        ("123 Calle del Sol", "123 CALLE DEL SOL"),
        ("77 Main St Rear", "77 MAIN ST REAR"),
        ("9 Main St Apt 3-B", "9 MAIN ST APT 3B"),
        ("4 José Martí Blvd", "4 JOSE MARTI BLVD"),
    ],
)
def test_parsed_street_lines(written: str, line: str) -> None:
    assert parse_street(written).street_line == line
    assert parse_street(written).parse_ok


def test_unit_field_wins_over_a_unit_in_the_street() -> None:
    a = parse_street("123 Main St Apt 4", unit="Unit 9")
    assert (a.unit_type, a.unit_number) == ("APT", "9")
    b = parse_street("123 Main St", unit="4")
    assert (b.unit_type, b.unit_number) == ("APT", "4")
    c = parse_street("123 Main St", unit="Ste. 200")
    assert (c.unit_type, c.unit_number) == ("STE", "200")


def test_city_state_zip_written_inside_the_street_fill_blank_fields() -> None:
    a = parse_street("1402 W 18th St, Chicago, IL 60608")
    assert (a.city_std, a.state, a.zip5) == ("CHICAGO", "IL", "60608")
    b = parse_street("1402 W 18th St, Chicago, IL 60608", city="Cicero", state="IL", zip="60804")
    assert (b.city_std, b.zip5) == ("CICERO", "60804")


@pytest.mark.parametrize(
    "street", ["PO Box 12", "P.O. BOX 12", "Post Office Box 3", "General Delivery", "RR 2 Box 15"]
)
def test_boxes_are_flagged(street: str) -> None:
    a = parse_street(street)
    assert a.is_po_box
    assert not a.parse_ok


def test_po_box_beside_a_street_address_still_parses() -> None:
    a = parse_street("PO Box 4, 123 Main St")
    assert a.is_po_box and a.parse_ok


def test_city_state_and_zip_standardisation() -> None:
    assert std_city("Saint Louis") == std_city("St. Louis") == std_city("ST LOUIS") == "ST LOUIS"
    assert std_city("Winston-Salem") == "WINSTON SALEM"
    assert std_city("Unknown") == ""
    assert std_state("illinois") == std_state(" IL ") == "IL"
    assert std_state("District of Columbia") == "DC"
    assert std_state("Puerto Rico") == "PR"
    assert std_state("ZZ") == std_state("Ill") == ""
    assert std_zip5("60608-1234") == std_zip5("606081234") == std_zip5(" 60608 ") == "60608"
    assert std_zip5("6060") == std_zip5("60608-12") == std_zip5("ABCDE") == ""


def test_every_state_name_maps_to_its_code() -> None:
    codes = {code for code in STATE_CODES.values()}
    assert len(codes) == 62
    assert {"AL", "WY", "DC", "PR", "GU", "VI", "AS", "MP"} <= codes
    assert codes <= set(zip_states().values())


def test_suffix_and_unit_tables_are_pub28() -> None:
    assert STREET_SUFFIXES["STREET"] == STREET_SUFFIXES["STR"] == "ST"
    assert STREET_SUFFIXES["AVENUE"] == STREET_SUFFIXES["AV"] == "AVE"
    assert STREET_SUFFIXES["CROSSING"] == "XING"
    assert len(set(STREET_SUFFIXES.values())) > 190
    assert UNIT_DESIGNATORS["SUITE"] == "STE"
    assert UNIT_DESIGNATORS["TRAILER"] == "TRLR"


def test_informal_suffixes_map_onto_c1_standards() -> None:
    standards = set(STREET_SUFFIXES.values())
    for written in ("STREE", "LA", "TR", "BLV"):
        assert STREET_SUFFIXES[written] in standards
    assert parse_street("1106 3rd Stree").street_line == "1106 3RD ST"
    assert parse_street("45 Oak La").street_line == "45 OAK LN"


def test_city_or_state_after_the_street_is_not_taken_for_the_street() -> None:
    a = parse_street("123 Main St Hartford CT")
    assert (a.street_name, a.street_suffix, a.city_std, a.state) == ("MAIN", "ST", "HARTFORD", "CT")


def test_words_in_the_house_number_slot_are_not_house_numbers() -> None:
    for street in ("3rd Avenue", "Los Alamos Blvd", "San Gabriel Road"):
        a = parse_street(street)
        assert a.house_number == "" and not a.parse_ok, street
    assert parse_street("W123N456 Main St").house_number == "W123N456"


def test_non_ascii_digits_are_no_zip() -> None:
    assert std_zip5("６０６０８") == ""


def test_overlong_street_is_not_parsed() -> None:
    a = parse_street("123 Main St " + "x" * 400)
    assert not a.parse_ok


# --- placeholders -----------------------------------------------------------------------------


@pytest.mark.parametrize("phrase", PLACEHOLDER_PHRASES)
def test_every_listed_phrase_is_a_placeholder(phrase: str) -> None:
    assert is_placeholder(phrase)
    assert is_placeholder(phrase.title() + " 12345")
    assert is_placeholder("Subject: " + phrase.lower())


@pytest.mark.parametrize("word", sorted(PLACEHOLDER_WORDS))
def test_every_filler_word_is_a_placeholder(word: str) -> None:
    assert is_placeholder(word)
    assert is_placeholder(f"{word} {word}")
    assert is_placeholder(f"{word.lower()} 00000")


@pytest.mark.parametrize(
    "text",
    [
        "Failed to Provide",
        "Unknown Address",
        "NA NA",
        "N/A",
        "n/a",
        "Don't Care 12345",
        "12345",
        "12345-6789",
        "XXX",
        "zzzz",
        "--",
        "?",
    ],
)
def test_domain_placeholders(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize(
    "text", ["", "  ", "123 Unknown St", "1402 W 18th St", "10 Nassau St", "5 Xavier Ave"]
)
def test_not_placeholders(text: str) -> None:
    assert not is_placeholder(text)


# --- sufficiency ------------------------------------------------------------------------------


def _why(street: str, city: str = "Chicago", state: str = "IL", zip_code: str = "60608") -> str:
    return address_insufficiency(street, city, state, zip_code) or ""


def test_sufficient_address() -> None:
    assert (
        sufficiency(Subject(street="1402 W 18th St", city="Chicago", state="IL", zip="60608"))
        is None
    )
    assert sufficiency(Subject(street="1402 W 18th St", city="Chicago", state="IL")) is None
    assert sufficiency(Subject(street="1402 W 18th St", zip="60608")) is None
    assert sufficiency(Subject(street="1402 W 18th St, Chicago, IL 60608")) is None


def test_insufficiency_details() -> None:
    assert "placeholder" in _why("Don't Care 12345")
    assert "PO box" in _why("PO Box 77")
    assert "house number" in _why("Harris County Jail")
    assert "street name" in _why("1402 Apt 3")
    assert "does not exist" in _why("1402 W 18th St", zip_code="00000")
    assert "not in the stated state" in _why("1402 W 18th St", state="TX")
    assert "5-digit" in _why("1402 W 18th St", zip_code="6060")
    assert "state" in _why("1402 W 18th St", state="Ontario", zip_code="")
    assert "neither" in _why("1402 W 18th St", state="", zip_code="")


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80),
    st.text(max_size=12),
    st.text(max_size=20),
    st.text(max_size=15),
    st.text(max_size=12),
)
def test_never_raises_on_arbitrary_text(
    street: str, unit: str, city: str, state: str, zip_code: str
) -> None:
    a = parse_street(street, unit, city, state, zip_code)
    assert a.parse_ok == bool(a.house_number and a.street_name)
    assert all(p == p.upper() and p.isascii() for p in astuple(a)[:10])
    why = address_insufficiency(street, city, state, zip_code)
    assert why is None or why
    assert why is not None or a.parse_ok
    assert isinstance(is_placeholder(street), bool)


_ORDINAL_WORDS = {
    1: "First",
    2: "Second",
    3: "Third",
    4: "Fourth",
    11: "Eleventh",
    18: "Eighteenth",
    20: "Twentieth",
}
_DIRECTIONS = {
    "N": ["N", "N.", "North", "north"],
    "SW": ["SW", "S.W.", "Southwest"],
    "E": ["E", "East"],
}
_NAMES = [
    "Main",
    "Oak",
    "Martin Luther King Jr",
    "Lake Shore",
    "Cedar",
    "Washington",
    "Cesar Chavez",
    "Peachtree",
]
_SUFFIX_FORMS: dict[str, list[str]] = {}
for _written, _standard in STREET_SUFFIXES.items():
    _SUFFIX_FORMS.setdefault(_standard, []).append(_written)


@st.composite
def address_variants(draw: st.DrawFn) -> tuple[dict[str, str], list[str]]:
    """An address and several ways of writing it: (expected parts, written forms)."""
    number = str(draw(st.integers(1, 99999)))
    direction = draw(st.sampled_from(["", *_DIRECTIONS]))
    if draw(st.booleans()):
        k = draw(st.sampled_from(sorted(_ORDINAL_WORDS)))
        ordinal = {1: "1st", 2: "2nd", 3: "3rd", 11: "11th"}.get(k, f"{k}th")
        names = [ordinal, ordinal.upper(), str(k), _ORDINAL_WORDS[k]]
        expected_name = ordinal.upper()
    else:
        name = draw(st.sampled_from(_NAMES))
        names = [name, name.upper()]
        expected_name = name.upper()
    standard = draw(st.sampled_from(sorted(_SUFFIX_FORMS)))
    suffixes = [*_SUFFIX_FORMS[standard], standard.title() + "."]
    unit = draw(st.sampled_from(["", "4", "12B", "3"]))
    units = (
        [""]
        if not unit
        else [
            f"Apt {unit}",
            f"#{unit}",
            f"# {unit}",
            f"Unit {unit}",
            f"apt. {unit}",
            f"APARTMENT {unit}",
        ]
    )
    forms = []
    for _ in range(6):
        parts = [
            number,
            draw(st.sampled_from(_DIRECTIONS[direction])) if direction else "",
            draw(st.sampled_from(names)),
            draw(st.sampled_from(suffixes)),
            draw(st.sampled_from(units)),
        ]
        text = " ".join(p for p in parts if p)
        forms.append(draw(st.sampled_from([text, text.upper(), text.lower()])))
    expected = {
        "house_number": number,
        "predir": direction,
        "street_name": expected_name,
        "street_suffix": standard,
        "unit_type": "APT" if unit else "",
        "unit_number": unit.upper(),
    }
    return expected, forms


@settings(max_examples=200, deadline=None)
@given(address_variants())
def test_street_st_and_apt_unit_hash_variants_standardise_equal(
    case: tuple[dict[str, str], list[str]],
) -> None:
    expected, forms = case
    for form in forms:
        a = parse_street(form)
        assert {k: getattr(a, k) for k in expected} == expected, form
        assert a.parse_ok


@settings(max_examples=200, deadline=None)
@given(address_variants())
def test_standardising_a_standardised_address_changes_nothing(
    case: tuple[dict[str, str], list[str]],
) -> None:
    for form in case[1]:
        once = parse_street(form)
        again = parse_street(once.street_line)
        assert street_parts(again) == street_parts(once)


@given(
    st.from_regex(r"[0-9]{5}", fullmatch=True),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.sampled_from(["-", "", " "]),
)
def test_zip_plus_four_becomes_zip5(zip5: str, plus4: str, sep: str) -> None:
    assert std_zip5(f"{zip5}{sep}{plus4}") == zip5
    assert parse_street("1 Main St", zip=f"{zip5}{sep}{plus4}").zip5 == zip5


# --- bulk -------------------------------------------------------------------------------------


def test_address_columns_match_row_by_row_parsing() -> None:
    streets = ["1402 W 18th St Apt 3", "PO Box 4", "", "1402 W 18th St Apt 3", None]
    units = ["", "", "", "Unit 7", None]
    cities = ["Chicago", "", "Houston", "Chicago", None]
    states = ["IL", "", "TX", "Illinois", None]
    zips = ["60608-1234", "", "", "60608", None]
    table = address_columns(streets, units, cities, states, zips)
    assert table.column_names == list(ADDRESS_COLUMNS)
    assert table.num_rows == 5
    rows = table.to_pylist()
    for row, s, u, c, st_, z in zip(rows, streets, units, cities, states, zips, strict=True):
        expected = parse_street(s or "", u or "", c or "", st_ or "", z or "")
        for name in ADDRESS_COLUMNS:
            value = getattr(expected, name)
            assert row[name] == (value if isinstance(value, bool) or value else None), name
    assert rows[0]["unit_number"] == "3" and rows[3]["unit_number"] == "7"
    assert rows[1]["is_po_box"] is True and rows[4]["is_po_box"] is False
    assert rows[4]["house_number"] is None


def test_address_columns_refuse_ragged_input() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        address_columns(["1 Main St"], [], [""], [""], [""])
