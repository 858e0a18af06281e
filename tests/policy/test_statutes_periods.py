"""Statute citations and taxable periods, the two free-text fields the gate must read exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custos.policy.periods import period_problem
from custos.policy.statutes import cited_statutes, normalize_statute


@pytest.mark.parametrize(
    "written",
    [
        "8 U.S.C. § 1253(a)(1)",
        "8 USC 1253(a)(1)",
        "8 U.S.C. 1253(a)(1)",
        "8 u.s.c. §1253(a)(1).",
        "8 U. S. C. Sec. 1253 (a)(1)",
        "Title 8, United States Code, Section 1253(a)(1)",
        "8  usc   1253( a )(1)",
    ],
)
def test_statute_spellings_share_one_canonical_form(written: str) -> None:
    assert normalize_statute(written) == "8 usc 1253(a)(1)"


def test_different_statutes_stay_different() -> None:
    forms = {
        normalize_statute(s)
        for s in [
            "8 U.S.C. § 1253(a)(1)",
            "8 U.S.C. § 1253(a)",
            "8 U.S.C. § 1227(a)",
            "26 U.S.C. § 7201",
        ]
    }
    assert len(forms) == 4


def test_several_statutes_split_on_semicolons() -> None:
    assert cited_statutes("8 USC 1326(a); 8 U.S.C. § 1253(a)(1);") == [
        "8 usc 1326(a)",
        "8 usc 1253(a)(1)",
    ]


@given(st.text(max_size=60))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize_statute(text)
    assert normalize_statute(once) == once


@pytest.mark.parametrize(
    "periods", ["2026", "2016", "2022;2023", "2021-2023", " 2019 - 2024 ; 2025 "]
)
def test_valid_periods(periods: str) -> None:
    assert period_problem(periods, 2026, 10) is None


@pytest.mark.parametrize(
    ("periods", "fragment"),
    [
        ("2027", "future"),
        ("2015", "years back"),
        ("2023-2021", "backwards"),
        ("FY23", "not a year"),
        ("２０２３", "not a year"),
        ("2023,2024", "not a year"),
        ("", "not a year"),
    ],
)
def test_invalid_periods(periods: str, fragment: str) -> None:
    problem = period_problem(periods, 2026, 10)
    assert problem is not None and fragment in problem


@given(st.text(max_size=30), st.integers(1900, 2200), st.integers(0, 50))
def test_period_check_never_raises(text: str, year: int, lookback: int) -> None:
    problem = period_problem(text, year, lookback)
    assert problem is None or isinstance(problem, str)
