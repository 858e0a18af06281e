"""What every command-line shell of custos shares: how a deliberate error ends a command.

`custos.cli` and `custos.service.cli` both wrap their commands with
`refusing_errors`, so a refused file, pack, key or store reads the same way
everywhere: one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from custos.errors import CustosError

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True)


def refusing_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a deliberate custos error into one clear line and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CustosError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(2) from None

    return wrapper
