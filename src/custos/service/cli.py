"""`custos serve`, `custos worker` and `custos keys ...`, mounted into custos.cli.

The service and the worker build the same gateway as `custos run`: the
shipped (or given) pack, a roster, a trained model and a master file.
"""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from custos.config import Settings, load_settings
from custos.errors import CustosError
from custos.shell import refusing_errors

if TYPE_CHECKING:
    from custos.pipeline import Gateway

P = ParamSpec("P")
R = TypeVar("R")

service_app = typer.Typer(help="The HTTP service and its background worker.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: issue (shown once), revoke, list.", no_args_is_help=True)

WorldOpt = Annotated[Path, typer.Option(help="World folder with the master file and roster.")]
ModelOpt = Annotated[
    Path | None, typer.Option(help="Trained model (default: model.json under CUSTOS_HOME).")
]
RosterOpt = Annotated[Path | None, typer.Option(help="Roster TOML (default: the world's).")]
PackOpt = Annotated[Path | None, typer.Option(help="Policy pack TOML (default: shipped).")]
DevOpt = Annotated[
    bool, typer.Option("--dev", help="Allow an ephemeral signing key (never in production).")
]


def _json_logs() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")


def _gateway(
    settings: Settings, world: Path, model: Path | None, roster: Path | None, pack: Path | None
) -> Gateway:
    from custos import pipeline

    actor = pipeline.Actor(id="service:custos", origin=f"service:{socket.gethostname()}")
    return pipeline.gateway_for_world(
        world, actor=actor, model=model, roster=roster, pack=pack, settings=settings
    )


@service_app.command("serve")
@refusing_errors
def serve(
    world: WorldOpt,
    model: ModelOpt = None,
    roster: RosterOpt = None,
    pack: PackOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    dev: DevOpt = False,
    worker: Annotated[
        bool, typer.Option(help="Process batches in this process (else run `custos worker`).")
    ] = True,
) -> None:
    """Serve the HTTP API (refuses to start without a ledger signing key unless --dev)."""
    import uvicorn

    from custos.service.app import create_app, signing_key_settings
    from custos.service.settings import ServiceConfig

    _json_logs()
    settings = signing_key_settings(load_settings(), dev=dev)
    gw = _gateway(settings, world, model, roster, pack)
    app = create_app(gw, dev=dev, config=ServiceConfig(in_process_worker=worker))
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@service_app.command("worker")
@refusing_errors
def worker(
    world: WorldOpt,
    model: ModelOpt = None,
    roster: RosterOpt = None,
    pack: PackOpt = None,
    once: Annotated[bool, typer.Option(help="Stop when no batch is waiting.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 2.0,
    retry_after: Annotated[
        float, typer.Option(help="Seconds before a failed batch is retried.")
    ] = 300.0,
) -> None:
    """Claim received batches from the store and take each to completion."""
    from custos.service.worker import run_worker

    _json_logs()
    gw = _gateway(load_settings(), world, model, roster, pack)
    done = run_worker(gw, retry_after=retry_after, poll_s=poll, once=once)
    typer.echo(json.dumps({"event": "worker_stopped", "batches": done}))


def _cli_identity() -> tuple[str, str]:
    from custos.pipeline import cli_actor

    actor = cli_actor()
    return actor.id, actor.origin


@keys_app.command("issue")
@refusing_errors
def keys_issue(
    role: Annotated[str, typer.Option(help="requester, officer, auditor or admin.")],
    agency: Annotated[str | None, typer.Option(help="The agency (requester keys only).")] = None,
    days: Annotated[int | None, typer.Option(help="Expire after this many days.")] = None,
    roster: Annotated[
        Path | None, typer.Option(help="Load this roster's agencies into the store first.")
    ] = None,
) -> None:
    """Issue a key and print it ONCE; only its hash is kept."""
    from custos.policy.roster import load_roster
    from custos.service.auth import Role, issue_key
    from custos.store import Agency, open_store, save_agency

    try:
        chosen = Role(role)
    except ValueError:
        raise CustosError(
            f"--role must be one of {', '.join(r.value for r in Role)}, not {role!r}"
        ) from None
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    actor, origin = _cli_identity()
    with open_store(load_settings().database_url) as opened:
        if roster is not None:
            with opened.write() as conn:
                for a in load_roster(roster).agencies:
                    save_agency(conn, Agency(a.id, a.name, a.safeguards_expires))
        issued = issue_key(
            opened, role=chosen, agency=agency, expires_at=expires, actor=actor, origin=origin
        )
    typer.echo(issued.secret_key)
    typer.echo(
        f"prefix {issued.record.prefix}, role {chosen.value}"
        + (f", agency {agency}" if agency else "")
        + " — store the key now; it cannot be shown again.",
        err=True,
    )


@keys_app.command("revoke")
@refusing_errors
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix.")]) -> None:
    """Revoke a key at once."""
    from custos.service.auth import revoke_key
    from custos.store import open_store

    actor, origin = _cli_identity()
    with open_store(load_settings().database_url) as opened:
        record = revoke_key(opened, prefix, actor=actor, origin=origin)
    typer.echo(f"revoked {record.prefix}")


@keys_app.command("list")
@refusing_errors
def keys_list() -> None:
    """Every key's prefix, role, agency and state (never a secret)."""
    from custos.service.auth import list_keys
    from custos.store import open_store

    now = datetime.now(UTC)
    with open_store(load_settings().database_url) as opened:
        records = list_keys(opened)
    for r in records:
        state = "revoked" if r.revoked_at else ("expired" if not r.usable(now) else "active")
        typer.echo(f"{r.prefix}\t{r.role}\t{r.agency_id or '-'}\t{state}")
