"""Tables of the hub store (SQLAlchemy Core). Each Alembic revision under migrations/ creates its part.

Another issue adds its tables here and a revision under migrations/versions that creates them; a
test compares this metadata with the migrated database, so the two cannot drift apart.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Stamp = sa.DateTime(timezone=True)

check_runs = sa.Table(
    "check_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", Stamp, nullable=False),
    sa.Column("finished_at", Stamp),
    sa.Column("status", sa.String(12), nullable=False),  # RUNNING / DONE / FAILED
    sa.Column("triggered_by", sa.String(64), nullable=False),
    sa.Column("reference_month", sa.String(7)),
    sa.Column("scope_institution", sa.String(64)),
    sa.Column("scope_region", sa.String(12)),
    sa.Column("rules", sa.JSON),  # rule ids evaluated (the rest were skipped: a source was down)
    sa.Column("persons", sa.Integer),
    sa.Column("findings", sa.Integer),
    sa.Column("opened", sa.Integer),
    sa.Column("reopened", sa.Integer),
    sa.Column("resolved", sa.Integer),
    sa.Column("error", sa.Text),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("rule", sa.String(8), nullable=False, index=True),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("id_number", sa.String(32), index=True),
    sa.Column("institution_code", sa.String(64), index=True),
    sa.Column("region_code", sa.String(12), index=True),
    sa.Column("facts", sa.JSON, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("first_month", sa.String(7), nullable=False, index=True),  # reference month first seen
    sa.Column("last_month", sa.String(7), nullable=False),
    sa.Column("first_seen", Stamp, nullable=False),
    sa.Column("last_seen", Stamp, nullable=False),
    sa.Column("first_run_id", sa.Integer, sa.ForeignKey("check_runs.id")),
    sa.Column("last_run_id", sa.Integer, sa.ForeignKey("check_runs.id")),
    sa.Column("updated_at", Stamp, nullable=False),
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False, index=True),
    sa.Column("from_status", sa.String(20)),
    sa.Column("to_status", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("check_runs.id")),
)

freezes = sa.Table(
    "freezes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("institution_code", sa.String(64), nullable=False, index=True),
    sa.Column("region_code", sa.String(12)),
    sa.Column("status", sa.String(12), nullable=False, index=True),  # PROPOSED / ACTIVE / LIFTED / REJECTED
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

freeze_kinds = sa.Table(  # what a freeze stops: QUOTA_USE / HIRING / PAYROLL / APPOINTMENT, one row each
    "freeze_kinds",
    metadata,
    sa.Column("freeze_id", sa.Integer, sa.ForeignKey("freezes.id"), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True, index=True),
)

freeze_alerts = sa.Table(
    "freeze_alerts",
    metadata,
    sa.Column("freeze_id", sa.Integer, sa.ForeignKey("freezes.id"), primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), primary_key=True),
)

freeze_events = sa.Table(
    "freeze_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("freeze_id", sa.Integer, sa.ForeignKey("freezes.id"), nullable=False, index=True),
    sa.Column("from_status", sa.String(12)),
    sa.Column("to_status", sa.String(12), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("note", sa.Text),
)

retirement_deferrals = sa.Table(
    "retirement_deferrals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id_number", sa.String(32), nullable=False, index=True),
    sa.Column("until", sa.Date, nullable=False),  # deferred retirement date (at most 3 years)
    sa.Column("document", sa.String(64)),
    sa.Column("note", sa.Text),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("recorded_at", Stamp, nullable=False),
)

# --- access control (revision 0002_access) ---------------------------------------------------

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # chain position, no gaps
    sa.Column("at", Stamp, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False, index=True),
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
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_id", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("department", sa.String(32)),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("region", sa.String(12), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("revoked_at", Stamp),
)

casbin_rule = sa.Table(  # the shape casbin-async-sqlalchemy-adapter reads and writes
    "casbin_rule",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ptype", sa.String(255)),
    *(sa.Column(f"v{i}", sa.String(255)) for i in range(6)),
)

policy_version = sa.Table(
    "policy_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # always 1
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("changed_at", Stamp, nullable=False),
)

# --- idempotent mutations (revision 0003_idempotency) ----------------------------------------

idempotency_keys = sa.Table(  # one row per (who, key): the first answer of a mutation sent with that key
    "idempotency_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),  # SHA-256 of who asked, the key and its field
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("mutation", sa.String(64), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 of the mutation and its arguments
    sa.Column("answer", sa.JSON),  # set when the mutation has answered
    sa.Column("created_at", Stamp, nullable=False, index=True),
    sa.Column("completed_at", Stamp),  # null while the first request runs
)

# --- trusted documents (revision 0004_trusted_documents) ---------------------------------------

trusted_documents = sa.Table(  # GraphQL documents registered by `hub documents add`, by the SHA-256 of their text
    "trusted_documents",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),  # lower-case hex, as clients send it in sha256Hash
    sa.Column("document", sa.Text, nullable=False),  # the text exactly as clients send it
    sa.Column("operations", sa.JSON, nullable=False),  # the names of its operations ("" for an anonymous one)
    sa.Column("source", sa.String(255), nullable=False),  # the file (and entry) it was registered from
    sa.Column("added_at", Stamp, nullable=False),
)

# --- the workflow's outbox (revision 0005_change_events) ---------------------------------------

change_events = sa.Table(  # hub.core.changes.Change rows, written with the transition that makes them
    "change_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # delivery order within a department
    sa.Column("department", sa.String(32), nullable=False, index=True),
    sa.Column("application_id", sa.String(64), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("op", sa.String(8), nullable=False),  # INSERT / UPDATE
    sa.Column("key", sa.JSON, nullable=False),
    sa.Column("values", sa.JSON, nullable=False),  # canonical values, JSON-encoded (dates as ISO text)
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("delivered_at", Stamp),  # applied through the department's adapter (write-enabled departments)
    sa.Column("acknowledged_at", Stamp),  # acknowledged by the department's own system (pull departments)
    sa.UniqueConstraint("application_id", "seq"),
)

# --- the one-window workflow (hub/workflow) -------------------------------------------------------

applications = sa.Table(  # one application of a kind (hub/workflow/kinds/*.yaml); every transition a compare-and-set on version
    "applications",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False, index=True),
    sa.Column("state", sa.String(12), nullable=False, index=True),  # SUBMITTED / IN_REVIEW / RETURNED / REJECTED / WITHDRAWN / COMPLETED
    sa.Column("institution_code", sa.String(64), nullable=False, index=True),
    sa.Column("region_code", sa.String(12)),
    sa.Column("id_number", sa.String(18), index=True),
    sa.Column("input", sa.JSON, nullable=False),
    sa.Column("stage", sa.Integer, nullable=False),  # index of the stage under review
    sa.Column("current_steps", sa.JSON, nullable=False),  # names of the steps of that stage still to act
    sa.Column("precheck", sa.JSON, nullable=False),  # the latest precheck: {"blockers": [...], "warnings": [...]}
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("submitted_by", sa.String(64), nullable=False),
    sa.Column("submitted_department", sa.String(32)),
    sa.Column("submitted_at", Stamp, nullable=False, index=True),
    sa.Column("stage_since", Stamp, nullable=False),  # when the current stage began (step timings)
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Column("completed_at", Stamp),
)

application_events = sa.Table(  # an application's history: every transition and decision
    "application_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("application_id", sa.String(32), nullable=False, index=True),
    sa.Column("step", sa.String(64)),  # the step decided (None: submit, resubmit, withdraw)
    sa.Column("decision", sa.String(12), nullable=False),  # SUBMIT / APPROVE / RETURN / REJECT / WITHDRAW / RESUBMIT
    sa.Column("from_state", sa.String(12)),
    sa.Column("to_state", sa.String(12), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("department", sa.String(32)),
    sa.Column("at", Stamp, nullable=False),
    sa.Column("comment", sa.Text),
    sa.Column("waited_seconds", sa.Float),  # the step's time from its stage beginning to this decision
)

reservations = sa.Table(  # slots and plan places held by accepted applications
    "reservations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("application_id", sa.String(32), nullable=False, index=True),
    sa.Column("institution_code", sa.String(64), nullable=False),
    sa.Column("quota_type", sa.String(8), nullable=False),
    sa.Column("what", sa.String(8), nullable=False),  # SLOT / PLAN
    sa.Column("plan_id", sa.String(64)),
    sa.Column("status", sa.String(10), nullable=False),  # HELD / RELEASED / CONSUMED
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Index(None, "institution_code", "status"),
)

workflow_locks = sa.Table(  # one row per institution or person: work on it takes the row lock in turn
    "workflow_locks",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
)

# Ids the hub generated for new department records (hub/workflow/generated.py): one row per id, taken
# by the completion that renders the change, so no two applications get the same one.
generated_ids = sa.Table(
    "generated_ids",
    metadata,
    sa.Column("department", sa.String(32), primary_key=True),
    sa.Column("entity", sa.String(64), primary_key=True),
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(64), primary_key=True),
    sa.Column("application_id", sa.String(32), nullable=False),
)

# Monthly snapshots of the key figures (hub/store/snapshots.py): one value per month, measure,
# region and quota type ('' where a measure is not per quota type). Taking a month again replaces it.
snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("measure", sa.String(32), primary_key=True),
    sa.Column("region_code", sa.String(12), primary_key=True),
    sa.Column("quota_type", sa.String(4), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("taken_at", Stamp, nullable=False),
)

# Saved reports (hub/store/reports.py): a named GraphQL document with its variables.
saved_reports = sa.Table(
    "saved_reports",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("variables", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("owner_department", sa.String(32)),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)
