"""The reference pages in docs/ are exactly what docs/generate.py writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", ["reason-codes.md", "cli.md", "pack-rules.md", "settings.md"])
def test_generated_page_is_current(page: str) -> None:
    generator = _generator()
    expected = generator.PAGES[page]()
    actual = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{page} is stale: run `make docs`"


def test_every_reason_code_is_documented() -> None:
    from custos.model import REASON_MEANINGS, ReasonCode

    assert set(REASON_MEANINGS) == set(ReasonCode)
    text = (ROOT / "docs" / "reason-codes.md").read_text(encoding="utf-8")
    for code in ReasonCode:
        assert f"`{code.value}`" in text


def test_every_command_is_in_the_readme_tour() -> None:
    generator = _generator()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path in generator._commands([]):
        if len(path) == 1:
            assert f"custos {path[0]}" in readme, f"README does not mention `custos {path[0]}`"
