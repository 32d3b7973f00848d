"""Each role's view of the schema: only the fields it may read, and still a valid schema.

A role's schema keeps, of every object type, the fields its grants do not deny. A type left with
no field is dropped (GraphQL has no empty object types), then every field returning it, and the
types that leaves empty, until nothing changes; a union keeps its members that remain and goes
with the last of them; input, enum and scalar types stay only while a field, argument or
directive still uses them. The introspection types are never filtered.

The view is made once per schema and grants (keyed by their digest) and kept in a
bounded cache. It is served two ways, from the same pruning of the same names:

- introspection: `RoleIntrospection`, the executor's hook, hands `__schema` and `__type` (and
  the fields below them) the role's schema instead of the whole one, so standard clients
  (GraphiQL, `build_client_schema`, code generators) get a schema that validates;
- federation: `_service { sdl }` answers the role's subgraph SDL (schema/federation.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    FieldNode,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    get_named_type,
    is_introspection_type,
    parse,
    print_ast,
    print_schema,
    validate_schema,
)
from graphql.pyutils import Path
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from hub.core.caches import BoundedCache
from policies.grants import Access, Grants
from resolvers.context import required


@dataclass(frozen=True)
class RoleView:
    """What a role sees: the named types kept and, per object type kept, its fields."""

    types: frozenset[str]
    fields: dict[str, frozenset[str]]

    def prune(self, document: DocumentNode) -> DocumentNode:
        """An SDL document (graphql-core's or a federation subgraph's) cut down to this view."""
        return DocumentNode(definitions=tuple(self._kept(document)))

    def _kept(self, document: DocumentNode) -> Iterator[Any]:
        for node in document.definitions:
            if isinstance(node, SchemaDefinitionNode | SchemaExtensionNode):
                yield replace(node, operation_types=tuple(o for o in node.operation_types or () if o.type.name.value in self.types))
            elif isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
                if node.name.value in self.types:
                    yield replace(node, fields=tuple(f for f in node.fields or () if f.name.value in self.fields[node.name.value]))
            elif isinstance(node, UnionTypeDefinitionNode):
                if node.name.value in self.types:
                    yield replace(node, types=tuple(t for t in node.types or () if t.name.value in self.types))
            elif isinstance(node, TypeDefinitionNode | TypeExtensionNode):
                if node.name.value in self.types:
                    yield node
            elif isinstance(node, DirectiveDefinitionNode):
                yield node
            else:
                raise TypeError(f"unexpected definition in a schema document: {node.kind}")


def role_view(schema: GraphQLSchema, grants: Grants) -> RoleView:
    """The types and fields a role sees of a schema (see the module)."""
    objects = {
        name: t for name, t in schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not is_introspection_type(t)
    }
    unions = {name: t for name, t in schema.type_map.items() if isinstance(t, GraphQLUnionType)}
    fields = {name: {f for f in t.fields if grants.access(name, f) is not Access.DENY} for name, t in objects.items()}
    while True:
        dead = {name for name, kept in fields.items() if not kept}
        dead |= {name for name, u in unions.items() if all(m.name in dead for m in u.types)}
        pruned = {
            name: {f for f in kept if get_named_type(objects[name].fields[f].type).name not in dead}
            for name, kept in fields.items()
        }
        if pruned == fields:
            break
        fields = pruned
    return RoleView(_reachable(schema, fields, dead), {name: frozenset(kept) for name, kept in fields.items() if kept})


def _reachable(schema: GraphQLSchema, fields: dict[str, set[str]], dead: set[str]) -> frozenset[str]:
    """The named types the root types and directives still use, through the fields kept."""
    seen: set[str] = set()
    todo: list[GraphQLNamedType] = [
        t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t is not None and fields[t.name]
    ]
    todo += [get_named_type(arg.type) for directive in schema.directives for arg in directive.args.values()]

    def used_by(field: GraphQLField) -> list[GraphQLNamedType]:
        return [get_named_type(field.type), *(get_named_type(arg.type) for arg in field.args.values())]

    while todo:
        named = todo.pop()
        if named.name in seen or named.name in dead:
            continue
        seen.add(named.name)
        if isinstance(named, GraphQLObjectType):
            todo += [t for f in fields[named.name] for t in used_by(named.fields[f])]
        elif isinstance(named, GraphQLUnionType):
            todo += named.types
        elif isinstance(named, GraphQLInputObjectType):
            todo += [get_named_type(f.type) for f in named.fields.values()]
    return frozenset(seen)


@dataclass
class RoleSchema:
    """A role's view of one schema, as a GraphQL schema (for introspection) and as subgraph SDL."""

    source: GraphQLSchema  # kept so that its id, part of the cache key, is not reused meanwhile
    grants: Grants
    view: RoleView
    schema: GraphQLSchema = field(init=False)

    def __post_init__(self) -> None:
        self.schema = build_ast_schema(self.view.prune(parse(print_schema(self.source))), assume_valid_sdl=True)
        problems = validate_schema(self.schema)
        if problems:  # a schema no client could build must never be served
            raise RuntimeError(f"the schema of {sorted(self.grants.subjects)} is invalid: {problems[0].message}")

    @cached_property
    def sdl(self) -> str:
        """The role's federation subgraph SDL (`_service { sdl }`)."""
        from strawberry.printer import print_schema as print_subgraph

        whole = print_subgraph(self.source._strawberry_schema)  # type: ignore[attr-defined]
        return print_ast(self.view.prune(parse(whole)))


# Role sets are few (one per combination of roles in tokens and keys). A role's schema holds ~1.1 MiB
# (measured with tracemalloc) and takes ~0.1 s to make, its SDL as long again, once per role set.
ROLE_SCHEMA_BYTES = 1200 * 1024


def role_schema_cache() -> BoundedCache:
    """The role schemas of one schema (HubSchema holds its own: the app that built the schema owns them)."""
    return BoundedCache("role schemas", 16, 16 * ROLE_SCHEMA_BYTES, lambda _found: ROLE_SCHEMA_BYTES)


def role_schema(schema: GraphQLSchema, grants: Grants) -> RoleSchema:
    """The role's view of a schema, made once per grants (their digest: the same decisions, the same view)
    and kept by the schema's HubSchema."""
    kept: BoundedCache = schema._strawberry_schema.role_schemas  # type: ignore[attr-defined]
    found: RoleSchema | None = kept.get(grants.digest)
    if found is None:
        found = RoleSchema(schema, grants, role_view(schema, grants))
        kept.put(grants.digest, found)
    return found


class RoleIntrospection(StrawberryGraphQLCoreExecutionContext):
    """An executor whose introspection answers from the caller's role schema.

    `__schema` and `__type` resolve on the resolve info's schema, and the introspection fields
    below them (`possibleTypes`) too: for those fields the info carries the role's schema.
    """

    def build_resolve_info(self, field_def: GraphQLField, field_nodes: list[FieldNode], parent_type: GraphQLObjectType,
                           path: Path) -> Any:
        info = super().build_resolve_info(field_def, field_nodes, parent_type, path)
        if field_def is SchemaMetaFieldDef or field_def is TypeMetaFieldDef or is_introspection_type(parent_type):
            return info._replace(schema=role_schema(self.schema, required(self.context_value).grants).schema)
        return info


__all__ = ["RoleIntrospection", "RoleSchema", "RoleView", "role_schema", "role_view"]
