"""Administration over GraphQL: policy rules edited at run time and the audit log."""

from __future__ import annotations

import datetime as dt

import strawberry

from resolvers import admin as data
from resolvers.context import HubContext
from schema.pagination import Connection, Edge, PageInfo, decode_cursor, page_size

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="访问策略规则 / an access policy rule")
class PolicyRule:
    subject: str = strawberry.field(description="主体（角色） / subject (role)")
    object: str = strawberry.field(description="对象 Type.field（可含 *） / object, Type.field with wildcards")
    action: str = strawberry.field(description="动作 read / mask / call / approve:<step> / freeze:<KIND> / action")


@strawberry.type(description="审计日志条目 / an audit log entry")
class AuditEntry:
    id: int
    at: dt.datetime = strawberry.field(description="时间 / when")
    actor: str = strawberry.field(description="访问者 / who")
    department: str | None = strawberry.field(description="部门 / department")
    region: str = strawberry.field(description="行政区划范围 / region scope")
    operation: str = strawberry.field(description="操作名 / operation name")
    operation_hash: str = strawberry.field(description="操作文本的 SHA-256 / SHA-256 of the operation text")
    fields: list[str] = strawberry.field(description="读取的个人字段 / personal fields read")
    rows: int = strawberry.field(description="行数 / rows")
    outcome: str = strawberry.field(description="结果 ok/partial/denied/error / outcome")
    hash: str = strawberry.field(description="链式哈希 / chained hash")


@strawberry.type
class AdminQuery:
    @strawberry.field(description="当前访问策略规则 / the access policy rules in force")
    def policy_rules(self, info: Info, subject: str | None = None) -> list[PolicyRule]:
        return [PolicyRule(subject=s, object=o, action=a) for s, o, a in data.policy_rules(info.context, subject)]

    @strawberry.field(description="审计日志（按时间倒序；旗县区范围只见本区划的访问） / the audit log, newest first "
                                  "(a banner's auditor sees the entries of principals scoped within its banner)")
    async def audit_entries(self, info: Info, first: int | None = 50, after: str | None = None, actor: str | None = None) -> Connection[AuditEntry]:
        size = page_size(first, info.context.settings.max_page_size)
        cursor = decode_cursor(after, int)
        rows, more, total = await data.audit_page(info.context, size, int(cursor) if cursor is not None else None, actor)
        entries = [AuditEntry(**{k: r._mapping[k] for k in AuditEntry.__annotations__}) for r in rows]

        async def count() -> int:
            return total

        edges = [Edge(node=e, position=e.id) for e in entries]
        info_ = PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None)
        return Connection(edges=edges, page_info=info_, _count=count)


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="新增策略规则（各副本数秒内生效） / add a policy rule; every replica follows within seconds")
    async def add_policy_rule(self, info: Info, subject: str, object: str, action: str) -> bool:
        return await data.change_policy(info.context, True, subject, object, action)

    @strawberry.mutation(description="删除策略规则 / remove a policy rule")
    async def remove_policy_rule(self, info: Info, subject: str, object: str, action: str) -> bool:
        return await data.change_policy(info.context, False, subject, object, action)
