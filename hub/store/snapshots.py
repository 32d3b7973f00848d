"""Monthly snapshots of the key figures in the hub store (computed by resolvers/trends.py).

A snapshot is one value per (month, measure, region, quota type); taking a month again replaces
every value of that month, so a scheduled job may take the current month as often as it likes and
replicas taking it at once leave the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from hub.store.db import Store, utcnow
from hub.store.tables import snapshots


@dataclass(frozen=True, slots=True)
class Figure:
    """One stored value: a measure of a month in a region ('' quota type: not per quota type)."""

    month: str
    measure: str
    region_code: str
    quota_type: str
    value: int


async def replace_months(store: Store, months: Sequence[str], figures: Iterable[Figure]) -> int:
    """Replace everything stored for `months` by `figures` (one transaction); returns how many were written."""
    rows = [{"month": f.month, "measure": f.measure, "region_code": f.region_code, "quota_type": f.quota_type,
             "value": f.value} for f in figures]
    now = utcnow()
    async with store.begin() as conn:
        await conn.execute(sa.delete(snapshots).where(snapshots.c.month.in_(list(months))))
        for start in range(0, len(rows), 1000):
            await conn.execute(sa.insert(snapshots), [{**r, "taken_at": now} for r in rows[start:start + 1000]])
    return len(rows)


async def read(store: Store, measure: str, from_month: str | None, to_month: str | None) -> list[Figure]:
    """A measure's stored values between two months (inclusive), by month."""
    query = sa.select(snapshots.c.month, snapshots.c.measure, snapshots.c.region_code, snapshots.c.quota_type,
                      snapshots.c.value).where(snapshots.c.measure == measure)
    if from_month:
        query = query.where(snapshots.c.month >= from_month)
    if to_month:
        query = query.where(snapshots.c.month <= to_month)
    async with store.begin() as conn:
        return [Figure(**row._mapping) for row in await conn.execute(query.order_by(snapshots.c.month))]


async def months(store: Store) -> list[str]:
    """The months a snapshot was taken of, oldest first."""
    async with store.begin() as conn:
        return list((await conn.execute(sa.select(snapshots.c.month).distinct().order_by(snapshots.c.month))).scalars())
