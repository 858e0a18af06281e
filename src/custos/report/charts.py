"""Vega-Lite specs for the reports, written with Altair.

Every chart takes figures already counted by the report and puts them in the
spec's inline `data.values`, so a page's charts show exactly the numbers of
its tables and its JSON, and a test can read them back from the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt

WIDTH = 560


def bar_chart(
    title: str, label: str, counts: Sequence[tuple[str, int]], *, keep_order: bool = True
) -> dict[str, Any]:
    """Horizontal bars, one per label; in the order given, or by count when not `keep_order`."""
    values = [{label: name, "count": n} for name, n in counts]
    order: list[str] | str = [name for name, _ in counts] if keep_order else "-x"
    chart = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="count"),
            y=alt.Y(f"{label}:N", sort=order, title=None),
            tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip("count:Q")],
        )
    )
    text = chart.mark_text(align="left", dx=3).encode(text="count:Q")
    return _spec(alt.layer(chart, text, data=_inline(values), title=title, width=WIDTH))


def histogram_chart(title: str, bins: Sequence[tuple[float, float, int]]) -> dict[str, Any]:
    """A histogram from counts already binned: (lower, upper, count) per bin."""
    values = [{"lower": lo, "upper": hi, "count": n} for lo, hi, n in bins]
    chart = (
        alt.Chart(_inline(values), title=title, width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X(
                "lower:Q", bin="binned", title="match probability", scale=alt.Scale(domain=[0, 1])
            ),
            x2="upper:Q",
            y=alt.Y("count:Q", title="requests"),
            tooltip=[alt.Tooltip("lower:Q"), alt.Tooltip("upper:Q"), alt.Tooltip("count:Q")],
        )
    )
    return _spec(chart)


def grouped_bar_chart(
    title: str, rows: Sequence[tuple[str, str, int]], *, group: str, measure: str
) -> dict[str, Any]:
    """Bars of (group, measure, count), the measures of one group side by side."""
    values = [{group: g, measure: m, "count": n} for g, m, n in rows]
    measures = list(dict.fromkeys(m for _, m, _ in rows))
    chart = (
        alt.Chart(_inline(values), title=title, width=WIDTH)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="count"),
            y=alt.Y(f"{group}:N", title=None),
            yOffset=alt.YOffset(f"{measure}:N", sort=measures),
            color=alt.Color(f"{measure}:N", sort=measures, title=None),
            tooltip=[
                alt.Tooltip(f"{group}:N"),
                alt.Tooltip(f"{measure}:N"),
                alt.Tooltip("count:Q"),
            ],
        )
    )
    return _spec(chart)


def chart_values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline data rows of a spec made here (a layer's rows are those of its first layer)."""
    if "data" in spec:
        return list(spec["data"]["values"])
    return chart_values(spec["layer"][0])


def _inline(values: list[dict[str, Any]]) -> Any:
    """Data kept in the spec's own `data.values` (InlineData would move it to named datasets)."""
    return alt.Data(values=values)  # type: ignore[no-untyped-call]


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    spec: dict[str, Any] = chart.to_dict()
    return spec
