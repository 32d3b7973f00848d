"""Statistics: monthly snapshots and saved reports.

Revision ID: 0008_reports
Revises: 0007_freeze_kinds
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_reports"
down_revision = "0007_freeze_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("measure", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("quota_type", sa.String(4), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("month", "measure", "region_code", "quota_type", name="pk_snapshots"),
    )
    op.create_table(
        "saved_reports",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("variables", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("owner_department", sa.String(32)),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_saved_reports"),
    )


def downgrade() -> None:
    op.drop_table("saved_reports")
    op.drop_table("snapshots")
