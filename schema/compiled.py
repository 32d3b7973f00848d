"""The compiled read path: a query answered a level at a time, not a field at a time.

graphql-core resolves every field of every object separately (~3 µs a field, far more when the
resolver is async). This executor walks the same validated, authorized document breadth-first:
per selected field it makes one call for all parents at that level — an attribute read, a plain
getter, or the field's batch function (resolvers/batch.py, the same definition strawberry's path
uses) — and writes the answer's dictionaries directly.

What does not change from one request to the next is planned once and kept (LRU) per operation,
compiled grants and values of the Boolean variables (which decide @include/@skip): the fields
selected at each level (collected by graphql-core itself: fragments, aliases, directives), how
each is computed, which are masked for the role, arguments without variables, and the shape of
each return type. Leaves are serialized by graphql-core's own coercion; objects of a level are
queued as lists, and an object's place in the answer (its path) is worked out only when an error
needs it. Errors and nulls follow graphql-core: an error is recorded at the nearest nullable
position, which becomes null, and later errors under a nulled position are dropped. Anything the
plan cannot cover (abstract types, introspection, mutations, resolvers it cannot call per level)
is left to strawberry's executor for the whole operation. A differential test holds both paths to
the same answers.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    ListValueNode,
    Node,
    ObjectValueNode,
    VariableNode,
    is_leaf_type,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from resolvers.batch import Batched, BatchFn
from schema.masking import MASKABLE, MASKERS


class NotCompiled(Exception):
    """The document uses something the compiled path does not cover."""


@dataclass(eq=False, slots=True)
class Selected:
    """One selected field (response key) of one object type, planned once per document and grants."""

    key: str
    name: str
    parent_type: GraphQLObjectType
    nodes: list[Any]
    return_type: GraphQLOutputType | None = None  # None: __typename
    attribute: str | None = None  # read for a whole level with attrgetter
    getter: Callable[[Any], Any] | None = None  # a plain resolver, called per parent
    batch: BatchFn | None = None  # one call for all parents
    args: dict[str, Any] | None = None  # the batch function's arguments, when no variable is in them
    strawberry_field: Any = None
    masker: Callable[[str], str] | None = None
    leaf: Any = None  # a leaf return type (Scalar or Enum, maybe non-null)
    passthrough: bool = False  # a String leaf, not masked: a str value is its own answer
    memo: dict[Any, Any] | None = None  # value -> answer, kept across requests (see _PURE)
    object_type: GraphQLObjectType | None = None  # the object type of an object or object-list field
    items: bool | None = None  # a list of objects: whether its items are non-null (None: one object)
    general: bool = False  # lists of leaves, nested lists: shaped value by value
    sub: dict[str, Selected] = field(default_factory=dict)  # the object type's selected fields


@dataclass(eq=False, slots=True)
class Plan:
    """An operation planned for one set of grants and directive values."""

    fields: dict[str, Selected]  # the root type's selected fields
    reads: dict[str, frozenset[str]] | None  # per entity, the record fields the answer reads (None: all)


def _uses_variables(node: Node) -> bool:
    if isinstance(node, VariableNode):
        return True
    if isinstance(node, ListValueNode):
        return any(_uses_variables(v) for v in node.values)
    if isinstance(node, ObjectValueNode):
        return any(_uses_variables(f.value) for f in node.fields)
    return False


def _named(gql_type: Any) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


def _nullable(gql_type: Any) -> Any:
    return gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type


class _Level:
    """The objects one field queued for the next level: where they sit is looked up only for errors."""

    __slots__ = ("up", "outs", "key", "_where")

    def __init__(self, up: _Level | None, outs: list[dict[str, Any]], key: str | None) -> None:
        self.up, self.outs, self.key = up, outs, key
        self._where: dict[int, tuple[int, tuple[Any, ...]]] | None = None

    def where(self, out: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
        """(index of the parent, response path below it) of one queued object's answer."""
        if self._where is None:
            found: dict[int, tuple[int, tuple[Any, ...]]] = {}

            def walk(value: Any, owner: int, steps: tuple[Any, ...]) -> None:
                if isinstance(value, dict):
                    found[id(value)] = (owner, steps)
                elif isinstance(value, list):
                    for index, item in enumerate(value):
                        walk(item, owner, (*steps, index))

            for owner, parent in enumerate(self.outs):
                walk(parent.get(self.key), owner, (self.key,))  # type: ignore[arg-type]
            self._where = found
        return self._where[id(out)]


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, answering queries level by level where the whole document allows."""

    _plans: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
    _limit = 1024

    def execute_root_grouped_field_set(  # type: ignore[override]
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        ctx = self.context_value
        plan = None if serially or getattr(ctx, "batchers", None) is None else self._plan(root_type, grouped_field_set)
        if plan is None:
            return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, serially, position_context)
        return self._run(plan, root_value)

    # --- the plan ---------------------------------------------------------------------------------

    def _plan(self, root_type: GraphQLObjectType, grouped: Any) -> Plan | None:
        """The operation's plan for these grants and directive values (None: not covered), cached."""
        grants = self.context_value.grants
        flags = tuple((k, v) for k, v in self.variable_values.coerced.items() if v.__class__ is bool)
        key = (id(self.schema), id(self.operation), id(grants), flags)
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
            return found[-1]  # type: ignore[no-any-return]
        self._reads: dict[str, set[str]] | None = {}
        try:
            fields = self._select(root_type, grouped, grants.masked)
            reads = None if self._reads is None else {entity: frozenset(names) for entity, names in self._reads.items()}
            plan: Plan | None = Plan(fields, reads)
        except NotCompiled:
            plan = None
        # the keyed objects are kept with the plan, so that their ids are not reused meanwhile
        self._plans[key] = (self.schema, self.operation, grants, plan)
        if len(self._plans) > self._limit:
            self._plans.popitem(last=False)
        return plan

    def _select(self, parent_type: GraphQLObjectType, grouped: Any, masked: frozenset[tuple[str, str]]) -> dict[str, Selected]:
        return {key: self._selected(parent_type, key, details, masked) for key, details in grouped.items()}

    def _selected(self, parent_type: GraphQLObjectType, key: str, details: Any, masked: frozenset[tuple[str, str]]) -> Selected:
        node = details[0].node
        name = node.name.value
        selected = Selected(key, name, parent_type, [d.node for d in details])
        if name == "__typename":
            return selected
        field_def = parent_type.fields.get(name) if not name.startswith("__") else None
        definition = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
        if field_def is None or definition is None:
            raise NotCompiled(f"{parent_type.name}.{name}")
        selected.return_type = return_type = field_def.type
        selected.strawberry_field = definition
        metadata = definition.metadata or {}
        hub = metadata.get("hub")
        if isinstance(hub, Batched):
            selected.batch = hub.fn
            if not any(_uses_variables(a.value) for a in node.arguments or ()):
                selected.args = self._arguments(selected)
        elif definition.base_resolver is None:
            selected.attribute = definition.python_name
        else:
            func = definition.base_resolver.wrapped_func
            if inspect.iscoroutinefunction(func) or list(inspect.signature(func).parameters) != ["self"]:
                raise NotCompiled(f"{parent_type.name}.{name}")
            selected.getter = func
        self._note_reads(parent_type, selected, metadata.get("reads"))
        if (parent_type.name, name) in masked:
            selected.masker = MASKERS[MASKABLE[(parent_type.name, name)]]
        named = _named(return_type)
        inner = _nullable(return_type)
        if isinstance(named, GraphQLObjectType):
            selected.object_type = named
            selected.sub = self._select(named, self.collect_subfields(named, details).grouped_field_set, masked)
            if isinstance(inner, GraphQLList):
                selected.items = isinstance(inner.of_type, GraphQLNonNull)
                selected.general = _named(inner.of_type) is not _nullable(inner.of_type)  # a list of lists
        elif not is_leaf_type(named):
            raise NotCompiled(f"{parent_type.name}.{name}")
        elif isinstance(inner, GraphQLList):
            selected.general = True
        else:
            selected.leaf = named
            selected.passthrough = named is GraphQLString and selected.masker is None
            if selected.masker is None and (isinstance(named, GraphQLEnumType) or named.name in _PURE):
                selected.memo = {}
        return selected

    def _note_reads(self, parent_type: GraphQLObjectType, selected: Selected, declared: Any) -> None:
        """Add the record fields a field reads to the plan's (resolvers/batch.py: what fields declare)."""
        if self._reads is None:
            return
        definition = (parent_type.extensions or {}).get("strawberry-definition")
        own = getattr(definition.origin, "__records__", None) if definition else None  # the parents are records of it
        if selected.attribute is not None:
            if own is not None:
                self._reads.setdefault(own, set()).add(selected.attribute)
        elif declared is None:
            self._reads = None  # a getter or batch field that does not say what it reads: whole records
        else:
            for entity, names in declared.items():
                target = own if entity == "self" else entity
                if target is None:
                    raise NotCompiled(f"{parent_type.name}.{selected.name} reads its own records, but has none")
                self._reads.setdefault(target, set()).update(names)

    def _arguments(self, selected: Selected) -> dict[str, Any]:
        """A batch field's arguments as its Python function takes them."""
        args = get_argument_values(selected.parent_type.fields[selected.name], selected.nodes[0], self.variable_values)
        schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
        return convert_arguments(args, selected.strawberry_field.arguments, schema.schema_converter.scalar_registry, schema.config)  # type: ignore[no-any-return]

    # --- a level at a time ------------------------------------------------------------------------

    async def _run(self, plan: Plan, root_value: Any) -> dict[str, Any] | None:
        if plan.reads is not None:  # before any load: the adapters build only the fields the answer reads
            self.context_value.loaders.fields.update(plan.reads)
        answer: dict[str, Any] = {}
        self._answer, self._nulled, self._root = answer, False, plan.fields
        self._pending: list[tuple[int, tuple[int, ...], GraphQLError, Path | None]] = []
        self._finished = self._wave = 0
        try:
            await self._fill(plan.fields, [root_value], [answer], _Level(None, [answer], None))
        finally:
            del self._answer  # the executor ends up in reference cycles: the answer must not wait for the GC
        self._pending.sort(key=itemgetter(0, 1))
        for _, _, error, position in self._pending:
            self.collected_errors.add(error, position)  # dropped when inside a position nulled before
        return None if self._nulled else answer

    async def _fill(self, fields: dict[str, Selected], parents: list[Any], outs: list[dict[str, Any]], level: _Level) -> None:
        """Fill every selected field of `outs` (one dict per parent), a field at a time over all parents.

        So every dict gets its keys in the document's order. The batch functions of a level run
        together, and each field's errors are of the wave of the last batch it waited for.
        """
        batched = [f for f in fields.values() if f.batch is not None]
        waves: dict[str, int] = {}
        if len(batched) == 1:
            found = {batched[0].key: await self._batch(batched[0], parents, waves)}
        else:
            found = dict(zip([f.key for f in batched], await asyncio.gather(*(self._batch(f, parents, waves) for f in batched)), strict=True))
        inherited = self._wave
        try:
            for selected in fields.values():
                self._wave = waves.get(selected.key, inherited)
                if selected.return_type is None:  # __typename
                    for out in outs:
                        out[selected.key] = selected.parent_type.name
                    continue
                values = found[selected.key] if selected.batch is not None else self._read(selected, parents)
                if selected.leaf is not None:
                    self._leaves(selected, level, outs, values)
                else:
                    await self._objects(selected, level, outs, values)
        finally:
            self._wave = inherited

    async def _batch(self, selected: Selected, parents: list[Any], waves: dict[str, int]) -> list[Any]:
        """A batch field's values for all parents; its wave is its rank among batches by finishing time."""
        assert selected.batch is not None
        try:
            args = selected.args if selected.args is not None else self._arguments(selected)
            return list(await selected.batch(self.context_value, list(parents), **args))
        except Exception as exc:  # the whole level failed: each parent gets the error
            return [exc] * len(parents)
        finally:
            self._finished += 1
            waves[selected.key] = self._finished

    def _read(self, selected: Selected, parents: list[Any]) -> list[Any]:
        """An attribute or plain getter over all parents; one that raises is that parent's error (as in strawberry)."""
        if selected.attribute is not None:
            read = attrgetter(selected.attribute)
            try:
                return list(map(read, parents))
            except Exception:
                return [_call(read, p) for p in parents]
        getter = selected.getter
        assert getter is not None
        try:
            return [getter(p) for p in parents]
        except Exception:
            return [_call(getter, p) for p in parents]

    def _leaves(self, selected: Selected, level: _Level, outs: list[dict[str, Any]], values: list[Any]) -> None:
        """Leaf values serialized in a tight loop; enums and dates are serialized once per value."""
        key = selected.key
        if selected.passthrough:
            for out, value in zip(outs, values, strict=True):
                if value.__class__ is str:
                    out[key] = value
                else:
                    self._settle(selected, level, out, value, [], [])
            return
        coerce = selected.leaf.coerce_output_value
        masker = selected.masker
        memo = selected.memo
        if memo is not None and len(memo) > _MEMO_LIMIT:
            memo.clear()
        for out, value in zip(outs, values, strict=True):
            try:
                result = memo.get(value) if memo is not None else None
                if result is None and value is not None and not isinstance(value, Exception):
                    result = coerce(value if masker is None else masker(str(value)))
                    if memo is not None and result is not None:
                        memo[value] = result
            except Exception:
                result = None  # the general path below reports it
            if result is None:
                self._settle(selected, level, out, value, [], [])
            else:
                out[key] = result

    async def _objects(self, selected: Selected, level: _Level, outs: list[dict[str, Any]], values: list[Any]) -> None:
        """Objects queued for the next level: a dict each, placed now and filled there."""
        key = selected.key
        kids: list[dict[str, Any]] = []
        objs: list[Any] = []
        if selected.general:
            for out, value in zip(outs, values, strict=True):
                self._settle(selected, level, out, value, kids, objs)
        elif selected.items is None:  # one object per parent
            if _plain(values):
                kids = [{} for _ in values]
                for out, kid in zip(outs, kids, strict=True):
                    out[key] = kid
                objs = values
            else:
                for out, value in zip(outs, values, strict=True):
                    if value is None or isinstance(value, Exception):
                        self._settle(selected, level, out, value, kids, objs)
                    else:
                        out[key] = kid = {}
                        kids.append(kid)
                        objs.append(value)
        else:  # a list of objects per parent
            for out, value in zip(outs, values, strict=True):
                if value.__class__ is list and _plain(value):
                    items: list[dict[str, Any]] = [{} for _ in value]
                    out[key] = items
                    kids += items
                    objs += value
                else:
                    self._settle(selected, level, out, value, kids, objs)
        if kids:
            assert selected.object_type is not None
            await self._fill(selected.sub, objs, kids, _Level(level, outs, key))

    # --- the general path: graphql-core's completion, value by value ---------------------------------

    def _settle(self, selected: Selected, level: _Level, out: dict[str, Any], value: Any, kids: list[Any], objs: list[Any]) -> None:
        """One parent's field, shaped as graphql-core completes it; its objects join the level's queue."""
        mine: list[Any] = []
        theirs: list[Any] = []
        try:
            out[selected.key] = self._shape(selected.return_type, value, selected, level, out, (selected.key,), mine, theirs)
        except Exception as exc:
            out[selected.key] = None
            steps = self._steps(level, out)
            self._record(located_error(exc, selected.nodes, [*steps, selected.key]), len(steps) + 1)
            return
        kids += mine
        objs += theirs

    def _shape(
        self,
        gql_type: Any,
        value: Any,
        selected: Selected,
        level: _Level,
        out: dict[str, Any],
        below: tuple[Any, ...],
        kids: list[Any],
        objs: list[Any],
    ) -> Any:
        """graphql-core's complete_value for one value: leaves now, objects queued; errors raised."""
        if isinstance(value, Exception):
            raise value
        if isinstance(gql_type, GraphQLNonNull):
            shaped = self._shape(gql_type.of_type, value, selected, level, out, below, kids, objs)
            if shaped is None:
                raise TypeError(f"Cannot return null for non-nullable field {selected.parent_type.name}.{selected.name}.")
            return shaped
        if value is None:
            return None
        if isinstance(gql_type, GraphQLList):
            if not is_iterable(value):
                raise GraphQLError(f"Expected Iterable, but did not find one for field '{selected.parent_type.name}.{selected.name}'.")
            items: list[Any] = []
            for index, item in enumerate(value):
                try:
                    items.append(self._shape(gql_type.of_type, item, selected, level, out, (*below, index), kids, objs))
                except Exception as exc:
                    steps = [*self._steps(level, out), *below, index]
                    error = located_error(exc, selected.nodes, steps)
                    if isinstance(gql_type.of_type, GraphQLNonNull):
                        raise error from None
                    self._record(error, len(steps))
                    items.append(None)
            return items
        if isinstance(gql_type, GraphQLObjectType):
            child: dict[str, Any] = {}
            kids.append(child)
            objs.append(value)
            return child
        if selected.masker is not None:
            value = selected.masker(str(value))
        return self.complete_leaf_value(gql_type, value)

    def _steps(self, level: _Level, out: dict[str, Any]) -> list[Any]:
        """The response path of an object's answer dict."""
        if level.up is None:
            return []
        owner, below = level.where(out)
        return [*self._steps(level.up, level.outs[owner]), *below]

    def _record(self, error: GraphQLError, depth: int) -> None:
        """Note an error at its nearest nullable position and null that position.

        Positions deeper than `depth` steps are nulled by the caller, which is still building them.
        """
        steps = error.path or []
        nullable, order = self._locate(steps)
        position = None
        for step in steps[:nullable]:
            position = Path(position, step, None)
        self._pending.append((self._wave, order, error, position))
        if nullable == 0:
            self._nulled = True
        elif nullable < depth:
            container: Any = self._answer
            for step in steps[: nullable - 1]:
                container = container[step]
                if container is None:
                    return  # inside a position nulled already
            container[steps[nullable - 1]] = None

    def _locate(self, steps: Sequence[Any]) -> tuple[int, tuple[int, ...]]:
        """(how many steps lead to the deepest nullable position (0: the data), the path in document order)."""
        fields = self._root
        gql_type: Any = None
        depth = 0
        order = []
        for n, step in enumerate(steps, 1):
            if isinstance(step, int):
                gql_type = _nullable(gql_type).of_type
                order.append(step)
            else:
                order.append(list(fields).index(step))
                selected = fields[step]
                gql_type, fields = selected.return_type, selected.sub
            if not isinstance(gql_type, GraphQLNonNull):
                depth = n
        return depth, tuple(order)


_NONE = type(None)
# Scalars whose answer is a pure function of an immutable value (strawberry's isoformat), so the
# answer of each value is remembered across requests, as for enums; at most _MEMO_LIMIT per field.
_PURE = frozenset({"Date", "DateTime", "Time"})
_MEMO_LIMIT = 65536


def _plain(values: list[Any]) -> bool:
    """Whether a list holds neither nulls nor errors (checked per distinct type, not per value)."""
    return not any(t is _NONE or issubclass(t, Exception) for t in {*map(type, values)})


def _call(getter: Callable[[Any], Any], parent: Any) -> Any:
    try:
        return getter(parent)
    except Exception as exc:
        return exc
