"""Limits every operation meets before anything executes, on every executor.

`LimitedExecutor.build` is where graphql-core turns a validated document, a context and the raw
variables into an executor; the compiled executor (schema/execution/executor/compiled.py) derives
from it, so every operation goes through it. It refuses, with nothing executed:

- without a request context (resolvers/context.py `required`: NoContext is raised), so no call
  can leave out the caller's grants and row scope, whatever let it in;
- any String/ID value longer than `max_string_chars`, in the document or in the variables
  (BAD_USER_INPUT): one check for every argument of every field, before any SQL;
- variables that do not coerce (an Int out of range, say): BAD_USER_INPUT (as literal values that
  do not, which validation reports: schema/execution/extensions/errors.py);
- an operation whose estimated cost exceeds the caller's limit (QUERY_TOO_COMPLEX, with the cost
  and the limit in the message): each field counts once per value it will produce, so a list
  counts its `first`/`last` (or its default; a null `first` is a default page) times what is
  selected below it, any other list `LIST_SIZE` times, and every alias counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)

from hub.core.errors import BadUserInput, HubError, QueryTooComplex
from resolvers.context import required
from schema.execution.executor.masks import Masked
from schema.pagination import DEFAULT_PAGE_SIZE

SIZE_ARGUMENTS = ("first", "last")
LIST_SIZE = 10  # the values a list without a size argument is counted for (an institution's quotas, people …)


def cost_limit(settings: Any, subjects: frozenset[str]) -> int:
    """The caller's cost limit: the largest of its roles' (`role_max_cost`, else `max_cost`)."""
    overrides: Mapping[str, int] = settings.role_max_cost
    return max((overrides.get(s, settings.max_cost) for s in subjects), default=settings.max_cost)


def operation_cost(
    schema: GraphQLSchema,
    operation: Any,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> int:
    """The values an operation's answer may hold, estimated from its selections and list sizes."""
    root = schema.get_root_type(operation.operation)
    return _Cost(schema, fragments, variables).selections(root, operation.selection_set, None, ())


class _Cost:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def selections(self, parent: Any, selection_set: SelectionSetNode | None, size: int | None, spread: tuple[str, ...]) -> int:
        """Cost of a selection set per parent; `size`: the page size asked above, for the list below."""
        total = 0
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                total += self.field(parent, node, size, spread)
            elif isinstance(node, InlineFragmentNode):
                typed = self.schema.get_type(node.type_condition.name.value) if node.type_condition else parent
                total += self.selections(typed, node.selection_set, size, spread)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in spread:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    typed = self.schema.get_type(fragment.type_condition.name.value)
                    total += self.selections(typed, fragment.selection_set, size, (*spread, node.name.value))
        return total

    def field(self, parent: Any, node: FieldNode, size: int | None, spread: tuple[str, ...]) -> int:
        definition = getattr(parent, "fields", {}).get(node.name.value)
        if definition is None:  # __typename, or a field of an abstract type
            return 1 + self.selections(parent, node.selection_set, None, spread)
        asked = self.size(node, definition)
        return_type = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else definition.type
        if isinstance(return_type, GraphQLList):
            times = asked or size or LIST_SIZE
            below = None
        else:
            times, below = 1, asked
        return times * (1 + self.selections(get_named_type(return_type), node.selection_set, below, spread))

    def size(self, node: FieldNode, definition: Any) -> int | None:
        """The page size a field asks for (`first`/`last` or its default), if it says."""
        for name in SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            given = next((a.value for a in node.arguments or () if a.name.value == name), None)
            if isinstance(given, IntValueNode):
                value: Any = int(given.value)
            elif isinstance(given, VariableNode):
                value = self.variables.get(given.name.value)
            elif given is None:
                value = definition.args[name].default_value
            else:
                value = None
            if isinstance(value, int):
                return max(1, value)
            return DEFAULT_PAGE_SIZE if name == "first" else None  # `first: null` is a default page; `last: null` all
        return None


def long_strings(document: DocumentNode, variables: Any, limit: int) -> Iterator[str]:
    """Every string of the document's values or of the variables longer than `limit` (its start)."""
    loc = document.loc
    if loc is None or loc.end - loc.start > limit:  # else no literal in its text can be that long
        for value in _document_strings(document):
            if len(value) > limit:
                yield value[:40]
    for value in _strings(variables):
        if len(value) > limit:
            yield value[:40]


def _document_strings(document: DocumentNode) -> Iterator[str]:
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, StringValueNode):
            yield node.value
            continue
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, tuple | list):
                stack.extend(c for c in child if hasattr(c, "keys"))
            elif hasattr(child, "keys") and not isinstance(child, dict):
                stack.append(child)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _error(error: HubError) -> GraphQLError:
    return GraphQLError(error.message, extensions=error.extensions)


class LimitedExecutor(Masked):
    """graphql-core's executor, built only for operations within the limits (see the module).

    Alone, it answers every field through graphql-core, one at a time: the reference the compiled
    executor is held to (tests/schema/test_compiled.py), never what the hub serves with.
    """

    def __init__(self, *args: Any, prepared: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared = prepared  # schema/execution/prepared.py: where the compiled path keeps its plan

    @classmethod
    def build(  # type: ignore[override]
        cls,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        raw_variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        settings = required(context_value).settings  # no context, no execution (resolvers/context.py)
        limit = settings.max_string_chars
        for start in long_strings(document, raw_variable_values, limit):
            return [_error(BadUserInput(f"字符串参数超过 {limit} 个字符 / a string argument is longer than {limit} characters: {start!r}…",
                                        limit=limit))]
        built = super().build(schema, document, root_value, context_value, raw_variable_values, operation_name, *args, **kwargs)
        if isinstance(built, list):  # variables that do not coerce, no such operation: the request's fault
            for error in built:
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            return built
        cost = operation_cost(schema, built.operation, built.fragment_definitions, built.variable_values.coerced)
        most = cost_limit(settings, context_value.principal.policy_subjects)
        if cost > most:
            return [_error(QueryTooComplex(f"查询过于复杂：估算成本 {cost}，上限 {most} / query too complex: estimated cost {cost}, limit {most}",
                                           cost=cost, limit=most))]
        return built
