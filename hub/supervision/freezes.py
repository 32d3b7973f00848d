"""Freezes (冻结): an institution stopped from some kinds of change until rectified.

The kinds (`FreezeKind`) are what the departments govern: quota use (用编), hiring (招聘进人),
payroll changes (工资变动), cadre appointments (干部任免). Which role may freeze, confirm, reject
or lift a freeze of which kind is policy data: the action `freeze:<KIND>` on `FREEZE_OBJECT`
(policies/policy.csv); the GraphQL resolvers check it. A severe alert proposes a freeze of its
institution, one proposal per kind its rule names; a person confirms or rejects the proposal, or
freezes directly, citing the alerts of that institution it answers; lifting is recorded like every
step. The workflow asks `hub.supervision.precheck.frozen` whether a kind is frozen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import BadUserInput, NotFound
from hub.store import Store
from hub.store.db import aware, utcnow
from hub.store.lifecycle import Lifecycle, advance
from hub.store.tables import alerts, freeze_alerts, freeze_events, freeze_kinds, freezes
from hub.supervision.model import FREEZE_KIND_LABELS, FreezeKind, Severity
from hub.supervision.rules import RULES

SYSTEM = "system"
FREEZE_OBJECT = "Mutation.freezeInstitution"  # the policy object of the `freeze:<KIND>` actions


def freeze_action(kind: FreezeKind) -> str:
    """The policy action that lets a role freeze (confirm, reject, lift) a kind: `freeze:HIRING`."""
    return f"freeze:{kind.value}"


def kinds_text(kinds: Sequence[FreezeKind]) -> tuple[str, str]:
    """Kinds named in Chinese and English: ("用编、招聘进人", "quota use, hiring")."""
    return "、".join(FREEZE_KIND_LABELS[k][0] for k in kinds), ", ".join(FREEZE_KIND_LABELS[k][1] for k in kinds)


def parse_kinds(kinds: Sequence[FreezeKind | str]) -> tuple[FreezeKind, ...]:
    """Distinct kinds in their declared order; BAD_USER_INPUT for none or an unknown one."""
    try:
        found = {FreezeKind(k) for k in kinds}
    except ValueError:
        raise BadUserInput(f"未知冻结类型 / unknown freeze kind in {list(kinds)!r}; known: "
                           f"{', '.join(FreezeKind)}", field="kinds") from None
    if not found:
        raise BadUserInput("须指定冻结类型 / name at least one kind to freeze", field="kinds")
    return tuple(k for k in FreezeKind if k in found)


class FreezeStatus(StrEnum):
    """Where a freeze is in its life."""

    PROPOSED = "PROPOSED"  # 建议冻结
    ACTIVE = "ACTIVE"  # 冻结中
    LIFTED = "LIFTED"  # 已解冻
    REJECTED = "REJECTED"  # 不予冻结


TRANSITIONS = {
    FreezeStatus.PROPOSED: frozenset({FreezeStatus.ACTIVE, FreezeStatus.REJECTED}),
    FreezeStatus.ACTIVE: frozenset({FreezeStatus.LIFTED}),
}
IN_FORCE = (FreezeStatus.PROPOSED, FreezeStatus.ACTIVE)
LABELS = {
    FreezeStatus.PROPOSED: "建议冻结 / proposed",
    FreezeStatus.ACTIVE: "冻结中 / frozen",
    FreezeStatus.LIFTED: "已解冻 / lifted",
    FreezeStatus.REJECTED: "不予冻结 / rejected",
}
LIFECYCLE = Lifecycle("冻结记录 / freeze", freezes, freeze_events, "freeze_id", TRANSITIONS, LABELS)


@dataclass(frozen=True, slots=True)
class Freeze:
    """One freeze (or proposal) of one institution, of some kinds."""

    id: int
    institution_code: str
    region_code: str | None
    kinds: tuple[FreezeKind, ...]
    status: FreezeStatus
    reason: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    alert_ids: tuple[int, ...] = ()

    def covers(self, kind: FreezeKind) -> bool:
        """Whether this freeze stops that kind of change."""
        return kind in self.kinds

    @property
    def hiring(self) -> bool:
        """Whether hiring is frozen (the flag freezes had before they had kinds)."""
        return FreezeKind.HIRING in self.kinds

    @property
    def payroll(self) -> bool:
        """Whether payroll changes are frozen."""
        return FreezeKind.PAYROLL in self.kinds


@dataclass(frozen=True, slots=True)
class FreezeEvent:
    """One step of a freeze's history."""

    freeze_id: int
    from_status: str | None
    to_status: str
    actor: str
    at: dt.datetime
    note: str | None


async def _load(conn: AsyncConnection, *cond: sa.ColumnElement[bool]) -> list[Freeze]:
    rows = list(await conn.execute(sa.select(freezes).where(*cond).order_by(freezes.c.id.desc())))
    ids = [r.id for r in rows]
    links: dict[int, list[int]] = {i: [] for i in ids}
    kinds: dict[int, set[str]] = {i: set() for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for link in await conn.execute(sa.select(freeze_alerts).where(freeze_alerts.c.freeze_id.in_(chunk))):
            links[link.freeze_id].append(link.alert_id)
        for row in await conn.execute(sa.select(freeze_kinds).where(freeze_kinds.c.freeze_id.in_(chunk))):
            kinds[row.freeze_id].add(row.kind)
    return [
        Freeze(r.id, r.institution_code, r.region_code, tuple(k for k in FreezeKind if k in kinds[r.id]),
               FreezeStatus(r.status), r.reason, r.created_by, aware(r.created_at), aware(r.updated_at),  # type: ignore[arg-type]
               tuple(sorted(links[r.id])))
        for r in rows
    ]


async def list_freezes(conn: AsyncConnection, institution_code: str | None = None,
                       statuses: Sequence[FreezeStatus] | None = None, region: str | None = None,
                       kinds: Sequence[FreezeKind] | None = None) -> list[Freeze]:
    """Freezes, newest first, filtered by institution, status, region prefix and (any of) kinds."""
    cond: list[sa.ColumnElement[bool]] = []
    if kinds:
        cond.append(freezes.c.id.in_(sa.select(freeze_kinds.c.freeze_id)
                                     .where(freeze_kinds.c.kind.in_([k.value for k in kinds]))))
    if institution_code:
        cond.append(freezes.c.institution_code == institution_code)
    if statuses:
        cond.append(freezes.c.status.in_([s.value for s in statuses]))
    if region:
        cond.append(freezes.c.region_code.like(f"{region}%"))
    return await _load(conn, *cond)


async def get_freeze(conn: AsyncConnection, freeze_id: int) -> Freeze:
    """One freeze by id, or NOT_FOUND."""
    found = await _load(conn, freezes.c.id == freeze_id)
    if not found:
        raise LIFECYCLE.missing(freeze_id)
    return found[0]


async def _link(conn: AsyncConnection, freeze_id: int, alert_ids: Sequence[int]) -> None:
    have = {r.alert_id for r in await conn.execute(
        sa.select(freeze_alerts.c.alert_id).where(freeze_alerts.c.freeze_id == freeze_id))}
    new = sorted(set(alert_ids) - have)
    if new:
        await conn.execute(sa.insert(freeze_alerts), [{"freeze_id": freeze_id, "alert_id": a} for a in new])


async def _create(conn: AsyncConnection, code: str, region: str | None, kinds: Sequence[FreezeKind],
                  status: FreezeStatus, reason: str, actor: str, note: str | None, now: dt.datetime) -> int:
    values: dict[str, Any] = {"institution_code": code, "region_code": region, "status": status, "reason": reason,
                              "created_by": actor, "created_at": now, "updated_at": now}
    freeze_id = int((await conn.execute(sa.insert(freezes).returning(freezes.c.id), [values])).scalar_one())
    await conn.execute(sa.insert(freeze_kinds), [{"freeze_id": freeze_id, "kind": k.value} for k in kinds])
    await conn.execute(sa.insert(freeze_events), [{"freeze_id": freeze_id, "from_status": None, "to_status": status,
                                                   "actor": actor, "at": now, "note": note}])
    return freeze_id


async def propose_for_alerts(conn: AsyncConnection, alert_ids: Sequence[int], now: dt.datetime) -> list[int]:
    """Propose freezing the institutions of severe alerts, one proposal per kind their rules name (unless a
    freeze in force covers that kind there: the alerts are linked to it); link the alerts."""
    if not alert_ids:
        return []
    needed: dict[str, dict[FreezeKind, list[tuple[int, str]]]] = {}
    regions: dict[str, str | None] = {}
    for start in range(0, len(alert_ids), 500):
        rows = await conn.execute(
            sa.select(alerts.c.id, alerts.c.rule, alerts.c.institution_code, alerts.c.region_code)
            .where(alerts.c.id.in_(list(alert_ids[start:start + 500])), alerts.c.severity == Severity.SEVERE.value,
                   alerts.c.institution_code.is_not(None))
        )
        for r in rows:
            kind = RULES[r.rule].freeze if r.rule in RULES else None
            if kind is not None:
                needed.setdefault(r.institution_code, {}).setdefault(kind, []).append((r.id, r.rule))
                regions[r.institution_code] = r.region_code
    codes = sorted(needed)
    existing: dict[str, list[Freeze]] = {c: [] for c in codes}
    for start in range(0, len(codes), 500):
        for f in await _load(conn, freezes.c.institution_code.in_(codes[start:start + 500]),
                             freezes.c.status.in_(list(IN_FORCE))):
            existing[f.institution_code].append(f)
    created: list[int] = []
    for code in codes:
        kinds, in_force = needed[code], existing[code]
        for kind in sorted(kinds):
            items = kinds[kind]
            target = next((f.id for f in in_force if f.covers(kind)), None)
            if target is None:
                rules = ", ".join(sorted({rule for _, rule in items}))
                zh, en = kinds_text([kind])
                reason = f"严重预警建议冻结{zh}：{rules} / severe alerts propose freezing {en}: {rules}"
                target = await _create(conn, code, regions.get(code), [kind], FreezeStatus.PROPOSED, reason, SYSTEM,
                                       None, now)
                in_force.append(await get_freeze(conn, target))
                created.append(target)
            await _link(conn, target, [i for i, _ in items])
    return created


async def freeze(store: Store, institution_code: str, region: str | None, *, kinds: Sequence[FreezeKind | str],
                 reason: str, alert_ids: Sequence[int], actor: str, note: str | None = None) -> Freeze:
    """Freeze some kinds of change of an institution now, citing alerts about that institution it answers."""
    chosen = parse_kinds(kinds)
    if not reason.strip():
        raise BadUserInput("冻结须说明理由 / a freeze needs a reason", field="reason")
    now = utcnow()
    async with store.begin() as conn:
        if alert_ids:
            found = {r.id: r.institution_code for r in await conn.execute(
                sa.select(alerts.c.id, alerts.c.institution_code).where(alerts.c.id.in_(list(alert_ids))))}
            if set(alert_ids) - set(found):
                raise NotFound(f"预警不存在 / no such alerts: {sorted(set(alert_ids) - set(found))}")
            elsewhere = sorted(i for i, code in found.items() if code != institution_code)
            if elsewhere:
                raise BadUserInput(f"预警不涉及该机构 / the alerts are not about this institution: {elsewhere}",
                                   field="alertIds")
        freeze_id = await _create(conn, institution_code, region, chosen, FreezeStatus.ACTIVE, reason, actor,
                                  note, now)
        await _link(conn, freeze_id, alert_ids)
        return await get_freeze(conn, freeze_id)


async def decide(store: Store, freeze_id: int, to: FreezeStatus, actor: str, note: str | None = None) -> Freeze:
    """Confirm or reject a proposal, or lift a freeze; the freeze as that step left it.

    A compare-and-set (hub/store/lifecycle.py): an illegal step, or one another request took first, is CONFLICT.
    """
    async with store.begin() as conn:
        await advance(conn, LIFECYCLE, freeze_id, to, actor=actor, note=note, now=utcnow())
        return await get_freeze(conn, freeze_id)


async def freeze_history(conn: AsyncConnection, freeze_ids: Sequence[int]) -> dict[int, list[FreezeEvent]]:
    """The events of some freezes (one statement), oldest first."""
    out: dict[int, list[FreezeEvent]] = {i: [] for i in freeze_ids}
    if freeze_ids:
        rows = await conn.execute(sa.select(freeze_events).where(freeze_events.c.freeze_id.in_(list(freeze_ids)))
                                  .order_by(freeze_events.c.id))
        for r in rows:
            out[r.freeze_id].append(FreezeEvent(r.freeze_id, r.from_status, r.to_status, r.actor, aware(r.at), r.note))  # type: ignore[arg-type]
    return out


async def in_force(store: Store, institution_code: str, kinds: Sequence[FreezeKind] | None = None) -> list[Freeze]:
    """The freezes and proposals in force for an institution (of any of `kinds`, when given)."""
    async with store.connect() as conn:
        return await list_freezes(conn, institution_code, IN_FORCE, kinds=kinds)
