"""The types every stage shares.

A stage takes and returns these; nothing else crosses a stage boundary except
Arrow/DuckDB tables for bulk work. They are frozen so that a value recorded in
the ledger cannot change after it was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReasonCode(StrEnum):
    """The closed set of reasons a request is not answered with a disclosure.

    Each member's one-line meaning is in `REASON_MEANINGS`, which the docs are
    generated from and checked against.
    """

    MALFORMED_ROW = "malformed_row"
    MISSING_NAME = "missing_name"
    MISSING_ADDRESS = "missing_address"
    INSUFFICIENT_ADDRESS = "insufficient_address"
    PURPOSE_NOT_CRIMINAL = "purpose_not_criminal"
    MISSING_TAX_PERIODS = "missing_tax_periods"
    INVALID_TAX_PERIODS = "invalid_tax_periods"
    MISSING_STATUTE = "missing_statute"
    STATUTE_NOT_AUTHORIZED = "statute_not_authorized"
    MISSING_REASON = "missing_reason"
    BOILERPLATE_REASON = "boilerplate_reason"
    UNAUTHORIZED_OFFICIAL = "unauthorized_official"
    IMPLAUSIBLE_CERTIFICATION = "implausible_certification"
    DUPLICATE_REQUEST_ID = "duplicate_request_id"
    DISCLOSURES_SUSPENDED = "disclosures_suspended"


REASON_MEANINGS: dict[ReasonCode, str] = {
    ReasonCode.MALFORMED_ROW: "The row could not be read as a request (bad encoding, wrong number of fields, not an object).",
    ReasonCode.MISSING_NAME: "The subject's first or last name is missing; (i)(2)(B)(i) requires the taxpayer's name.",
    ReasonCode.MISSING_ADDRESS: "The subject's address is missing; (i)(2)(B)(i) requires the taxpayer's address.",
    ReasonCode.INSUFFICIENT_ADDRESS: "The address is a placeholder, a PO box, or lacks a house number, a street name, or a valid ZIP or city and state.",
    ReasonCode.PURPOSE_NOT_CRIMINAL: "The stated purpose is not a criminal investigation or proceeding; (i)(2)(A) covers criminal matters only.",
    ReasonCode.MISSING_TAX_PERIODS: "No taxable period is stated; (i)(2)(B)(ii) requires the taxable period(s).",
    ReasonCode.INVALID_TAX_PERIODS: "The taxable periods are not years, lie in the future, or fall outside the pack's lookback.",
    ReasonCode.MISSING_STATUTE: "No statutory authority is stated; (i)(2)(B)(iii) requires it.",
    ReasonCode.STATUTE_NOT_AUTHORIZED: "The statute is not on the pack's list of specifically designated federal criminal statutes.",
    ReasonCode.MISSING_REASON: "No specific reason is stated; (i)(2)(B)(iv) requires the reason the disclosure is relevant.",
    ReasonCode.BOILERPLATE_REASON: "The reason is repeated, verbatim or nearly, across more than the pack's share of the batch, so it is not specific.",
    ReasonCode.UNAUTHORIZED_OFFICIAL: "The requesting official is not on the roster as authorised to request for the agency.",
    ReasonCode.IMPLAUSIBLE_CERTIFICATION: "The official certifies more subjects in the batch than the pack allows one person to be personally engaged with.",
    ReasonCode.DUPLICATE_REQUEST_ID: "The request id already appeared earlier in the batch; only the first row is considered.",
    ReasonCode.DISCLOSURES_SUSPENDED: "Disclosures to this agency are suspended (a hold, or safeguards not certified).",
}


class Outcome(StrEnum):
    """The custodian's internal outcome of one request."""

    DISCLOSED = "disclosed"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"
    REJECTED = "rejected"
    HELD = "held"


class ResponseStatus(StrEnum):
    """What the requester is told; it never distinguishes no_match from ambiguous."""

    DISCLOSED = "disclosed"
    NOT_DISCLOSED = "not_disclosed"
    REJECTED = "rejected"


REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id",
    "case_number",
    "purpose",
    "statute",
    "tax_periods",
    "reason",
    "requesting_official",
)
SUBJECT_COLUMNS: tuple[str, ...] = (
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "dob",
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "tin",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "request_id",
    "first_name",
    "last_name",
    "street",
)
"""Columns without which a file is not a request batch at all (refused whole).

Every other contract column may be absent from the file; the gate then fails
the rows for the missing element, so the requester learns which element.
"""


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a request names, as the requester wrote it (unstandardised)."""

    first_name: str = ""
    middle_name: str = ""
    last_name: str = ""
    suffix: str = ""
    dob: str = ""
    street: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    tin: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    """One row of a batch that could be read.

    `row` is the 1-based position of the row among the batch's data rows and
    `line` the physical line of the file where it starts, so a requester can
    find it. `agency` comes from the batch envelope, or from an `agency`
    column when the file carries one.
    """

    row: int
    line: int
    request_id: str
    case_number: str = ""
    purpose: str = ""
    statute: str = ""
    tax_periods: str = ""
    reason: str = ""
    requesting_official: str = ""
    agency: str = ""
    subject: Subject = field(default_factory=Subject)


@dataclass(frozen=True, slots=True)
class MalformedRow:
    """A row that could not be read; it still gets exactly one outcome."""

    row: int
    line: int
    error: str
    request_id: str = ""


@dataclass(frozen=True, slots=True)
class PackRef:
    """Identifies the exact policy pack a decision was made under."""

    id: str
    version: str
    sha256: str


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's verdict on one row: every failed rule, the first is primary."""

    row: int
    request_id: str
    failed_rules: tuple[str, ...]
    reason_codes: tuple[ReasonCode, ...]
    pack: PackRef

    @property
    def passed(self) -> bool:
        return not self.reason_codes

    @property
    def primary_reason(self) -> ReasonCode | None:
        return self.reason_codes[0] if self.reason_codes else None


@dataclass(frozen=True, slots=True)
class Decision:
    """The custodian's decision on one row: what happened and on what evidence.

    `tin` is set only for a disclosure; `candidates` only for an ambiguous
    request (the taxpayers an officer must choose between). Neither ever
    reaches the requester.
    """

    row: int
    request_id: str
    outcome: Outcome
    reason_codes: tuple[ReasonCode, ...] = ()
    tin: str = ""
    candidates: tuple[str, ...] = ()
    match_probability: float | None = None
    margin: float | None = None


@dataclass(frozen=True, slots=True)
class DisclosedAddress:
    """The only taxpayer data (i)(2) lets leave: the current address and its year."""

    street: str
    unit: str
    city: str
    state: str
    zip: str
    as_of_tax_year: int


@dataclass(frozen=True, slots=True)
class Response:
    """The requester's view of one row.

    `reason_code` is set only for `rejected`: it is about the request itself.
    A `not_disclosed` response carries nothing, so it cannot reveal whether
    the person is in the master file or waiting for review.
    """

    request_id: str
    status: ResponseStatus
    reason_code: str = ""
    address: DisclosedAddress | None = None
