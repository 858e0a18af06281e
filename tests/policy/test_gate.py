"""The gate: one named test per DOMAIN.md failure mode it covers, and the verdict's shape."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_builders import TODAY, VALID_SUBJECT, letters, valid_request

from custos.model import ReasonCode, Request
from custos.policy.gate import BatchContext, batch_context, evaluate, evaluate_batch, reason_key
from custos.policy.pack import Pack
from custos.policy.roster import Roster

R = ReasonCode


def codes(request: Request, pack: Pack, roster: Roster, **kw: str) -> tuple[ReasonCode, ...]:
    return evaluate(request, pack, roster, today=TODAY, **kw).reason_codes


# --- a valid request, and the verdict's shape -------------------------------------------------


def test_valid_request_passes(pack: Pack, roster: Roster) -> None:
    result = evaluate(valid_request(), pack, roster, today=TODAY)
    assert result.passed
    assert result.failed_rules == ()
    assert result.primary_reason is None
    assert result.pack == pack.ref
    assert result.request_id == "REQ-00001"


def test_multiple_failures_are_all_listed_in_pack_order(pack: Pack, roster: Roster) -> None:
    request = valid_request(
        first_name="",
        purpose="civil",
        statute="26 U.S.C. § 7201",
        tax_periods="2099",
        requesting_official="ICE-9999",
    )
    result = evaluate(request, pack, roster, today=TODAY)
    assert result.reason_codes == (
        R.MISSING_NAME,
        R.PURPOSE_NOT_CRIMINAL,
        R.INVALID_TAX_PERIODS,
        R.STATUTE_NOT_AUTHORIZED,
        R.UNAUTHORIZED_OFFICIAL,
    )
    assert result.primary_reason is R.MISSING_NAME
    assert result.failed_rules == (
        "subject-name",
        "purpose-criminal",
        "tax-periods-valid",
        "statute-allowed",
        "official-authorized",
    )


def test_primary_reason_follows_the_packs_order(pack: Pack, roster: Roster) -> None:
    reordered = replace(pack, rules=tuple(reversed(pack.rules)))
    request = valid_request(first_name="", purpose="civil")
    assert codes(request, reordered, roster)[0] is R.PURPOSE_NOT_CRIMINAL
    assert codes(request, pack, roster)[0] is R.MISSING_NAME


def test_batch_results_keep_input_order(pack: Pack, roster: Roster) -> None:
    batch = [valid_request(row=i, purpose="civil" if i % 2 else "criminal") for i in range(1, 9)]
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    assert [r.row for r in results] == list(range(1, 9))
    assert [r.passed for r in results] == [i % 2 == 0 for i in range(1, 9)]


def test_batch_rows_must_be_distinct(pack: Pack, roster: Roster) -> None:
    with pytest.raises(ValueError, match="distinct row"):
        evaluate_batch([valid_request(row=1), valid_request(row=1)], pack, roster, today=TODAY)


# --- (i)(2)(B)(i): name and address; DOMAIN failure 1 -----------------------------------------


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_missing_name(pack: Pack, roster: Roster, field: str) -> None:
    assert codes(valid_request(**{field: "  "}), pack, roster) == (R.MISSING_NAME,)


def test_missing_street_is_missing_address_only(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street=" "), pack, roster) == (R.MISSING_ADDRESS,)


@pytest.mark.parametrize(
    "street",
    [
        "Failed to Provide",
        "Unknown Address",
        "NA NA",
        "Don't Care 12345",
        "Unknown",
        "N/A",
        "None",
        "Refused",
        "Not Provided",
        "No Address",
        "Homeless",
        "TBD",
        "XXX",
    ],
)
def test_placeholder_address_is_insufficient(pack: Pack, roster: Roster, street: str) -> None:
    assert codes(valid_request(street=street), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_failed_to_provide(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street="Failed to Provide"), pack, roster) == (
        R.INSUFFICIENT_ADDRESS,
    )


def test_unknown_address(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street="UNKNOWN ADDRESS"), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_na_na(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street="NA NA"), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_dont_care_12345_fails_although_it_has_five_digits(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street="Don't Care 12345", zip="12345"), pack, roster) == (
        R.INSUFFICIENT_ADDRESS,
    )


def test_zip_only_street_is_insufficient(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(street="60608"), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_zip_only_without_street_is_missing_address(pack: Pack, roster: Roster) -> None:
    request = valid_request(street="", city="", state="", zip="60608")
    assert codes(request, pack, roster) == (R.MISSING_ADDRESS,)


def test_city_state_only_is_insufficient(pack: Pack, roster: Roster) -> None:
    request = valid_request(street="Chicago, IL", city="Chicago", state="IL", zip="")
    assert codes(request, pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_city_state_only_without_street_is_missing_address(pack: Pack, roster: Roster) -> None:
    request = valid_request(street="", city="Chicago", state="IL", zip="")
    assert codes(request, pack, roster) == (R.MISSING_ADDRESS,)


@pytest.mark.parametrize(
    "street", ["PO Box 1234", "P.O. Box 55", "Post Office Box 9", "General Delivery"]
)
def test_po_box_only_is_insufficient(pack: Pack, roster: Roster, street: str) -> None:
    assert codes(valid_request(street=street), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


@pytest.mark.parametrize(
    "street",
    ["Harris County Jail", "Cibola County Correctional Center", "Cook County Jail, Division 9"],
)
def test_jail_without_street_number_is_insufficient(
    pack: Pack, roster: Roster, street: str
) -> None:
    assert codes(valid_request(street=street), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_jail_with_building_location_passes(pack: Pack, roster: Roster) -> None:
    request = valid_request(street="2700 S California Ave", city="Chicago", state="IL", zip="60608")
    assert codes(request, pack, roster) == ()


@pytest.mark.parametrize("street", ["W 18th St Apt 3", "Main Street", "1402 Apt 3"])
def test_no_street_number_or_name_is_insufficient(pack: Pack, roster: Roster, street: str) -> None:
    assert codes(valid_request(street=street), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_neither_zip_nor_city_and_state_is_insufficient(pack: Pack, roster: Roster) -> None:
    request = valid_request(city="Chicago", state="", zip="")
    assert codes(request, pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_city_and_state_without_zip_pass(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(zip="", state="Illinois"), pack, roster) == ()


def test_zip_plus_four_passes(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(zip="60608-1234"), pack, roster) == ()


@pytest.mark.parametrize("zip_code", ["00000", "6060", "606O8", "60608-12"])
def test_zip_that_does_not_exist_is_insufficient(pack: Pack, roster: Roster, zip_code: str) -> None:
    assert codes(valid_request(zip=zip_code), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_zip_in_another_state_is_insufficient(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(state="TX"), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


def test_state_that_is_no_us_state_is_insufficient(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(state="ZZ", zip=""), pack, roster) == (R.INSUFFICIENT_ADDRESS,)


# --- (i)(2)(A): criminal purpose; DOMAIN failure 3 --------------------------------------------


@pytest.mark.parametrize("purpose", ["civil", "civil immigration enforcement", "removal", ""])
def test_civil_or_blank_purpose_is_rejected(pack: Pack, roster: Roster, purpose: str) -> None:
    assert codes(valid_request(purpose=purpose), pack, roster) == (R.PURPOSE_NOT_CRIMINAL,)


@pytest.mark.parametrize(
    "purpose",
    [
        "criminal",
        " Criminal Investigation ",
        "CRIMINAL PROCEEDING",
        "criminal investigation or proceeding",
    ],
)
def test_criminal_purposes_pass(pack: Pack, roster: Roster, purpose: str) -> None:
    assert codes(valid_request(purpose=purpose), pack, roster) == ()


# --- (i)(2)(B)(ii)-(iv): periods, statute, reason ----------------------------------------------


def test_missing_statute(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(statute=""), pack, roster) == (R.MISSING_STATUTE,)


def test_missing_tax_periods(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(tax_periods=" "), pack, roster) == (R.MISSING_TAX_PERIODS,)


def test_missing_reason(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(reason=""), pack, roster) == (R.MISSING_REASON,)


@pytest.mark.parametrize(
    ("periods", "why"),
    [
        ("2099", "future"),
        ("2027", "next year"),
        ("1990", "too old"),
        ("2015", "one year past the lookback"),
        ("FY23", "garbage"),
        ("last year", "garbage"),
        ("20233", "garbage"),
        ("2023-2021", "reversed range"),
        ("2022;;2023", "empty item"),
        ("2021-2027", "range into the future"),
    ],
)
def test_invalid_tax_periods(pack: Pack, roster: Roster, periods: str, why: str) -> None:
    assert codes(valid_request(tax_periods=periods), pack, roster) == (R.INVALID_TAX_PERIODS,), why


@pytest.mark.parametrize(
    "periods", ["2023", "2022;2023", "2021-2023", " 2016 ; 2026 ", "2019 - 2024"]
)
def test_valid_tax_periods(pack: Pack, roster: Roster, periods: str) -> None:
    assert codes(valid_request(tax_periods=periods), pack, roster) == ()


@pytest.mark.parametrize(
    "statute", ["8 U.S.C. § 1227(a)", "8 U.S.C. § 1182", "26 U.S.C. § 7201", "8 USC 1253"]
)
def test_statute_not_allowed(pack: Pack, roster: Roster, statute: str) -> None:
    assert codes(valid_request(statute=statute), pack, roster) == (R.STATUTE_NOT_AUTHORIZED,)


@pytest.mark.parametrize(
    "statute",
    [
        "8 U.S.C. § 1253(a)(1)",
        "8 USC 1253(a)(1)",
        "8 U.S.C. 1253(a)(1)",
        "8 U.S.C. § 1326(a)",
        "8 usc §1324(a)(1)(A)",
    ],
)
def test_allowed_statute_forms_pass(pack: Pack, roster: Roster, statute: str) -> None:
    assert codes(valid_request(statute=statute), pack, roster) == ()


def test_one_disallowed_statute_among_several_fails(pack: Pack, roster: Roster) -> None:
    request = valid_request(statute="8 U.S.C. § 1253(a)(1); 8 U.S.C. § 1227(a)")
    assert codes(request, pack, roster) == (R.STATUTE_NOT_AUTHORIZED,)


# --- boilerplate reasons; DOMAIN failure 3 -----------------------------------------------------


BOILERPLATE = "Subject is subject to a final order of removal and resides at the address given."


def _batch(n: int, reason_for: dict[int, str]) -> list[Request]:
    return [
        valid_request(row=i, **({"reason": reason_for[i]} if i in reason_for else {}))
        for i in range(1, n + 1)
    ]


def test_boilerplate_reason_fails_every_row_carrying_it(pack: Pack, roster: Roster) -> None:
    limit = pack.boilerplate_min_rows
    batch = _batch(60, {i: BOILERPLATE for i in range(1, limit + 2)})
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    failed = [r.row for r in results if r.reason_codes == (R.BOILERPLATE_REASON,)]
    assert failed == list(range(1, limit + 2))
    assert all(r.passed for r in results[limit + 1 :])


def test_reason_repeated_up_to_the_limit_passes(pack: Pack, roster: Roster) -> None:
    batch = _batch(60, {i: BOILERPLATE for i in range(1, pack.boilerplate_min_rows + 1)})
    assert all(r.passed for r in evaluate_batch(batch, pack, roster, today=TODAY))


def test_near_verbatim_boilerplate_variants_count_together(pack: Pack, roster: Roster) -> None:
    variants = {
        i: f"subject {i} IS subject to a final-order of removal, and resides at the address "
        f"given (file #{i * 7})"
        for i in range(1, pack.boilerplate_min_rows + 2)
    }
    assert len(set(variants.values())) == len(variants)
    assert len({reason_key(v) for v in variants.values()}) == 1
    results = evaluate_batch(_batch(40, variants), pack, roster, today=TODAY)
    assert [r.row for r in results if not r.passed] == sorted(variants)


def test_boilerplate_limit_grows_with_the_batch(pack: Pack, roster: Roster) -> None:
    rows = 2000
    limit = int(pack.boilerplate_share * rows)
    assert limit > pack.boilerplate_min_rows
    at_limit = evaluate_batch(
        _batch(rows, dict.fromkeys(range(1, limit + 1), BOILERPLATE)), pack, roster, today=TODAY
    )
    assert all(r.passed for r in at_limit)
    over = evaluate_batch(
        _batch(rows, dict.fromkeys(range(1, limit + 2), BOILERPLATE)), pack, roster, today=TODAY
    )
    assert sum(not r.passed for r in over) == limit + 1


def test_blank_reasons_are_missing_not_boilerplate(pack: Pack, roster: Roster) -> None:
    results = evaluate_batch(_batch(40, dict.fromkeys(range(1, 31), "")), pack, roster, today=TODAY)
    assert {r.reason_codes for r in results[:30]} == {(R.MISSING_REASON,)}


# --- the roster: who may request; DOMAIN failure 2 ---------------------------------------------


@pytest.mark.parametrize("official", ["ICE-9999", "CBP-0042", "DIRECTOR", ""])
def test_unauthorised_official(pack: Pack, roster: Roster, official: str) -> None:
    request = valid_request(requesting_official=official)
    assert codes(request, pack, roster) == (R.UNAUTHORIZED_OFFICIAL,)


def test_official_id_is_matched_trimmed_and_casefolded(pack: Pack, roster: Roster) -> None:
    assert codes(valid_request(requesting_official=" ice-0001 "), pack, roster) == ()


def test_official_of_another_agency_is_unauthorised_when_agency_given(
    pack: Pack, roster: Roster
) -> None:
    request = valid_request(requesting_official="FBI-0001")
    assert codes(request, pack, roster) == ()
    assert codes(request, pack, roster, agency="DHS-ICE") == (R.UNAUTHORIZED_OFFICIAL,)
    assert codes(request, pack, roster, agency="doj-fbi") == ()


def test_request_agency_column_is_checked_too(pack: Pack, roster: Roster) -> None:
    request = valid_request(requesting_official="FBI-0001", agency="DHS-ICE")
    assert codes(request, pack, roster) == (R.UNAUTHORIZED_OFFICIAL,)
    assert codes(replace(request, agency="DOJ-FBI"), pack, roster, agency="DHS-ICE") == (
        R.UNAUTHORIZED_OFFICIAL,
    )


def test_official_certifying_too_many_subjects(pack: Pack, roster: Roster) -> None:
    limit = pack.max_subjects_per_official
    batch = [
        valid_request(row=i, last_name=f"Lopez {letters(i)}", requesting_official="ICE-0002")
        for i in range(1, limit + 2)
    ] + [valid_request(row=limit + 2)]
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    assert {r.reason_codes for r in results[:-1]} == {(R.IMPLAUSIBLE_CERTIFICATION,)}
    assert results[-1].passed


def test_official_at_the_certification_limit_passes(pack: Pack, roster: Roster) -> None:
    batch = [
        valid_request(row=i, last_name=f"Lopez {letters(i)}")
        for i in range(1, pack.max_subjects_per_official + 1)
    ]
    assert all(r.passed for r in evaluate_batch(batch, pack, roster, today=TODAY))


def test_certification_counts_distinct_subjects(pack: Pack, roster: Roster) -> None:
    batch = [valid_request(row=i) for i in range(1, pack.max_subjects_per_official + 20)]
    assert all(r.subject == VALID_SUBJECT for r in batch)
    context = batch_context(batch, pack)
    assert context.implausible_officials == frozenset()


def test_unauthorised_official_over_the_limit_fails_both_rules(pack: Pack, roster: Roster) -> None:
    batch = [
        valid_request(row=i, last_name=f"Perez {letters(i)}", requesting_official="DIRECTOR")
        for i in range(1, pack.max_subjects_per_official + 2)
    ]
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    assert {r.reason_codes for r in results} == {
        (R.UNAUTHORIZED_OFFICIAL, R.IMPLAUSIBLE_CERTIFICATION)
    }


# --- accounting integrity: duplicate request ids -----------------------------------------------


def test_duplicate_request_id_fails_later_rows_only(pack: Pack, roster: Roster) -> None:
    first = valid_request(row=1, request_id="A-1")
    batch = [
        first,
        valid_request(row=2, request_id="A-1"),
        valid_request(row=3, request_id="B-1"),
        valid_request(row=4, request_id=" A-1", purpose="civil"),
    ]
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    assert [r.reason_codes for r in results] == [
        (),
        (R.DUPLICATE_REQUEST_ID,),
        (),
        (R.PURPOSE_NOT_CRIMINAL, R.DUPLICATE_REQUEST_ID),
    ]


# --- single requests (the real-time route) ----------------------------------------------------


def test_evaluate_without_context_skips_batch_rules(pack: Pack, roster: Roster) -> None:
    request = valid_request(reason=BOILERPLATE)
    assert codes(request, pack, roster) == ()
    context = BatchContext(boilerplate_reasons=frozenset({reason_key(BOILERPLATE)}))
    result = evaluate(request, pack, roster, today=TODAY, context=context)
    assert result.reason_codes == (R.BOILERPLATE_REASON,)


def test_evaluate_with_context_agrees_with_the_batch(pack: Pack, roster: Roster) -> None:
    batch = [
        *_batch(40, {i: BOILERPLATE for i in range(1, 30)}),
        valid_request(row=41, request_id="REQ-00002"),
    ]
    context = batch_context(batch, pack)
    one_by_one = [evaluate(r, pack, roster, today=TODAY, context=context) for r in batch]
    assert one_by_one == evaluate_batch(batch, pack, roster, today=TODAY)


# --- robustness -------------------------------------------------------------------------------

_field = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "criminal", "8 USC 1326(a)", "2023", "ICE-0001", "NA NA", "60608", "IL"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[_field] * 9), max_size=12))
def test_every_request_gets_exactly_one_verdict(
    pack: Pack, roster: Roster, rows: list[tuple[str, ...]]
) -> None:
    batch = [
        Request(
            row=i,
            line=i + 1,
            request_id=rid,
            purpose=purpose,
            statute=statute,
            tax_periods=periods,
            reason=reason,
            requesting_official=official,
            subject=replace(VALID_SUBJECT, street=street, zip=zip_code, state=state),
        )
        for i, (
            rid,
            purpose,
            statute,
            periods,
            reason,
            official,
            street,
            zip_code,
            state,
        ) in enumerate(rows, start=1)
    ]
    results = evaluate_batch(batch, pack, roster, today=TODAY)
    assert [r.row for r in results] == [r.row for r in batch]
    for result in results:
        rules = {rule.id: rule.reason for rule in pack.rules}
        assert result.reason_codes == tuple(rules[f] for f in result.failed_rules)
        order = [rule.id for rule in pack.rules]
        assert list(result.failed_rules) == sorted(result.failed_rules, key=order.index)
