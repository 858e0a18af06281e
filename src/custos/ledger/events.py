"""Ledger events: the audit record of IRS Publication 1075 / NIST SP 800-53 AU-3.

Every event says when (UTC, microseconds), who (a unique actor id), what (an
event type from a closed set), whether it succeeded, where the request came
from (origin), what it acted on (object), and carries a canonical-JSON
payload.

Sequence numbers start at 0 and are the event's leaf index in the Merkle
tree. Each event also carries the leaf hash of the event before it (32 zero
bytes for event 0), so deleting, inserting or reordering events breaks the
chain even before a checkpoint has been signed over them.

The leaf of event `seq` is SHA-256(0x00 || canonical JSON of the whole event):

    {"actor":…,"event_type":…,"object":…,"origin":…,"payload":{…},
     "prev":"<hex of previous leaf hash>","seq":…,"success":…,"time":…}
"""

from __future__ import annotations

import builtins
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from custos.errors import LedgerError
from custos.ledger.canonical import quote

GENESIS_PREV = bytes(32)
TIME_PATTERN = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")


class EventType(StrEnum):
    """The closed set of things the ledger records."""

    BATCH_RECEIVED = "batch_received"
    BATCH_STAGE_COMPLETED = "batch_stage_completed"
    BATCH_FAILED = "batch_failed"
    BATCH_COMPLETED = "batch_completed"
    REQUEST_RECEIVED = "request_received"
    ROW_REJECTED = "row_rejected"
    REQUEST_GATED = "request_gated"
    REQUEST_MATCHED = "request_matched"
    REQUEST_DECIDED = "request_decided"
    REQUEST_HELD = "request_held"
    DISCLOSURE_MADE = "disclosure_made"
    DISCLOSURE_MARKED_WRONGFUL = "disclosure_marked_wrongful"
    REVIEW_OPENED = "review_opened"
    REVIEW_DECIDED = "review_decided"
    REVIEW_EXPIRED = "review_expired"
    HOLD_PLACED = "hold_placed"
    HOLD_LIFTED = "hold_lifted"
    ROSTER_CHANGED = "roster_changed"
    AUTH_SUCCEEDED = "auth_succeeded"
    AUTH_FAILED = "auth_failed"
    API_KEY_ISSUED = "api_key_issued"
    API_KEY_REVOKED = "api_key_revoked"
    RECORDS_ACCESSED = "records_accessed"
    REPORT_GENERATED = "report_generated"
    INCIDENT_OPENED = "incident_opened"
    INCIDENT_CLOSED = "incident_closed"
    DISPOSAL_REQUESTED = "disposal_requested"
    DISPOSAL_CONFIRMED = "disposal_confirmed"
    SIGNING_KEY_REGISTERED = "signing_key_registered"
    CHECKPOINT = "checkpoint"


def parse_event_type(value: str) -> EventType:
    """The event type named `value`; an unknown name is a `LedgerError` listing the known ones."""
    try:
        return EventType(value)
    except ValueError:
        known = ", ".join(t.value for t in EventType)
        raise LedgerError(f"unknown ledger event type {value!r}; known types: {known}") from None


def request_object(agency: str, request_id: str) -> str:
    """The `object` of an event about one request: `request:<agency>/<request_id>`."""
    return f"request:{agency}/{request_id}"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append; the sequencer adds seq, time and the chain."""

    actor: str
    event_type: EventType
    success: bool
    origin: str
    object: str
    payload: Mapping[str, builtins.object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """An event as recorded. `event_type` is kept as stored text so verify can read any row."""

    seq: int
    time: str
    actor: str
    event_type: str
    success: bool
    origin: str
    object: str
    payload: str
    prev_hash: bytes
    leaf_hash: bytes

    def canonical(self) -> bytes:
        return event_bytes(
            self.seq,
            self.time,
            self.actor,
            self.event_type,
            self.success,
            self.origin,
            self.object,
            self.payload,
            self.prev_hash,
        )


def event_bytes(
    seq: int,
    time: str,
    actor: str,
    event_type: str,
    success: bool,
    origin: str,
    object_: str,
    payload: str,
    prev_hash: bytes,
) -> bytes:
    """The canonical JSON of a whole event, given its payload already in canonical form.

    Assembled directly (keys are fixed and already in sorted order) because
    verify recomputes this for every event; a test checks it equals
    `canonical.encode` of the same event as a dict.
    """
    return (
        f'{{"actor":{quote(actor)},"event_type":{quote(event_type)},'
        f'"object":{quote(object_)},"origin":{quote(origin)},"payload":{payload},'
        f'"prev":"{prev_hash.hex()}","seq":{seq},"success":{"true" if success else "false"},'
        f'"time":{quote(time)}}}'
    ).encode()


def leaf_hash(canonical_event: bytes) -> bytes:
    """RFC 6962 leaf hash of an event's canonical bytes."""
    return hashlib.sha256(b"\x00" + canonical_event).digest()


def format_time(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds and a Z: fixed width, so text order is time order."""
    if moment.tzinfo is None:
        raise LedgerError(f"ledger times must be time-zone aware, got {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    return datetime.now(UTC)
