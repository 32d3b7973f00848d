"""The workflow's outbox: changes completed applications make in department databases (hub/store/outbox.py).

Revision ID: 0005_change_events
Revises: 0004_trusted_documents
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_change_events"
down_revision = "0004_trusted_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("key", sa.JSON, nullable=False),
        sa.Column("values", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_change_events"),
        sa.UniqueConstraint("application_id", "seq", name="uq_change_events_application_id_seq"),
    )
    op.create_index("ix_change_events_department", "change_events", ["department"])


def downgrade() -> None:
    op.drop_index("ix_change_events_department", "change_events")
    op.drop_table("change_events")
