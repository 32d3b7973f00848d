"""Administration data: the audit log as the caller's scope shows it, and policy rules changed at run time."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from hub.core.errors import BadUserInput
from hub.store.audit import AuditEvent
from hub.store.tables import audit_log
from policies import store as policy_store
from resolvers.context import HubContext


async def audit_page(ctx: HubContext, size: int, before: int | None, actor: str | None) -> tuple[list[Any], bool, int]:
    """Up to `size` audit rows, newest first, before an entry id (in the caller's region), whether more follow, and how many match."""
    where = [audit_log.c.actor == actor] if actor else []
    if not ctx.scope.everything:
        where.append(audit_log.c.region.startswith(ctx.scope.region, autoescape=True))
    page = [*where, audit_log.c.id < before] if before is not None else where
    async with ctx.require_store().connect() as conn:
        rows = list(await conn.execute(sa.select(audit_log).where(*page).order_by(audit_log.c.id.desc()).limit(size + 1)))
        total = (await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where))).scalar()
    return rows[:size], len(rows) > size, int(total or 0)


def policy_rules(ctx: HubContext, subject: str | None) -> list[tuple[str, str, str]]:
    """The policy rules in force (of one subject, when given): (subject, object, action)."""
    assert ctx.policies is not None
    return [(r[0], r[1], r[2]) for r in ctx.policies.enforcer.get_policy() if subject is None or r[0] == subject]


async def change_policy(ctx: HubContext, add: bool, subject: str, object: str, action: str) -> bool:  # noqa: A002
    """Add or remove one policy rule (policies kept in the store only), and audit the change; whether anything changed."""
    if ctx.settings.policy_source != "store":
        raise BadUserInput("策略来自文件，不能在线修改 / policies come from files here; set HUB_POLICY_SOURCE=store")
    assert ctx.policies is not None
    changed = await policy_store.change_rule(ctx.require_store(), ctx.policies, add, subject, object, action)
    if ctx.audit is not None:
        text = f"{'add' if add else 'remove'} {subject}, {object}, {action}"
        await ctx.audit.write(AuditEvent(
            actor=ctx.principal.subject, department=ctx.principal.department, roles=ctx.principal.roles,
            region=ctx.principal.region, operation=f"policy:{'add' if add else 'remove'}",
            operation_hash=hashlib.sha256(text.encode()).hexdigest(), fields=(f"{subject}|{object}|{action}",),
            rows=int(changed), outcome="ok" if changed else "unchanged",
        ))
    return changed
