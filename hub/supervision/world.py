"""Reading what a run needs besides persons: reference month, units and crosswalk, quotas, posts."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from adapters.registry import Sources
from hub.core.crosswalk import build_crosswalk
from hub.core.errors import BadUserInput, SourceUnavailable
from hub.core.records import Unit
from hub.supervision.facts import World

log = logging.getLogger(__name__)
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(slots=True)
class Aggregates:
    """Per-institution inputs of the institution rules (small: one entry per unit, type, level)."""

    units: dict[str, list[Unit]] = field(default_factory=dict)  # every department's units (until R10 ran)
    quotas: dict[tuple[str, str], int] = field(default_factory=dict)  # (unit, type) -> approved
    posts: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (unit, level, scope) -> approved
    appointments: list[tuple[str, str, str, int]] = field(default_factory=list)  # (unit, role, level code, n)
    headcount: dict[tuple[str, str], int] = field(default_factory=dict)  # (unit, type) -> active slots, after the person pass


async def available_departments(sources: Sources) -> tuple[set[str], dict[str, str]]:
    """The departments that answer, and the problem of each that does not."""
    problems = await sources.readiness()
    return {d for d, p in problems.items() if p is None}, {d: p for d, p in problems.items() if p is not None}


async def latest_pay_month(sources: Sources) -> str:
    """The latest pay month in the pay data (the default reference month): the greatest of the distinct months,
    which the database finds by seeking through an index on the month (adapters: `distinct`), not by reading
    every pay row."""
    months = await sources[sources.holder("pay_line")].distinct("pay_line", "month")
    if not months:
        raise BadUserInput("财政库中没有工资数据，请指定基准月份 / no pay data in finance: give a reference month")
    return str(max(months))


def check_month(month: str) -> str:
    """A 'YYYY-MM' reference month, or BAD_USER_INPUT."""
    if not MONTH.match(month):
        raise BadUserInput(f"基准月份格式应为 YYYY-MM / reference month must look like 2026-10: {month!r}")
    return month


async def _all(adapter: Any, entity: str, where: dict[str, Any] | None = None) -> list[Any]:
    return [r async for chunk in adapter.stream(entity, where=where) for r in chunk]


async def build_world(sources: Sources, available: set[str], month: str, deferred: frozenset[str]) -> tuple[World, Aggregates]:
    """The run's world and the institution aggregates, from the departments that answer."""
    agg = Aggregates()
    missing: list[str] = []
    for department, adapter in sources.items():
        if department in available and adapter.supports("unit"):
            try:
                agg.units[department] = await _all(adapter, "unit")
            except SourceUnavailable:
                missing.append(department)
        elif department not in available:
            missing.append(department)
    crosswalk = build_crosswalk(agg.units, sources.base, tuple(missing))
    holders = sources.holders()
    world = World(month, crosswalk, holders, deferred=deferred)
    world.units = {u.local_id: u for u in agg.units.get(sources.base, [])}
    world.appointing_units = {u.local_id: u for u in agg.units.get(holders.get("appointment", ""), [])}
    if holders.get("quota") in available:
        for q in await _all(sources[holders["quota"]], "quota"):
            key = (q.unit_local_id, q.quota_type)
            agg.quotas[key] = agg.quotas.get(key, 0) + q.approved
    if holders.get("leadership_post") in available:
        for p in await _all(sources[holders["leadership_post"]], "leadership_post"):
            key3 = (p.unit_local_id, p.level, p.scope)
            agg.posts[key3] = agg.posts.get(key3, 0) + p.approved
    if holders.get("appointment") in available:
        rows = await sources[holders["appointment"]].count(
            "appointment", group_by=["unit_local_id", "role", "level_code"], where={"end_on": None}
        )
        agg.appointments = [(u, r, lc, n) for u, r, lc, n in rows if u]
    return world, agg
