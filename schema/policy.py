"""Access enforced before execution: a per-request validation rule rejects every denied field.

The rule reads the request's compiled grants (a dict lookup per field in the document, never the
enforcer). Its verdict is remembered per document and compiled grants (one object per role set).
Introspection shows a role only the fields it may read (schema/role_schema.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    NullValueNode,
    ValidationRule,
    validate,
)
from strawberry.extensions import SchemaExtension

from hub.core.caches import ENTRIES, QUERY_CACHE_BYTES, BoundedCache, digest
from policies.grants import Access, Grants
from resolvers.context import required
from schema.arguments import filtered_field


def _response_path(node: FieldNode, ancestors: Any) -> list[str]:
    path = [
        (a.alias or a.name).value
        for a in ancestors
        if isinstance(a, FieldNode)
    ]
    return [*path, (node.alias or node.name).value]


def policy_rule(grants: Grants, seen: set[tuple[tuple[str, ...], str]] | None = None) -> type[ValidationRule]:
    """A validation rule reporting FORBIDDEN (bilingual, with path) for each denied field, and for
    each filter argument on a field the role does not read whole (schema/arguments.py `reads`).

    It also records into `seen` each field's response path and `Type.field`, for the audit log (a
    pair each: one response path may be a field of several types, `_entities { ... on Person { name }
    ... on Institution { name } }`).
    """

    class PolicyRule(ValidationRule):
        def enter_field(self, node: FieldNode, _key: Any, _parent: Any, _path: Any, ancestors: Any) -> None:
            parent = self.context.get_parent_type()
            name = node.name.value
            if parent is None or name.startswith("__") or parent.name.startswith("__"):
                return
            if self.context.get_field_def() is None:  # no such field: graphql-core's validation error, not a denial
                return
            if seen is not None:
                seen.add((tuple(_response_path(node, ancestors)), f"{parent.name}.{name}"))
            if grants.access(parent.name, name) is Access.DENY:
                self.report_error(
                    GraphQLError(
                        f"无权读取字段 {parent.name}.{name} / not allowed to read field {parent.name}.{name}",
                        node,
                        path=_response_path(node, ancestors),
                        extensions={"code": "FORBIDDEN", "field": f"{parent.name}.{name}"},
                    )
                )
            if node.arguments:
                self.check_filters(node, parent.name, ancestors)

        def check_filters(self, node: FieldNode, parent: str, ancestors: Any) -> None:
            for arg in node.arguments or ():
                target = filtered_field(parent, node.name.value, arg.name.value)
                if target is None or isinstance(arg.value, NullValueNode) or grants.access(*target) is Access.READ:
                    continue
                field = ".".join(target)
                self.report_error(
                    GraphQLError(
                        f"无权按字段 {field} 筛选（参数 {arg.name.value}） / not allowed to filter on {field} "
                        f"(argument {arg.name.value}): filtering needs the right to read it",
                        arg,
                        path=_response_path(node, ancestors),
                        extensions={"code": "FORBIDDEN", "field": field, "argument": arg.name.value},
                    )
                )

    return PolicyRule


class PolicyGuard(SchemaExtension):
    """Validates each operation: the schema's rules once per document, the policy once per document and role set.

    The schema's own rules do not depend on who asks, so a document that passed them is
    remembered by the digest of its text. The policy rule's verdict depends on the caller's grants: it is
    remembered per document text *and* compiled grants object (one per role set, replaced when
    policies change), so one role's verdict is never another's.
    """

    _valid = BoundedCache("valid documents", ENTRIES, QUERY_CACHE_BYTES)  # (schema, digest of the text)
    _verdicts = BoundedCache("policy verdicts", ENTRIES, QUERY_CACHE_BYTES, lambda found: _VERDICT_BYTES * (len(found[1]) + len(found[2])))

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        grants = required(ec.context).grants  # no context, no execution: the policy is never skipped
        document = ec.graphql_document
        if document is not None and ec.pre_execution_errors is None:
            schema = ec.schema._schema
            text = digest(ec.query or "")
            key = (id(schema), text)
            errors: list[GraphQLError] = []
            if self._valid.get(key, _MISSING) is _MISSING:
                errors = validate(schema, document, list(ec.validation_rules))
                if not errors:
                    self._valid.put(key, None)
            ec.pre_execution_errors = errors + self._policy_verdict(schema, ec, grants, document, text)
        yield

    def _policy_verdict(self, schema: Any, ec: Any, grants: Grants, document: Any, text: bytes) -> list[GraphQLError]:
        key = (id(schema), text, id(grants))
        found = self._verdicts.get(key)
        if found is None or found[0] is not grants:
            seen: set[tuple[tuple[str, ...], str]] = set()
            errors = validate(schema, document, [policy_rule(grants, seen)])
            found = (grants, errors, seen)  # the grants object is kept: its id is not reused meanwhile
            self._verdicts.put(key, found)
        ec.context.fields_seen.update(found[2])
        return list(found[1])


_MISSING = object()
_VERDICT_BYTES = 400  # a verdict's error or (response path, Type.field) pair, with its tuple and strings


__all__ = ["PolicyGuard", "policy_rule"]
