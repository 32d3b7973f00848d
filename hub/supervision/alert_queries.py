"""Reading alerts: filters, keyset pages (newest first) and summaries by rule, region, institution, month."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.codes import LEAGUE
from hub.store.tables import alerts
from hub.supervision.alerts import OPEN_STATES, Alert, AlertStatus, alert_from_row
from hub.supervision.model import Severity


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to read; every condition is optional and they all hold together."""

    rules: Sequence[str] | None = None
    statuses: Sequence[AlertStatus] | None = None
    severities: Sequence[Severity] | None = None
    region: str | None = None  # division prefix (152921 covers its zones)
    institution_code: str | None = None
    id_number: str | None = None
    month: str | None = None  # found at that reference month (first month <= month <= last month)

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """The WHERE clauses of this filter."""
        out: list[sa.ColumnElement[bool]] = []
        if self.rules:
            out.append(alerts.c.rule.in_(list(self.rules)))
        if self.statuses:
            out.append(alerts.c.status.in_([s.value for s in self.statuses]))
        if self.severities:
            out.append(alerts.c.severity.in_([s.value for s in self.severities]))
        if self.region and self.region != LEAGUE:
            out.append(alerts.c.region_code.like(f"{self.region}%"))
        if self.institution_code:
            out.append(alerts.c.institution_code == self.institution_code)
        if self.id_number:
            out.append(alerts.c.id_number == self.id_number)
        if self.month:
            out.append(sa.and_(alerts.c.first_month <= self.month, alerts.c.last_month >= self.month))
        return out


async def list_alerts(conn: AsyncConnection, flt: AlertFilter, first: int, after: int | None) -> tuple[list[Alert], bool]:
    """Up to `first` alerts, newest first, after the cursor id; and whether more follow."""
    stmt = sa.select(alerts).where(*flt.clauses()).order_by(alerts.c.id.desc()).limit(first + 1)
    if after is not None:
        stmt = stmt.where(alerts.c.id < after)
    rows = [alert_from_row(r) for r in await conn.execute(stmt)]
    return rows[:first], len(rows) > first


async def count_alerts(conn: AsyncConnection, flt: AlertFilter) -> int:
    """How many alerts match."""
    return int((await conn.execute(sa.select(sa.func.count()).select_from(alerts).where(*flt.clauses()))).scalar_one())


class Dimension(StrEnum):
    """What an alert summary groups by."""

    RULE = "RULE"
    REGION = "REGION"
    INSTITUTION = "INSTITUTION"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """Counts of one group: all alerts, those still open, the severe ones still open."""

    key: str
    total: int
    open: int
    severe_open: int


def _group_key(by: Dimension) -> sa.ColumnElement[Any]:
    if by == Dimension.RULE:
        return alerts.c.rule
    if by == Dimension.REGION:  # banner level: zones roll up to their banner
        return sa.func.substr(alerts.c.region_code, 1, 6)
    if by == Dimension.INSTITUTION:
        return alerts.c.institution_code
    return alerts.c.first_month  # new alerts per month


async def summarize(conn: AsyncConnection, by: Dimension, flt: AlertFilter) -> list[SummaryRow]:
    """Alert counts per rule, banner, institution or month of first finding (one statement)."""
    key = _group_key(by).label("key")
    is_open = alerts.c.status.in_([s.value for s in OPEN_STATES])
    severe = sa.and_(is_open, alerts.c.severity == Severity.SEVERE.value)
    stmt = (
        sa.select(key, sa.func.count().label("total"),
                  sa.func.sum(sa.case((is_open, 1), else_=0)).label("open"),
                  sa.func.sum(sa.case((severe, 1), else_=0)).label("severe"))
        .where(*flt.clauses())
        .group_by(key)
        .order_by(key)
    )
    return [SummaryRow(r.key or "—", int(r.total), int(r.open or 0), int(r.severe or 0)) for r in await conn.execute(stmt)]
