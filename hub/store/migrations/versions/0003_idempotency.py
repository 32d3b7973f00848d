"""Idempotent mutations: the first answer of each (principal, idempotency key).

Revision ID: 0003_idempotency
Revises: 0002_access
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_idempotency"
down_revision = "0002_access"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(64)),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("mutation", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("answer", sa.JSON),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("completed_at", Stamp),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
