"""Freezes by kind: each department freezes the kinds it governs (hub/supervision/freezes.py).

The `hiring` / `payroll` flags of a freeze become rows of `freeze_kinds` (HIRING, PAYROLL); the
new kinds QUOTA_USE and APPOINTMENT have no flag to come back to on downgrade (they count as hiring).

Revision ID: 0007_freeze_kinds
Revises: 0006_workflow
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_freeze_kinds"
down_revision = "0006_workflow"
branch_labels = None
depends_on = None

_freezes = sa.table("freezes", sa.column("id", sa.Integer), sa.column("hiring", sa.Boolean),
                    sa.column("payroll", sa.Boolean))
_kinds = sa.table("freeze_kinds", sa.column("freeze_id", sa.Integer), sa.column("kind", sa.String))


def upgrade() -> None:
    op.create_table(
        "freeze_kinds",
        sa.Column("freeze_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("freeze_id", "kind", name="pk_freeze_kinds"),
        sa.ForeignKeyConstraint(["freeze_id"], ["freezes.id"], name="fk_freeze_kinds_freeze_id_freezes"),
    )
    op.create_index("ix_freeze_kinds_kind", "freeze_kinds", ["kind"])
    for flag, kind in ((_freezes.c.hiring, "HIRING"), (_freezes.c.payroll, "PAYROLL")):
        op.execute(_kinds.insert().from_select(["freeze_id", "kind"],
                                               sa.select(_freezes.c.id, sa.literal(kind)).where(flag == sa.true())))
    with op.batch_alter_table("freezes") as batch:
        batch.drop_column("hiring")
        batch.drop_column("payroll")


def downgrade() -> None:
    with op.batch_alter_table("freezes") as batch:
        batch.add_column(sa.Column("hiring", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("payroll", sa.Boolean, nullable=False, server_default=sa.false()))
    has = sa.select(_kinds.c.freeze_id)
    op.execute(_freezes.update().where(_freezes.c.id.in_(has.where(_kinds.c.kind != "PAYROLL"))).values(hiring=True))
    op.execute(_freezes.update().where(_freezes.c.id.in_(has.where(_kinds.c.kind == "PAYROLL"))).values(payroll=True))
    op.drop_index("ix_freeze_kinds_kind", "freeze_kinds")
    op.drop_table("freeze_kinds")
