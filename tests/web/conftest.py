"""The pages under test: one service over the small world, with agency A's batch processed.

The small world (tests/conftest.py) makes exactly one ambiguous match, so
the review desk has a real item with real evidence. The service is served
twice over the same gateway: through `TestClient` for the plain tests, and
by uvicorn on a free loopback port for the browser tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from web_support import browser, live_server, pg_site, screenshots, site  # noqa: F401


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from web_support import SCREENSHOTS

    if SCREENSHOTS:
        terminalreporter.write_line(f"page screenshots: {SCREENSHOTS[0]}")
