"""The ledger: an append-only, hash-chained, Merkle-checkpointed record of every event.

Append through the one sequencer (`append`, `append_many`, or `append_events`
inside a `Store.write()` transaction), sign checkpoints at batch ends
(`checkpoint`) and on a timer (`checkpoint_if_due`), and let auditors
`verify`, `prove`, check `consistency` and take the `export`. The module
`custos.ledger.verifier` stands alone: auditors can run it without custos.
"""

from custos.ledger.chain import Head, append, append_events, append_many, read_events, read_head
from custos.ledger.checkpoint import (
    Checkpoint,
    checkpoint,
    checkpoint_at,
    checkpoint_if_due,
    latest_checkpoint,
    list_checkpoints,
)
from custos.ledger.events import EventType, LedgerEvent, NewEvent, parse_event_type, request_object
from custos.ledger.keys import (
    SigningKey,
    generate_signing_key,
    load_signing_key,
    save_signing_key,
    verifier_key,
)
from custos.ledger.proofs import (
    ConsistencyBundle,
    InclusionBundle,
    InclusionProof,
    consistency,
    export,
    exported_notes,
    prove,
)
from custos.ledger.verifier import VerifierKey
from custos.ledger.verify import Fault, FaultKind, VerifyReport, verify

__all__ = [
    "Checkpoint",
    "ConsistencyBundle",
    "EventType",
    "Fault",
    "FaultKind",
    "Head",
    "InclusionBundle",
    "InclusionProof",
    "LedgerEvent",
    "NewEvent",
    "SigningKey",
    "VerifierKey",
    "VerifyReport",
    "append",
    "append_events",
    "append_many",
    "checkpoint",
    "checkpoint_at",
    "checkpoint_if_due",
    "consistency",
    "export",
    "exported_notes",
    "generate_signing_key",
    "latest_checkpoint",
    "list_checkpoints",
    "load_signing_key",
    "parse_event_type",
    "prove",
    "read_events",
    "read_head",
    "request_object",
    "save_signing_key",
    "verifier_key",
    "verify",
]
