"""Administration over GraphQL: policy rules edited at run time and the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
import strawberry

from hub.core.errors import BadUserInput
from hub.store.audit import AuditEvent
from hub.store.tables import audit_log
from policies import store as policy_store
from resolvers.context import HubContext
from schema.pagination import Connection, Edge, PageInfo, decode_cursor, page_size

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="访问策略规则 / an access policy rule")
class PolicyRule:
    subject: str = strawberry.field(description="主体（角色） / subject (role)")
    object: str = strawberry.field(description="对象 Type.field（可含 *） / object, Type.field with wildcards")
    action: str = strawberry.field(description="动作 read / mask / call / approve:<step> / action")


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


def _store(info: Info):  # type: ignore[no-untyped-def]
    if info.context.store is None:
        raise BadUserInput("未配置枢纽库 / the hub store is not configured")
    return info.context.store


@strawberry.type
class AdminQuery:
    @strawberry.field(description="当前访问策略规则 / the access policy rules in force")
    def policy_rules(self, info: Info, subject: str | None = None) -> list[PolicyRule]:
        assert info.context.policies is not None
        rules = info.context.policies.enforcer.get_policy()
        return [PolicyRule(subject=r[0], object=r[1], action=r[2]) for r in rules if subject is None or r[0] == subject]

    @strawberry.field(description="审计日志（按时间倒序；旗县区范围只见本区划的访问） / the audit log, newest first "
                                  "(a banner's auditor sees the entries of principals scoped within its banner)")
    async def audit_entries(self, info: Info, first: int | None = 50, after: str | None = None, actor: str | None = None) -> Connection[AuditEntry]:
        store = _store(info)
        size = page_size(first, info.context.settings.max_page_size)
        where = [audit_log.c.actor == actor] if actor else []
        if not info.context.scope.everything:
            where.append(audit_log.c.region.startswith(info.context.scope.region, autoescape=True))
        cursor = decode_cursor(after, int)
        page = [*where, audit_log.c.id < int(cursor)] if cursor is not None else where
        async with store.connect() as conn:
            rows = list(await conn.execute(sa.select(audit_log).where(*page).order_by(audit_log.c.id.desc()).limit(size + 1)))
            total = (await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where))).scalar()
        entries = [AuditEntry(**{k: r._mapping[k] for k in AuditEntry.__annotations__}) for r in rows[:size]]

        async def count() -> int:
            return int(total or 0)

        edges = [Edge(node=e, position=e.id) for e in entries]
        info_ = PageInfo(has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None)
        return Connection(edges=edges, page_info=info_, _count=count)


async def _change(info: Info, add: bool, subject: str, object: str, action: str) -> bool:
    ctx = info.context
    if ctx.settings.policy_source != "store":
        raise BadUserInput("策略来自文件，不能在线修改 / policies come from files here; set HUB_POLICY_SOURCE=store")
    assert ctx.policies is not None
    changed = await policy_store.change_rule(_store(info), ctx.policies, add, subject, object, action)
    if ctx.audit is not None:
        text = f"{'add' if add else 'remove'} {subject}, {object}, {action}"
        await ctx.audit.write(AuditEvent(
            actor=ctx.principal.subject, department=ctx.principal.department, roles=ctx.principal.roles,
            region=ctx.principal.region, operation=f"policy:{'add' if add else 'remove'}",
            operation_hash=hashlib.sha256(text.encode()).hexdigest(), fields=(f"{subject}|{object}|{action}",),
            rows=int(changed), outcome="ok" if changed else "unchanged",
        ))
    return changed


@strawberry.type
class AdminMutation:
    @strawberry.mutation(description="新增策略规则（各副本数秒内生效） / add a policy rule; every replica follows within seconds")
    async def add_policy_rule(self, info: Info, subject: str, object: str, action: str) -> bool:
        return await _change(info, True, subject, object, action)

    @strawberry.mutation(description="删除策略规则 / remove a policy rule")
    async def remove_policy_rule(self, info: Info, subject: str, object: str, action: str) -> bool:
        return await _change(info, False, subject, object, action)
