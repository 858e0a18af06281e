"""Regenerate the reference pages that must never drift from the code.

`make docs` runs this; `tests/test_docs.py` fails when a checked-in page
differs from what this script would write, so the CLI reference and the
reason codes are always what the program actually does.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from typer.testing import CliRunner

from custos.cli import app
from custos.model import REASON_MEANINGS

DOCS = Path(__file__).resolve().parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def reason_codes_page() -> str:
    lines = [
        "# Reason codes",
        "",
        "The closed set of reasons a request is not answered with a disclosure.",
        "Generated from `custos.model.REASON_MEANINGS` by `docs/generate.py`; do not edit by hand.",
        "",
        "| code | meaning |",
        "| --- | --- |",
    ]
    lines += [f"| `{code.value}` | {meaning} |" for code, meaning in REASON_MEANINGS.items()]
    return "\n".join(lines) + "\n"


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"})
    return ANSI.sub("", result.output).rstrip() + "\n"


def _commands(args: list[str]) -> list[list[str]]:
    """Every command path, depth first, found by walking the Typer app."""
    import typer.main

    group = typer.main.get_command(app)
    for name in args:
        group = group.commands[name]  # type: ignore[attr-defined]
    found: list[list[str]] = []
    for name in sorted(getattr(group, "commands", {})):
        found.append([*args, name])
        found += _commands([*args, name])
    return found


def cli_page() -> str:
    parts = [
        "# CLI reference",
        "",
        "Generated from `custos --help` by `docs/generate.py`; do not edit by hand.",
        "",
        "## custos",
        "",
        "```",
        _help([]).rstrip(),
        "```",
    ]
    for path in _commands([]):
        parts += ["", f"## custos {' '.join(path)}", "", "```", _help(path).rstrip(), "```"]
    return "\n".join(parts) + "\n"


def pack_rules_page() -> str:
    from custos.policy.pack import load_pack

    pack = load_pack()
    lines = [
        f"# Rules of the default pack `{pack.ref.id}` {pack.ref.version}",
        "",
        "Generated from `src/custos/policy/packs/irc-6103-i-2.toml` by `docs/generate.py`;",
        "do not edit by hand. Rules run in this order; a request lists every rule it fails,",
        "and the first is its primary reason code.",
        "",
        "| rule | clause | reason code | passes when |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{r.id}` | {r.clause} | `{r.reason.value}` | {r.description} |" for r in pack.rules
    ]
    return "\n".join(lines) + "\n"


def settings_page() -> str:
    from custos.config import SETTINGS

    lines = [
        "# Settings",
        "",
        "custos reads these environment variables once, at start. Generated from",
        "`custos.config.SETTINGS` by `docs/generate.py`; do not edit by hand.",
        "",
        "| variable | meaning |",
        "| --- | --- |",
    ]
    lines += [f"| `{name}` | {meaning} |" for name, meaning in SETTINGS.items()]
    return "\n".join(lines) + "\n"


PAGES = {
    "settings.md": settings_page,
    "reason-codes.md": reason_codes_page,
    "cli.md": cli_page,
    "pack-rules.md": pack_rules_page,
}


def main() -> int:
    for name, build in PAGES.items():
        (DOCS / name).write_text(build(), encoding="utf-8")
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
