"""Hand-built standardised tables and a hand-set model for the match tests.

People and places are written as a requester or a return would write them
and go through the real standardisers; the model's m and u are set by hand,
so these tests pin the linking and the decision rule, not the training.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from custos.match.prepare import standardize_master, standardize_requests
from custos.match.training import base_settings


@dataclass(frozen=True)
class Place:
    """An address as a requester or a return would write it."""

    street: str
    zip: str
    city: str = "Springfield"
    state: str = "IL"
    unit: str = ""


@dataclass(frozen=True)
class Person:
    """A taxpayer (with an address history) or the subject of a request, as written."""

    first: str
    last: str
    middle: str = ""
    suffix: str = ""
    dob: str = ""
    tin: str = ""
    block: bool = False
    history: tuple[tuple[int, Place], ...] = field(default_factory=tuple)


def world_tables(*people: Person) -> tuple[pa.Table, pa.Table]:
    """Raw `taxpayers` and `addresses` tables, as a world folder holds them."""
    taxpayers = pa.Table.from_pylist(
        [
            {
                "tin": p.tin,
                "first_name": p.first,
                "middle_name": p.middle,
                "last_name": p.last,
                "suffix": p.suffix,
                "dob": p.dob,
                "disclosure_block": "true" if p.block else "false",
            }
            for p in people
        ]
    )
    addresses = pa.Table.from_pylist(
        [
            {
                "tin": p.tin,
                "tax_year": str(year),
                "street": a.street,
                "unit": a.unit,
                "city": a.city,
                "state": a.state,
                "zip": a.zip,
            }
            for p in people
            for year, a in p.history
        ]
    )
    return taxpayers, addresses


def master(*people: Person) -> pa.Table:
    """The standardised master file, through the real standardisers."""
    return standardize_master(*world_tables(*people))


def request_rows(*items: tuple[str, Person, Place]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "request_id": rid,
                "first_name": p.first,
                "middle_name": p.middle,
                "last_name": p.last,
                "suffix": p.suffix,
                "dob": p.dob,
                "street": a.street,
                "unit": a.unit,
                "city": a.city,
                "state": a.state,
                "zip": a.zip,
                "tin": p.tin,
            }
            for rid, p, a in items
        ]
    )


def requests(*items: tuple[str, Person, Place]) -> pa.Table:
    """Standardised requests (id, subject as written, at the address given)."""
    return standardize_requests(request_rows(*items))


# m and u per non-null level, in comparison order; plausible values, set by hand.
MANUAL_MU: dict[str, list[tuple[float, float]]] = {
    "given_name": [
        (0.85, 0.01),
        (0.05, 0.002),
        (0.02, 0.001),
        (0.02, 0.005),
        (0.0005, 0.002),
        (0.03, 0.003),
        (0.01, 0.005),
        (0.0195, 0.974),
    ],
    "surname": [
        (0.88, 0.002),
        (0.02, 0.0001),
        (0.04, 0.0005),
        (0.005, 0.00001),
        (0.03, 0.001),
        (0.01, 0.002),
        (0.015, 0.99439),
    ],
    "middle_name": [(0.8, 0.05), (0.15, 0.05), (0.05, 0.9)],
    "suffix": [(0.9, 0.3), (0.08, 0.4), (0.02, 0.3)],
    "dob": [(0.9, 0.00005), (0.03, 0.001), (0.05, 0.0005), (0.02, 0.99845)],
    "tin": [(0.97, 0.0000001), (0.03, 0.9999999)],
    "house_number": [(0.6, 0.005), (0.4, 0.995)],
    "street_name": [(0.6, 0.002), (0.05, 0.001), (0.35, 0.997)],
    "unit": [(0.5, 0.01), (0.3, 0.2), (0.2, 0.79)],
    "zip5": [(0.7, 0.001), (0.3, 0.999)],
    "city": [(0.7, 0.005), (0.3, 0.995)],
}


def manual_settings() -> dict[str, Any]:
    """The real comparisons and blocking with hand-set m and u.

    Without term-frequency adjustment: in a world of five taxpayers every
    name is "rare", and the adjustment would swamp the evidence.
    """
    settings = base_settings()
    settings["probability_two_random_records_match"] = 1e-5
    for comparison in settings["comparisons"]:
        values = iter(MANUAL_MU[comparison["output_column_name"]])
        for level in comparison["comparison_levels"]:
            level.pop("tf_adjustment_column", None)
            level.pop("tf_adjustment_weight", None)
            if not level.get("is_null_level"):
                level["m_probability"], level["u_probability"] = next(values)
    return settings
