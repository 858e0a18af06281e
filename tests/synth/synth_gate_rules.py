"""An independent, test-side reading of the pack rules (notes/pack-spec.md).

The generator promises that each invalid row trips exactly the rule its truth
label names (as primary reason) and that valid rows trip none. This module
checks that promise without using custos.policy, so the generator is tested
against the spec, not against the gate it is meant to test.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import usaddress
import zipcodes

PLACEHOLDERS = {
    "failed to provide",
    "unknown address",
    "unknown",
    "na na",
    "n/a",
    "na",
    "none",
    "refused",
    "not provided",
    "no address",
    "homeless",
    "tbd",
    "xxx",
}
PURPOSES = {
    "criminal",
    "criminal investigation",
    "criminal proceeding",
    "criminal investigation or proceeding",
}
STATUTES = {"8 usc 1253(a)(1)", "8 usc 1326(a)", "8 usc 1324(a)(1)(a)"}
_ZIPS = {z["zip_code"]: z["state"] for z in zipcodes.list_all()}
STATES = set(_ZIPS.values()) | {"AS", "MP", "FM", "MH", "PW"}
_PO = re.compile(r"\b(p\.?\s*o\.?\s*box|pob|post office box|general delivery)\b", re.I)


def normal_statute(text: str) -> str:
    s = text.casefold().replace("§", " ")
    s = re.sub(r"\bu\.?\s*s\.?\s*c\.?(?=\s|$|\d)", "usc", s)
    s = re.sub(r"\b(section|sec\.)", " ", s)
    return " ".join(s.split())


def normal_reason(text: str) -> str:
    s = re.sub(r"[\d\W_]+", " ", text.casefold())
    return " ".join(s.split())


def periods_ok(text: str, today: date) -> bool:
    for part in text.split(";"):
        part = part.strip()
        m = re.fullmatch(r"(\d{4})(?:-(\d{4}))?", part)
        if not m:
            return False
        a = int(m.group(1))
        b = int(m.group(2) or a)
        if a > b or b > today.year or a < today.year - 10:
            return False
    return True


def address_sufficient(street: str, city: str, state: str, zip5: str) -> bool:
    s = street.strip()
    folded = " ".join(re.sub(r"[^\w/ ]", "", s.casefold()).split())
    if folded in PLACEHOLDERS or s.isdigit() or folded.startswith(("dont care", "don t care")):
        return False
    if _PO.search(s):
        return False
    try:
        tags = usaddress.tag(s)[0]
    except usaddress.RepeatedLabelError:
        return False
    number = tags.get("AddressNumber", "")
    if "StreetName" not in tags or not re.fullmatch(r"\d+(-?[A-Za-z]|-\d+| \d/\d)?", number):
        return False  # usaddress reads "Santa Clara Dr" as number "Santa", "34th Cir" as "34th"
    if not zip5.strip() and not (city.strip() and state.strip()):
        return False
    if state.strip() and state.strip().upper() not in STATES:
        return False
    if zip5.strip():
        m = re.fullmatch(r"(\d{5})(-\d{4})?", zip5.strip())
        if not m or m.group(1) not in _ZIPS:
            return False
        if state.strip() and _ZIPS[m.group(1)] != state.strip().upper():
            return False
    return True


def failures(rows: list[dict[str, str]], roster: set[str], today: date) -> list[list[str]]:
    """The reason codes each row fails, in pack order (first = primary)."""
    n = len(rows)
    reasons = Counter(normal_reason(r["reason"]) for r in rows if r["reason"].strip())
    limit = max(25, 0.02 * n)
    subjects: dict[str, set[tuple[str, ...]]] = {}
    for r in rows:
        key = tuple(r[c].strip().casefold() for c in ("first_name", "last_name", "dob", "street"))
        subjects.setdefault(r["requesting_official"].strip().casefold(), set()).add(key)
    seen: set[str] = set()
    out = []
    for r in rows:
        f = []
        if not r["first_name"].strip() or not r["last_name"].strip():
            f.append("missing_name")
        if not r["street"].strip():
            f.append("missing_address")
        if not address_sufficient(r["street"], r["city"], r["state"], r["zip"]):
            f.append("insufficient_address")
        if r["purpose"].strip().casefold() not in PURPOSES:
            f.append("purpose_not_criminal")
        if not r["tax_periods"].strip():
            f.append("missing_tax_periods")
        elif not periods_ok(r["tax_periods"], today):
            f.append("invalid_tax_periods")
        if not r["statute"].strip():
            f.append("missing_statute")
        elif normal_statute(r["statute"]) not in STATUTES:
            f.append("statute_not_authorized")
        if not r["reason"].strip():
            f.append("missing_reason")
        elif reasons[normal_reason(r["reason"])] > limit:
            f.append("boilerplate_reason")
        official = r["requesting_official"].strip().casefold()
        if official not in roster:
            f.append("unauthorized_official")
        if len(subjects[official]) > 200:
            f.append("implausible_certification")
        if r["request_id"] in seen:
            f.append("duplicate_request_id")
        seen.add(r["request_id"])
        out.append(f)
    return out
