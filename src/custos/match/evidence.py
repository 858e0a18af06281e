"""What an officer sees for a doubtful match: each candidate's best pair, comparison by comparison.

The review desk must show *why* a request is ambiguous — which fields agree,
and how much each agreement counted — without the officer re-running the
model. So the evidence is taken from the scored pairs at decision time and
kept with the review item: the standardised values compared on each side,
the level the comparison fell in (its label from the trained model) and that
level's match weight in bits. The values are the standardised forms the model
compared; the raw request sits beside them in the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from custos.match.comparisons import COMPARISON_NAMES

SHOWN_COLUMNS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_std",),
    "surname": ("surname_std",),
    "middle_name": ("middle_std",),
    "suffix": ("suffix_std",),
    "dob": ("dob",),
    "tin": ("tin",),
    "house_number": ("house_number",),
    "street_name": ("predir", "street_name", "street_suffix", "postdir"),
    "unit": ("unit_type", "unit_number"),
    "zip5": ("zip5",),
    "city": ("city_std", "state"),
}
"""For each comparison, the standardised columns an officer reads to judge it."""

assert set(SHOWN_COLUMNS) == set(COMPARISON_NAMES), "every comparison has columns to show"


def level_labels(settings: Mapping[str, Any]) -> dict[str, dict[int, str]]:
    """Comparison name → gamma value → the level's label, as Splink numbers levels.

    Splink gives the null level -1 and counts the other levels down to 0 in
    the order they are written, so the first (strictest) level is the highest.
    """
    labels: dict[str, dict[int, str]] = {}
    for comparison in settings["comparisons"]:
        levels = comparison["comparison_levels"]
        counted = [lv for lv in levels if not lv.get("is_null_level")]
        by_gamma = {-1: "no information"}
        for gamma, level in zip(range(len(counted) - 1, -1, -1), counted, strict=True):
            by_gamma[gamma] = str(level.get("label_for_charts", gamma))
        labels[comparison["output_column_name"]] = by_gamma
    return labels


def _shown(row: Mapping[str, Any], columns: Sequence[str], side: str) -> str:
    return " ".join(str(v) for c in columns if (v := row.get(f"{c}_{side}")) not in (None, ""))


def candidate_evidence(
    pairs: pa.Table, candidates: Mapping[str, Sequence[str]], settings: Mapping[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """For each request, each candidate taxpayer's best pair with it, laid out field by field.

    `candidates` maps a request id to its candidate TINs, in the decision's
    order. A candidate with no scored pair still gets an entry, with no
    fields, so the officer sees every taxpayer the decision weighed.
    """
    labels = level_labels(settings)
    wanted = pairs.filter(
        pc.is_in(pairs.column("request_id"), pa.array(list(candidates), pa.string()))
    )
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in wanted.to_pylist():
        key = (row["request_id"], row["tin"])
        if key not in best or row["match_weight"] > best[key]["match_weight"]:
            best[key] = row
    return {
        request_id: [_laid_out(tin, best.get((request_id, tin)), labels) for tin in tins]
        for request_id, tins in candidates.items()
    }


def _laid_out(
    tin: str, row: Mapping[str, Any] | None, labels: Mapping[str, Mapping[int, str]]
) -> dict[str, Any]:
    if row is None:
        return {"tin": tin, "match_weight": None, "match_probability": None, "fields": []}
    fields = []
    for name in COMPARISON_NAMES:
        gamma = int(row[f"gamma_{name}"])
        fields.append(
            {
                "comparison": name,
                "request": _shown(row, SHOWN_COLUMNS[name], "l"),
                "candidate": _shown(row, SHOWN_COLUMNS[name], "r"),
                "level": labels[name].get(gamma, str(gamma)),
                "weight": round(float(row[f"mw_{name}"]) + _tf(row, name), 3),
            }
        )
    return {
        "tin": tin,
        "match_weight": round(float(row["match_weight"]), 3),
        "match_probability": float(row["match_probability"]),
        "fields": fields,
    }


def _tf(row: Mapping[str, Any], name: str) -> float:
    """The term-frequency part of a comparison's weight (a rare surname counts for more)."""
    value = row.get(f"mw_tf_adj_{name}")
    return 0.0 if value is None else float(value)
