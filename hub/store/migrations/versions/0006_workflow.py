"""The one-window workflow: applications, their history and reservations (hub/workflow).

Revision ID: 0006_workflow
Revises: 0005_change_events
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0006_workflow"
down_revision = "0005_change_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that needs it


def downgrade() -> None:
    pass
