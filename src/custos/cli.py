"""The `custos` command: a thin shell over the library.

Every command parses its options, calls library functions and renders their
result; no behaviour lives here. Errors custos raises on purpose become one
line on stderr and exit status 2.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from custos.errors import CustosError
from custos.shell import err_console, refusing_errors

app = typer.Typer(
    name="custos",
    help="A statute-bound disclosure gateway: gate, cross-verify, disclose the minimum, account for everything.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


class Engine(StrEnum):
    """The analytic engines `link` and `train` run on (custos.match.spark.ENGINES)."""

    DUCKDB = "duckdb"
    SPARK = "spark"


@app.callback()
def main() -> None:
    """custos: check batches of disclosure requests against the law and the master file."""


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


@app.command()
@refusing_errors
def world(
    out: Annotated[Path, typer.Option(help="Folder to write the world into.")],
    taxpayers: Annotated[int, typer.Option(min=1, help="Taxpayers in the master file.")] = 10_000,
    requests: Annotated[int, typer.Option(min=1, help="Requests in the batch.")] = 1_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same world.")] = 1,
    format: Annotated[
        str, typer.Option("--format", help="File format of the tables: csv or parquet.")
    ] = "csv",
    profile: Annotated[
        str, typer.Option(help="default, or aug2025 for a batch shaped like August 2025's.")
    ] = "default",
) -> None:
    """Generate a synthetic world: master file, request batch, roster and ground truth."""
    from custos.synth.world import generate

    fmt = _choice(format, ("csv", "parquet"), "--format")
    prof = _choice(profile, ("default", "aug2025"), "--profile")
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        summary = generate(
            out,
            taxpayers=taxpayers,
            requests=requests,
            seed=seed,
            fmt=fmt,  # type: ignore[arg-type]
            profile=prof,  # type: ignore[arg-type]
            progress=report,
        )
    console.print(f"World written to [bold]{out}[/]: {summary}")


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise CustosError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def load_policy(
    pack_path: Path | None, roster_path: Path | None, world_dir: Path | None
) -> tuple[Any, Any]:
    """The pack (shipped default unless given) and the roster (given, or the world's)."""
    from custos.pipeline import load_policy as load

    return load(pack_path, roster_path, world_dir)


@app.command()
@refusing_errors
def check(
    requests: Annotated[Path, typer.Argument(help="The request file (CSV, JSONL or Parquet).")],
    out: Annotated[Path, typer.Option(help="Folder for gate.csv.")],
    pack: Annotated[Path | None, typer.Option(help="Policy pack TOML (default: shipped).")] = None,
    roster: Annotated[
        Path | None, typer.Option(help="Roster TOML of authorised officials.")
    ] = None,
    world: Annotated[
        Path | None,
        typer.Option(help="World folder; its roster.toml is used if --roster is not given."),
    ] = None,
    agency: Annotated[str, typer.Option(help="The requesting agency's roster id.")] = "",
) -> None:
    """Dry run: gate every row of a batch without matching; exit 0 only if every row passes."""
    from custos.check import check_file, write_gate_csv

    policy_pack, policy_roster = load_policy(pack, roster, world)
    report = check_file(requests, policy_pack, policy_roster, agency=agency)
    target = write_gate_csv(report, out)

    table = Table(title=f"Gate: {requests.name} under {report.pack.id} {report.pack.version}")
    table.add_column("reason code (primary)")
    table.add_column("rows", justify="right")
    table.add_column("any", justify="right")
    by_rule = report.counts_by_rule()
    for code, count in sorted(report.counts_by_reason().items(), key=lambda kv: -kv[1]):
        table.add_row(code.value, str(count), str(by_rule[code]))
    table.add_section()
    table.add_row("passed", str(report.passed), "")
    table.add_row("received", str(report.rows), "")
    console.print(table)
    console.print(f"Verdicts: {target}")
    raise typer.Exit(0 if report.passed == report.rows else 1)


model_app = typer.Typer(help="Train and inspect the record-linkage model.", no_args_is_help=True)
ledger_app = typer.Typer(
    help="The tamper-evident ledger: keys, verification, proofs.", no_args_is_help=True
)
app.add_typer(model_app, name="model")
app.add_typer(ledger_app, name="ledger")


def _default_model_path() -> Path:
    from custos.pipeline import default_model_path

    return default_model_path()


@model_app.command("train")
@refusing_errors
def model_train(
    world: Annotated[
        Path, typer.Option(help="World folder with taxpayers, addresses and requests.")
    ],
    out: Annotated[
        Path | None, typer.Option(help="Model file to write (default: CUSTOS_HOME/model.json).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for u sampling; same seed, same model.")] = 42,
    engine: Annotated[
        Engine, typer.Option(help="Where to train: DuckDB in process, or Spark (docs/spark.md).")
    ] = Engine.DUCKDB,
) -> None:
    """Train the linkage model once and save it as JSON with its content hash.

    Runs record the hash of the model they used; retraining is this explicit act.
    """
    from custos.match import train

    target = out or _default_model_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with err_console.status(f"training on {engine.value} (u by random sampling, m by EM)…"):
        info = train(world, target, seed=seed, engine=engine.value)
    console.print(
        f"Model written to [bold]{info.path}[/] sha256 {info.sha256[:16]}… "
        f"({info.master_rows:,} master rows, {info.request_rows:,} requests, {info.seconds:.1f} s)"
    )


@app.command()
@refusing_errors
def run(
    out: Annotated[
        Path,
        typer.Option(help="Folder for responses.csv, decisions.csv, disclosures.csv, review.csv."),
    ],
    world: Annotated[
        Path | None,
        typer.Option(help="World folder: master file, requests.csv and roster.toml."),
    ] = None,
    master: Annotated[
        Path | None, typer.Option(help="Folder with taxpayers and addresses (default: --world).")
    ] = None,
    requests: Annotated[
        Path | None, typer.Option(help="Request file (default: the world's requests file).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Trained model (default: CUSTOS_HOME/model.json).")
    ] = None,
    pack: Annotated[Path | None, typer.Option(help="Policy pack TOML (default: shipped).")] = None,
    roster: Annotated[Path | None, typer.Option(help="Roster TOML (default: the world's).")] = None,
    agency: Annotated[
        str, typer.Option(help="Requesting agency (default: the roster's only one).")
    ] = "",
    resume: Annotated[
        str | None, typer.Option(help="Continue batch BATCH from its last committed stage.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write the batch's oversight report (HTML) here.")
    ] = None,
    engine: Annotated[
        Engine, typer.Option(help="Where to match: DuckDB in process, or Spark (docs/spark.md).")
    ] = Engine.DUCKDB,
) -> None:
    """Run a batch through gate, match, decide and disclose, exactly once, on the record."""
    from custos import intake, pipeline
    from custos.outputs import write_review, write_run

    master_dir = master or world
    if master_dir is None:
        raise CustosError("give --world DIR, or --master DIR with --requests FILE")
    gw = pipeline.gateway_for_world(
        master_dir,
        actor=pipeline.cli_actor(),
        model=model,
        roster=roster or (world / "roster.toml" if world else None),
        pack=pack,
        engine=engine.value,
    )
    policy_pack, policy_roster = gw.pack, gw.roster
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def show(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        if resume:
            timings = pipeline.advance(gw, resume, show)
            summary = pipeline.summarize(gw, resume, timings)
        else:
            source = requests or _world_requests(master_dir)
            who = pipeline.resolve_agency(policy_roster, agency)
            batch = intake.read_batch(source, agency=who)
            summary = pipeline.run(
                gw, batch, agency=who, source_sha256=pipeline.file_sha256(source), progress=show
            )
    write_run(
        summary.results, out, pack_version=policy_pack.ref.version, model_version=gw.model_version
    )
    write_review(gw.store, summary.batch_id, out / "review.csv")
    _print_summary(summary, out)
    if report is not None:
        report_batch(summary.batch_id, out=report)


def _world_requests(folder: Path) -> Path:
    for name in ("requests.csv", "requests.jsonl", "requests.parquet"):
        if (folder / name).is_file():
            return folder / name
    raise CustosError(f"{folder} has no requests.csv, requests.jsonl or requests.parquet")


def _print_summary(summary: Any, out: Path) -> None:
    from collections import Counter

    from custos.model import Outcome

    rejected = Counter(
        r.decision.reason_codes[0].value
        for r in summary.results
        if r.decision.outcome is Outcome.REJECTED and r.decision.reason_codes
    )
    table = Table(title=f"Batch {summary.batch_id}")
    table.add_column("")
    table.add_column("requests", justify="right")
    table.add_row("received", f"{len(summary.results):,}")
    for code, count in rejected.most_common():
        table.add_row(f"  rejected: {code}", f"{count:,}")
    table.add_row("passed the gate", f"{len(summary.results) - sum(rejected.values()):,}")
    for outcome in (Outcome.NO_MATCH, Outcome.AMBIGUOUS, Outcome.HELD, Outcome.DISCLOSED):
        table.add_row(f"  {outcome.value}", f"{summary.count(outcome):,}")
    table.add_section()
    for t in summary.timings:
        table.add_row(f"time: {t.stage}", f"{t.seconds:.2f} s")
    console.print(table)
    console.print(f"Ledger checkpoint at size {summary.checkpoint_size}. Files in [bold]{out}[/].")


def _open_store() -> Any:
    from custos.config import load_settings
    from custos.store import open_store

    return open_store(load_settings().database_url)


def _auditor_key(key: str | None) -> Any:
    """The verifier key: given (text or a file holding it), else the one `keygen` published."""
    from custos.config import load_settings
    from custos.errors import LedgerError
    from custos.ledger import verifier_key

    if key:
        path = Path(key)
        return verifier_key(path.read_text().strip() if path.is_file() else key)
    public = _public_key_path(load_settings().ledger_key_path)
    if not public.is_file():
        raise LedgerError(f"no verifier key given and none at {public}; pass --key NAME+ID+KEY")
    return verifier_key(public.read_text().strip())


def _public_key_path(private: Path) -> Path:
    return private.with_suffix(".pub")


@ledger_app.command("keygen")
@refusing_errors
def ledger_keygen() -> None:
    """Create the Ed25519 key that signs checkpoints (never overwrites one) and publish its verifier key."""
    from custos.config import load_settings
    from custos.ledger import generate_signing_key, save_signing_key

    settings = load_settings()
    key = generate_signing_key(settings.ledger_origin)
    save_signing_key(key, settings.ledger_key_path)
    public = _public_key_path(settings.ledger_key_path)
    public.write_text(str(key.verifier) + "\n", encoding="ascii")
    console.print(f"Signing key: {settings.ledger_key_path} (mode 0600)")
    console.print(f"Verifier key (give it to auditors): {key.verifier} ({public})", markup=False)


@ledger_app.command("verify")
@refusing_errors
def ledger_verify(
    key: Annotated[
        str | None, typer.Option(help="Verifier key NAME+ID+KEY, or a file holding it.")
    ] = None,
    trusted: Annotated[
        Path | None, typer.Option(help="An earlier `ledger export` to hold the ledger to.")
    ] = None,
) -> None:
    """Recompute every leaf, the chain and the tree, and check every checkpoint; exit 1 on any fault."""
    from custos.ledger import exported_notes, verify

    notes = exported_notes(trusted.read_text(encoding="utf-8")) if trusted else ()
    with _open_store() as opened:
        report = verify(opened, _auditor_key(key), trusted=notes)
    if report.ok:
        console.print(
            f"[green]ledger verified[/]: {report.events:,} events, {report.checkpoints} checkpoints, "
            f"{report.signed_size:,} under a signature, {report.unsealed:,} after the last checkpoint"
        )
        return
    console.print(
        f"[red]ledger does NOT verify[/]: {report.fault_count} fault(s); "
        f"first bad sequence number: {report.first_bad_seq}"
    )
    for fault in report.faults[:20]:
        console.print(f"  {fault.kind.value} seq={fault.seq}: {fault.message}", highlight=False)
    raise typer.Exit(1)


@ledger_app.command("prove")
@refusing_errors
def ledger_prove(
    request: Annotated[str, typer.Option(help="The request id whose events to prove.")],
    agency: Annotated[str | None, typer.Option(help="The agency that sent it.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the proof JSON here (default: stdout).")
    ] = None,
) -> None:
    """Inclusion proofs for a request's events against the latest checkpoint (for verifier.py)."""
    from custos.ledger import prove

    with _open_store() as opened:
        bundle = prove(opened, request, agency=agency)
    _emit(bundle.to_json(), out)


@ledger_app.command("consistency")
@refusing_errors
def ledger_consistency(
    old: Annotated[int, typer.Argument(help="Tree size of the older checkpoint.")],
    new: Annotated[int, typer.Argument(help="Tree size of the newer checkpoint.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the proof JSON here (default: stdout).")
    ] = None,
) -> None:
    """A consistency proof that the checkpoint at NEW extends the one at OLD."""
    from custos.ledger import consistency

    with _open_store() as opened:
        bundle = consistency(opened, old, new)
    _emit(bundle.to_json(), out)


@ledger_app.command("export")
@refusing_errors
def ledger_export(
    out: Annotated[
        Path | None, typer.Option(help="Write the export here (default: stdout).")
    ] = None,
) -> None:
    """Every signed checkpoint, and nothing else, for publication to oversight."""
    from custos.ledger import export

    with _open_store() as opened:
        _emit(export(opened), out)


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console.print(f"Written to {out}")


report_app = typer.Typer(
    help="Oversight reports: one batch, or a calendar year.", no_args_is_help=True
)
app.add_typer(report_app, name="report")


def _print_tables(tables: Any) -> None:
    """Print report tables; a wide one is shown record by record, field per line."""
    for t in tables:
        if len(t.columns) <= 6:
            table = Table(title=t.title)
            for column in t.columns:
                table.add_column(column)
            for row in t.rows:
                table.add_row(*row)
            console.print(table)
            continue
        console.print(f"[bold]{t.title}[/] ({len(t.rows)})")
        for i, row in enumerate(t.rows, start=1):
            record = Table(show_header=False, title=f"{i}")
            record.add_column(style="dim")
            record.add_column()
            for column, cell in zip(t.columns, row, strict=True):
                record.add_row(column, cell)
            console.print(record)


def _record_access(opened: Any, kind: str, obj: str, payload: dict[str, Any]) -> None:
    """Reading taxpayer records or producing a report is itself an audited event (AU-3)."""
    from custos.ledger import EventType, NewEvent, append
    from custos.pipeline import cli_actor

    actor = cli_actor()
    append(opened, NewEvent(actor.id, EventType(kind), True, actor.origin, obj, payload))


@app.command()
@refusing_errors
def accounting(
    tin: Annotated[str, typer.Option(help="The taxpayer's TIN (9 digits).")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the accounting as JSON here.")
    ] = None,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Also write it as a self-contained HTML page.")
    ] = None,
) -> None:
    """Every request and disclosure concerning one taxpayer: the § 6103(p)(3)(A) record."""
    from custos.report import (
        accounting_for_tin,
        accounting_tables,
        normalize_tin,
        render_accounting_html,
        render_accounting_json,
    )

    with _open_store() as opened:
        acc = accounting_for_tin(opened, tin)
        _record_access(
            opened, "records_accessed", f"tin:{normalize_tin(tin)}", {"report": "accounting"}
        )
    _print_tables(accounting_tables(acc))
    if json_out:
        json_out.write_text(render_accounting_json(acc), encoding="utf-8")
    if html_out:
        html_out.write_text(render_accounting_html(acc), encoding="utf-8")


@report_app.command("annual")
@refusing_errors
def report_annual(
    year: Annotated[int, typer.Option(help="The calendar year (UTC) to report on.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the HTML page here; JSON goes beside it as .json.")
    ] = None,
) -> None:
    """The (p)(3)(C) report per agency: requests, instances of disclosure, taxpayers, purposes."""
    from custos.report import annual_report, render_annual_html, render_annual_json

    with _open_store() as opened:
        report = annual_report(opened, year)
        _record_access(opened, "report_generated", f"report:annual/{year}", {"report": "annual"})
    text = render_annual_json(report)
    if out is None:
        typer.echo(text)
        return
    out.write_text(render_annual_html(report), encoding="utf-8")
    out.with_suffix(".json").write_text(text, encoding="utf-8")
    console.print(f"Annual report: {out} and {out.with_suffix('.json')}")


@report_app.command("batch")
@refusing_errors
def report_batch(
    batch: Annotated[str, typer.Argument(help="The batch id (printed by `custos run`).")],
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
) -> None:
    """The oversight report of one batch as one HTML file that opens with no network."""
    from custos.report import batch_report, render_batch_html

    with _open_store() as opened:
        report = batch_report(opened, batch)
        _record_access(opened, "report_generated", f"batch:{batch}", {"report": "batch"})
    out.write_text(render_batch_html(report), encoding="utf-8")
    console.print(f"Batch report: {out}")


def _mount_service() -> None:
    """`serve`, `worker`, `keys`, `review` and `hold` live with their modules; the CLI mounts them."""
    from custos.officer_cli import hold_app, review_app
    from custos.service.cli import keys_app, service_app

    app.add_typer(service_app)
    app.add_typer(keys_app, name="keys")
    app.add_typer(review_app, name="review")
    app.add_typer(hold_app, name="hold")


_mount_service()
