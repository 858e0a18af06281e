"""A gateway on a small world, run once, for the officer's tests (review, holds).

Each test gets its own store (SQLite, or PostgreSQL where marked), so a
decision in one cannot leak into another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from custos import pipeline
from custos.config import Settings
from custos.intake import read_batch
from custos.ledger import generate_signing_key, save_signing_key
from custos.match import load_model
from custos.policy.pack import load_pack
from custos.policy.roster import Roster, load_roster
from custos.store.testing import temporary_store_url

AGENCY = "DHS-ICE"
OFFICER = pipeline.Actor("key:officer1", "pytest")


@contextmanager
def officer_gateway(
    backend: str, world: Path, model: Path, tmp: Path, roster: Roster | None = None
) -> Iterator[pipeline.Gateway]:
    key_path = tmp / "keys" / "ledger.key"
    save_signing_key(generate_signing_key("custos.test/ledger"), key_path)
    with temporary_store_url(backend, tmp) as url:
        settings = Settings(home=tmp, database_url=url, ledger_key_path=key_path, ledger_origin="t")
        gw = pipeline.open_gateway(
            pack=load_pack(),
            roster=roster or load_roster(world / "roster.toml"),
            model=load_model(model),
            master=pipeline.Master.from_world(world),
            actor=pipeline.Actor("user:test", "pytest"),
            settings=settings,
        )
        try:
            yield gw
        finally:
            gw.store.close()


def batch_id(world: Path) -> str:
    return pipeline.batch_id_for(AGENCY, pipeline.file_sha256(world / "requests.csv"))


def run_world(gw: pipeline.Gateway, world: Path) -> pipeline.RunSummary:
    source = world / "requests.csv"
    return pipeline.run(
        gw,
        read_batch(source, agency=AGENCY),
        agency=AGENCY,
        source_sha256=pipeline.file_sha256(source),
    )
