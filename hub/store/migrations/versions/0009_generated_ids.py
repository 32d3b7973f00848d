"""Ids the hub generated for new department records, reserved so no two applications share one.

Revision ID: 0009_generated_ids
Revises: 0008_reports
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_generated_ids"
down_revision = "0008_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "generated_ids",
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("department", "entity", "field", "value", name="pk_generated_ids"),
    )


def downgrade() -> None:
    op.drop_table("generated_ids")
