"""Supervision data for the GraphQL layer: alerts, summaries, freezes, runs, prechecks, deferrals.

What an argument names (an alert, a freeze, an institution, a person, a region) has already been
checked against the caller's row scope before these run (schema/execution/executor/row_scope.py); lists without a
region are narrowed to the caller's. Who acts is the principal's subject. Freezing, and confirming,
rejecting or lifting a freeze, needs the policy action `freeze:<KIND>` for each kind it covers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.core import ids
from hub.core.crosswalk import institution_key
from hub.core.errors import BadUserInput, Conflict, Forbidden, HubError
from hub.supervision import alert_queries as q
from hub.supervision import deferrals, freezes, precheck, service
from hub.supervision.alerts import Alert, AlertEvent, AlertStatus, get_alert, history, transition
from hub.supervision.model import FreezeKind, Scope
from resolvers.context import HubContext
from resolvers.people import Listed, statutory_retirement


def actor_of(ctx: HubContext) -> str:
    """Who acts: the principal's subject."""
    return ctx.principal.subject or "anonymous"


def scoped_region(ctx: HubContext, requested: str | None) -> str | None:
    """The region filter: the requested one (already checked to lie in scope), else the caller's own."""
    if requested:
        return requested
    return None if ctx.scope.everything else ctx.scope.region


def alert_filter(ctx: HubContext, **given: Any) -> q.AlertFilter:
    """An alert filter within the caller's region."""
    given["region"] = scoped_region(ctx, given.get("region"))
    given["institution_code"] = institution_key(given.get("institution_code"))
    return q.AlertFilter(**given)


async def alerts_page(ctx: HubContext, flt: q.AlertFilter, first: int, after: int | None
                      ) -> tuple[list[Alert], bool, dict[int, list[AlertEvent]]]:
    """A page of alerts with their histories (two statements)."""
    async with ctx.require_store().connect() as conn:
        rows, more = await q.list_alerts(conn, flt, first, after)
        events = await history(conn, [a.id for a in rows])
    return rows, more, events


async def alert_count(ctx: HubContext, flt: q.AlertFilter) -> int:
    """How many alerts match."""
    async with ctx.require_store().connect() as conn:
        return await q.count_alerts(conn, flt)


async def alert(ctx: HubContext, alert_id: int) -> tuple[Alert, list[AlertEvent]]:
    """One alert, or NOT_FOUND."""
    async with ctx.require_store().connect() as conn:
        found = await get_alert(conn, alert_id)
        return found, (await history(conn, [alert_id]))[alert_id]


async def alert_step(ctx: HubContext, alert_id: int, to: AlertStatus, note: str | None) -> tuple[Alert, list[AlertEvent]]:
    """One lifecycle step by the caller."""
    changed = await transition(ctx.require_store(), alert_id, to, actor_of(ctx), note)
    return changed, (await alert(ctx, alert_id))[1]  # the status this step left, not a later one


async def summary(ctx: HubContext, by: q.Dimension, flt: q.AlertFilter) -> list[q.SummaryRow]:
    """Alert counts grouped by a dimension."""
    async with ctx.require_store().connect() as conn:
        return await q.summarize(conn, by, flt)


async def freeze_list(ctx: HubContext, code: str | None, statuses: list[freezes.FreezeStatus] | None,
                      region: str | None, kinds: list[FreezeKind] | None = None
                      ) -> tuple[list[freezes.Freeze], dict[int, list[freezes.FreezeEvent]]]:
    """Freezes in scope with their histories."""
    async with ctx.require_store().connect() as conn:
        found = await freezes.list_freezes(conn, institution_key(code), statuses, scoped_region(ctx, region), kinds)
        return found, await freezes.freeze_history(conn, [f.id for f in found])


def may_freeze(ctx: HubContext, kinds: tuple[FreezeKind, ...]) -> None:
    """FORBIDDEN unless the caller's roles may freeze every one of the kinds (policy: `freeze:<KIND>`)."""
    refused = [k for k in kinds if not ctx.grants.may(freezes.FREEZE_OBJECT, freezes.freeze_action(k))]
    if refused:
        zh, en = freezes.kinds_text(refused)
        raise Forbidden(f"无权冻结或解冻{zh} / your role may not freeze or lift {en} ({', '.join(refused)})")


async def freeze_one(ctx: HubContext, freeze_id: int) -> tuple[freezes.Freeze, list[freezes.FreezeEvent]]:
    """One freeze, or NOT_FOUND."""
    async with ctx.require_store().connect() as conn:
        found = await freezes.get_freeze(conn, freeze_id)
        return found, (await freezes.freeze_history(conn, [freeze_id]))[freeze_id]


async def freeze_create(ctx: HubContext, code: str, kinds: list[FreezeKind], reason: str, alert_ids: list[int],
                        note: str | None) -> tuple[freezes.Freeze, list[freezes.FreezeEvent]]:
    """Freeze some kinds of change of an institution (it must exist in the crosswalk) the caller may freeze."""
    chosen = freezes.parse_kinds(kinds)
    may_freeze(ctx, chosen)
    ident = (await ctx.crosswalk.get()).find(code)
    if ident is None:
        raise BadUserInput(f"未知机构 / unknown institution: {code!r}", field="institutionCode")
    made = await freezes.freeze(ctx.require_store(), ident.code, ident.region_code, kinds=chosen, reason=reason,
                                alert_ids=alert_ids, actor=actor_of(ctx), note=note)
    return await freeze_one(ctx, made.id)


async def freeze_step(ctx: HubContext, freeze_id: int, to: freezes.FreezeStatus, note: str | None
                      ) -> tuple[freezes.Freeze, list[freezes.FreezeEvent]]:
    """Confirm, reject or lift a freeze (of kinds the caller may freeze)."""
    may_freeze(ctx, (await freeze_one(ctx, freeze_id))[0].kinds)
    changed = await freezes.decide(ctx.require_store(), freeze_id, to, actor_of(ctx), note)
    return changed, (await freeze_one(ctx, freeze_id))[1]  # the status this step left, not a later one


async def start_check(ctx: HubContext, institution_code: str | None, region: str | None, month: str | None,
                      wait: bool) -> service.CheckRun:
    """Start a recorded run (within the caller's region); return it when done, or at once as RUNNING."""
    store = ctx.require_store()
    code = institution_key(institution_code)
    scope = Scope(frozenset({code}) if code else None, scoped_region(ctx, region))
    if wait:
        return (await service.supervise(ctx.sources, store, month=month, scope=scope, actor=actor_of(ctx),
                                        collect=False))[0]
    if store.lock.locked():
        raise Conflict("已有核查正在运行 / a check is already running")
    run_id = await service.open_run(store, scope, actor_of(ctx))
    store.spawn(service.supervise(ctx.sources, store, month=month, scope=scope, actor=actor_of(ctx), wait=True,
                                  collect=False, run_id=run_id))
    return await service.get_run(store, run_id)


async def runs(ctx: HubContext, last: int) -> list[service.CheckRun]:
    """The latest recorded runs."""
    return await service.recent_runs(ctx.require_store(), max(1, min(last, 200)))


async def check(ctx: HubContext, action: precheck.Action, code: str, id_number: str | None,
                quota_type: str | None) -> precheck.PrecheckResult:
    """What blocks or warns against an action."""
    return await precheck.precheck(ctx.sources, await ctx.crosswalk.get(), ctx.require_store(), action, code, id_number,
                                   quota_type)


async def defer(ctx: HubContext, id_number: str, until: dt.date, document: str | None,
                note: str | None) -> deferrals.Deferral:
    """Record an approved retirement deferral of a person some department knows (schema/execution/executor/row_scope.py
    checked that, and the scope), against the person's statutory retirement date."""
    key = ids.parse_id_number(id_number)
    due = (await statutory_retirement(ctx, [Listed(key, None)]))[0]
    if isinstance(due, HubError):
        raise due
    assert due is not None  # a valid ID number carries a birth date
    return await deferrals.record_deferral(ctx.require_store(), key, until, due, actor_of(ctx), document, note)


async def deferrals_of(ctx: HubContext, id_number: str) -> list[deferrals.Deferral]:
    """A person's recorded deferrals."""
    return await deferrals.deferrals_of(ctx.require_store(), ids.parse_id_number(id_number))
