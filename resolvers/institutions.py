"""Institution data: crosswalk lookups, lists, quotas against headcount, leadership posts in use."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.base import Contains, Prefix
from hub.core.codes import UNIT_LEVELS, PostLevel, PostScope, Rank, SlotStatus
from hub.core.crosswalk import Identity, institution_key
from hub.core.errors import BadUserInput
from hub.core.records import Appointment, Unit
from resolvers.context import HubContext

T = TypeVar("T")

ACTIVE_SLOT = {"status": [SlotStatus.ACTIVE, SlotStatus.SECONDED], "left_on": None}


@dataclass(frozen=True, slots=True)
class InstitutionView:
    """An institution: its crosswalk identity and the unit record of its primary department."""

    identity: Identity
    unit: Unit | None


@dataclass(frozen=True, slots=True)
class QuotaLine:
    """Approved vs occupied slots of one quota type."""

    quota_type: str
    approved: int
    occupied: int
    document: str | None
    approved_on: Any


@dataclass(frozen=True, slots=True)
class PostLine:
    """Approved vs filled leadership posts of one level and scope."""

    level: str
    scope: str
    approved: int
    filled: int | None


async def views(ctx: HubContext, identities: list[Identity]) -> list[InstitutionView]:
    """Attach each identity's unit record: one batch per primary department, each unit asked once."""
    wanted: dict[str, dict[str, None]] = {}
    for ident in identities:
        local = ident.local_id(ident.primary)
        if local:
            wanted.setdefault(ident.primary, {})[local] = None
    departments = list(wanted)
    found = await asyncio.gather(*(ctx.loaders.by(d, "unit", "local_id").load_many(list(wanted[d])) for d in departments))
    units: dict[tuple[str, str], Unit] = {
        (d, local): records[0]
        for d, batch in zip(departments, found, strict=True)
        for local, records in zip(wanted[d], batch, strict=True)
        if records
    }
    return [InstitutionView(i, units.get((i.primary, i.local_id(i.primary) or ""))) for i in identities]


async def by_code(ctx: HubContext, code: str) -> InstitutionView | None:
    """The institution with a canonical code (USCC or crosswalk code); BAD_USER_INPUT if malformed."""
    key = institution_key(code)
    if not key:
        raise BadUserInput("机构代码不能为空 / institution code must not be empty")
    ident = (await ctx.crosswalk.get()).identity(key)
    if ident is None or not ctx.scope.admits(ident):
        return None
    return (await views(ctx, [ident]))[0]


async def by_local(
    ctx: HubContext, department: str, local_ids: Sequence[str | None], make: Callable[[InstitutionView], T]
) -> list[T | None]:
    """`make` of the institution behind each of a department's unit codes; each code is looked up once, so one object."""
    cw = await ctx.crosswalk.get()
    distinct = [lid for lid in dict.fromkeys(local_ids) if lid is not None]
    found_ids = [cw.identity(c) if (c := cw.code_of(department, lid)) else None for lid in distinct]
    admitted = [(lid, i) for lid, i in zip(distinct, found_ids, strict=True) if i is not None and ctx.scope.admits(i)]
    found = await views(ctx, [i for _, i in admitted])
    made: dict[str | None, T] = {lid: make(view) for (lid, _), view in zip(admitted, found, strict=True)}
    return list(map(made.get, local_ids))


def list_where(region: str | None, types: list[str] | None, name: str | None) -> dict[str, Any]:
    """The establishment-unit filter of an institutions query."""
    where: dict[str, Any] = {"abolished_on": None}
    if region:
        where["region_code"] = Prefix(region)
    if types:
        where["type"] = types
    if name:
        where["name"] = Contains(name.strip())
    return where


async def quota_lines(ctx: HubContext, views: Sequence[InstitutionView]) -> list[list[QuotaLine]]:
    """Per institution, approved and occupied slots per quota type (occupied = active registry slots)."""
    base = ctx.sources.base
    locals_ = [v.identity.local_id(base) for v in views]
    known = [lid for lid in locals_ if lid is not None]
    quotas_of = ctx.loaders.by(base, "quota", "unit_local_id")
    slots_of = ctx.loaders.by(base, "registry_slot", "unit_local_id", ACTIVE_SLOT, "active")
    quotas, slots = await asyncio.gather(quotas_of.load_many(known), slots_of.load_many(known))
    by_unit = {lid: (q, s) for lid, q, s in zip(known, quotas, slots, strict=True)}
    out: list[list[QuotaLine]] = []
    for lid in locals_:
        if lid is None:
            out.append([])
            continue
        unit_quotas, unit_slots = by_unit[lid]
        occupied: dict[str, int] = {}
        for slot in unit_slots:
            occupied[slot.quota_type or ""] = occupied.get(slot.quota_type or "", 0) + 1
        lines = [QuotaLine(q.quota_type, q.approved, occupied.pop(q.quota_type, 0), q.document, q.approved_on) for q in unit_quotas]
        lines += [QuotaLine(t, 0, n, None, None) for t, n in occupied.items() if t]
        out.append(sorted(lines, key=lambda line: line.quota_type))
    return out


def is_unit_level(rank: str | None, appointment: Appointment) -> bool:
    """Whether an appointment holds its unit's own head/deputy level (docs/supervision.md §R07)."""
    if rank is None or appointment.role is None:
        return False
    head, deputy = UNIT_LEVELS[Rank(rank)]
    own = head if appointment.role == PostLevel.HEAD else deputy
    return own is not None and appointment.level_code == own


async def post_lines(ctx: HubContext, views: Sequence[InstitutionView]) -> list[list[PostLine]]:
    """Per institution, approved leadership posts (编办) against appointments in post (组织部)."""
    base = ctx.sources.base
    posts_of = ctx.loaders.by(base, "leadership_post", "unit_local_id")
    current = ctx.loaders.by("organization", "appointment", "unit_local_id", {"end_on": None}, "current")
    locals_ = [v.identity.local_id(base) for v in views]
    org_locals = [v.identity.local_id("organization") for v in views]
    known = list(dict.fromkeys(lid for lid in locals_ if lid is not None))
    org_known = list(dict.fromkeys(lid for lid in org_locals if lid is not None))
    posts, appointments = await asyncio.gather(posts_of.load_many(known), current.load_many(org_known))
    posts_by = dict(zip(known, posts, strict=True))
    appointments_by = dict(zip(org_known, appointments, strict=True))
    out: list[list[PostLine]] = []
    for view, local, org_local in zip(views, locals_, org_locals, strict=True):
        if local is None:
            out.append([])
            continue
        rank = view.unit.rank if view.unit else None
        filled: dict[tuple[str, str], int] = {}
        for a in appointments_by.get(org_local, []) if org_local is not None else ():
            key = (a.role or "", PostScope.UNIT if is_unit_level(rank, a) else PostScope.INTERNAL)
            filled[key] = filled.get(key, 0) + 1
        out.append([
            PostLine(p.level, p.scope, p.approved, filled.get((p.level, p.scope), 0) if org_local is not None else None)
            for p in sorted(posts_by[local], key=lambda p: (p.scope, p.level))
        ])
    return out
