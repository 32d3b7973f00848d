"""Alerts: findings persisted across runs (one alert per fingerprint), their lifecycle and history.

open -> acknowledged -> rectifying -> resolved, or dismissed as a false positive from any open
state; the system marks an alert resolved-by-data when a later run no longer finds it, and reopens
a resolved one that comes back. Every step is an event row with who, when and a note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import BadUserInput
from hub.store import Store
from hub.store.db import aware, utcnow
from hub.store.lifecycle import Lifecycle, advance, advance_many
from hub.store.tables import alert_events, alerts
from hub.supervision.model import Finding, Observation, Severity

SYSTEM = "system"
BATCH = 500


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle."""

    OPEN = "OPEN"  # 待处理
    ACKNOWLEDGED = "ACKNOWLEDGED"  # 已确认
    RECTIFYING = "RECTIFYING"  # 整改中
    RESOLVED = "RESOLVED"  # 已整改
    DISMISSED = "DISMISSED"  # 误报
    RESOLVED_BY_DATA = "RESOLVED_BY_DATA"  # 数据已不再显示该问题


OPEN_STATES = frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.RECTIFYING})
REOPENABLE = frozenset({AlertStatus.RESOLVED, AlertStatus.RESOLVED_BY_DATA})
# The steps people may take (the system's own steps are resolved-by-data and reopening).
TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.OPEN: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.DISMISSED}),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.RECTIFYING, AlertStatus.RESOLVED, AlertStatus.DISMISSED}),
    AlertStatus.RECTIFYING: frozenset({AlertStatus.RESOLVED, AlertStatus.DISMISSED}),
}
LABELS = {
    AlertStatus.OPEN: "待处理 / open",
    AlertStatus.ACKNOWLEDGED: "已确认 / acknowledged",
    AlertStatus.RECTIFYING: "整改中 / rectifying",
    AlertStatus.RESOLVED: "已整改 / resolved",
    AlertStatus.DISMISSED: "误报 / dismissed as a false positive",
    AlertStatus.RESOLVED_BY_DATA: "数据已消除 / resolved by data",
}
LIFECYCLE = Lifecycle("预警 / alert", alerts, alert_events, "alert_id", TRANSITIONS, LABELS)


@dataclass(frozen=True, slots=True)
class Alert(Observation):
    """One alert as stored: a finding (its latest `month`) kept across runs, with its lifecycle."""

    id: int
    fingerprint: str
    status: AlertStatus
    first_month: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    updated_at: dt.datetime

    @property
    def last_month(self) -> str:
        """The latest month a run found it in."""
        return self.month


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One step of an alert's history."""

    alert_id: int
    from_status: str | None
    to_status: str
    actor: str
    at: dt.datetime
    note: str | None
    run_id: int | None


def alert_from_row(row: Any) -> Alert:
    """An Alert from a row of the alerts table."""
    m = row._mapping
    return Alert(
        m["rule"], Severity(m["severity"]), m["last_month"], m["id_number"], m["institution_code"], m["region_code"],
        m["facts"], m["evidence"], m["message"], id=m["id"], fingerprint=m["fingerprint"],
        status=AlertStatus(m["status"]), first_month=m["first_month"], first_seen=aware(m["first_seen"]),  # type: ignore[arg-type]
        last_seen=aware(m["last_seen"]), updated_at=aware(m["updated_at"]),  # type: ignore[arg-type]
    )


def _event(alert_id: int, old: str | None, new: str, actor: str, at: dt.datetime, note: str | None,
           run_id: int | None = None) -> dict[str, Any]:
    return {"alert_id": alert_id, "from_status": old, "to_status": new, "actor": actor, "at": at, "note": note,
            "run_id": run_id}


@dataclass(slots=True)
class Recorded:
    """What persisting one run's findings changed."""

    opened: list[int]
    reopened: list[int]
    seen: int


async def record_findings(conn: AsyncConnection, run_id: int, findings: Sequence[Finding], now: dt.datetime) -> Recorded:
    """Upsert findings as alerts: new fingerprints open an alert; known ones update last seen (and reopen)."""
    unique = list({f.fingerprint: f for f in findings}.values())
    out = Recorded([], [], len(unique))
    for start in range(0, len(unique), BATCH):
        batch = unique[start:start + BATCH]
        known = {
            r.fingerprint: r
            for r in await conn.execute(
                sa.select(alerts.c.id, alerts.c.fingerprint, alerts.c.status, alerts.c.first_month, alerts.c.last_month)
                .where(alerts.c.fingerprint.in_([f.fingerprint for f in batch]))
            )
        }
        fresh = [f for f in batch if f.fingerprint not in known]
        if fresh:
            rows = [_new_row(f, run_id, now) for f in fresh]
            inserted = await conn.execute(sa.insert(alerts).returning(alerts.c.id), rows)
            ids = [r.id for r in inserted]
            out.opened.extend(ids)
            events = [_event(i, None, AlertStatus.OPEN, SYSTEM, now, "首次发现 / first found", run_id) for i in ids]
            await conn.execute(sa.insert(alert_events), events)
        updates: list[dict[str, Any]] = []
        reopen: dict[int, str] = {}
        for f in batch:
            row = known.get(f.fingerprint)
            if row is None:
                continue
            if row.status in REOPENABLE:
                reopen[row.id] = row.status
            changed = {k: v for k, v in f.observed().items() if k not in ("rule", "id_number", "facts")}
            updates.append({
                **changed, "b_id": row.id, "first_month": min(row.first_month, f.month),
                "last_month": max(row.last_month, f.month), "last_seen": now, "last_run_id": run_id, "updated_at": now,
            })
        if updates:
            await conn.execute(sa.update(alerts).where(alerts.c.id == sa.bindparam("b_id")), updates)
        if reopen:
            out.reopened.extend(await advance_many(conn, LIFECYCLE, reopen, AlertStatus.OPEN, actor=SYSTEM,
                                                   note="再次发现 / found again", now=now, run_id=run_id))
    return out


def _new_row(f: Finding, run_id: int, now: dt.datetime) -> dict[str, Any]:
    return {
        **f.observed(), "fingerprint": f.fingerprint, "status": AlertStatus.OPEN, "first_month": f.month,
        "last_month": f.month, "first_seen": now, "last_seen": now, "first_run_id": run_id,
        "last_run_id": run_id, "updated_at": now,
    }


async def resolve_missing(conn: AsyncConnection, run_id: int, *, month: str, rules: Iterable[str], seen: set[str],
                          institutions: Iterable[str] | None, region: str | None, examined: frozenset[str] | None,
                          now: dt.datetime) -> list[int]:
    """Mark resolved-by-data the open alerts in the run's scope whose finding the run no longer produced.

    Only alerts of rules that ran, of months not after the run's month, and (in a run scoped to
    institutions) of persons the run read are judged: absence of evidence is not evidence of absence.
    """
    cond = [alerts.c.status.in_(list(OPEN_STATES)), alerts.c.rule.in_(list(rules)), alerts.c.last_month <= month]
    if institutions is not None:
        cond.append(alerts.c.institution_code.in_(list(institutions)))
    if region is not None:
        cond.append(alerts.c.region_code.like(f"{region}%"))
    rows = await conn.execute(sa.select(alerts.c.id, alerts.c.fingerprint, alerts.c.status, alerts.c.id_number).where(*cond))
    gone = [r for r in rows if r.fingerprint not in seen
            and (examined is None or r.id_number is None or r.id_number in examined)]
    return await advance_many(conn, LIFECYCLE, {r.id: r.status for r in gone}, AlertStatus.RESOLVED_BY_DATA,
                              actor=SYSTEM, note="核查未再发现 / no longer found", now=now, run_id=run_id)


async def get_alert(conn: AsyncConnection, alert_id: int) -> Alert:
    """One alert, or NOT_FOUND."""
    row = (await conn.execute(sa.select(alerts).where(alerts.c.id == alert_id))).first()
    if row is None:
        raise LIFECYCLE.missing(alert_id)
    return alert_from_row(row)


async def transition(store: Store, alert_id: int, to: AlertStatus, actor: str, note: str | None = None) -> Alert:
    """Move an alert one lifecycle step, recording who, when and why; the alert as that step left it.

    A compare-and-set (hub/store/lifecycle.py): an illegal step, or one another request took first, is CONFLICT.
    """
    if to == AlertStatus.DISMISSED and not (note or "").strip():
        raise BadUserInput("标记误报须说明理由 / dismissing an alert as a false positive needs a note")
    async with store.begin() as conn:
        await advance(conn, LIFECYCLE, alert_id, to, actor=actor, note=note, now=utcnow())
        return await get_alert(conn, alert_id)


async def history(conn: AsyncConnection, alert_ids: Sequence[int]) -> dict[int, list[AlertEvent]]:
    """The events of some alerts (one statement), oldest first."""
    out: dict[int, list[AlertEvent]] = {i: [] for i in alert_ids}
    if not alert_ids:
        return out
    rows = await conn.execute(
        sa.select(alert_events).where(alert_events.c.alert_id.in_(list(alert_ids))).order_by(alert_events.c.id)
    )
    for r in rows:
        out[r.alert_id].append(AlertEvent(r.alert_id, r.from_status, r.to_status, r.actor, aware(r.at), r.note,  # type: ignore[arg-type]
                                          r.run_id))
    return out
