"""Self-contained HTML pages: the charting JavaScript inlined, the chart specs embedded as JSON.

A report must open on an air-gapped network, so a page loads nothing: Vega,
Vega-Lite and Vega-Embed (vendored in `static/`, see its README) are inlined
in `<script>` elements, each chart's Vega-Lite spec sits in a
`<script type="application/json">` element, and a Content-Security-Policy
forbids the browser any network request. Each chart carries a `<noscript>`
table of the same figures, for readers without JavaScript.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from custos.report.tables import Table

VENDORED_SCRIPTS = ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js")
SPEC_SCRIPT_TYPE = "application/json"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data:"
)

_SOURCE_MAP = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
figure { margin: 1rem 0; } .note { color: #555; } .warn { color: #a40000; font-weight: 600; }
"""
_EMBED = """
document.querySelectorAll('script[data-chart]').forEach(function (el) {
  var target = document.getElementById(el.getAttribute('data-chart'));
  vegaEmbed(target, JSON.parse(el.textContent), {renderer: 'svg', actions: false})
    .catch(function (err) { target.textContent = 'The chart could not be drawn: ' + err; });
});
"""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart on a page: its element id, Vega-Lite spec, and the table of the same figures."""

    id: str
    spec: Mapping[str, Any]
    fallback: Table


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def table_html(table: Table, *, numeric: Sequence[int] = ()) -> str:
    """The table as HTML; columns whose index is in `numeric` are right-aligned."""
    head = "".join(f"<th scope='col'>{escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{escape(cell)}</td>" if i in numeric else f"<td>{escape(cell)}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    return (
        f"<table><caption>{escape(table.title)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def script_json(value: object) -> str:
    """JSON that can sit inside a `<script>` element: `<`, `>` and `&` are escaped as \\u00XX."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def chart_html(chart: Chart) -> str:
    """The chart's place on the page, its spec, and its `<noscript>` table."""
    numeric = tuple(i for i, c in enumerate(chart.fallback.columns) if c == "count")
    return (
        f"<figure><div id='{escape(chart.id)}' role='img' "
        f"aria-label='{escape(chart.fallback.title)}'></div>"
        f"<script type='{SPEC_SCRIPT_TYPE}' data-chart='{escape(chart.id)}'>"
        f"{script_json(chart.spec)}</script>"
        f"<noscript>{table_html(chart.fallback, numeric=numeric)}</noscript></figure>"
    )


def page(title: str, body: str, *, charts: bool) -> str:
    """A whole HTML document; with `charts`, the Vega libraries and the embedding script."""
    scripts = ""
    if charts:
        scripts = "".join(f"<script>{js}</script>" for js in vendored_scripts())
        scripts += f"<script>{_EMBED}</script>"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CONTENT_SECURITY_POLICY}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}{scripts}</body></html>\n"
    )


@functools.cache
def vendored_scripts() -> tuple[str, ...]:
    """The vendored libraries as inline-safe text, without their source-map comments."""
    folder = resources.files("custos.report") / "static"
    scripts = []
    for name in VENDORED_SCRIPTS:
        text = _SOURCE_MAP.sub("", (folder / name).read_text(encoding="utf-8"))
        if "</script" in text.lower():
            raise RuntimeError(f"vendored {name} contains '</script' and cannot be inlined")
        scripts.append(text)
    return tuple(scripts)
