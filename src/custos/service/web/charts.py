"""The pages' own Vega-Lite specs: the match-weight waterfall and series by day.

Like the reports' charts, every spec carries its figures inline, so a page's
chart and its fallback table always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt

from custos.report.charts import WIDTH

WATERFALL_WIDTH = 360
DAY_STEP = 28
"""Pixels per day while the days fit in the reports' width; past it, the bars narrow."""


def waterfall_chart(
    title: str, prior: float, weights: Sequence[tuple[str, float]]
) -> dict[str, Any]:
    """Match weights (log2 Bayes factors) stacked from the prior to the final score.

    Each comparison's bar runs from the running total before it to the total
    after it, green when it speaks for the match and red when against; the
    last bar is the final match weight.
    """
    values: list[dict[str, Any]] = []
    total = prior
    values.append(_step("prior", 0.0, prior, "prior"))
    for name, weight in weights:
        values.append(_step(name, total, total + weight, "for" if weight >= 0 else "against"))
        total += weight
    values.append(_step("final", 0.0, total, "final"))
    order = [v["comparison"] for v in values]
    colours = alt.Scale(
        domain=["prior", "for", "against", "final"],
        range=["#888888", "#2e7d32", "#c62828", "#1f4e79"],
    )
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            y=alt.Y("comparison:N", sort=order, title=None),
            x=alt.X("start:Q", title="match weight (log2 Bayes factor)"),
            x2="end:Q",
            color=alt.Color("kind:N", scale=colours, legend=None),
            tooltip=[
                alt.Tooltip("comparison:N"),
                alt.Tooltip("weight:Q", format="+.2f"),
                alt.Tooltip("end:Q", title="running total", format=".2f"),
            ],
        )
    )
    rule = alt.Chart().mark_rule(color="#444").encode(x=alt.datum(0))
    layered = alt.layer(
        bars,
        rule,
        data=_inline(values),
        title=title,
        width=WATERFALL_WIDTH,
    )
    spec: dict[str, Any] = layered.to_dict()
    return spec


def _step(name: str, start: float, end: float, kind: str) -> dict[str, Any]:
    return {
        "comparison": name,
        "start": round(start, 4),
        "end": round(end, 4),
        "weight": round(end - start, 4),
        "kind": kind,
    }


def daily_chart(title: str, rows: Sequence[tuple[str, str, int]], *, series: str) -> dict[str, Any]:
    """Stacked bars of (day, series, count): one bar per day, one colour per series."""
    values = [{"day": d, series: s, "count": n} for d, s, n in rows]
    days = len({d for d, _, _ in rows})
    width: Any = alt.Step(DAY_STEP) if days * DAY_STEP < WIDTH else WIDTH
    chart = (
        alt.Chart(_inline(values), title=title, width=width)
        .mark_bar()
        .encode(
            x=alt.X("day:O", title="day (UTC)"),
            y=alt.Y("count:Q", title="count", stack="zero"),
            color=alt.Color(f"{series}:N", title=series),
            tooltip=[alt.Tooltip("day:O"), alt.Tooltip(f"{series}:N"), alt.Tooltip("count:Q")],
        )
    )
    spec: dict[str, Any] = chart.to_dict()
    return spec


def _inline(values: list[dict[str, Any]]) -> Any:
    """Data kept in the spec's own `data.values`, where the page's fallback table can match it."""
    return alt.Data(values=values)  # type: ignore[no-untyped-call]
