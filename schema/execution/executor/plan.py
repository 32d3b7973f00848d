"""Plans of the compiled read path: what a validated, authorized operation asks, worked out once.

A plan lists, per object type at each level, the selected fields (collected by graphql-core
itself: fragments, aliases, @include/@skip), how each is computed for a whole level (an attribute,
a plain getter, a batch function and its arguments when no variable is in them), whether the role
sees it masked, the shape of its return type, and the record fields the answer reads of each
entity (the adapters' projection: resolvers/batch.py says how fields declare them). It depends on
the operation, the caller's compiled grants (masking) and the values of the Boolean variables
(directives), and is kept for those with the prepared document (schema/execution/prepared.py, keyed
by the same four): one role's plan is never another's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLInt,
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
)
from graphql.execution.values import get_argument_values
from strawberry.types.arguments import convert_arguments

from resolvers.batch import BatchFn, Reads, field_meta, records_of
from resolvers.loaders import Projection
from schema.execution.prepared import UNPLANNED

# Scalars whose answer is a pure function of an immutable value (strawberry's isoformat): the
# answer of each value is remembered across requests, as for enums, at most MEMO_LIMIT per field.
_PURE = frozenset({"Date", "DateTime", "Time"})
MEMO_LIMIT = 65536


class NotCompiled(Exception):
    """The document uses something the compiled path does not cover."""


@dataclass(eq=False, slots=True)
class Selected:
    """One selected field (response key) of one object type."""

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
    # A String leaf (str: a str value, masked if the role must, is its own answer), an unmasked Int leaf
    # (int: an int in the 32-bit range is its own answer, as graphql-core's serialize_int gives it back) or
    # an unmasked Boolean leaf (bool: a bool is its own answer, as serialize_boolean gives it back).
    passthrough: type | None = None
    memo: dict[Any, Any] | None = None  # value -> answer (or masked value), kept across requests (see _PURE)
    object_type: GraphQLObjectType | None = None  # the object type of an object or object-list field
    items: bool | None = None  # a list of objects: whether its items are non-null (None: one object)
    general: bool = False  # lists of leaves, nested lists: shaped value by value
    # An unmasked list of String (str) or Float (float) leaves: a list of such values (finite floats), with
    # nulls where its items may be null, is its own answer, as graphql-core would complete it item by item.
    items_pass: type | None = None
    items_null: bool = False
    sub: dict[str, Selected] = field(default_factory=dict)  # the object type's selected fields


@dataclass(eq=False, slots=True)
class Plan:
    """An operation planned for one set of grants and directive values."""

    fields: dict[str, Selected]  # the root type's selected fields
    reads: Projection | None  # per entity (and named loader), the record fields the answer reads (None: all)


def plan(executor: Any, root_type: GraphQLObjectType, grouped: Any) -> Plan | None:
    """The operation's plan for the executor's grants and directive values (None: not covered), made once per
    prepared document."""
    prepared = executor.prepared
    if prepared is not None and prepared.plan is not UNPLANNED:
        return prepared.plan  # type: ignore[no-any-return]
    try:
        made: Plan | None = _Planner(executor).plan(root_type, grouped)
    except NotCompiled:
        made = None
    if prepared is not None:
        prepared.plan = made
    return made


def arguments(executor: Any, selected: Selected) -> dict[str, Any]:
    """A batch field's arguments as its Python function takes them."""
    args = get_argument_values(selected.parent_type.fields[selected.name], selected.nodes[0], executor.variable_values)
    schema = executor.schema._strawberry_schema
    return convert_arguments(args, selected.strawberry_field.arguments, schema.schema_converter.scalar_registry, schema.config)  # type: ignore[no-any-return]


class _Planner:
    """One plan in the making: the selected fields at every level, and what they read."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.reads: dict[Any, set[str]] | None = {}

    def plan(self, root_type: GraphQLObjectType, grouped: Any) -> Plan:
        fields = self.select(root_type, grouped)
        reads = None if self.reads is None else {entity: frozenset(names) for entity, names in self.reads.items()}
        return Plan(fields, reads)

    def select(self, parent_type: GraphQLObjectType, grouped: Any) -> dict[str, Selected]:
        return {key: self.selected(parent_type, key, details) for key, details in grouped.items()}

    def selected(self, parent_type: GraphQLObjectType, key: str, details: Any) -> Selected:
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
        meta = field_meta(definition)
        if meta is not None and meta.batch is not None:
            selected.batch = meta.batch
            if not any(_uses_variables(a.value) for a in node.arguments or ()):
                selected.args = arguments(self.executor, selected)
        elif definition.base_resolver is None:
            selected.attribute = definition.python_name
        else:
            func = definition.base_resolver.wrapped_func
            if inspect.iscoroutinefunction(func) or list(inspect.signature(func).parameters) != ["self"]:
                raise NotCompiled(f"{parent_type.name}.{name}")
            selected.getter = func
        self.note_reads(parent_type, selected, meta.reads if meta is not None else None)
        selected.masker = self.executor.masker(parent_type.name, name)
        named = _named(return_type)
        inner = nullable(return_type)
        if isinstance(named, GraphQLObjectType):
            selected.object_type = named
            selected.sub = self.select(named, self.executor.collect_subfields(named, details).grouped_field_set)
            if isinstance(inner, GraphQLList):
                selected.items = isinstance(inner.of_type, GraphQLNonNull)
                selected.general = _named(inner.of_type) is not nullable(inner.of_type)  # a list of lists
        elif not is_leaf_type(named):
            raise NotCompiled(f"{parent_type.name}.{name}")
        elif isinstance(inner, GraphQLList):
            selected.general = True
            item = nullable(inner.of_type)
            if selected.masker is None and (item is GraphQLString or item is GraphQLFloat):
                selected.items_pass = str if item is GraphQLString else float
                selected.items_null = not isinstance(inner.of_type, GraphQLNonNull)
        else:
            selected.leaf = named
            if named is GraphQLString:
                selected.passthrough = str
            elif named is GraphQLInt and selected.masker is None:
                selected.passthrough = int
            elif named is GraphQLBoolean and selected.masker is None:
                selected.passthrough = bool
            if selected.masker is None and (isinstance(named, GraphQLEnumType) or named.name in _PURE):
                selected.memo = {}
            elif selected.masker is not None and selected.passthrough is str:
                selected.memo = {}  # value -> masked value: a mask is a pure function of the value
        return selected

    def note_reads(self, parent_type: GraphQLObjectType, selected: Selected, declared: Reads | None) -> None:
        """Add the record fields a field reads to the plan's (resolvers/batch.py: what fields declare)."""
        if self.reads is None:
            return
        definition = (parent_type.extensions or {}).get("strawberry-definition")
        own = records_of(definition.origin) if definition else None  # the parents are records of it
        if selected.attribute is not None:
            if own is not None:
                self.reads.setdefault(own, set()).add(selected.attribute)
        elif declared is None:
            self.reads = None  # a getter or batch field that does not say what it reads: whole records
        else:
            if declared.own:
                if own is None:
                    raise NotCompiled(f"{parent_type.name}.{selected.name} reads its own records, but has none")
                self.reads.setdefault(own, set()).update(declared.own)
            for target, names in (*declared.entities.items(), *declared.via.items()):
                self.reads.setdefault(target, set()).update(names)


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


def nullable(gql_type: Any) -> Any:
    """A type without its non-null wrapper."""
    return gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type
