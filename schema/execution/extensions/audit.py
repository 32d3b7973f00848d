"""Audits every operation that touches personal data: who, which fields, how many rows, outcome.

A field touches personal data if it belongs to a personal type, returns one, or looks a person
up by an `idNumber` argument (`precheck`, say): `personal_fields` derives the set from the schema,
so a new field is covered without anyone listing it. The answer of such an operation waits until
its entry is committed (hub/store/audit.py); if it cannot be, the answer is replaced by an
`AUDIT_UNAVAILABLE` error. Policy denials are also counted per minute and actor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type

from hub.store.audit import AuditEvent, refusal
from resolvers.context import HubContext

# Types whose fields are about a person; reading any of them is audited.
PERSONAL_TYPES = frozenset({
    "Person", "RegistryEntry", "PersonnelRecord", "PostRecord", "TitleRecord", "InsuranceRecord",
    "CadreRecord", "AppointmentRecord", "PayrollRecord", "PayrollEntry", "Alert", "RetirementDeferral",
    "ChangeEvent",  # its values carry names and ID numbers
    "Application",  # a workflow application: its input names a person; every transition answers one
})
PERSON_ARGUMENTS = frozenset({"idNumber", "representations"})  # an argument that names (federation entities: may name) a person


def personal_types(schema: GraphQLSchema) -> frozenset[str]:
    """The personal types of a schema: PERSONAL_TYPES and the custom types joined to a person (schema/custom.py)."""
    return getattr(getattr(schema, "_strawberry_schema", None), "personal_types", PERSONAL_TYPES)  # type: ignore[no-any-return]


@cache
def personal_fields(schema: GraphQLSchema) -> frozenset[str]:
    """`Type.field` of every field that reads personal data."""
    personal = personal_types(schema)
    return frozenset(
        f"{name}.{field_name}"
        for name, gql_type in schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__")
        for field_name, field in gql_type.fields.items()
        if name in personal or get_named_type(field.type).name in personal
        or not PERSON_ARGUMENTS.isdisjoint(field.args)
    )


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


def _rows(data: Any, personal: set[tuple[tuple[str, ...], str]]) -> int:
    """Rows read: the most objects carrying personal fields at any one place in the answer."""
    by_parent: dict[tuple[str, ...], set[str]] = {}
    for path, _ in personal:
        by_parent.setdefault(path[:-1], set()).add(path[-1])
    return max((count_rows(data, parent, frozenset(keys)) for parent, keys in by_parent.items()), default=0)


async def record_read(schema: GraphQLSchema, ctx: HubContext, query: str, operation: str, data: Any, errors: list[Any],
                      seen: Iterable[tuple[tuple[str, ...], str]]) -> None:
    """Write the audit entry of one answered operation, if it touched any personal field; count a denial.

    `seen` ((response path, Type.field) pairs) comes from the policy verdict of the prepared document.
    Returns once the entry is committed; raises AuditUnavailable if it cannot be.
    """
    audit = ctx.audit
    if audit is None:
        return
    result = outcome(errors, data)
    principal = ctx.principal
    if result == "denied":
        denied = tuple((e.extensions or {}).get("field") or "" for e in errors)
        audit.count(refusal("denied", principal.subject, principal, denied))
    reads = personal_fields(schema)
    touched = {(path, name) for path, name in seen if name in reads}
    if not touched:
        return
    # The personal data read; else (a lookup such as precheck, `__typename` of a person) the fields that touched it.
    personal = {(path, name) for path, name in touched if name.split(".", 1)[0] in personal_types(schema)} or touched
    await audit.write(AuditEvent(
        actor=principal.subject,
        department=principal.department,
        roles=principal.roles,
        region=principal.region,
        operation=operation,
        operation_hash=hashlib.sha256(query.encode()).hexdigest(),
        fields=tuple(sorted({name for _, name in personal})),
        rows=_rows(data, personal) if data else 0,
        outcome=result,
    ))
