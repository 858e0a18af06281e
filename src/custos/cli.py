"""The `custos` command: a thin shell over the library.

Every command parses its options, calls one library function and renders the
result; no behaviour lives here. Errors custos raises on purpose become one
line on stderr and exit status 2.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="custos",
    help="A statute-bound disclosure gateway: gate, cross-verify, disclose the minimum, account for everything.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """custos: check batches of disclosure requests against the law and the master file."""
