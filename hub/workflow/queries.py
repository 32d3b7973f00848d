"""Reading applications: filtered, keyset-paged lists (newest first) and a person's tasks (oldest first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from hub.core.codes import LEAGUE
from hub.store import Store
from hub.store.tables import applications
from hub.workflow.engine import Workflow, load
from hub.workflow.model import UNDER_REVIEW, Actor, Application

Cursor = tuple[dt.datetime, str]  # (submitted_at, id) of the last row of the previous page


@dataclass(frozen=True, slots=True)
class ApplicationFilter:
    """Which applications to list; `region` is the caller's scope (None: the whole league)."""

    kind: str | None = None
    state: str | None = None
    institution_code: str | None = None
    submitted_from: dt.datetime | None = None
    submitted_to: dt.datetime | None = None
    region: str | None = None


def _where(flt: ApplicationFilter) -> list[sa.ColumnElement[bool]]:
    t = applications.c
    cond: list[sa.ColumnElement[bool]] = []
    if flt.kind:
        cond.append(t.kind == flt.kind)
    if flt.state:
        cond.append(t.state == flt.state)
    if flt.institution_code:
        cond.append(t.institution_code == flt.institution_code)
    if flt.submitted_from:
        cond.append(t.submitted_at >= flt.submitted_from)
    if flt.submitted_to:
        cond.append(t.submitted_at < flt.submitted_to)
    if flt.region:
        cond.append(t.region_code.like(f"{flt.region}%"))
    return cond


async def page(store: Store, flt: ApplicationFilter, first: int, after: Cursor | None
               ) -> tuple[list[Application], bool]:
    """A page of applications, newest first, and whether more follow."""
    t = applications.c
    cond = _where(flt)
    if after is not None:
        cond.append(sa.or_(t.submitted_at < after[0], sa.and_(t.submitted_at == after[0], t.id < after[1])))
    async with store.connect() as conn:
        ids = [r.id for r in await conn.execute(sa.select(t.id).where(*cond)
                                                .order_by(t.submitted_at.desc(), t.id.desc()).limit(first + 1))]
        found = await load(conn, ids[:first])
    return found, len(ids) > first


async def count(store: Store, flt: ApplicationFilter) -> int:
    """How many applications match."""
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(applications).where(*_where(flt))))
                   .scalar_one())


async def tasks(workflow: Workflow, actor: Actor, first: int, after: Cursor | None) -> tuple[list[Application], bool]:
    """What the actor's department and region must decide now, oldest first."""
    t = applications.c
    base: list[sa.ColumnElement[bool]] = [t.state.in_([s.value for s in UNDER_REVIEW])]
    if actor.region != LEAGUE:  # a banner office: its banner only
        base.append(t.region_code.like(f"{actor.region}%"))
    out: list[Application] = []
    batch, position = max(first * 4, 100), after
    async with workflow.store.connect() as conn:
        while len(out) <= first:
            cond = list(base)
            if position is not None:
                cond.append(sa.or_(t.submitted_at > position[0],
                                   sa.and_(t.submitted_at == position[0], t.id > position[1])))
            ids = [r.id for r in await conn.execute(sa.select(t.id).where(*cond)
                                                    .order_by(t.submitted_at, t.id).limit(batch))]
            rows = await load(conn, ids)
            out += [a for a in rows if workflow.actionable(a, actor)]
            if len(ids) < batch:
                break
            position = (rows[-1].submitted_at, rows[-1].id)
    return out[:first], len(out) > first
