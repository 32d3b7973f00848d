"""Supervision: check runs, alerts and their history, freezes, recorded retirement deferrals.

Revision ID: 0001_supervision
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_supervision"
down_revision = None
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "check_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("finished_at", Stamp),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("triggered_by", sa.String(64), nullable=False),
        sa.Column("reference_month", sa.String(7)),
        sa.Column("scope_institution", sa.String(64)),
        sa.Column("scope_region", sa.String(12)),
        sa.Column("rules", sa.JSON),
        sa.Column("persons", sa.Integer),
        sa.Column("findings", sa.Integer),
        sa.Column("opened", sa.Integer),
        sa.Column("reopened", sa.Integer),
        sa.Column("resolved", sa.Integer),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_check_runs"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("id_number", sa.String(32)),
        sa.Column("institution_code", sa.String(64)),
        sa.Column("region_code", sa.String(12)),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_month", sa.String(7), nullable=False),
        sa.Column("last_month", sa.String(7), nullable=False),
        sa.Column("first_seen", Stamp, nullable=False),
        sa.Column("last_seen", Stamp, nullable=False),
        sa.Column("first_run_id", sa.Integer),
        sa.Column("last_run_id", sa.Integer),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("fingerprint", name="uq_alerts_fingerprint"),
        sa.ForeignKeyConstraint(["first_run_id"], ["check_runs.id"], name="fk_alerts_first_run_id_check_runs"),
        sa.ForeignKeyConstraint(["last_run_id"], ["check_runs.id"], name="fk_alerts_last_run_id_check_runs"),
    )
    for column in ("rule", "status", "id_number", "institution_code", "region_code", "first_month"):
        op.create_index(f"ix_alerts_{column}", "alerts", [column])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("run_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_alert_events_alert_id_alerts"),
        sa.ForeignKeyConstraint(["run_id"], ["check_runs.id"], name="fk_alert_events_run_id_check_runs"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_table(
        "freezes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("institution_code", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(12)),
        sa.Column("hiring", sa.Boolean, nullable=False),
        sa.Column("payroll", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_freezes"),
    )
    op.create_index("ix_freezes_institution_code", "freezes", ["institution_code"])
    op.create_index("ix_freezes_status", "freezes", ["status"])
    op.create_table(
        "freeze_alerts",
        sa.Column("freeze_id", sa.Integer, nullable=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("freeze_id", "alert_id", name="pk_freeze_alerts"),
        sa.ForeignKeyConstraint(["freeze_id"], ["freezes.id"], name="fk_freeze_alerts_freeze_id_freezes"),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], name="fk_freeze_alerts_alert_id_alerts"),
    )
    op.create_table(
        "freeze_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("freeze_id", sa.Integer, nullable=False),
        sa.Column("from_status", sa.String(12)),
        sa.Column("to_status", sa.String(12), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_freeze_events"),
        sa.ForeignKeyConstraint(["freeze_id"], ["freezes.id"], name="fk_freeze_events_freeze_id_freezes"),
    )
    op.create_index("ix_freeze_events_freeze_id", "freeze_events", ["freeze_id"])
    op.create_table(
        "retirement_deferrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id_number", sa.String(32), nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("document", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_retirement_deferrals"),
    )
    op.create_index("ix_retirement_deferrals_id_number", "retirement_deferrals", ["id_number"])


def downgrade() -> None:
    for table in ("retirement_deferrals", "freeze_events", "freeze_alerts", "freezes", "alert_events", "alerts", "check_runs"):
        op.drop_table(table)
