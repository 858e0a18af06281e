"""Statute citations in one canonical form, so "8 U.S.C. § 1253(a)(1)" equals "8 USC 1253(a)(1)".

The gate compares a request's statute with the pack's allowlist of
specifically designated federal criminal statutes ((i)(2)(A)); requesters
write the same citation many ways, and a spelling difference must not decide
whether the law allows a disclosure.
"""

from __future__ import annotations

import re
from functools import lru_cache

_USC = re.compile(r"\bunited states code\b|\bu\s*\.?\s*s\s*\.?\s*c\b\.?")
_SECTION = re.compile(r"\b(?:title|sections?|secs?)\b\.?")
_NOISE = re.compile(r"[§,]")
_SPACE_BEFORE_PAREN = re.compile(r"\s+(?=\()")
_SPACE_IN_PARENS = re.compile(r"\(\s+|\s+\)")


@lru_cache(maxsize=4096)
def normalize_statute(text: str) -> str:
    """Canonical citation: casefolded; "u.s.c.", "§", "section", "sec." and "title" dropped or
    unified; spaces collapsed; e.g. "8 U.S.C. § 1326 (a)" → "8 usc 1326(a)"."""
    t = _NOISE.sub(" ", text.casefold())
    t = _USC.sub(" usc ", t)
    t = _SECTION.sub(" ", t)
    t = " ".join(t.split())
    t = _SPACE_BEFORE_PAREN.sub("", t)
    t = _SPACE_IN_PARENS.sub(lambda m: m.group(0).strip(), t)
    return t.strip(" .;")


def cited_statutes(text: str) -> list[str]:
    """The canonical citations in a statute field; several may be separated by ';'."""
    return [c for c in (normalize_statute(part) for part in text.split(";")) if c]
