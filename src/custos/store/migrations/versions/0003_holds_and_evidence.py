"""Holds by agency, statute, batch or everything; the decision kept while held; review evidence.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

The first holds table could only name an agency and was never written to by
any release, so it is replaced rather than altered (SQLite cannot alter a
foreign key in place).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from custos.store.schema import UTCDateTime

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

HOLD_SCOPES = ("agency", "statute", "batch", "all")


def upgrade() -> None:
    op.drop_table("holds")
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("reference", sa.String(300), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_by", sa.String(200), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("lift_rationale", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.CheckConstraint(
            f"scope IN ({', '.join(repr(s) for s in HOLD_SCOPES)})", name="ck_holds_scope"
        ),
    )
    with op.batch_alter_table("outcomes") as batch:
        batch.add_column(sa.Column("held_outcome", sa.String(16), nullable=True))
    with op.batch_alter_table("review_items") as batch:
        batch.add_column(sa.Column("evidence", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_items") as batch:
        batch.drop_column("evidence")
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_column("held_outcome")
    op.drop_table("holds")
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("lifted_by", sa.String(200), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name="fk_holds_agency_id_agencies"),
    )
