"""The operational store: requests, outcomes, review, holds, keys and the ledger's tables.

One schema for SQLite (default, a file under CUSTOS_HOME) and PostgreSQL,
migrated with Alembic on open. Repositories are small functions taking a
connection from `Store.write()` or `Store.read()`, so a caller decides what
commits together.
"""

from custos.store.batches import (
    Batch,
    BatchStage,
    advance_stage,
    create_batch,
    get_batch,
    record_batch_failure,
)
from custos.store.engine import Store, open_store
from custos.store.holds import Hold, active_holds, lift_hold, place_hold
from custos.store.outcomes import (
    DisclosureRecord,
    OutcomeRecord,
    batch_disclosures,
    batch_outcomes,
    disclosures_for_tin,
    get_disclosure,
    get_outcome,
    mark_wrongful,
    record_disclosure,
    record_disclosures,
    record_outcome,
    record_outcomes,
)
from custos.store.requests import (
    RowRejection,
    add_requests,
    add_row_rejections,
    batch_requests,
    batch_row_rejections,
    get_request,
    known_request_ids,
)
from custos.store.review import (
    ReviewItem,
    ReviewStatus,
    decide_review,
    get_review,
    open_review,
    open_reviews,
)
from custos.store.roster import (
    Agency,
    Official,
    get_agency,
    list_agencies,
    list_officials,
    save_agency,
    save_official,
)

__all__ = [
    "Agency",
    "Batch",
    "BatchStage",
    "DisclosureRecord",
    "Hold",
    "Official",
    "OutcomeRecord",
    "ReviewItem",
    "ReviewStatus",
    "RowRejection",
    "Store",
    "active_holds",
    "add_requests",
    "add_row_rejections",
    "advance_stage",
    "batch_disclosures",
    "batch_outcomes",
    "batch_requests",
    "batch_row_rejections",
    "create_batch",
    "decide_review",
    "disclosures_for_tin",
    "get_agency",
    "get_batch",
    "get_disclosure",
    "get_outcome",
    "get_request",
    "get_review",
    "known_request_ids",
    "lift_hold",
    "list_agencies",
    "list_officials",
    "mark_wrongful",
    "open_review",
    "open_reviews",
    "open_store",
    "place_hold",
    "record_batch_failure",
    "record_disclosure",
    "record_disclosures",
    "record_outcome",
    "record_outcomes",
    "save_agency",
    "save_official",
]
