"""Access control: the hash-chained audit log, API keys, run-time policy rules and their version.

Revision ID: 0002_access
Revises: 0001_supervision
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_access"
down_revision = "0001_supervision"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32)),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("operation", sa.String(128), nullable=False),
        sa.Column("operation_hash", sa.String(64), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16)),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("department", sa.String(32)),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("region", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp),
        sa.PrimaryKeyConstraint("key_id", name="pk_api_keys"),
    )
    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("ptype", sa.String(255)),
        *(sa.Column(f"v{i}", sa.String(255)) for i in range(6)),
        sa.PrimaryKeyConstraint("id", name="pk_casbin_rule"),
    )
    op.create_table(
        "policy_version",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_policy_version"),
    )


def downgrade() -> None:
    for table in ("policy_version", "casbin_rule", "api_keys", "audit_head", "audit_log"):
        op.drop_table(table)
