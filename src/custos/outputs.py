"""The three files a run writes, with exactly the columns DESIGN.md fixes.

`responses.csv` is the requester's view and may be sent to the agency;
`decisions.csv` and `disclosures.csv` are the custodian's and never are.
Column tuples are the allow-lists: a writer cannot emit a column that is not
named here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path

from custos.model import Decision, DisclosedAddress, Outcome, Response, ResponseStatus
from custos.pipeline import RowResult
from custos.store import Store, open_reviews

RESPONSE_COLUMNS = (
    "request_id",
    "status",
    "reason_code",
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "as_of_tax_year",
)
DECISION_COLUMNS = (
    "request_id",
    "outcome",
    "reason_codes",
    "tin",
    "match_probability",
    "margin",
    "pack_version",
    "model_version",
)
DISCLOSURE_COLUMNS = (
    "request_id",
    "tin",
    "agency",
    "statute",
    "fields",
    "as_of_tax_year",
    "disclosed_at",
    "ledger_seq",
)


def response_row(response: Response) -> dict[str, str]:
    row = dict.fromkeys(RESPONSE_COLUMNS, "")
    row["request_id"] = response.request_id
    row["status"] = response.status.value
    row["reason_code"] = response.reason_code
    if response.status is ResponseStatus.DISCLOSED and response.address is not None:
        a = response.address
        row.update(
            street=a.street,
            unit=a.unit,
            city=a.city,
            state=a.state,
            zip=a.zip,
            as_of_tax_year=str(a.as_of_tax_year),
        )
    return row


def decision_row(decision: Decision, pack_version: str, model_version: str) -> dict[str, str]:
    return {
        "request_id": decision.request_id,
        "outcome": decision.outcome.value,
        "reason_codes": ";".join(decision.reason_codes),
        "tin": decision.tin if decision.outcome is Outcome.DISCLOSED else "",
        "match_probability": _number(decision.match_probability),
        "margin": _number(decision.margin),
        "pack_version": pack_version,
        "model_version": model_version,
    }


def disclosure_row(result: RowResult) -> dict[str, str]:
    d = result.decision
    address = result.response.address
    return {
        "request_id": d.request_id,
        "tin": d.tin,
        "agency": result.agency,
        "statute": result.statute,
        "fields": ";".join(f.name for f in fields(DisclosedAddress)),
        "as_of_tax_year": str(address.as_of_tax_year) if address else "",
        "disclosed_at": result.disclosed_at,
        "ledger_seq": "" if result.ledger_seq is None else str(result.ledger_seq),
    }


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> Path:
    """Write rows with exactly `columns`; a key outside them is an error, not a leak."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_run(
    results: Sequence[RowResult], out: Path, *, pack_version: str, model_version: str
) -> tuple[Path, Path, Path]:
    """Write responses.csv, decisions.csv and disclosures.csv for one batch."""
    return (
        write_csv(
            out / "responses.csv", RESPONSE_COLUMNS, (response_row(r.response) for r in results)
        ),
        write_csv(
            out / "decisions.csv",
            DECISION_COLUMNS,
            (decision_row(r.decision, pack_version, model_version) for r in results),
        ),
        write_csv(
            out / "disclosures.csv",
            DISCLOSURE_COLUMNS,
            (disclosure_row(r) for r in results if r.decision.outcome is Outcome.DISCLOSED),
        ),
    )


REVIEW_COLUMNS = ("request_id", "candidates", "opened_at", "status")


def write_review(store: Store, batch_id: str, path: Path) -> Path:
    """The batch's ambiguous requests for an officer: which taxpayers it could be.

    Custodian-internal, like decisions.csv; the requester only ever sees
    `not_disclosed` for these rows.
    """
    with store.read() as conn:
        items = [i for i in open_reviews(conn) if i.batch_id == batch_id]
    return write_csv(
        path,
        REVIEW_COLUMNS,
        (
            {
                "request_id": i.request_id,
                "candidates": ";".join(i.candidates),
                "opened_at": i.opened_at.isoformat(),
                "status": i.status.value,
            }
            for i in items
        ),
    )
