"""Recorded retirement deferrals (延迟退休): the only thing that exempts a person from R08."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from hub.core import ids
from hub.core.errors import BadUserInput
from hub.core.retirement import add_months, month_end
from hub.store import Store
from hub.store.db import aware, utcnow
from hub.store.tables import retirement_deferrals

MAX_MONTHS = 36  # a retirement may be deferred by at most three years


@dataclass(frozen=True, slots=True)
class Deferral:
    """An approved deferral of a person's retirement until a date."""

    id: int
    id_number: str
    until: dt.date
    document: str | None
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime


async def record_deferral(store: Store, id_number: str, until: dt.date, due: dt.date, actor: str,
                          document: str | None = None, note: str | None = None) -> Deferral:
    """Record an approved deferral of a retirement due on `due`: it must end after that date and at
    most three years beyond it (the law's limit); the document is the approval."""
    key = ids.parse_id_number(id_number)
    latest = add_months(due, MAX_MONTHS)
    if not due < until <= latest:
        raise BadUserInput(f"延迟退休须晚于法定退休日期 {due} 且不晚于 {latest} / a deferral must end after the statutory "
                           f"retirement date {due} and no later than {latest}: {until}", field="until")
    now = utcnow()
    values = {"id_number": key, "until": until, "document": document, "note": note, "recorded_by": actor,
              "recorded_at": now}
    async with store.begin() as conn:
        new_id = (await conn.execute(sa.insert(retirement_deferrals).returning(retirement_deferrals.c.id), [values])).scalar_one()
    return Deferral(int(new_id), key, until, document, note, actor, now)


async def covering(store: Store, month: str) -> frozenset[str]:
    """ID numbers whose recorded deferral lasts into the month (until on or after its first day)."""
    first = month_end(month).replace(day=1)
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(retirement_deferrals.c.id_number).where(retirement_deferrals.c.until >= first))
        return frozenset(r.id_number for r in rows)


async def deferrals_of(store: Store, id_number: str) -> list[Deferral]:
    """A person's recorded deferrals, newest first."""
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(retirement_deferrals).where(retirement_deferrals.c.id_number == id_number)
                                  .order_by(retirement_deferrals.c.id.desc()))
        return [Deferral(r.id, r.id_number, r.until, r.document, r.note, r.recorded_by, aware(r.recorded_at))  # type: ignore[arg-type]
                for r in rows]
