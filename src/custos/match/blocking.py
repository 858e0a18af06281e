"""Blocking: which request × master-address pairs are scored at all.

A pair not produced by some rule is never compared, so the rules must catch
every true match the decision could disclose (its address must agree, so
`zip5 + house_number` and `street + house_number + city` catch those whose
address is right) while keeping the count of pairs near linear. The other
rules exist for the *runner-up*: a namesake elsewhere, or the taxpayer whose
TIN the requester gave, must be scored so that the margin is honest.

The chosen rules and the counts that justified them are in docs/matching.md;
`measure` reproduces the counts on any world.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

ADDRESS_RULE = "l.zip5 = r.zip5 AND l.house_number = r.house_number"
STREET_CITY_RULE = (
    "l.street_name = r.street_name AND l.house_number = r.house_number AND l.city_std = r.city_std"
)
NAME_ZIP_RULE = "l.surname_first = r.surname_first AND l.zip5 = r.zip5"
PHONETIC_STATE_RULE = (
    "l.given_dm = r.given_dm AND l.surname_dm_first = r.surname_dm_first AND l.state = r.state"
)
TIN_RULE = "l.tin = r.tin"

PREDICTION_RULES: tuple[str, ...] = (
    ADDRESS_RULE,
    STREET_CITY_RULE,
    NAME_ZIP_RULE,
    PHONETIC_STATE_RULE,
    TIN_RULE,
)
"""The rules `link` uses, in order (a pair is counted under the first rule that makes it)."""

CANDIDATE_RULES: tuple[str, ...] = (
    *PREDICTION_RULES,
    "l.surname_first = r.surname_first AND l.given_std = r.given_std",
    "l.surname_first = r.surname_first AND l.city_std = r.city_std",
    "l.given_canon = r.given_canon AND l.surname_first = r.surname_first AND l.state = r.state",
)
"""Everything measured when choosing; the extra ones were measured and not chosen."""


@dataclass(frozen=True, slots=True)
class BlockingCount:
    """Pairs one rule generates on its own and beyond the rules before it."""

    rule: str
    pairs: int
    marginal_pairs: int
    cumulative_pairs: int


def measure(
    requests_std: pa.Table, master_std: pa.Table, rules: Sequence[str] = PREDICTION_RULES
) -> list[BlockingCount]:
    """Count request × master pairs per rule, exactly, with Splink's blocking analysis.

    `pairs` is the rule alone; `marginal_pairs` what it adds after the rules
    before it in `rules`.
    """
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    db = DuckDBAPI(duckdb.connect())
    left = db.register(requests_std, table_name="requests")
    right = db.register(master_std, table_name="master")
    cumulative = count_comparisons_from_blocking_rules(
        [left, right],
        blocking_rules=list(rules),
        link_type="link_only",
        record_sample_proportion=1.0,
    )
    counts: list[BlockingCount] = []
    for rule, record in zip(rules, cumulative, strict=True):
        alone = count_comparisons_from_blocking_rules(
            [left, right],
            blocking_rules=[rule],
            link_type="link_only",
            record_sample_proportion=1.0,
        )[0]
        counts.append(
            BlockingCount(
                rule=rule,
                pairs=int(alone["marginal_comparison_count"]),
                marginal_pairs=int(record["marginal_comparison_count"]),
                cumulative_pairs=int(record["cumulative_comparison_count"]),
            )
        )
    return counts


def recall_of_rules(
    requests_std: pa.Table,
    master_std: pa.Table,
    truth: pa.Table,
    rules: Sequence[str] = PREDICTION_RULES,
) -> float:
    """Share of (request, true taxpayer) pairs that some rule brings together.

    `truth` needs `request_id` and `true_tin`; rows with an empty `true_tin`
    are ignored. A true match no rule reaches can never be disclosed.
    """
    con = duckdb.connect()
    con.register("l", requests_std)
    con.register("r", master_std)
    con.register("truth", truth)
    condition = " OR ".join(f"({rule})" for rule in rules)
    row = con.execute(
        f"""
        WITH wanted AS (
            SELECT request_id, true_tin FROM truth
            WHERE true_tin IS NOT NULL AND true_tin <> ''
              AND request_id IN (SELECT unique_id FROM l)
        ),
        found AS (
            SELECT DISTINCT l.unique_id, r.tin
            FROM wanted w JOIN l ON l.unique_id = w.request_id
            JOIN r ON r.tin = w.true_tin
            WHERE {condition}
        )
        SELECT (SELECT count(*) FROM found), (SELECT count(*) FROM wanted)
        """
    ).fetchone()
    assert row is not None
    found, wanted = int(row[0]), int(row[1])
    return found / wanted if wanted else 1.0
