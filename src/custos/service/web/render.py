"""Templates and the headers every page carries.

Pages load nothing from anywhere but this server (the custodian's network is
air-gapped): the Content-Security-Policy says so to the browser. Vega needs
`unsafe-eval` for its expression language; inline scripts are refused, so
chart specs travel as JSON data elements and the page script draws them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from custos.report.html import chart_html
from custos.service.auth import Role
from custos.service.web.access import Viewer

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)

environment = jinja2.Environment(
    loader=jinja2.PackageLoader("custos.service.web", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["chart"] = lambda chart: Markup(chart_html(chart))
environment.filters["segment"] = lambda value: quote(str(value), safe="")
"""One path segment of a link: an id with `/`, `?` or `#` in it stays one segment."""


def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def render(
    request: Request, name: str, seen: Viewer | None, *, status: int = 200, **context: Any
) -> Response:
    """The template `name` with the viewer (its role decides the navigation) and `context`."""
    text = environment.get_template(name).render(
        seen=seen,
        roles=Role,
        path=request.url.path,
        **context,
    )
    return security_headers(HTMLResponse(text, status_code=status))
