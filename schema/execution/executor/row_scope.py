"""Row scope on every argument: what a root field or mutation names is checked before anything runs.

`ScopedExecutor` is part of the one executor (executor/__init__.py): the compiled read path and
graphql-core's field-by-field execution both go through it. Before the root fields of an operation
run, it reads each one's arguments (variables included), looks up what each argument names
(`schema/arguments.py`) and resolves the named things to regions:

- an institution: its region in the crosswalk;
- a person: the institutions of every record a department keeps of the ID number — registry
  slots, HR personnel records, cadre records, payroll payees, current or past. A person lies in
  the caller's scope when any of them does (the same rows the caller's reads show of that
  person); a person no department knows is unknown;
- a region: inside the caller's when it is the caller's or a division within it;
- an alert, a freeze or a workflow application: the region it was recorded with;
- a workflow application's input: the institution it names;
- a league-wide thing (a policy rule's subject): only the whole league's principals may name it;
- a department (its change events, not split by region): its own principals at league scope, and
  principals of no department (admin; the auditor, who reads everything) as far as the policy
  lets them reach the field.

One thing outside the caller's region refuses the whole operation: a `FORBIDDEN` error per such
argument (bilingual, with the field and argument), no data, no resolver run, nothing written.
In a mutation a named thing that does not exist (unknown person, institution, division, alert,
freeze) is `BAD_USER_INPUT`, again before anything is written. Principals of the whole league
(152900) pass; their queries are not even looked at (unless they name a department), so reads at
league scope cost nothing.
An argument without a declaration is refused (fail closed); a test keeps there being none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from enum import Enum
from typing import Any

import sqlalchemy as sa
from graphql import GraphQLError, GraphQLObjectType
from graphql.execution.values import get_argument_values

from hub.core.codes import REGIONS, in_scope
from hub.core.errors import BadUserInput, HubError, SourceUnavailable
from hub.core.ids import parse_id_number
from hub.store.tables import alerts, applications, freezes
from resolvers.context import HubContext, required
from resolvers.loaders import IdNumber
from resolvers.people import FACETS
from schema.arguments import Names, declared
from schema.role_schema import RoleIntrospection


class Verdict(Enum):
    """Where a named thing lies relative to the caller's scope."""

    INSIDE = "inside"
    OUTSIDE = "outside"
    UNKNOWN = "unknown"  # no such thing (or a malformed name): the resolver answers it as it does


LABELS = {  # (Chinese, English) of what an argument names, for messages
    Names.INSTITUTION: ("机构", "an institution"), Names.PERSON: ("人员", "a person"),
    Names.REGION: ("行政区划", "a division"), Names.ALERT: ("预警", "an alert"), Names.FREEZE: ("冻结记录", "a freeze"),
    Names.ENTITIES: ("实体", "an entity"), Names.LEAGUE: ("全盟范围的规则", "a league-wide rule"),
    Names.DEPARTMENT: ("部门", "a department"),
    Names.APPLICATION: ("申请", "an application"), Names.APPLICATION_INPUT: ("申请所涉机构", "an application's institution"),
}


def _names_department(root_type: GraphQLObjectType, grouped: Any) -> bool:
    """Whether a root field of the operation takes a department argument (checked at any scope)."""
    root = "Mutation" if root_type.name == "Mutation" else "Query"
    for details in grouped.values():
        node = details[0].node
        for argument in node.arguments or ():
            found = declared(root, node.name.value, argument.name.value)
            if found is not None and found.names is Names.DEPARTMENT:
                return True
    return False


class ScopedExecutor(RoleIntrospection):
    """graphql-core's executor, checking the operation's named things before its root fields run
    (and answering introspection from the caller's role schema)."""

    def execute_root_grouped_field_set(  # type: ignore[override]
        self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: Any, serially: bool,
        position_context: Any,
    ) -> Any:
        def answer() -> Any:
            return self.answer_root(root_type, root_value, grouped_field_set, serially, position_context)

        ctx = required(self.context_value)  # nothing executes without a caller's context
        writes = root_type is self.schema.mutation_type
        if ctx.scope.everything and not writes and not _names_department(root_type, grouped_field_set):
            return answer()
        named = list(self._named(root_type, "Mutation" if writes else "Query", grouped_field_set))
        return self._checked(named, writes, answer) if named else answer()

    def answer_root(self, root_type: GraphQLObjectType, root_value: Any, grouped_field_set: Any, serially: bool,
                    position_context: Any) -> Any:
        """Execute the root fields once the check passed (the compiled path overrides this)."""
        return super().execute_root_grouped_field_set(root_type, root_value, grouped_field_set, serially,
                                                      position_context)

    def _named(self, root_type: GraphQLObjectType, root: str, grouped: Any
               ) -> Iterator[tuple[Any, str, str, Names | None, Any]]:
        """(node, Query|Mutation.field, argument, what it names, value) of every argument given a value that
        may name something (undeclared ones included)."""
        for details in grouped.values():
            node = details[0].node
            field = root_type.fields.get(node.name.value)
            if field is None:  # __typename, introspection
                continue
            try:
                values = get_argument_values(field, node, self.variable_values)
            except GraphQLError:  # graphql-core reports the same error before the resolver runs
                continue
            for name, value in values.items():
                found = declared(root, node.name.value, name)
                if value is not None and (found is None or found.names is not Names.NOTHING):
                    yield node, f"{root}.{node.name.value}", name, found.names if found else None, value

    def _checked(self, named: list[tuple[Any, str, str, Names | None, Any]], writes: bool,
                 answer: Callable[[], Any]) -> Awaitable[Any]:
        async def run() -> Any:
            refused = [e for item in named if (e := await _refusal(self.context_value, *item, writes)) is not None]
            if refused:
                for error in refused:
                    self.collected_errors.add(error, None)
                return None
            result = answer()
            return await result if self.is_awaitable(result) else result

        return run()


async def _refusal(ctx: HubContext, node: Any, field: str, argument: str, names: Names | None, value: Any,
                   writes: bool) -> GraphQLError | None:
    """The error refusing one argument's value, or None when it may be used."""
    key = node.alias.value if node.alias else node.name.value
    where = {"field": field, "argument": argument}
    if names is None:
        return GraphQLError(f"参数 {field}({argument}) 未声明其范围 / argument {argument} of {field} is not declared",
                            node, path=[key], extensions={"code": "FORBIDDEN", **where})
    try:
        verdicts = [await _verdict(ctx, names, item) for item in (value if isinstance(value, list) else [value])]
    except HubError as exc:
        return GraphQLError(exc.message, node, path=[key], extensions={**exc.extensions, **where})
    zh, en = LABELS[names]
    if Verdict.OUTSIDE in verdicts and names is Names.DEPARTMENT:
        return GraphQLError(f"{field}({argument}) 只能是本部门（全盟范围） / {argument} of {field} may name only your own "
                            "department, at league scope", node, path=[key], extensions={"code": "FORBIDDEN", **where})
    if Verdict.OUTSIDE in verdicts:
        return GraphQLError(f"{field}({argument}) 所指{zh}不在您的数据范围内 / {argument} of {field} names {en} outside "
                            "your region scope", node, path=[key], extensions={"code": "FORBIDDEN", **where})
    if writes and Verdict.UNKNOWN in verdicts:
        return GraphQLError(f"{field}({argument}) 所指{zh}不存在 / {argument} of {field} names {en} that does not exist",
                            node, path=[key], extensions={"code": "BAD_USER_INPUT", "field": argument})
    return None


async def _verdict(ctx: HubContext, names: Names, value: Any) -> Verdict:
    """Where one named thing lies for the caller."""
    scope = ctx.scope
    if names is Names.LEAGUE:
        return Verdict.INSIDE if scope.everything else Verdict.OUTSIDE
    if names is Names.DEPARTMENT:
        department = getattr(value, "value", value)
        if department not in ctx.sources:
            return Verdict.UNKNOWN
        own = ctx.principal.department
        return Verdict.INSIDE if scope.everything and own in (None, department) else Verdict.OUTSIDE
    if names is Names.REGION:
        if not in_scope(str(value), scope.region):
            return Verdict.OUTSIDE
        return Verdict.INSIDE if value in REGIONS else Verdict.UNKNOWN
    if names is Names.INSTITUTION:
        return await _institution(ctx, value)
    if names is Names.PERSON:
        return await _person(ctx, value)
    if names is Names.ENTITIES:
        typename = value.get("__typename") if isinstance(value, dict) else None
        if typename == "Institution":
            return await _institution(ctx, value.get("code"))
        return await _person(ctx, value.get("idNumber")) if typename == "Person" else Verdict.UNKNOWN
    if names is Names.APPLICATION_INPUT:
        return await _institution(ctx, value.get("institutionCode") if isinstance(value, dict) else None)
    if names is Names.APPLICATION:
        return await _application(ctx, value)
    return await _recorded(ctx, alerts if names is Names.ALERT else freezes, value)


async def _institution(ctx: HubContext, code: Any) -> Verdict:
    ident = (await ctx.crosswalk.get()).find(code) if isinstance(code, str) else None
    if ident is None:
        return Verdict.UNKNOWN
    return Verdict.INSIDE if ctx.scope.admits(ident) else Verdict.OUTSIDE


async def _person(ctx: HubContext, id_number: Any) -> Verdict:
    """Inside when the caller's own reads show a record of the person (through the request's loaders,
    registry first: for most people the one statement the answer then reuses); else outside when any
    department knows the person. A department that is down while nothing decided it fails closed."""
    try:
        key = IdNumber(parse_id_number(id_number if isinstance(id_number, str) else None))
    except BadUserInput:
        return Verdict.UNKNOWN
    down: HubError | None = None
    for facet in FACETS:
        try:
            if (await ctx.loaders.load(facet, [key]))[0]:
                return Verdict.INSIDE
        except SourceUnavailable as exc:
            down = exc
    if down is not None:
        raise down
    for facet in FACETS:  # unscoped: whether anyone knows the person
        if await ctx.sources[ctx.sources.holder(facet.entity)].fetch(facet.entity, facet.field, [key], fields={facet.field}):
            return Verdict.OUTSIDE
    return Verdict.UNKNOWN


async def _application(ctx: HubContext, value: Any) -> Verdict:
    """An application: the region of its institution, as recorded."""
    known = isinstance(value, str) and 0 < len(value) <= 32
    return await _region_of(ctx, applications, value) if known else Verdict.UNKNOWN


async def _recorded(ctx: HubContext, table: sa.Table, value: Any) -> Verdict:
    """An alert or freeze: the region it was recorded with."""
    try:
        row_id = int(value)
    except (TypeError, ValueError):
        return Verdict.UNKNOWN
    return await _region_of(ctx, table, row_id) if 0 < row_id < 2**31 else Verdict.UNKNOWN


async def _region_of(ctx: HubContext, table: sa.Table, row_id: Any) -> Verdict:
    """Where the region a store row was recorded with lies."""
    if ctx.store is None:
        return Verdict.UNKNOWN
    async with ctx.store.connect() as conn:
        row = (await conn.execute(sa.select(table.c.region_code).where(table.c.id == row_id))).first()
    if row is None:
        return Verdict.UNKNOWN
    return Verdict.INSIDE if in_scope(row.region_code, ctx.scope.region) else Verdict.OUTSIDE
