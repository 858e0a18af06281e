"""The dry run: read a batch and gate every row, without matching anything.

A requesting agency or its counsel runs this before sending a batch; the
service's `/check` route returns the same report. Nothing here touches the
master file, so it reveals nothing about any taxpayer.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from custos.intake import Batch, read_batch
from custos.model import GateResult, MalformedRow, PackRef, ReasonCode
from custos.policy.gate import evaluate_batch
from custos.policy.pack import Pack
from custos.policy.roster import Roster

GATE_COLUMNS = ("request_id", "row", "passed", "reason_codes")


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every row's verdict, malformed rows included, in input order."""

    batch: Batch
    verdicts: tuple[GateResult, ...]
    pack: PackRef

    @property
    def rows(self) -> int:
        return self.batch.rows

    @property
    def passed(self) -> int:
        return sum(1 for v in self.verdicts if v.passed)

    def counts_by_reason(self) -> Counter[ReasonCode]:
        """Rows per *primary* reason code, so the counts add up to the failed rows."""
        return Counter(v.primary_reason for v in self.verdicts if v.primary_reason is not None)

    def counts_by_rule(self) -> Counter[ReasonCode]:
        """Rows failing each reason, counting every failure of a row, not only the first."""
        return Counter(code for v in self.verdicts for code in v.reason_codes)


def malformed_verdict(row: MalformedRow, pack: PackRef) -> GateResult:
    """A row intake could not read is a failed verdict with its own reason code."""
    return GateResult(
        row=row.row,
        request_id=row.request_id,
        failed_rules=("intake",),
        reason_codes=(ReasonCode.MALFORMED_ROW,),
        pack=pack,
    )


def check_batch(
    batch: Batch, pack: Pack, roster: Roster, *, agency: str = "", today: date | None = None
) -> CheckReport:
    """Gate an already-read batch; malformed rows keep their place in row order."""
    gated = evaluate_batch(batch.requests, pack, roster, agency=agency, today=today)
    verdicts = [*gated, *(malformed_verdict(m, pack.ref) for m in batch.malformed)]
    verdicts.sort(key=lambda v: v.row)
    return CheckReport(batch=batch, verdicts=tuple(verdicts), pack=pack.ref)


def check_file(
    path: Path, pack: Pack, roster: Roster, *, agency: str = "", today: date | None = None
) -> CheckReport:
    """Read and gate a request file; raises BatchFileError for a file that is no batch."""
    return check_batch(read_batch(path, agency=agency), pack, roster, agency=agency, today=today)


def write_gate_csv(report: CheckReport, out: Path) -> Path:
    """Write `gate.csv`: one line per input row, reason codes primary first, `;`-separated."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "gate.csv"
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(GATE_COLUMNS)
        for v in report.verdicts:
            writer.writerow((v.request_id, v.row, str(v.passed).lower(), ";".join(v.reason_codes)))
    return target
