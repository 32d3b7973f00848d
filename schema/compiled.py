"""The compiled read path: a query answered a level at a time, not a field at a time.

graphql-core resolves every field of every object separately (~3 µs a field, far more when the
resolver is async). This executor walks the same validated, authorized document breadth-first:
per selected field it makes one call for all parents at that level — an attribute read, a plain
getter, or the field's batch function (resolvers/batch.py, the same definition strawberry's path
uses) — and writes the answer's dictionaries directly. Fields are collected by graphql-core itself
(fragments, aliases, @include/@skip, variables) and leaves are serialized by graphql-core's own
`complete_leaf_value`, so both paths give the same answer; a differential test holds them to it.
Anything it does not cover (abstract types, introspection, mutations, resolvers it cannot call
per level) is left to strawberry's executor for the whole operation.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from resolvers.batch import Batched
from schema.masking import MASKABLE, MASKERS


class NotCompiled(Exception):
    """The document uses something the compiled path does not cover."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    """How one field of one type is computed for a whole level."""

    getter: Callable[[Any], Any] | None  # per parent, synchronous
    batch: Batched | None  # for all parents at once
    strawberry_field: Any


def _attribute(name: str) -> Callable[[Any], Any]:
    return lambda parent: getattr(parent, name, None)


def _plan_field(parent_type: GraphQLObjectType, field_name: str) -> FieldPlan:
    field = parent_type.fields[field_name]
    definition = (field.extensions or {}).get("strawberry-definition")
    if definition is None:
        raise NotCompiled(f"{parent_type.name}.{field_name}")
    hub = definition.metadata.get("hub") if definition.metadata else None
    if isinstance(hub, Batched):
        return FieldPlan(None, hub, definition)
    resolver = definition.base_resolver
    if resolver is None:
        return FieldPlan(_attribute(definition.python_name), None, definition)
    func = resolver.wrapped_func
    params = list(inspect.signature(func).parameters)
    if inspect.iscoroutinefunction(func) or params != ["self"]:
        raise NotCompiled(f"{parent_type.name}.{field_name}")
    return FieldPlan(func, None, definition)


_PLANS: dict[tuple[str, str], FieldPlan] = {}


def plan_for(parent_type: GraphQLObjectType, field_name: str) -> FieldPlan:
    """The field's plan, made once per schema type and field."""
    key = (parent_type.name, field_name)
    found = _PLANS.get(key)
    if found is None:
        found = _PLANS[key] = _plan_field(parent_type, field_name)
    return found


_INVALID = object()  # a value nulled by a non-null violation below it, to be propagated up


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering queries level by level where the whole document allows."""

    def execute_root_grouped_field_set(  # type: ignore[override]
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        ctx = self.context_value
        if serially or getattr(ctx, "batchers", None) is None or not self._covers(root_type, grouped_field_set):
            return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, serially, position_context)
        return self._run(root_type, root_value, grouped_field_set)

    def _covers(self, parent_type: GraphQLObjectType, grouped: Any) -> bool:
        """Whether every selected field, at every depth, can be computed per level."""
        try:
            self._check(parent_type, grouped)
        except NotCompiled:
            return False
        return True

    def _check(self, parent_type: GraphQLObjectType, grouped: Any) -> None:
        for details in grouped.values():
            name = details[0].node.name.value
            if name == "__typename":
                continue
            if name.startswith("__"):
                raise NotCompiled(name)
            plan_for(parent_type, name)
            named = _named(parent_type.fields[name].type)
            if isinstance(named, GraphQLObjectType):
                self._check(named, self.collect_subfields(named, details).grouped_field_set)
            elif not is_leaf_type(named):
                raise NotCompiled(f"{parent_type.name}.{name}")

    async def _run(self, root_type: GraphQLObjectType, root_value: Any, grouped: Any) -> dict[str, Any] | None:
        root: dict[str, Any] = {}
        invalid = await self._fill(root_type, [root_value], [root], [()], grouped)
        return None if invalid else root

    async def _fill(
        self,
        parent_type: GraphQLObjectType,
        parents: Sequence[Any],
        outs: list[dict[str, Any]],
        paths: list[tuple[Any, ...]],
        grouped: Any,
    ) -> set[int]:
        """Fill every selected field of `outs` (one dict per parent); returns parents nulled by errors."""
        keys = list(grouped)
        for key in keys:  # keep the document's field order in every object
            for out in outs:
                out[key] = None
        values = await asyncio.gather(*(self._values(parent_type, parents, grouped[key]) for key in keys))
        invalid: set[int] = set()
        for key, found in zip(keys, values, strict=True):
            details = grouped[key]
            name = details[0].node.name.value
            return_type = parent_type.fields[name].type if name != "__typename" else None
            invalid |= await self._complete(parent_type, name, return_type, details, key, found, outs, paths)
        return invalid

    async def _values(self, parent_type: GraphQLObjectType, parents: Sequence[Any], details: Any) -> list[Any]:
        name = details[0].node.name.value
        if name == "__typename":
            return [parent_type.name] * len(parents)
        plan = plan_for(parent_type, name)
        if plan.getter is not None:
            getter = plan.getter
            return [getter(p) for p in parents]
        field_def = parent_type.fields[name]
        args = get_argument_values(field_def, details[0].node, self.variable_values)
        schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        kwargs = convert_arguments(args, plan.strawberry_field.arguments, schema.schema_converter.scalar_registry, schema.config)
        assert plan.batch is not None
        try:
            return list(await plan.batch.fn(self.context_value, list(parents), **kwargs))
        except Exception as exc:  # the whole level failed: each parent gets the error
            return [exc] * len(parents)

    async def _complete(
        self,
        parent_type: GraphQLObjectType,
        name: str,
        return_type: GraphQLOutputType | None,
        details: Any,
        key: str,
        values: list[Any],
        outs: list[dict[str, Any]],
        paths: list[tuple[Any, ...]],
    ) -> set[int]:
        if return_type is None:  # __typename
            for out, value in zip(outs, values, strict=True):
                out[key] = value
            return set()
        field_key = (parent_type.name, name)
        masker = MASKERS[MASKABLE[field_key]] if field_key in self.context_value.grants.masked else None
        children: list[Child] = []
        invalid: set[int] = set()
        nodes = [d.node for d in details]
        named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if is_leaf_type(named):  # the common case, kept tight: plain values serialized in a loop
            serialize = named.serialize  # type: ignore[union-attr]
            plain_strings = named is GraphQLString
            for i, value in enumerate(values):
                if value is None or isinstance(value, Exception):
                    try:
                        outs[i][key] = self._shape(return_type, value, masker, (*paths[i], key), nodes, children, i, (outs[i], key))
                    except _Null:
                        invalid.add(i)
                    continue
                if masker is not None:
                    value = masker(str(value))
                result = value if plain_strings and value.__class__ is str else serialize(value)
                outs[i][key] = result if result is not None else self.complete_leaf_value(named, value)  # type: ignore[arg-type]
            return invalid
        for i, value in enumerate(values):
            try:
                outs[i][key] = self._shape(return_type, value, masker, (*paths[i], key), nodes, children, i, (outs[i], key))
            except _Null:  # a non-null field had no value: the null moves up to the parent
                invalid.add(i)
        if children:
            invalid |= await self._descend(details, children)
        return invalid

    def _error(self, error: GraphQLError, path: tuple[Any, ...]) -> None:
        position = None
        for step in path:
            position = Path(position, step, None)
        self.collected_errors.add(error, position)

    def _shape(
        self,
        return_type: GraphQLOutputType,
        value: Any,
        masker: Callable[[str], str] | None,
        path: tuple[Any, ...],
        nodes: list[Any],
        children: list[Child],
        owner: int,
        here: tuple[Any, Any],
        outer: tuple[tuple[Any, Any, bool], ...] = (),
    ) -> Any:
        """The answer's value for one field value: leaves now, objects queued for the next level.

        `here` is where the value goes (container, slot); `outer` the enclosing list positions, so
        that an object nulled later can carry its null up through non-null lists.
        """
        non_null = isinstance(return_type, GraphQLNonNull)
        inner: Any = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if isinstance(value, Exception):
            self._error(located_error(value, nodes, list(path)), path)
            if non_null:
                raise _Null
            return None
        if value is None:
            if non_null:
                label = f"{nodes[0].name.value}"
                self._error(GraphQLError(f"Cannot return null for non-nullable field {label}.", nodes, path=list(path)), path)
                raise _Null
            return None
        if isinstance(inner, GraphQLList):
            items: list[Any] = []
            chain = ((*here, non_null), *outer)
            try:
                for index, item in enumerate(value):
                    items.append(None)
                    items[index] = self._shape(inner.of_type, item, masker, (*path, index), nodes, children, owner, (items, index), chain)
            except _Null:
                if non_null:
                    raise
                return None
            return items
        if isinstance(inner, GraphQLObjectType):
            child: dict[str, Any] = {}
            children.append(Child(owner, ((*here, non_null), *outer), inner, value, child, path))
            return child
        if masker is not None:
            value = masker(str(value))
        return self.complete_leaf_value(inner, value)  # type: ignore[arg-type]

    async def _descend(self, details: Any, children: list[Child]) -> set[int]:
        """Fill the objects one level down, grouped by type, then carry nulls upward."""
        by_type: dict[str, list[Child]] = {}
        for child in children:
            by_type.setdefault(child.type.name, []).append(child)
        invalid: set[int] = set()
        for group in by_type.values():
            obj_type = group[0].type
            sub = self.collect_subfields(obj_type, details).grouped_field_set
            nulled = await self._fill(obj_type, [c.value for c in group], [c.out for c in group], [c.path for c in group], sub)
            for position in sorted(nulled):
                child = group[position]
                for container, slot, non_null in child.chain:
                    container[slot] = None
                    if not non_null:
                        break
                else:
                    invalid.add(child.owner)
        return invalid


class _Null(Exception):
    """A null in a non-null position, on its way up to the nearest nullable one."""


@dataclass(frozen=True, slots=True)
class Child:
    """An object of the answer waiting for the next level: where it sits and what fills it."""

    owner: int  # index of the parent object at the level above
    chain: tuple[tuple[Any, Any, bool], ...]  # (container, slot, non-null) from the object up to the field
    type: GraphQLObjectType
    value: Any
    out: dict[str, Any]
    path: tuple[Any, ...]


def _named(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type
