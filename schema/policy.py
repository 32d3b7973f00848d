"""Access enforced before execution: a per-request validation rule rejects every denied field.

The rule reads the request's compiled grants (a dict lookup per field in the document, never the
enforcer). It is added to this execution's rules only, so nothing is cached across roles.
Introspection shows a role only the fields it may read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLObjectType,
    ValidationRule,
)
from graphql.type import introspection
from strawberry.extensions import SchemaExtension

from policies.grants import Access, Grants


def _response_path(node: FieldNode, ancestors: Any) -> list[str]:
    path = [
        (a.alias or a.name).value
        for a in ancestors
        if isinstance(a, FieldNode)
    ]
    return [*path, (node.alias or node.name).value]


def policy_rule(grants: Grants, seen: dict[tuple[str, ...], str] | None = None) -> type[ValidationRule]:
    """A validation rule reporting FORBIDDEN (bilingual, with path) for each denied field.

    It also records into `seen` each field's response path and `Type.field`, for the audit log.
    """

    class PolicyRule(ValidationRule):
        def enter_field(self, node: FieldNode, _key: Any, _parent: Any, _path: Any, ancestors: Any) -> None:
            parent = self.context.get_parent_type()
            name = node.name.value
            if parent is None or name.startswith("__") or parent.name.startswith("__"):
                return
            if seen is not None:
                seen[tuple(_response_path(node, ancestors))] = f"{parent.name}.{name}"
            if grants.access(parent.name, name) is Access.DENY:
                self.report_error(
                    GraphQLError(
                        f"无权读取字段 {parent.name}.{name} / not allowed to read field {parent.name}.{name}",
                        node,
                        path=_response_path(node, ancestors),
                        extensions={"code": "FORBIDDEN", "field": f"{parent.name}.{name}"},
                    )
                )

    return PolicyRule


class PolicyGuard(SchemaExtension):
    """Adds the request's policy rule to this execution's validation rules."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        grants = getattr(context, "grants", None)
        if grants is not None:
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                policy_rule(grants, context.fields_seen),
            )
        yield


def install_introspection_filter() -> None:
    """Make `__Type.fields` list only the fields the caller's grants allow (idempotent)."""
    type_type = introspection.introspection_types["__Type"]
    assert isinstance(type_type, GraphQLObjectType)
    field = type_type.fields["fields"]
    original = field.resolve
    if getattr(original, "policy_filtered", False):
        return

    def visible_fields(type_: Any, info: Any, includeDeprecated: bool = False) -> Any:  # noqa: N803
        items = original(type_, info, includeDeprecated=includeDeprecated)  # type: ignore[misc]
        grants = getattr(info.context, "grants", None)
        if items is None or grants is None or not isinstance(type_, GraphQLObjectType):
            return items
        return [(name, f) for name, f in items if grants.access(type_.name, name) is not Access.DENY]

    visible_fields.policy_filtered = True  # type: ignore[attr-defined]
    field.resolve = visible_fields


__all__ = ["PolicyGuard", "install_introspection_filter", "policy_rule"]
