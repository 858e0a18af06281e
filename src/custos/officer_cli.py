"""`custos review ...` and `custos hold ...`, mounted into custos.cli.

The same library calls as the HTTP routes (`custos.review`, `custos.holds`),
for an officer at the custodian's console; the actor in the ledger is the
local user on this host.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from custos.errors import CustosError
from custos.shell import refusing_errors

if TYPE_CHECKING:
    from custos.pipeline import Gateway

review_app = typer.Typer(
    help="The review queue: read the evidence, disclose or decline.", no_args_is_help=True
)
hold_app = typer.Typer(
    help="Holds: stop disclosures at once; lift with release or decline.", no_args_is_help=True
)

WorldOpt = Annotated[Path, typer.Option(help="World folder with the master file and roster.")]
ModelOpt = Annotated[
    Path | None, typer.Option(help="Trained model (default: model.json under CUSTOS_HOME).")
]
RationaleOpt = Annotated[str, typer.Option(help="Why (kept in the ledger; 10 characters or more).")]


def _gateway(world: Path, model: Path | None) -> Gateway:
    from custos import pipeline

    return pipeline.gateway_for_world(world, actor=pipeline.cli_actor(), model=model)


@review_app.command("list")
@refusing_errors
def review_list(
    world: WorldOpt,
    model: ModelOpt = None,
    agency: Annotated[str | None, typer.Option(help="Only this agency's items.")] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch's items.")] = None,
) -> None:
    """Open review items, oldest first."""
    from custos import review

    table = Table("agency", "request", "batch", "candidates", "opened")
    for item in review.queue(_gateway(world, model), agency=agency, batch=batch):
        table.add_row(
            item.agency_id,
            item.request_id,
            item.batch_id,
            str(len(item.candidates)),
            item.opened_at.isoformat(timespec="seconds"),
        )
    Console().print(table)


@review_app.command("show")
@refusing_errors
def review_show(agency: str, request_id: str, world: WorldOpt, model: ModelOpt = None) -> None:
    """One item as JSON: the request, and each candidate with its per-comparison weights."""
    from dataclasses import asdict

    from custos import review

    found = review.case(_gateway(world, model), agency, request_id)
    if found is None:
        raise CustosError(f"no review item {agency}/{request_id}")
    typer.echo(
        json.dumps(
            {
                "status": found.item.status.value,
                "held": found.held,
                "request": asdict(found.request),
                "candidates": list(found.candidates),
            },
            indent=2,
            default=str,
        )
    )


@review_app.command("decide")
@refusing_errors
def review_decide(
    agency: str,
    request_id: str,
    world: WorldOpt,
    rationale: RationaleOpt,
    model: ModelOpt = None,
    disclose: Annotated[
        str | None, typer.Option(help="Disclose to this candidate TIN (else: decline).")
    ] = None,
) -> None:
    """Disclose one candidate (`--disclose TIN`) or decline, with a rationale."""
    from custos import pipeline, review

    decided = review.decide(
        _gateway(world, model),
        agency,
        request_id,
        decision="disclose" if disclose else "decline",
        rationale=rationale,
        actor=pipeline.cli_actor(),
        tin=disclose,
    )
    typer.echo(f"{agency}/{request_id}: {decided.status.value}")


@hold_app.command("place")
@refusing_errors
def hold_place(
    world: WorldOpt,
    reference: Annotated[str, typer.Option(help="The order, letter or finding it rests on.")],
    rationale: RationaleOpt,
    scope: Annotated[str, typer.Option(help="agency, statute, batch or all.")] = "agency",
    target: Annotated[
        str | None, typer.Option(help="The agency id, statute or batch id (none for all).")
    ] = None,
    model: ModelOpt = None,
) -> None:
    """Place a hold; answers it covers are held from the next disclose step on."""
    from custos import holds, pipeline
    from custos.store import HoldScope

    try:
        kind = HoldScope(scope)
    except ValueError:
        raise CustosError(f"--scope must be agency, statute, batch or all, not {scope!r}") from None
    hold = holds.place(
        _gateway(world, model),
        kind,
        target,
        reference=reference,
        rationale=rationale,
        actor=pipeline.cli_actor(),
    )
    typer.echo(f"hold {hold.id} placed: {hold.scope.value} {hold.target or ''}".rstrip())


@hold_app.command("lift")
@refusing_errors
def hold_lift(
    hold_id: int,
    world: WorldOpt,
    rationale: RationaleOpt,
    resolution: Annotated[str, typer.Option(help="release or decline.")] = "release",
    model: ModelOpt = None,
) -> None:
    """Lift a hold, releasing or declining every request it held."""
    from custos import holds, pipeline
    from custos.store import HoldResolution

    try:
        how = HoldResolution(resolution)
    except ValueError:
        raise CustosError(f"--resolution must be release or decline, not {resolution!r}") from None
    done = holds.lift(
        _gateway(world, model),
        hold_id,
        resolution=how,
        rationale=rationale,
        actor=pipeline.cli_actor(),
    )
    typer.echo(
        f"hold {hold_id} lifted: released {done.released} (disclosed {done.disclosed}), "
        f"declined {done.declined}, rejected by the gate {done.rejected_by_gate}, "
        f"still held {done.still_held}"
    )


@hold_app.command("list")
@refusing_errors
def hold_list(
    active: Annotated[bool, typer.Option(help="Only holds in force.")] = False,
) -> None:
    """Holds, newest first."""
    from custos.config import load_settings
    from custos.store import list_holds, open_store

    opened = open_store(load_settings().database_url)
    try:
        with opened.read() as conn:
            found = list_holds(conn, active_only=active)
    finally:
        opened.close()
    table = Table("id", "scope", "target", "reference", "placed", "lifted", "resolution")
    for h in found:
        table.add_row(
            str(h.id),
            h.scope.value,
            h.target or "",
            h.reference,
            h.placed_at.isoformat(timespec="seconds"),
            h.lifted_at.isoformat(timespec="seconds") if h.lifted_at else "",
            h.resolution.value if h.resolution else "",
        )
    Console().print(table)
