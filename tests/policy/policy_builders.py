"""Builders for the gate tests: a small roster and a valid request to spoil one field at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from custos.model import Request, Subject

TODAY = date(2026, 3, 1)

ROSTER_TOML = """
[meta]
as_of = 2025-08-01

[[agencies]]
id = "DHS-ICE"
name = "U.S. Immigration and Customs Enforcement"
head = "Director, U.S. Immigration and Customs Enforcement"
inspector_general = "DHS Office of Inspector General"
safeguards_certified = 2025-04-07
safeguards_expires = 2026-04-07

  [[agencies.officials]]
  id = "ICE-0001"
  name = "Special Agent A. Example"
  title = "Special Agent, Homeland Security Investigations"
  recipient = true

  [[agencies.officials]]
  id = "ICE-0002"
  name = "Special Agent B. Example"
  recipient = true

[[agencies]]
id = "DOJ-FBI"
name = "Federal Bureau of Investigation"

  [[agencies.officials]]
  id = "FBI-0001"
  name = "Special Agent C. Example"
"""

VALID_SUBJECT = Subject(
    first_name="María",
    middle_name="G",
    last_name="Hernández López",
    dob="1984-02-11",
    street="1402 W 18th St Apt 3",
    city="Chicago",
    state="IL",
    zip="60608",
)


def letters(n: int) -> str:
    """A word unique to n ("b", "bc"...), so generated reasons differ in more than digits."""
    word = ""
    while True:
        n, k = divmod(n, 26)
        word = "abcdefghijklmnopqrstuvwxyz"[k] + word
        if n == 0:
            return word


def valid_request(row: int = 1, **changes: Any) -> Request:
    """A request that passes every rule; keyword arguments spoil one field at a time.

    Subject fields may be given directly (street="...") and go into the subject.
    """
    subject_fields = {k: changes.pop(k) for k in list(changes) if hasattr(VALID_SUBJECT, k)}
    base = Request(
        row=row,
        line=row + 1,
        request_id=f"REQ-{row:05d}",
        case_number=f"HSI-2025-{row:05d}",
        purpose="criminal investigation",
        statute="8 U.S.C. § 1253(a)(1)",
        tax_periods="2022;2023",
        reason=f"Subject of file {letters(row)} failed to depart after the final order in case "
        f"{row}; address needed to serve the arrest warrant.",
        requesting_official="ICE-0001",
        subject=replace(VALID_SUBJECT, **subject_fields),
    )
    return replace(base, **changes)
