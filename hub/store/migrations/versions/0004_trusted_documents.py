"""Trusted documents: GraphQL documents registered by the SHA-256 of their text (hub/trusted.py).

Revision ID: 0004_trusted_documents
Revises: 0003_idempotency
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_trusted_documents"
down_revision = "0003_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trusted_documents",
        sa.Column("sha256", sa.String(64)),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("operations", sa.JSON, nullable=False),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_trusted_documents"),
    )


def downgrade() -> None:
    op.drop_table("trusted_documents")
