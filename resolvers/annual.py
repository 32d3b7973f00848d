"""The annual rollup (机构编制统计年报): institutions, quotas and staff, leadership posts, entries and exits
of one year, in a region, as one list of lines (so a saved report over it exports as one sheet).

Each section is one grouped statement (`count` or `aggregate`) in the source keeping its entity,
in the caller's row scope and the region asked; the state is the one at the year's end (31 December).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from adapters.base import AnyOf, Prefix, Range
from hub.core.errors import BadUserInput
from resolvers import people as persons
from resolvers.context import HubContext

SECTIONS = {
    "INSTITUTIONS": "机构数", "QUOTAS": "编制与实有人员", "LEADERSHIP": "领导职数", "LEADERS": "在任领导人员",
    "ENTRIES": "本年进入", "EXITS": "本年退出",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One line: its section, the group (category and item) and the figures it has."""

    section: str
    category: str | None
    item: str | None
    approved: int | None
    actual: int | None


def _not_after(field: str, end: dt.date) -> AnyOf:
    """The field is on or before `end`, or unrecorded."""
    return AnyOf(({field: Range(None, end)}, {field: None}))


def _still_on(field: str, end: dt.date) -> AnyOf:
    """The field (an end date) is unrecorded or after `end`."""
    return AnyOf(({field: None}, {field: Range(end + dt.timedelta(days=1), None)}))


async def _grouped(ctx: HubContext, entity: str, group_by: list[str], where: dict[str, Any], region: str | None,
                   department: str | None = None, **kwargs: Any) -> list[tuple[Any, ...]]:
    """(group values…, rows, …) of one statement on the source keeping the entity, in scope and the region."""
    source = department or ctx.sources.holder(entity)
    where = dict(where)
    if region and entity != "unit":
        where["unit_local_id"] = await persons.unit_codes(ctx, source, region, None)
    scoped = ctx.scoped(source, entity, where)
    if entity == "unit":
        return await ctx.sources[source].count(entity, group_by=group_by, where=scoped)
    return await ctx.sources[source].aggregate(entity, group_by=group_by, where=scoped, **kwargs)


def _key(value: Any) -> str:
    return "" if value is None else str(value)


async def annual(ctx: HubContext, year: int, region_code: str | None) -> list[Line]:
    """The rollup of `year` (institutions and staff as at 31 December; entries and exits during the year)."""
    if not 1950 <= year <= 2100:
        raise BadUserInput(f"year 超出范围 / year out of range: {year}", field="year")
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    base = ctx.sources.base
    unit_where: dict[str, Any] = {"established_on": _not_after("established_on", end), "abolished_on": _still_on("abolished_on", end)}
    if region_code:
        unit_where["region_code"] = Prefix(region_code)
    in_post = {"entered_on": _not_after("entered_on", end), "left_on": _still_on("left_on", end)}
    units, quotas, staff, posts, leaders, entries, exits = await asyncio.gather(
        _grouped(ctx, "unit", ["type", "rank"], unit_where, region_code, base),
        _grouped(ctx, "quota", ["quota_type"], {}, region_code, sums=["approved"]),
        _grouped(ctx, "registry_slot", ["quota_type"], in_post, region_code, per_person="id_number"),
        _grouped(ctx, "leadership_post", ["level", "scope"], {}, region_code, sums=["approved"]),
        _grouped(ctx, "appointment", ["role"], {"start_on": _not_after("start_on", end), "end_on": _still_on("end_on", end)},
                 region_code, per_person="id_number"),
        _grouped(ctx, "registry_slot", ["quota_type"], {"entered_on": Range(start, end)}, region_code),
        _grouped(ctx, "registry_slot", ["left_reason"], {"left_on": Range(start, end)}, region_code),
    )
    lines = [Line("INSTITUTIONS", r[0], r[1], None, int(r[2])) for r in units]
    approved = {_key(r[0]): int(r[3] or 0) for r in quotas}
    actual = {_key(r[0]): int(r[1]) for r in staff}
    lines += [Line("QUOTAS", t or None, None, approved.get(t), actual.get(t, 0)) for t in sorted(approved.keys() | actual.keys())]
    lines += [Line("LEADERSHIP", r[1], r[0], int(r[4] or 0), None) for r in posts]
    lines += [Line("LEADERS", None, r[0], None, int(r[1])) for r in leaders]
    lines += [Line("ENTRIES", r[0], None, None, int(r[1])) for r in entries]
    lines += [Line("EXITS", r[0], None, None, int(r[1])) for r in exits]
    order = list(SECTIONS)
    return sorted(lines, key=lambda x: (order.index(x.section), x.category is None, _key(x.category), x.item is None, _key(x.item)))
