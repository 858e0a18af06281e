"""Server-rendered pages for the custodian's staff and the requesting agencies, under /ui.

`install(app)` adds them to the service: the same keys and roles as the API,
a session cookie in place of the bearer header, CSRF tokens on every form,
and every asset served from the package (no network beyond this server).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from custos.service.web import desk, routes
from custos.service.web.access import LoginRequired, WebError
from custos.service.web.render import render, security_headers
from custos.service.web.session import SessionSigner

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Mount the pages, their static files and their error pages on `app`."""
    app.state.custos_web = SessionSigner()
    app.include_router(routes.router)
    app.include_router(desk.router)
    app.mount("/ui/static/site", StaticFiles(directory=STATIC), name="ui-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return security_headers(RedirectResponse(exc.location, status_code=303))

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        return render(request, "error.html", None, status=exc.status, error=exc)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(WebError, page_error)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)


__all__ = ["install"]
