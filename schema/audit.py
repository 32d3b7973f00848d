"""Audits every operation that touches personal data: who, which fields, how many rows, outcome."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from hub.audit import AuditEvent

# Types whose fields are about a person; reading any of them is audited.
PERSONAL_TYPES = frozenset({
    "Person", "RegistryEntry", "PersonnelRecord", "PostRecord", "TitleRecord", "InsuranceRecord",
    "CadreRecord", "AppointmentRecord", "PayrollRecord", "PayrollEntry", "Alert", "RetirementDeferral",
})


def count_rows(data: Any, path: tuple[str, ...], keys: frozenset[str]) -> int:
    """How many objects at `path` in the response carry any of `keys` (lists are walked)."""
    level = [data]
    for step in path:
        nxt: list[Any] = []
        for obj in level:
            value = obj.get(step) if isinstance(obj, dict) else None
            if isinstance(value, list):
                nxt += value
            elif value is not None:
                nxt.append(value)
        level = nxt
    return sum(1 for obj in level if isinstance(obj, dict) and not keys.isdisjoint(obj))


def outcome(errors: list[Any], data: Any) -> str:
    """ok, partial (some paths failed), denied (policy) or error."""
    codes = {(e.extensions or {}).get("code") for e in errors}
    if "FORBIDDEN" in codes:
        return "denied"
    if data is None and errors:
        return "error"
    return "partial" if errors else "ok"


def _rows(data: Any, personal: dict[tuple[str, ...], str]) -> int:
    """Rows read: the most objects carrying personal fields at any one place in the answer."""
    by_parent: dict[tuple[str, ...], set[str]] = {}
    for path in personal:
        by_parent.setdefault(path[:-1], set()).add(path[-1])
    return max((count_rows(data, parent, frozenset(keys)) for parent, keys in by_parent.items()), default=0)


def record_read(ctx: Any, query: str, operation: str, data: Any, errors: list[Any]) -> None:
    """Queue the audit event of one answered operation, if it asked for any personal field.

    `ctx.fields_seen` (response path -> Type.field) comes from the policy verdict of the document.
    """
    audit = getattr(ctx, "audit", None)
    if audit is None:
        return
    personal = {path: name for path, name in ctx.fields_seen.items() if name.split(".", 1)[0] in PERSONAL_TYPES}
    if not personal:
        return
    principal = ctx.principal
    audit.record(AuditEvent(
        actor=principal.subject,
        department=principal.department,
        roles=principal.roles,
        region=principal.region,
        operation=operation,
        operation_hash=hashlib.sha256(query.encode()).hexdigest(),
        fields=tuple(sorted(set(personal.values()))),
        rows=_rows(data, personal) if data else 0,
        outcome=outcome(errors, data),
    ))


class AuditPersonalReads(SchemaExtension):
    """After each operation, queue an audit event if it asked for any personal field."""

    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        result = ec.result
        record_read(ec.context, ec.query or "", ec.operation_name or "", getattr(result, "data", None),
                    list(getattr(result, "errors", None) or []))
