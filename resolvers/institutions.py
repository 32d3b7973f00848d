"""Institution data, a level at a time: crosswalk lookups, lists, the hierarchy, quotas against headcount,
leadership posts in use.

Institutions are crosswalk identities (hub.core.crosswalk) with the unit record of their primary
department. A record names its institution by a unit code of the department that keeps the
record's entity (`Sources.holder`); the unit hierarchy is the crosswalk base's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.base import Contains, Prefix
from hub.core.codes import UNIT_LEVELS, PostLevel, PostScope, Rank
from hub.core.crosswalk import Identity, institution_key
from hub.core.errors import BadUserInput
from hub.core.records import Appointment, PayrollChange, Unit, VacancyPlan
from resolvers.context import HubContext
from resolvers.loaders import (
    ActiveSlotsByUnit,
    CurrentAppointmentsByUnit,
    Named,
    PayrollChangesByUnit,
    PlanId,
    PostQuotasByUnit,
    QuotasByUnit,
    SlotsByPlan,
    UnitCode,
    UnitsByCode,
    UnitsByParent,
    VacancyPlansByUnit,
)
from resolvers.pages import Page, count, scan

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class InstitutionView:
    """An institution: its crosswalk identity and the unit record of its primary department."""

    identity: Identity
    unit: Unit | None

    def code_in(self, department: str) -> UnitCode | None:
        """The institution's unit code in a department's source."""
        local = self.identity.local_id(department)
        return None if local is None else UnitCode(local)


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


async def views(ctx: HubContext, identities: Sequence[Identity]) -> list[InstitutionView]:
    """Attach each identity's unit record: one batch per primary department, each unit asked once."""
    wanted: dict[str, dict[UnitCode, None]] = {}
    for ident in identities:
        local = ident.local_id(ident.primary)
        if local:
            wanted.setdefault(ident.primary, {})[UnitCode(local)] = None
    departments = list(wanted)
    found = await asyncio.gather(*(ctx.loaders.load(UnitsByCode, list(wanted[d]), d) for d in departments))
    units: dict[tuple[str, str], Unit] = {
        (d, local): records[0]
        for d, batch in zip(departments, found, strict=True)
        for local, records in zip(wanted[d], batch, strict=True)
        if records
    }
    return [InstitutionView(i, units.get((i.primary, i.local_id(i.primary) or ""))) for i in identities]


async def by_code(ctx: HubContext, code: str) -> InstitutionView | None:
    """The institution with a canonical code (USCC or crosswalk code) in the caller's scope; BAD_USER_INPUT if empty."""
    if not institution_key(code):
        raise BadUserInput("机构代码不能为空 / institution code must not be empty")
    ident = (await ctx.crosswalk.get()).find(code)
    if ident is None or not ctx.scope.admits(ident):
        return None
    return (await views(ctx, [ident]))[0]


async def by_local(ctx: HubContext, department: str, local_ids: Sequence[str | None]) -> list[InstitutionView | None]:
    """The institution behind each of a department's unit codes; each code is looked up once, so one object."""
    cw = await ctx.crosswalk.get()
    distinct = [lid for lid in dict.fromkeys(local_ids) if lid is not None]
    found_ids = [cw.identity(c) if (c := cw.code_of(department, lid)) else None for lid in distinct]
    admitted = [(lid, i) for lid, i in zip(distinct, found_ids, strict=True) if i is not None and ctx.scope.admits(i)]
    found = await views(ctx, [i for _, i in admitted])
    made: dict[str | None, InstitutionView] = {lid: view for (lid, _), view in zip(admitted, found, strict=True)}
    return list(map(made.get, local_ids))


async def of_records(ctx: HubContext, entity: str, records: Sequence[Any]) -> list[InstitutionView | None]:
    """The institution of each record of an entity, by the unit code on it (the entity's holder's code)."""
    return await by_local(ctx, ctx.sources.holder(entity), [r.unit_local_id if r is not None else None for r in records])


async def of_units(ctx: HubContext, insts: Sequence[InstitutionView], named: Named[UnitCode, R],
                   department: str | None = None) -> list[list[R] | None]:
    """Each institution's records of a loader keyed by unit code, in the source that keeps them (or
    `department`'s); None where that source has no unit of the institution. One batch, each unit asked once."""
    codes = [i.code_in(department or ctx.sources.holder(named.entity)) for i in insts]
    known = list(dict.fromkeys(c for c in codes if c is not None))
    found = dict(zip(known, await ctx.loaders.load(named, known, department), strict=True))
    return [found[c] if c is not None else None for c in codes]


async def parents(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[InstitutionView | None]:
    """Each institution's parent in the base's unit hierarchy."""
    base = ctx.sources.base
    wanted = [i.unit.parent_local_id if i.unit and i.identity.primary == base else None for i in insts]
    return await by_local(ctx, base, wanted)


async def children(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[InstitutionView]]:
    """Each institution's children in the base's unit hierarchy (those in the caller's scope)."""
    base = ctx.sources.base
    groups = [units or [] for units in await of_units(ctx, insts, UnitsByParent, base)]
    found = iter(await by_local(ctx, base, [u.local_id for group in groups for u in group]))
    return [[i for i in (next(found) for _ in group) if i] for group in groups]


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


async def page(ctx: HubContext, size: int, after: str | None, region_code: str | None, types: list[str] | None,
               quota_type: str | None, name: str | None) -> Page[InstitutionView]:
    """A keyset page of the base's institutions (by unit code) matching the filters, in the caller's scope."""
    where = list_where(region_code, types, name)
    cw = await ctx.crosswalk.get()
    base = ctx.sources.base
    if quota_type is not None:
        holder = ctx.sources.holder("quota")
        counts = await ctx.sources[holder].count("quota", group_by=["unit_local_id"],
                                                 where=ctx.scoped(holder, "quota", {"quota_type": quota_type}))
        where["local_id"] = sorted(set(cw.local_ids(base, [c for row in counts if (c := cw.code_of(holder, row[0]))])))
    units, more = await scan(ctx, base, "unit", "local_id", where, size, after)
    found = [(ident, unit) for unit in units if (ident := cw.identity(cw.code_of(base, unit.local_id) or ""))]
    return Page([InstitutionView(ident, unit) for ident, unit in found], [u.local_id for _, u in found], more,
                units[-1].local_id if units else None, lambda: count(ctx, base, "unit", where))


async def quota_lines(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[QuotaLine]]:
    """Per institution, approved and occupied slots per quota type (occupied = active registry slots)."""
    quotas, slots = await asyncio.gather(of_units(ctx, insts, QuotasByUnit), of_units(ctx, insts, ActiveSlotsByUnit))
    out: list[list[QuotaLine]] = []
    for unit_quotas, unit_slots in zip(quotas, slots, strict=True):
        if unit_quotas is None:
            out.append([])
            continue
        occupied: dict[str, int] = {}
        for slot in unit_slots or ():
            occupied[slot.quota_type or ""] = occupied.get(slot.quota_type or "", 0) + 1
        lines = [QuotaLine(q.quota_type, q.approved, occupied.pop(q.quota_type, 0), q.document, q.approved_on)
                 for q in unit_quotas]
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


async def post_lines(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[PostLine]]:
    """Per institution, approved leadership posts against appointments in post."""
    posts, appointments = await asyncio.gather(of_units(ctx, insts, PostQuotasByUnit),
                                               of_units(ctx, insts, CurrentAppointmentsByUnit))
    out: list[list[PostLine]] = []
    for inst, unit_posts, held in zip(insts, posts, appointments, strict=True):
        if unit_posts is None:
            out.append([])
            continue
        rank = inst.unit.rank if inst.unit else None
        filled: dict[tuple[str, str], int] = {}
        for a in held or ():
            key = (a.role or "", PostScope.UNIT if is_unit_level(rank, a) else PostScope.INTERNAL)
            filled[key] = filled.get(key, 0) + 1
        out.append([
            PostLine(p.level, p.scope, p.approved, filled.get((p.level, p.scope), 0) if held is not None else None)
            for p in sorted(unit_posts, key=lambda p: (p.scope, p.level))
        ])
    return out


async def vacancy_plans(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[VacancyPlan]]:
    """Per institution, its vacancy-filling plans (空编补员计划)."""
    return [found or [] for found in await of_units(ctx, insts, VacancyPlansByUnit)]


async def plan_entries(ctx: HubContext, plans: Sequence[VacancyPlan]) -> list[int]:
    """Per plan, the registry entries citing it, whatever their status: the places it has used (as the
    precheck and R13 count them; the plan's own recorded count is informational)."""
    keys = list(dict.fromkeys(PlanId(p.plan_id) for p in plans))
    found = dict(zip(keys, await ctx.loaders.load(SlotsByPlan, keys), strict=True))
    return [len(found[PlanId(p.plan_id)]) for p in plans]


async def plan_places_left(ctx: HubContext, plans: Sequence[VacancyPlan]) -> list[int]:
    """Per plan, its places not yet used (never below zero)."""
    return [max(p.planned - used, 0) for p, used in zip(plans, await plan_entries(ctx, plans), strict=True)]


async def payroll_changes(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[PayrollChange]]:
    """Per institution, the payroll changes (劳资异动) of the people it pays."""
    return [found or [] for found in await of_units(ctx, insts, PayrollChangesByUnit)]
