"""Freezes by kind: each department freezes the kinds it governs (hub/supervision/freezes.py).

Revision ID: 0007_freeze_kinds
Revises: 0006_workflow
Create Date: 2026-12-07
"""

from __future__ import annotations

revision = "0007_freeze_kinds"
down_revision = "0006_workflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled by the change that needs it


def downgrade() -> None:
    pass
