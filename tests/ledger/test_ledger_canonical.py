"""Canonical JSON: the RFC 8785 examples, and properties over arbitrary values."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custos.errors import LedgerError
from custos.ledger.canonical import dumps, encode, number

RFC8785_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC8785_OUTPUT = (
    r"""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"""
    r""""string":"€$\u000f\nA'B\"\\\\\"/"}"""
)


def test_rfc8785_section_3_2_example() -> None:
    assert dumps(json.loads(RFC8785_INPUT)) == RFC8785_OUTPUT


def test_rfc8785_keys_sort_by_utf16_code_units() -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(dumps(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (-1.5e-7, "-1.5e-7"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"),
        (295147905179352830000.0, "295147905179352830000"),
        (0.1, "0.1"),
    ],
)
def test_numbers_are_written_as_ecmascript_writes_them(value: float, text: str) -> None:
    assert number(value) == text


@pytest.mark.parametrize(
    "bad",
    [math.nan, math.inf, 2**53 + 1, {1: "x"}, b"bytes", {"s": "\ud800"}, object()],
)
def test_values_json_cannot_carry_are_refused(bad: object) -> None:
    with pytest.raises(LedgerError, match="canonical JSON"):
        encode(bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _normal(value: object) -> object:
    """JSON equality: every number is an IEEE double, so 1 and 1.0 are the same."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    return value


@given(json_values)
def test_canonical_form_parses_back_to_the_same_value(value: object) -> None:
    text = dumps(value)
    parsed = json.loads(text, parse_int=float)
    assert _normal(parsed) == _normal(value)
    assert dumps(parsed) == text


@given(st.dictionaries(st.text(max_size=5), st.integers(0, 9), max_size=8))
def test_key_order_of_the_input_does_not_matter(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert encode(value) == encode(reordered)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_round_trips_exactly(value: float) -> None:
    assert float(number(value)) == value
