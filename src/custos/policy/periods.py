"""Taxable periods as the requests state them: "2023", "2022;2023", "2021-2023".

(i)(2)(B)(ii) requires the taxable period(s); the pack bounds how far back a
request may reach, and no period can lie in the future.
"""

from __future__ import annotations

import re
from functools import lru_cache

_ITEM = re.compile(r"([0-9]{4})(?:\s*-\s*([0-9]{4}))?")


@lru_cache(maxsize=4096)
def period_problem(text: str, current_year: int, lookback_years: int) -> str | None:
    """Why `text` is not a valid list of taxable periods; None when it is.

    Valid: ';'-separated items, each a 4-digit year or a range "YYYY-YYYY" with
    start <= end, no year after `current_year`, none before
    `current_year - lookback_years`.
    """
    for raw in text.split(";"):
        item = raw.strip()
        m = _ITEM.fullmatch(item)
        if m is None:
            return f"{item!r} is not a year or a YYYY-YYYY range"
        start = int(m.group(1))
        end = int(m.group(2) or start)
        if start > end:
            return f"the range {item!r} runs backwards"
        if end > current_year:
            return f"{item!r} lies in the future"
        if start < current_year - lookback_years:
            return f"{item!r} is more than {lookback_years} years back"
    return None
