"""Which holds stop a request from being answered, including the ones nobody placed.

Two things suspend disclosures: a hold an officer placed (a court order, a
finding, a pending incident) and an agency whose § 6103(p)(4) safeguards
certification in the roster is missing or has expired — that one is never
placed by hand and lifts itself when the roster is renewed. Both are checked
at the last step before an answer is published, and again before a held
request is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from custos.policy.roster import Roster
from custos.store.holds import Hold

SAFEGUARDS = "safeguards"
"""The reason recorded when the roster, not an officer, holds a request."""


def holding(
    holds: Sequence[Hold],
    roster: Roster,
    *,
    agency: str,
    statute: str,
    batch: str,
    today: date,
) -> tuple[str, ...]:
    """Why a request of this agency, statute and batch may not be answered now; empty if it may.

    Each reason is `hold:<id>` for a hold in force or `safeguards` for the
    roster's certification.
    """
    reasons = [
        f"hold:{h.id}"
        for h in holds
        if h.active and h.covers(agency=agency, statute=statute, batch=batch)
    ]
    entry = roster.agency(agency)
    if entry is None or not entry.safeguards_current(today):
        reasons.append(SAFEGUARDS)
    return tuple(reasons)
