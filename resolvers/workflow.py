"""Workflow data for the GraphQL layer: the engine made for a request, the caller as an actor, pages, tasks.

What an argument names (an application by id, the institution in an input) has already been checked
against the caller's row scope (schema/execution/executor/row_scope.py); lists are narrowed to the
caller's region. Who may submit or decide is the policy's `submit:<KIND>` and `approve:<KIND>:<step>`
actions on `Application`, asked once per role set (PolicyBook.allows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from hub.core.changes import Change
from hub.core.crosswalk import institution_key
from hub.core.errors import BadUserInput
from hub.workflow import queries
from hub.workflow.engine import Workflow
from hub.workflow.kinds import Kind, shipped_kinds
from hub.workflow.model import Actor, Application, Decision
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, views
from resolvers.supervision import actor_of, scoped_region

POLICY_OBJECT = "Application"


def actor(ctx: HubContext) -> Actor:
    """The caller as the engine sees one."""
    principal, book = ctx.principal, ctx.policies
    subjects = principal.policy_subjects

    def may(action: str) -> bool:
        return book is not None and book.allows(subjects, POLICY_OBJECT, action)

    return Actor(actor_of(ctx), principal.department, principal.region, may)


async def engine(ctx: HubContext) -> Workflow:
    """The engine over the request's store, sources and crosswalk, delivering through the app's hook.

    After a delivery the request's loaders are released: what the request reads from then on (the
    answer of the deciding mutation, later fields) comes from the departments as changed."""
    hook = ctx.after_commit
    if hook is None:
        return Workflow(ctx.require_store(), ctx.sources, await ctx.crosswalk.get())

    async def deliver(application_id: str, changes: Sequence[Change]) -> None:
        try:
            await hook(application_id, changes)
        finally:
            ctx.loaders.release()

    return Workflow(ctx.require_store(), ctx.sources, await ctx.crosswalk.get(), after_commit=deliver)


async def submit(ctx: HubContext, kind: str, data: Mapping[str, Any] | None) -> Application:
    """Submit an application as the caller."""
    return await (await engine(ctx)).submit(kind, data, actor(ctx))


async def decide(ctx: HubContext, app_id: str, decision: Decision, comment: str | None) -> Application:
    """Decide the caller's step of an application."""
    return await (await engine(ctx)).decide(app_id, decision, comment, actor(ctx))


async def withdraw(ctx: HubContext, app_id: str, comment: str | None) -> Application:
    """Withdraw an application as its applicant's office."""
    return await (await engine(ctx)).withdraw(app_id, actor(ctx), comment)


async def resubmit(ctx: HubContext, app_id: str, data: Mapping[str, Any] | None, comment: str | None) -> Application:
    """Resubmit a returned application."""
    return await (await engine(ctx)).resubmit(app_id, data, actor(ctx), comment)


def kinds(ctx: HubContext) -> list[tuple[Kind, bool]]:
    """Every kind the engine runs, with whether the caller may submit it (its `submit:<KIND>` action)."""
    may = actor(ctx).may
    return [(k, may(k.submit)) for k in shipped_kinds().values()]


async def one(ctx: HubContext, app_id: str) -> Application:
    """One application (row scope checked its region before this ran)."""
    return await (await engine(ctx)).get(app_id)


def cursor_of(app: Application) -> str:
    """The keyset cursor text of an application."""
    return f"{app.submitted_at.isoformat()}|{app.id}"


def parse_cursor(text: str | None) -> queries.Cursor | None:
    """The keyset position a cursor text names, or BAD_USER_INPUT."""
    if not text:
        return None
    at, sep, app_id = text.partition("|")
    try:
        if not sep:
            raise ValueError(text)
        return dt.datetime.fromisoformat(at), app_id
    except ValueError:
        raise BadUserInput(f"无效的游标 / invalid cursor: {text!r}", field="after") from None


def application_filter(ctx: HubContext, kind: str | None, state: str | None, institution_code: str | None,
                       submitted_from: dt.datetime | None, submitted_to: dt.datetime | None) -> queries.ApplicationFilter:
    """A filter within the caller's region."""
    return queries.ApplicationFilter(kind, state, institution_key(institution_code), submitted_from, submitted_to,
                                     scoped_region(ctx, None))


async def page(ctx: HubContext, flt: queries.ApplicationFilter, first: int, after: str | None
               ) -> tuple[list[Application], bool]:
    """A page of applications, newest first."""
    return await queries.page(ctx.require_store(), flt, first, parse_cursor(after))


async def count(ctx: HubContext, flt: queries.ApplicationFilter) -> int:
    """How many applications match."""
    return await queries.count(ctx.require_store(), flt)


async def tasks(ctx: HubContext, first: int, after: str | None) -> tuple[list[Application], bool]:
    """What the caller must decide now."""
    return await queries.tasks(await engine(ctx), actor(ctx), first, parse_cursor(after))


async def count_tasks(ctx: HubContext) -> int:
    """How many applications the caller must decide now."""
    return len((await queries.tasks(await engine(ctx), actor(ctx), 10_000, None))[0])


async def institutions(ctx: HubContext, apps: Sequence[Application]) -> list[InstitutionView | None]:
    """Each application's institution (in the caller's scope)."""
    cw = await ctx.crosswalk.get()
    found = [cw.find(a.institution_code) for a in apps]
    known = [i for i in found if i is not None and ctx.scope.admits(i)]
    by_code = {v.identity.code: v for v in await views(ctx, known)}
    return [by_code.get(i.code) if i is not None else None for i in found]
