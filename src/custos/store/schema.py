"""The one schema of the operational store, for SQLite and PostgreSQL alike.

This is the schema the Alembic migrations produce; a test compares the
migrated database with it on both backends, so the two cannot drift apart.
Uniqueness constraints carry the exactly-once promises: one stored request,
one outcome, one disclosure and one review item per (agency, request_id).
The ledger tables are append-only; the migration adds triggers that refuse
UPDATE and DELETE, so a rewrite needs an administrator to drop them first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

BATCH_STAGES = ("received", "gated", "matched", "decided", "disclosed", "complete")
OUTCOMES = ("disclosed", "no_match", "ambiguous", "rejected", "held")
REVIEW_STATUSES = ("open", "approved", "rejected", "expired")
HOLD_SCOPES = ("agency", "statute", "batch", "all")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on both backends (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps aware UTC times only")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


agencies = Table(
    "agencies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("safeguards_certified_until", Date, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

officials = Table(
    "officials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("official_id", String(128), nullable=False),
    Column("name", String(200), nullable=False),
    Column("may_request", Boolean, nullable=False),
    Column("may_receive", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("agency_id", "official_id"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("source", String(1000), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("malformed_count", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=True),
    CheckConstraint(_one_of("stage", BATCH_STAGES), name="stage"),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", String(64), ForeignKey("batches.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("agency_id", "request_id"),
    UniqueConstraint("batch_id", "row"),
)

row_rejections = Table(
    "row_rejections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", String(64), ForeignKey("batches.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("reason_code", String(64), nullable=False),
    Column("error", Text, nullable=False),
    UniqueConstraint("batch_id", "row"),
)

_request_fk = ("agency_id", "request_id"), ("requests.agency_id", "requests.request_id")

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", String(64), ForeignKey("batches.id"), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("reason_codes", JSON, nullable=False),
    Column("tin", String(9), nullable=True),
    Column("match_probability", Float, nullable=True),
    Column("margin", Float, nullable=True),
    Column("pack_version", String(64), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("decided_at", UTCDateTime, nullable=False),
    Column("ledger_seq", BigInteger, nullable=True),
    Column("held_outcome", String(16), nullable=True),
    UniqueConstraint("agency_id", "request_id"),
    ForeignKeyConstraint(*_request_fk),
    CheckConstraint(_one_of("outcome", OUTCOMES), name="outcome"),
)

disclosures = Table(
    "disclosures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", String(64), ForeignKey("batches.id"), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("tin", String(9), nullable=False),
    Column("statute", String(200), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("as_of_tax_year", Integer, nullable=False),
    Column("disclosed_at", UTCDateTime, nullable=False),
    Column("ledger_seq", BigInteger, nullable=True),
    Column("wrongful_at", UTCDateTime, nullable=True),
    UniqueConstraint("agency_id", "request_id"),
    ForeignKeyConstraint(*_request_fk),
    Index(None, "tin"),
)

review_items = Table(
    "review_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", String(64), ForeignKey("batches.id"), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("candidates", JSON, nullable=False),
    Column("evidence", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decision_tin", String(9), nullable=True),
    Column("note", Text, nullable=True),
    UniqueConstraint("agency_id", "request_id"),
    ForeignKeyConstraint(*_request_fk),
    CheckConstraint(_one_of("status", REVIEW_STATUSES), name="status"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope", String(16), nullable=False),
    Column("target", String(200), nullable=True),
    Column("reference", String(300), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("lifted_by", String(200), nullable=True),
    Column("lifted_at", UTCDateTime, nullable=True),
    Column("resolution", String(16), nullable=True),
    Column("lift_rationale", Text, nullable=True),
    CheckConstraint(_one_of("scope", HOLD_SCOPES), name="scope"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("key_hash", String(128), nullable=False),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=True),
    Column("role", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("success", Boolean, nullable=False),
    Column("origin", String(200), nullable=False),
    Column("object", String(300), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index(None, "object"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("origin", String(200), nullable=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("key_id", String(8), nullable=False),
    Column("note", Text, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "tree_size"),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("key_id", String(8), primary_key=True),
    Column("public_key", LargeBinary(32), nullable=False),
    Column("verifier_key", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

APPEND_ONLY_TABLES = ("ledger_events", "checkpoints")


# --- Incidents and recall (issue #5, part 6) -------------------------------------------
# An incident marks disclosures wrongful; each disclosure belongs to at most one incident
# (the unique key on incident_items), so a recall never counts a disclosure twice.
# incident_recipients tracks, per recipient agency, the confirmation that it destroyed
# what its disposal list names. The stored report is the one the ledger event hashes.

INCIDENT_STATUSES = ("open", "closed")

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("discovered_at", UTCDateTime, nullable=False),
    Column("how_discovered", Text, nullable=False),
    Column("selector", JSON, nullable=False),
    Column("pack_version", String(64), nullable=True),
    Column("report", JSON, nullable=False),
    Column("report_sha256", String(64), nullable=False),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("ledger_seq", BigInteger, nullable=True),
    CheckConstraint(_one_of("status", INCIDENT_STATUSES), name="status"),
)

incident_items = Table(
    "incident_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("agency_id", String(64), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("failed_rules", JSON, nullable=False),
    Column("marked_at", UTCDateTime, nullable=False),
    Column("ledger_seq", BigInteger, nullable=True),
    UniqueConstraint("agency_id", "request_id"),
    ForeignKeyConstraint(
        ("agency_id", "request_id"), ("disclosures.agency_id", "disclosures.request_id")
    ),
    Index(None, "incident_id"),
)

incident_recipients = Table(
    "incident_recipients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("agency_id", String(64), ForeignKey("agencies.id"), nullable=False),
    Column("request_count", Integer, nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=True),
    Column("confirmed_by", String(200), nullable=True),
    Column("reference", String(200), nullable=True),
    Column("ledger_seq", BigInteger, nullable=True),
    Column("confirmation_seq", BigInteger, nullable=True),
    UniqueConstraint("incident_id", "agency_id"),
)
