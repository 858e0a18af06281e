"""Reports: the oversight report of a batch, the annual (p)(3)(C) report, a taxpayer's accounting.

Each report is a function that counts from the store and returns a frozen
value, and render functions that turn the value into JSON, a table or one
self-contained HTML page (the charting JavaScript inlined; it opens with no
network). The batch and annual reports hold counts only; the accounting
names the taxpayer and is for the custodian alone.
"""

from custos.report.accounting import (
    ConcernEntry,
    DisclosureEntry,
    RequestFacts,
    TinAccounting,
    accounting_for_tin,
    accounting_tables,
    normalize_tin,
    render_accounting_html,
    render_accounting_json,
)
from custos.report.annual import (
    AgencyYear,
    AnnualReport,
    annual_report,
    render_annual_html,
    render_annual_json,
)
from custos.report.batch import (
    BatchReport,
    OfficialCount,
    ProbabilityBin,
    batch_report,
    render_batch_html,
    render_batch_json,
)
from custos.report.ledger_coverage import LedgerCoverage, batch_object
from custos.report.tables import Table

__all__ = [
    "AgencyYear",
    "AnnualReport",
    "BatchReport",
    "ConcernEntry",
    "DisclosureEntry",
    "LedgerCoverage",
    "OfficialCount",
    "ProbabilityBin",
    "RequestFacts",
    "Table",
    "TinAccounting",
    "accounting_for_tin",
    "accounting_tables",
    "annual_report",
    "batch_object",
    "batch_report",
    "normalize_tin",
    "render_accounting_html",
    "render_accounting_json",
    "render_annual_html",
    "render_annual_json",
    "render_batch_html",
    "render_batch_json",
]
