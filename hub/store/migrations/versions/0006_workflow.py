"""The one-window workflow: applications, their history and reservations (hub/workflow).

Revision ID: 0006_workflow
Revises: 0005_change_events
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_workflow"
down_revision = "0005_change_events"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("institution_code", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(12)),
        sa.Column("id_number", sa.String(18)),
        sa.Column("input", sa.JSON, nullable=False),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("current_steps", sa.JSON, nullable=False),
        sa.Column("precheck", sa.JSON, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(64), nullable=False),
        sa.Column("submitted_department", sa.String(32)),
        sa.Column("submitted_at", Stamp, nullable=False),
        sa.Column("stage_since", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("completed_at", Stamp),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
    )
    for column in ("kind", "state", "institution_code", "id_number", "submitted_at"):
        op.create_index(f"ix_applications_{column}", "applications", [column])
    op.create_table(
        "application_events",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("step", sa.String(64)),
        sa.Column("decision", sa.String(12), nullable=False),
        sa.Column("from_state", sa.String(12)),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("department", sa.String(32)),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("waited_seconds", sa.Float),
        sa.PrimaryKeyConstraint("id", name="pk_application_events"),
    )
    op.create_index("ix_application_events_application_id", "application_events", ["application_id"])
    op.create_table(
        "reservations",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("application_id", sa.String(32), nullable=False),
        sa.Column("institution_code", sa.String(64), nullable=False),
        sa.Column("quota_type", sa.String(8), nullable=False),
        sa.Column("what", sa.String(8), nullable=False),
        sa.Column("plan_id", sa.String(64)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reservations"),
    )
    op.create_index("ix_reservations_application_id", "reservations", ["application_id"])
    op.create_index("ix_reservations_institution_code_status", "reservations", ["institution_code", "status"])
    op.create_table(
        "workflow_locks",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_workflow_locks"),
    )


def downgrade() -> None:
    op.drop_table("workflow_locks")
    op.drop_index("ix_reservations_institution_code_status", "reservations")
    op.drop_index("ix_reservations_application_id", "reservations")
    op.drop_table("reservations")
    op.drop_index("ix_application_events_application_id", "application_events")
    op.drop_table("application_events")
    for column in ("kind", "state", "institution_code", "id_number", "submitted_at"):
        op.drop_index(f"ix_applications_{column}", "applications")
    op.drop_table("applications")
