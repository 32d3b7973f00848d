"""Saved reports: a named GraphQL query with its variables, kept in the hub store, run through the one execution path.

A report is runnable by whoever's grants cover every field it reads: `reports` lists only those,
`runReport` answers it with the caller's masks and row scope (the inner answer is the app's
`Execution.answer`, audited like any other), and the CSV/XLSX export (hub/export.py) pages it the
same way. Saving needs grants covering the document too, so nobody saves what they could not run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    validate,
    visit,
)
from strawberry.scalars import JSON
from strawberry.types.graphql import OperationType as Operation

from hub.core.errors import BadUserInput, Forbidden, NotFound
from hub.core.principal import Principal
from hub.store import reports as store
from resolvers.context import HubContext, HubState
from schema.execution import Execution
from schema.execution.extensions.policy import policy_rule

Info = strawberry.Info[HubContext, None]


class ReportRunner:
    """Answers saved reports for a principal with a fresh request context through an `Execution`.

    Inside a GraphQL request (`runReport`) the app gives it an `Execution` without operation slots
    of its own: the request running it holds one already, and waiting for a second would deadlock
    once every slot ran a report. The export gives it the app's own `Execution`.
    """

    def __init__(self, execution: Execution, state: HubState) -> None:
        self.execution = execution
        self.state = state

    async def answer(self, principal: Principal, document: str, variables: dict[str, Any]) -> Any:
        context = await self.state.context(principal)
        return await self.execution.answer(context, document, variables, None, allowed=(Operation.QUERY,))


def problems(schema: GraphQLSchema, grants: Any, document: str) -> list[GraphQLError]:
    """Why a document is not a report the grants cover: syntax, validity, one query operation, denied fields."""
    try:
        parsed = parse(document)
    except GraphQLError as error:
        return [error]
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return [GraphQLError("报表须是一个查询操作 / a report is exactly one query operation")]
    if _runs_reports(parsed):
        return [GraphQLError("报表不能运行报表 / a report cannot run reports")]
    return validate(schema, parsed) or validate(schema, parsed, [policy_rule(grants)])


def _runs_reports(node: Any) -> bool:
    """Whether a document selects `runReport` anywhere (a report running itself would never end)."""
    found = False

    class Finder(Visitor):
        def enter_field(self, field: FieldNode, *_: Any) -> None:
            nonlocal found
            found = found or field.name.value == "runReport"

    visit(node, Finder())
    return found


def _runner(ctx: HubContext) -> ReportRunner:
    runner = ctx.reports
    if runner is None:
        raise BadUserInput("本服务未启用报表 / reports are not served here")
    return runner  # type: ignore[no-any-return]


async def _load(ctx: HubContext, name: str) -> store.SavedReport:
    found = await store.get(ctx.require_store(), store.check_name(name))
    if found is None:
        raise NotFound(f"没有名为 {name!r} 的报表 / no report named {name!r}")
    return found


@strawberry.type(description="保存的报表：带变量的 GraphQL 查询 / a saved report: a GraphQL query with its variables")
class SavedReport:
    name: str = strawberry.field(description="报表名 / name")
    description: str = strawberry.field(description="说明 / description")
    owner_department: str | None = strawberry.field(description="所属部门 / owner department")
    document: str = strawberry.field(description="GraphQL 查询文本 / the GraphQL query")
    variables: JSON = strawberry.field(description="默认变量 / default variables")
    created_by: str = strawberry.field(description="创建者 / created by")
    updated_at: dt.datetime = strawberry.field(description="更新时间 / updated at")


def _view(r: store.SavedReport) -> SavedReport:
    return SavedReport(name=r.name, description=r.description, owner_department=r.owner_department, document=r.document,
                       variables=r.variables, created_by=r.created_by,  # type: ignore[arg-type]
                       updated_at=r.updated_at)


@strawberry.type(description="报表的答复（与直接查询相同：按调用者的权限、脱敏和范围） / a report's answer, as the "
                             "query would be answered for the caller (grants, masks, row scope)")
class ReportAnswer:
    report: str = strawberry.field(description="报表名 / report name")
    data: JSON | None = strawberry.field(description="数据 / data")
    errors: JSON | None = strawberry.field(description="错误 / errors")


def _merged(saved: store.SavedReport, variables: Any) -> dict[str, Any]:
    if variables is not None and not isinstance(variables, dict):
        raise BadUserInput("variables 须是对象 / variables must be an object", field="variables")
    return {**saved.variables, **(variables or {})}


@strawberry.type
class ReportsQuery:
    @strawberry.field(description="本角色可运行的报表（权限覆盖其全部字段） / the reports this role may run (its grants cover every field)")
    async def reports(self, info: Info) -> list[SavedReport]:
        ctx = info.context
        return [_view(r) for r in await store.listing(ctx.require_store())
                if not problems(info.schema._schema, ctx.grants, r.document)]

    @strawberry.field(description="运行保存的报表（变量覆盖默认值） / run a saved report (variables override its defaults)")
    async def run_report(self, info: Info, report: str, variables: JSON | None = None) -> ReportAnswer:
        ctx = info.context
        saved = await _load(ctx, report)
        result = await _runner(ctx).answer(ctx.principal, saved.document, _merged(saved, variables))
        errors = [e.formatted for e in result.errors] if result.errors else None
        if result.data is None and errors and all((e.get("extensions") or {}).get("code") == "FORBIDDEN" for e in errors):
            denied = "、".join(sorted({e["message"] for e in errors}))
            raise Forbidden(f"报表 {report} 读取了本角色无权读取的字段 / report {report} reads fields this role may not read: {denied}")
        return ReportAnswer(report=report, data=result.data, errors=errors)  # type: ignore[arg-type]


@strawberry.type
class ReportsMutation:
    @strawberry.mutation(description="保存报表（同名则替换；只能保存本角色能运行的查询） / save a report (replacing one of the "
                                     "same name); only a query this role may run can be saved")
    async def save_report(self, info: Info, report: str, document: str, description: str,
                          variables: JSON | None = None) -> SavedReport:
        ctx = info.context
        name = store.check_name(report)
        if len(document) > ctx.settings.max_query_chars:
            raise BadUserInput(f"查询过长 / the document is longer than {ctx.settings.max_query_chars} characters", field="document")
        if variables is not None and not isinstance(variables, dict):
            raise BadUserInput("variables 须是对象 / variables must be an object", field="variables")
        found = problems(info.schema._schema, ctx.grants, document)
        if found:
            denied = any((e.extensions or {}).get("code") == "FORBIDDEN" for e in found)
            text = "；".join(e.message for e in found[:5])
            raise (Forbidden if denied else BadUserInput)(f"不能保存此报表 / cannot save this report: {text}")
        existing = await store.get(ctx.require_store(), name)
        _may_change(ctx, existing)
        saved = await store.put(ctx.require_store(), name, document, dict(variables or {}), description,
                                ctx.principal.department, ctx.principal.subject)
        return _view(saved)

    @strawberry.mutation(description="删除报表（所属部门或管理员） / delete a report (its owner department or an administrator)")
    async def delete_report(self, info: Info, report: str) -> bool:
        ctx = info.context
        existing = await _load(ctx, report)
        _may_change(ctx, existing)
        return await store.delete(ctx.require_store(), existing.name)


def _may_change(ctx: HubContext, existing: store.SavedReport | None) -> None:
    """Only the owner department (or an administrator) replaces or deletes a report."""
    if existing is not None and "admin" not in ctx.principal.roles and existing.owner_department != ctx.principal.department:
        raise Forbidden(f"报表 {existing.name} 属于其他部门 / report {existing.name} belongs to another department")
