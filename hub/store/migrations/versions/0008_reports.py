"""Statistics: monthly snapshots and saved reports.

Revision ID: 0008_reports
Revises: 0007_freeze_kinds
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0008_reports"
down_revision = "0007_freeze_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that needs it


def downgrade() -> None:
    pass
