"""The outbox: changes completed applications make in department databases, kept until they arrive.

`enqueue` writes an application's changes in the caller's transaction (the one completing the
application), so a change exists exactly when its application completed. A department that grants
writes has them applied through its adapter and marked delivered; one that does not pulls them
(`changeEvents(department, after)`) and acknowledges them. Delivery is at least once: the adapter's
apply is idempotent by (application_id, seq).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.changes import Change, ChangeOp
from hub.store.db import Store, aware, utcnow
from hub.store.tables import change_events


@dataclass(frozen=True, slots=True)
class Event:
    """One stored change and where it stands."""

    id: int
    change: Change
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None


def _plain(values: object) -> object:
    """Canonical values as JSON values (dates as ISO text)."""
    return orjson.loads(orjson.dumps(values))


async def enqueue(conn: AsyncConnection, changes: Iterable[Change]) -> None:
    """Record changes in the caller's transaction (a change already recorded is an error: same application, same seq)."""
    rows = [
        {"department": c.department, "application_id": c.application_id, "seq": c.seq, "entity": c.entity,
         "op": c.op.value, "key": _plain(c.key), "values": _plain(c.values), "created_at": utcnow()}
        for c in changes
    ]
    if rows:
        await conn.execute(sa.insert(change_events), rows)


def _event(row: sa.Row) -> Event:
    change = Change(row.application_id, row.seq, row.department, row.entity, ChangeOp(row.op), row.values, row.key)
    return Event(row.id, change, aware(row.created_at), aware(row.delivered_at), aware(row.acknowledged_at))  # type: ignore[arg-type]


async def events(store: Store, department: str, *, after: int = 0, limit: int = 100,
                 undelivered: bool = False, application_id: str | None = None) -> list[Event]:
    """A department's events after the id `after`, oldest first; `undelivered` leaves out delivered ones."""
    query = sa.select(change_events).where(change_events.c.department == department, change_events.c.id > after)
    if undelivered:
        query = query.where(change_events.c.delivered_at.is_(None))
    if application_id is not None:
        query = query.where(change_events.c.application_id == application_id)
    async with store.connect() as conn:
        rows = await conn.execute(query.order_by(change_events.c.id).limit(limit))
        return [_event(r) for r in rows]


async def batches(store: Store, department: str, *, after: int = 0, limit: int = 100,
                  undelivered: bool = True) -> list[list[Event]]:
    """A department's events after `after`, one batch per application (in order of their first event), an
    application's events never split across pages: delivery applies each batch in one adapter call (one
    transaction), so a multi-change application (a reorganization) arrives in a department whole or not at all."""
    found = await events(store, department, after=after, limit=limit, undelivered=undelivered)
    if found and len(found) == limit:  # the page may end inside an application: take the rest of its events
        last = found[-1]
        found += await events(store, department, after=last.id, limit=2**31 - 1, undelivered=undelivered,
                              application_id=last.change.application_id)
    grouped: dict[str, list[Event]] = {}
    for event in found:
        grouped.setdefault(event.change.application_id, []).append(event)
    return list(grouped.values())


async def mark_delivered(store: Store, ids: Sequence[int]) -> None:
    """Note events applied through the department's adapter."""
    if ids:
        async with store.begin() as conn:
            await conn.execute(sa.update(change_events).where(change_events.c.id.in_(ids),
                                                              change_events.c.delivered_at.is_(None))
                               .values(delivered_at=utcnow()))


async def acknowledge(store: Store, department: str, up_to: int) -> int:
    """A pull department's system has applied its events up to the id `up_to`; returns how many were newly acknowledged."""
    async with store.begin() as conn:
        result = await conn.execute(sa.update(change_events).where(
            change_events.c.department == department, change_events.c.id <= up_to,
            change_events.c.acknowledged_at.is_(None)).values(acknowledged_at=utcnow()))
        return int(result.rowcount or 0)
