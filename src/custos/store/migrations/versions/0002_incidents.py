"""Incidents and recall: incidents, the disclosures each marks wrongful, recipients' disposal.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Written out in full, like 0001, so that it keeps meaning the same thing when the
metadata later changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from custos.store.schema import UTCDateTime

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("discovered_at", UTCDateTime(), nullable=False),
        sa.Column("how_discovered", sa.Text(), nullable=False),
        sa.Column("selector", sa.JSON(), nullable=False),
        sa.Column("pack_version", sa.String(64), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("report_sha256", sa.String(64), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_incidents_status"),
    )
    op.create_table(
        "incident_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("failed_rules", sa.JSON(), nullable=False),
        sa.Column("marked_at", UTCDateTime(), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incident_items"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_items_incident_id_incidents"
        ),
        sa.ForeignKeyConstraint(
            ["agency_id", "request_id"],
            ["disclosures.agency_id", "disclosures.request_id"],
            name="fk_incident_items_agency_id_request_id_disclosures",
        ),
        sa.UniqueConstraint(
            "agency_id", "request_id", name="uq_incident_items_agency_id_request_id"
        ),
    )
    op.create_index("ix_incident_items_incident_id", "incident_items", ["incident_id"])
    op.create_table(
        "incident_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_by", sa.String(200), nullable=True),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=True),
        sa.Column("confirmation_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incident_recipients"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_recipients_incident_id_incidents"
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_incident_recipients_agency_id_agencies"
        ),
        sa.UniqueConstraint(
            "incident_id", "agency_id", name="uq_incident_recipients_incident_id_agency_id"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_incident_items_incident_id", table_name="incident_items")
    for table in ("incident_recipients", "incident_items", "incidents"):
        op.drop_table(table)
