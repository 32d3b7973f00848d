"""Access enforced before execution: a validation rule rejects every denied field.

The rule reads the caller's compiled grants (a dict lookup per field in the document, never the
enforcer). Its verdict is part of the prepared document (schema/execution/prepared.py), kept per
document and grants. Introspection shows a role only the fields it may read (schema/role_schema.py).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    NullValueNode,
    ValidationRule,
)

from policies.grants import Access, Grants
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


__all__ = ["policy_rule"]
