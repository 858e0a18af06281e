"""Disclosure profiles: the permitted fields, and nothing else.

The requester's response is built from a `DisclosedAddress`, a type that has
no room for anything but the profile's fields, so no other return
information can be serialised by mistake. Under § 6103(i)(2) the profile is
the taxpayer's current address (taxpayer identity, not taxpayer return
information) and the tax year it is current as of.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

import duckdb

from custos.model import Decision, DisclosedAddress, Outcome, Response, ResponseStatus


@dataclass(frozen=True, slots=True)
class DisclosureProfile:
    """A named allow-list of the fields a statute lets leave the system."""

    id: str
    fields: tuple[str, ...]


ADDRESS_CURRENT = DisclosureProfile(
    id="address-current", fields=tuple(f.name for f in fields(DisclosedAddress))
)
PROFILES = {ADDRESS_CURRENT.id: ADDRESS_CURRENT}

SOURCE_PRIORITY = ("change_of_address", "return", "irs_determined", "third_party")
"""Within one tax year, which address is "last known": a change of address the
taxpayer notified wins over the return, which wins over what the custodian
determined or a third party reported (the order of Rev. Proc. 2010-16)."""


def current_addresses(
    con: duckdb.DuckDBPyConnection, addresses: str, tins: Iterable[str]
) -> dict[str, DisclosedAddress]:
    """The current address of each TIN: latest tax year, then source priority.

    `addresses` names a DuckDB table or view with the world contract's
    columns. Only the profile's columns are selected, so nothing else is
    ever read into the disclosure path.
    """
    wanted = sorted(set(tins))
    if not wanted:
        return {}
    priority = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PRIORITY))
    rows = con.execute(
        f"""
        SELECT tin, street, unit, city, state, zip, tax_year
        FROM (SELECT * FROM {addresses} WHERE CAST(tin AS VARCHAR) IN (SELECT unnest(?)))
        QUALIFY row_number() OVER (
            PARTITION BY tin
            ORDER BY CAST(tax_year AS INTEGER) DESC,
                     CASE source {priority} ELSE {len(SOURCE_PRIORITY)} END,
                     street, unit
        ) = 1
        """,
        [wanted],
    ).fetchall()
    return {
        str(tin): DisclosedAddress(
            street=_text(street),
            unit=_text(unit),
            city=_text(city),
            state=_text(state),
            zip=_text(zip_),
            as_of_tax_year=int(year),
        )
        for tin, street, unit, city, state, zip_, year in rows
    }


def _text(value: object) -> str:
    return "" if value is None else str(value)


def respond(decision: Decision, address: DisclosedAddress | None) -> Response:
    """The requester's view of one decision.

    `no_match`, `ambiguous` and `held` all read `not_disclosed` with no
    reason, so a requester cannot tell an absent person from a doubtful one
    or from one waiting for an officer. A disclosure without an address is a
    programming error, never a silent empty answer.
    """
    if decision.outcome is Outcome.DISCLOSED:
        if address is None:
            raise ValueError(f"disclosure of {decision.request_id} has no current address")
        return Response(decision.request_id, ResponseStatus.DISCLOSED, address=address)
    if decision.outcome is Outcome.REJECTED:
        primary = decision.reason_codes[0].value if decision.reason_codes else ""
        return Response(decision.request_id, ResponseStatus.REJECTED, reason_code=primary)
    return Response(decision.request_id, ResponseStatus.NOT_DISCLOSED)


def responses(
    decisions: Sequence[Decision], addresses: dict[str, DisclosedAddress]
) -> list[Response]:
    """One response per decision, in the decisions' order."""
    return [
        respond(d, addresses.get(d.tin) if d.outcome is Outcome.DISCLOSED else None)
        for d in decisions
    ]
