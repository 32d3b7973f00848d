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
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
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
    attribute: str | None = None  # a plain attribute: read for a whole level with attrgetter


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
        return FieldPlan(_attribute(definition.python_name), None, definition, definition.python_name)
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
        invalid = await self._fill(root_type, [root_value], [root], [None], grouped)
        return None if invalid else root

    async def _fill(
        self,
        parent_type: GraphQLObjectType,
        parents: Sequence[Any],
        outs: list[dict[str, Any]],
        paths: list[Any],
        grouped: Any,
    ) -> set[int]:
        """Fill every selected field of `outs` (one dict per parent); returns parents nulled by errors.

        Fields are completed one at a time over all parents, so every dict gets its keys in the
        document's order. A dict that misses a key is one a non-null error nulls anyway.
        """
        keys = list(grouped)
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
            if plan.attribute is not None:
                try:
                    return list(map(attrgetter(plan.attribute), parents))
                except AttributeError:
                    pass
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
        paths: list[Any],
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
        non_null = isinstance(return_type, GraphQLNonNull)
        named = return_type.of_type if non_null else return_type  # type: ignore[union-attr]
        if is_leaf_type(named):
            self._leaves(named, return_type, masker, key, values, outs, paths, nodes, invalid)
            return invalid
        item_type = _object_items(named)
        for i, value in enumerate(values):
            out = outs[i]
            if value is None or isinstance(value, Exception):
                pass  # errors and nulls take the general path below
            elif isinstance(named, GraphQLObjectType):  # one object: queued for the next level
                child: dict[str, Any] = {}
                out[key] = child
                children.append((i, ((out, key, non_null),), named, value, child, (paths[i], key)))
                continue
            elif item_type is not None and _no_gaps(value):  # a list of objects, none of them null
                obj_type, item_non_null = item_type
                items: list[Any] = []
                out[key] = items
                outer = (out, key, non_null)
                base = (paths[i], key)
                for index, item in enumerate(value):
                    child = {}
                    items.append(child)
                    children.append((i, ((items, index, item_non_null), outer), obj_type, item, child, (base, index)))
                continue
            try:
                out[key] = self._shape(return_type, value, masker, (paths[i], key), nodes, children, i, (out, key))
            except _Null:  # a non-null field had no value: the null moves up to the parent
                invalid.add(i)
        if children:
            invalid |= await self._descend(details, children)
        return invalid

    def _leaves(
        self,
        named: Any,
        return_type: GraphQLOutputType,
        masker: Callable[[str], str] | None,
        key: str,
        values: list[Any],
        outs: list[dict[str, Any]],
        paths: list[Any],
        nodes: list[Any],
        invalid: set[int],
    ) -> None:
        """Leaf values serialized in a tight loop; an enum's few values are serialized once each."""
        serialize = named.serialize
        plain_strings = named is GraphQLString
        memo: dict[Any, Any] | None = {} if isinstance(named, GraphQLEnumType) and masker is None else None
        for i, value in enumerate(values):
            if value is None or isinstance(value, Exception):
                try:
                    outs[i][key] = self._shape(return_type, value, masker, (paths[i], key), nodes, [], i, (outs[i], key))
                except _Null:
                    invalid.add(i)
                continue
            if memo is not None:
                result = memo.get(value, _MISSING)
                if result is _MISSING:
                    result = serialize(value)
                    result = memo[value] = result if result is not None else self.complete_leaf_value(named, value)
                outs[i][key] = result
                continue
            if masker is not None:
                value = masker(str(value))
            result = value if plain_strings and value.__class__ is str else serialize(value)
            outs[i][key] = result if result is not None else self.complete_leaf_value(named, value)

    def _error(self, error: GraphQLError, path: Any) -> None:
        position = None
        for step in _steps(path):
            position = Path(position, step, None)
        self.collected_errors.add(error, position)

    def _shape(
        self,
        return_type: GraphQLOutputType,
        value: Any,
        masker: Callable[[str], str] | None,
        path: Any,
        nodes: list[Any],
        children: list[Child],
        owner: int,
        here: tuple[Any, Any],
        outer: tuple[tuple[Any, Any, bool], ...] = (),
    ) -> Any:
        """The answer's value for one field value: leaves now, objects queued for the next level.

        `here` is where the value goes (container, slot); `outer` the enclosing list positions, so
        that an object nulled later can carry its null up through non-null lists. Paths are linked
        pairs (parent path, key), turned into lists only for an error.
        """
        non_null = isinstance(return_type, GraphQLNonNull)
        inner: Any = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if isinstance(value, Exception):
            self._error(located_error(value, nodes, _steps(path)), path)
            if non_null:
                raise _Null
            return None
        if value is None:
            if non_null:
                label = f"{nodes[0].name.value}"
                self._error(GraphQLError(f"Cannot return null for non-nullable field {label}.", nodes, path=_steps(path)), path)
                raise _Null
            return None
        if isinstance(inner, GraphQLList):
            items: list[Any] = []
            chain = ((*here, non_null), *outer)
            try:
                for index, item in enumerate(value):
                    items.append(None)
                    items[index] = self._shape(inner.of_type, item, masker, (path, index), nodes, children, owner, (items, index), chain)
            except _Null:
                if non_null:
                    raise
                return None
            return items
        if isinstance(inner, GraphQLObjectType):
            child: dict[str, Any] = {}
            children.append((owner, ((*here, non_null), *outer), inner, value, child, path))
            return child
        if masker is not None:
            value = masker(str(value))
        return self.complete_leaf_value(inner, value)  # type: ignore[arg-type]

    async def _descend(self, details: Any, children: list[Child]) -> set[int]:
        """Fill the objects one level down, grouped by type, then carry nulls upward."""
        by_type: dict[str, list[Child]] = {}
        for child in children:
            by_type.setdefault(child[2].name, []).append(child)
        invalid: set[int] = set()
        for group in by_type.values():
            obj_type = group[0][2]
            sub = self.collect_subfields(obj_type, details).grouped_field_set
            nulled = await self._fill(obj_type, [c[3] for c in group], [c[4] for c in group], [c[5] for c in group], sub)
            for position in sorted(nulled):
                owner, chain = group[position][0], group[position][1]
                for container, slot, non_null in chain:
                    container[slot] = None
                    if not non_null:
                        break
                else:
                    invalid.add(owner)
        return invalid


class _Null(Exception):
    """A null in a non-null position, on its way up to the nearest nullable one."""


_MISSING = object()

# An object of the answer waiting for the next level, as a plain tuple (the hot path makes one per
# object): (owner: index of the parent at the level above, chain: (container, slot, non-null) from
# the object up to the field, type, value, out: the dict to fill, path: linked (parent, key) pairs).
Child = tuple[int, tuple[tuple[Any, Any, bool], ...], GraphQLObjectType, Any, dict[str, Any], Any]


def _steps(path: Any) -> list[Any]:
    """A linked path (parent, key) as the list of keys GraphQL errors carry."""
    steps = []
    while path is not None:
        path, key = path
        steps.append(key)
    steps.reverse()
    return steps


def _object_items(gql_type: Any) -> tuple[GraphQLObjectType, bool] | None:
    """(object type, items non-null) when a type is a list of objects; else None."""
    if not isinstance(gql_type, GraphQLList):
        return None
    item = gql_type.of_type
    item_non_null = isinstance(item, GraphQLNonNull)
    item = item.of_type if item_non_null else item
    return (item, item_non_null) if isinstance(item, GraphQLObjectType) else None


def _no_gaps(value: Any) -> bool:
    """A list without nulls or errors (other lists take the general path)."""
    return isinstance(value, list) and not any(v is None or isinstance(v, Exception) for v in value)


def _named(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type
