"""Recall at the scale of August 2025: open an incident over ~47,000 disclosures.

    .venv/bin/python benchmarks/bench_incidents.py [--disclosures 47000] [--wrongful 42695]
        [--backend sqlite|postgresql]

A batch of `--disclosures` synthetic requests, every one disclosed without an
address check (as in 2025); `--wrongful` of them carry a placeholder address
("Unknown Address"). Timed: opening an incident by the rule selector
(`subject-address`, `address-sufficient`), which re-gates the whole batch,
marks the wrongful ones, writes the report and disposal list and appends one
ledger event per disclosure, in one transaction; reading the disposal list;
the recipient's confirmation; then the same recall by request ids on a fresh
store. The populate step is not timed. All data is invented.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from custos import incidents, store
from custos.incidents import Selector
from custos.model import Request, Subject
from custos.policy.pack import load_pack
from custos.policy.roster import Agency, Official, Roster
from custos.store.testing import temporary_store_url

AGENCY = "DHS-ICE"
OFFICIAL = "ICE-0001"
RULES = ("subject-address", "address-sufficient")


def _roster() -> Roster:
    from datetime import date

    official = Official(id=OFFICIAL, agency=AGENCY, name="A. Example", recipient=True)
    agency = Agency(
        id=AGENCY,
        name="Synthetic Agency",
        head="Director",
        inspector_general="OIG",
        safeguards_certified=date(2025, 4, 7),
        officials=(official,),
    )
    return Roster(agencies=(agency,))


def _requests(n: int, wrongful: int) -> list[Request]:
    out = []
    for i in range(n):
        street = "Unknown Address" if i < wrongful else f"{100 + i % 9000} Larkspur Lane"
        out.append(
            Request(
                row=i + 1,
                line=i + 2,
                request_id=f"REQ-{i:07d}",
                case_number=f"CASE-{i:07d}",
                purpose="criminal investigation",
                statute="8 U.S.C. § 1253(a)(1)",
                tax_periods="2023;2024",
                reason=f"Subject {i} is named in final order of removal file A{200000000 + i}",
                requesting_official=OFFICIAL,
                agency=AGENCY,
                subject=Subject(
                    first_name="Marisol",
                    last_name=f"Quintero{i}",
                    street=street,
                    city="Springfield",
                    state="IL",
                    zip="62701",
                ),
            )
        )
    return out


def _populate(opened: store.Store, requests: list[Request]) -> None:
    received = datetime(2025, 8, 7, 9, 0, tzinfo=UTC)
    with opened.write() as conn:
        store.save_agency(conn, store.Agency(AGENCY, "Synthetic Agency"))
        store.create_batch(
            conn,
            batch_id="B-AUG",
            agency_id=AGENCY,
            source="bench",
            source_sha256="0" * 64,
            row_count=len(requests),
            malformed_count=0,
            now=received,
        )
        store.add_requests(conn, "B-AUG", requests, now=received)
        store.record_disclosures(
            conn,
            [
                store.DisclosureRecord(
                    batch_id="B-AUG",
                    agency_id=AGENCY,
                    request_id=r.request_id,
                    tin=f"9{r.row:08d}",
                    statute=r.statute,
                    fields=("street", "unit", "city", "state", "zip"),
                    as_of_tax_year=2024,
                    disclosed_at=received + timedelta(hours=6),
                )
                for r in requests
            ],
        )


def _timed(label: str, fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    print(f"  {label:<44} {time.perf_counter() - started:8.2f} s")
    return result


def run(backend: str, n: int, wrongful: int) -> None:
    pack, roster = load_pack(), _roster()
    requests = _requests(n, wrongful)
    now = datetime.now(UTC)
    common: dict[str, Any] = {
        "how_discovered": "Sample review found placeholder request addresses",
        "discovered_at": now - timedelta(hours=2),
        "actor": "bench",
        "origin": "bench",
        "pack": pack,
        "roster": roster,
    }
    print(f"{backend}: {n} disclosures, {wrongful} on placeholder addresses")
    for how in ("rules", "ids"):
        _one(backend, how, requests, wrongful, common)


def _one(
    backend: str, how: str, requests: list[Request], wrongful: int, common: dict[str, Any]
) -> None:
    with tempfile.TemporaryDirectory() as tmp, temporary_store_url(backend, Path(tmp)) as url:
        opened = store.open_store(url)
        _populate(opened, requests)
        if how == "rules":
            selector = Selector(batches=("B-AUG",), rules=RULES)
        else:
            ids = tuple(r.request_id for r in requests[:wrongful])
            selector = Selector(agency=AGENCY, request_ids=ids)
        result = _timed(
            f"open incident by {how}",
            lambda: incidents.open_incident(opened, selector, **common),
        )
        assert result.marked == wrongful, result.marked
        lists = _timed(
            "read the disposal list",
            lambda: incidents.disposal_lists(opened, result.incident.id),
        )
        assert len(lists[0].request_ids) == wrongful
        _timed(
            "confirm destruction (closes the incident)",
            lambda: incidents.confirm_disposal(
                opened,
                result.incident.id,
                AGENCY,
                confirmed_by="Records Officer",
                reference="DEST-1",
                destroyed_at=datetime.now(UTC),
                actor="bench",
                origin="bench",
            ),
        )
        opened.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disclosures", type=int, default=47_000)
    parser.add_argument("--wrongful", type=int, default=42_695)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    run(args.backend, args.disclosures, min(args.wrongful, args.disclosures))


if __name__ == "__main__":
    main()
