"""Reservations: the slots and plan places accepted applications hold, and the vacancy left beside them.

Vacancy of (institution, quota type) = approved (the quota keeper's records) − occupied − held:
occupied counts the registry's active slots plus the slots of completed applications the registry
does not show yet (a completed onboarding's slot id is in its change in the outbox, so once the
slot arrives it is known as the application's and counted once); held counts the live applications' reservations. A plan's
places left = planned − the slots citing it (registry, or completed applications not there yet)
− the live applications holding a place; plans a completed application created and the keeper does
not show yet come from the outbox.

Counting and reserving happen under the institution's lock (`lock`): a row of `workflow_locks`
updated in the transaction, so a second transaction touching the same institution waits for the
first to commit (PostgreSQL row lock; SQLite transactions are serial anyway). Two replicas share the
store, so no process-local lock is relied on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.registry import Sources
from hub.core.codes import PlanStatus
from hub.core.crosswalk import Identity
from hub.core.db import conflict_insert
from hub.store.db import Store, utcnow
from hub.store.tables import change_events, reservations, workflow_locks
from hub.supervision.precheck import ACTIVE_NOW
from hub.supervision.unit_rules import post_scope


class Held(StrEnum):
    """Where a reservation is."""

    HELD = "HELD"
    RELEASED = "RELEASED"
    CONSUMED = "CONSUMED"


class What(StrEnum):
    """What a reservation holds."""

    SLOT = "SLOT"
    PLAN = "PLAN"
    POST = "POST"  # a leadership post: quota_type POST, plan_id "<role>/<scope>"
    MOVE = "MOVE"  # a slot held at the receiving institution (or a quota moving out) by a reorganization


async def lock(conn: AsyncConnection, names: Iterable[str]) -> None:
    """Take the workflow locks of `names` until the transaction ends: one upsert of their rows, in sorted order
    (the rows are locked in the order listed: no deadlocks), which creates each row or bumps its version
    (either way the row is locked)."""
    insert = conflict_insert(conn.dialect.name)
    if insert is None:  # pragma: no cover - the store runs on SQLite or PostgreSQL
        raise NotImplementedError(conn.dialect.name)
    rows = [{"name": name, "version": 0} for name in sorted(set(names))]
    if rows:  # the rows as parameters (one INSERT of them all): a statement SQLAlchemy compiles once
        await conn.execute(insert(workflow_locks).on_conflict_do_update(
            index_elements=[workflow_locks.c.name], set_={"version": workflow_locks.c.version + 1}), rows)


@dataclass(slots=True)
class PlanRoom:
    """One approved plan of the quota type and its places."""

    plan_id: str
    planned: int
    approved_on: dt.date | None = None
    used: set[str] = field(default_factory=set)  # the places used: slots citing it (registry ∪ completed applications)
    held: int = 0

    @property
    def left(self) -> int:
        """Places left."""
        return self.planned - len(self.used) - self.held


@dataclass(slots=True)
class Room:
    """The vacancy of one (institution, quota type) as the store and the departments show it now."""

    quota_type: str
    approved: int
    occupied: int
    held: int
    plans: list[PlanRoom]
    own_plan: str | None = None  # the plan the application left out (`exclude`) holds a place of

    @property
    def vacant(self) -> int:
        """Slots neither occupied nor held."""
        return self.approved - self.occupied - self.held

    def plan_with_places(self, entering: dt.date | None = None) -> PlanRoom | None:
        """The first plan (oldest) with a place left, approved on or before the entering date when there is one
        (an entry before its plan's approval is not covered by it)."""
        return next((p for p in self.plans if p.left > 0 and (entering is None or p.approved_on is None
                                                                  or p.approved_on <= entering)), None)


@dataclass(frozen=True, slots=True)
class Survey:
    """What the departments show of one (institution, quota type), read before taking the lock.

    Slots are kept by id, so that under the lock a slot a completed application made is counted as
    that application, once, whenever it arrived in the registry. Only the completed applications whose
    slot may not be in the registry yet are read (those whose slot change was not delivered or
    acknowledged when surveyed, and, under the lock, those completed since): a delivered slot is in the
    registry before the active slots are read, so it counts there, and the survey does not grow with
    the institution's history."""

    approved: int
    active: frozenset[str]  # the registry's active slots of the type
    consumed: frozenset[str]  # completed applications (slot reservation consumed) whose slot was not delivered
    made: dict[str, str]  # slot id -> the application of `consumed` whose change inserts it
    arrived: frozenset[str]  # applications of `consumed` whose slot the registry showed before `active` was read
    plans: tuple[PlanRoom, ...]  # `used`: the registry's slots citing the plan
    held: frozenset[str] = frozenset()  # applications holding a reservation of the type when surveyed
    last_event: int = 0  # the outbox's last event id when surveyed: completions since have later ones


async def survey(store: Store, sources: Sources, ident: Identity, quota_type: str, today: dt.date) -> Survey:
    """Read the departments' side of the vacancy outside the lock (their reads are the slow part).

    The store is read first: the outbox's last event id, then the applications holding a reservation and
    the completed ones whose slot change is not delivered (with their slots). Which of those slots had
    arrived is read before the active slots: a completed slot arriving in between is then both active
    and not arrived, and counted once as its application (`room`).
    """
    quota_dept, slot_dept, plan_dept = (sources.holder(e) for e in ("quota", "registry_slot", "vacancy_plan"))
    local_quota, local_slot, local_plan = (ident.local_id(d) for d in (quota_dept, slot_dept, plan_dept))
    async with store.connect() as conn:
        last = sa.select(sa.func.coalesce(sa.func.max(change_events.c.id), 0).label("id")).subquery()
        rows = (await conn.execute(sa.select(last.c.id, reservations.c.application_id, reservations.c.status)
                                   .select_from(last.outerjoin(reservations, sa.and_(  # one statement, one snapshot
                                       reservations.c.institution_code == ident.code,
                                       reservations.c.quota_type == quota_type,
                                       sa.or_(reservations.c.status == Held.HELD, sa.and_(
                                           reservations.c.status == Held.CONSUMED, reservations.c.what == What.SLOT,
                                           ~_slot_arrived(reservations.c.application_id)))))))).all()
        last_event = rows[0].id
        held = {r.application_id for r in rows if r.status == Held.HELD}
        pending = {r.application_id for r in rows if r.status == Held.CONSUMED}
        made = await _slots_made(conn, pending)
        consumed = frozenset(pending)  # (an application with no slot change stays here, counted as occupied)
        arrived = frozenset(made[s.slot_id] for s in await sources[slot_dept].fetch(
            "registry_slot", "slot_id", list(made), fields={"slot_id"})) if made else frozenset()
        approved = sum(q.approved for q in await sources[quota_dept].fetch("quota", "unit_local_id", [local_quota])
                       if q.quota_type == quota_type) if local_quota else 0
        active = frozenset(s.slot_id for s in await sources[slot_dept].fetch(
            "registry_slot", "unit_local_id", [local_slot], {**ACTIVE_NOW, "quota_type": quota_type},
            fields={"slot_id"})) if local_slot else frozenset()
        plans = await _plans(conn, sources, plan_dept, slot_dept, local_plan, quota_type, today)
    return Survey(approved, active, consumed, made, arrived, tuple(plans), frozenset(held), int(last_event))


def _slot_arrived(application_id: sa.ColumnElement[str]) -> sa.Exists:
    """The application's slot change was delivered to (or acknowledged by) the registry's keeper."""
    return sa.exists().where(
        change_events.c.application_id == application_id, change_events.c.entity == "registry_slot",
        change_events.c.op == "INSERT",
        sa.or_(change_events.c.delivered_at.is_not(None), change_events.c.acknowledged_at.is_not(None)))


async def room(conn: AsyncConnection, seen: Survey, ident: Identity, quota_type: str, exclude: str | None = None) -> Room:
    """The vacancy of a quota type at an institution: the survey and the reservations (read under the
    institution's lock); `exclude` leaves one application's own reservations out.

    A completed application counts once, as occupying a slot and as using its plan's place: through
    its consumed reservations, and its slot, once in the registry, is known as its own — also when
    it completed after the survey began (its slot is looked up here). The completed applications read
    are those the survey found undelivered or holding, and those whose changes came after the
    survey's last event: any other had its slot delivered before the registry was read."""
    since = sa.select(change_events.c.application_id).where(
        change_events.c.id > seen.last_event, change_events.c.entity == "registry_slot", change_events.c.op == "INSERT")
    rows: list[sa.Row[Any]] = []
    own: list[sa.Row[Any]] = []
    for r in await conn.execute(sa.select(
            reservations.c.application_id, reservations.c.what, reservations.c.status, reservations.c.plan_id).where(
            reservations.c.institution_code == ident.code, reservations.c.quota_type == quota_type,
            sa.or_(reservations.c.status == Held.HELD, sa.and_(reservations.c.status == Held.CONSUMED, sa.or_(
                reservations.c.application_id.in_(sorted(seen.consumed | seen.held)),
                reservations.c.application_id.in_(since)))))):
        (own if r.application_id == exclude else rows).append(r)
    consumed = {r.application_id for r in rows if r.status == Held.CONSUMED and r.what == What.SLOT}
    made = {**seen.made, **await _slots_made(conn, consumed - seen.consumed)}
    occupied = {made.get(s, s) for s in seen.active} | (consumed - seen.arrived)
    held_slots = sum(1 for r in rows if r.status == Held.HELD and r.what in (What.SLOT, What.MOVE))
    plans = [PlanRoom(p.plan_id, p.planned, p.approved_on, {made.get(s, s) for s in p.used}) for p in seen.plans]
    by_id = {p.plan_id: p for p in plans}
    for r in rows:
        plan = by_id.get(r.plan_id or "")
        if plan is not None and r.what == What.PLAN:
            if r.status == Held.HELD:
                plan.held += 1
            else:
                plan.used.add(r.application_id)
    own_plan = next((r.plan_id for r in own if r.what == What.PLAN and r.status == Held.HELD), None)
    return Room(quota_type, seen.approved, len(occupied), held_slots, plans, own_plan)


async def _plans(conn: AsyncConnection, sources: Sources, plan_dept: str, slot_dept: str, local: str | None,
                 quota_type: str, today: dt.date) -> list[PlanRoom]:
    """Approved plans of the type at the unit, the keeper's, then those completed applications created,
    each with the registry's slots citing it."""
    if local is None:
        return []
    found = {p.plan_id: PlanRoom(p.plan_id, p.planned, p.approved_on) for p in sorted(
        await sources[plan_dept].fetch("vacancy_plan", "unit_local_id", [local]),
        key=lambda p: (p.approved_on or dt.date.min, p.plan_id))
        if p.status != PlanStatus.REVOKED and p.approved_on is not None and p.approved_on <= today
        and p.quota_type == quota_type}
    pending = await conn.execute(sa.select(change_events.c["values"]).where(
        change_events.c.department == plan_dept, change_events.c.entity == "vacancy_plan",
        change_events.c.op == "INSERT").order_by(change_events.c.id))
    for row in pending:
        values: dict[str, Any] = row[0]
        if (values.get("unit_local_id") == local and values.get("quota_type") == quota_type
                and values.get("status") == PlanStatus.APPROVED and values.get("plan_id") not in found):
            approved = values.get("approved_on")
            found[values["plan_id"]] = PlanRoom(values["plan_id"], int(values.get("planned") or 0),
                                                dt.date.fromisoformat(approved) if isinstance(approved, str) else approved)
    if found:
        for s in await sources[slot_dept].fetch("registry_slot", "plan_id", list(found), fields={"slot_id", "plan_id"}):
            found[s.plan_id].used.add(s.slot_id)
    return list(found.values())


async def _slots_made(conn: AsyncConnection, applications: Collection[str] | sa.Select[Any]) -> dict[str, str]:
    """slot id -> the completed application (of the ids, or of the select's) whose change inserts it (the id its
    mapping generated)."""
    if not isinstance(applications, sa.Select):
        if not applications:
            return {}
        applications = sorted(applications)
    slot_id = change_events.c["values"]["slot_id"].as_string()  # the one value read (not the whole change)
    rows = await conn.execute(sa.select(change_events.c.application_id, slot_id).where(
        change_events.c.application_id.in_(applications), change_events.c.entity == "registry_slot",
        change_events.c.op == "INSERT"))
    return {r[1]: r[0] for r in rows if r[1]}


@dataclass(frozen=True, slots=True)
class Posts:
    """Leadership posts of one level (HEAD/DEPUTY) and scope (UNIT/INTERNAL) at an institution."""

    role: str
    scope: str
    approved: int
    filled: int  # appointments in post, and completed applications' appointments not shown yet
    held: int

    @property
    def key(self) -> str:
        """How a post reservation names its level and scope."""
        return f"{self.role}/{self.scope}"

    @property
    def free(self) -> int:
        """Posts neither filled nor held."""
        return self.approved - self.filled - self.held


async def posts(conn: AsyncConnection, sources: Sources, ident: Identity, role: str, level_code: str,
                exclude: str | None = None) -> Posts:
    """Count the approved and filled posts an appointment at `level_code` would take (as R07 counts them:
    the unit's own head/deputy level is a unit post, any other an internal one)."""
    rank_dept, post_dept, app_dept = ident.primary, sources.holder("leadership_post"), sources.holder("appointment")
    local_rank, local_post, local_app = (ident.local_id(d) for d in (rank_dept, post_dept, app_dept))
    units = await sources[rank_dept].fetch("unit", "local_id", [local_rank]) if local_rank else []
    rank = units[0].rank if units else None
    scope = post_scope(rank, role, level_code)
    approved = sum(p.approved for p in await sources[post_dept].fetch("leadership_post", "unit_local_id", [local_post])
                   if p.level == role and p.scope == scope) if local_post else 0
    current = [a for a in await sources[app_dept].fetch("appointment", "unit_local_id", [local_app])
               if a.end_on is None and a.role == role and post_scope(rank, a.role, a.level_code) == scope] \
        if local_app else []
    rows = [r for r in await conn.execute(sa.select(reservations).where(
        reservations.c.institution_code == ident.code, reservations.c.what == What.POST,
        reservations.c.plan_id == f"{role}/{scope}", reservations.c.status.in_([Held.HELD, Held.CONSUMED])))
        if r.application_id != exclude]
    consumed = sorted(r.application_id for r in rows if r.status == Held.CONSUMED)
    shown = {a.appointment_id for a in current}
    pending = [i for i in consumed if i not in shown]
    if pending:  # completed appointments the department has, but ended since, are not filled posts
        arrived = {a.appointment_id for a in await sources[app_dept].fetch("appointment", "appointment_id", pending)}
        pending = [i for i in pending if i not in arrived]
    return Posts(role, scope, approved, len(current) + len(pending), sum(1 for r in rows if r.status == Held.HELD))


async def reserve(conn: AsyncConnection, application_id: str, institution_code: str,
                  holds: Iterable[tuple[str, What, str | None]]) -> None:
    """Hold slots, plan places or posts for an application: (quota type, what, plan id) each, one statement."""
    now = utcnow()
    rows = [{"application_id": application_id, "institution_code": institution_code, "quota_type": quota_type,
             "what": what, "plan_id": plan_id, "status": Held.HELD, "created_at": now, "updated_at": now}
            for quota_type, what, plan_id in holds]
    if rows:
        await conn.execute(sa.insert(reservations), rows)


async def settle(conn: AsyncConnection, application_id: str, to: Held) -> None:
    """Release or consume what an application holds."""
    await conn.execute(sa.update(reservations).where(
        reservations.c.application_id == application_id, reservations.c.status == Held.HELD)
        .values(status=to, updated_at=utcnow()))
