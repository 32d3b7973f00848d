"""Monthly figures for trends: computed from the departments' records for any month, kept as snapshots.

`figures` reads the registry base's units, quotas and slots, the appointments and the pay lines of
the months asked (each entity streamed once, whatever the number of months) and computes, per
month, region and quota type, the key figures as of the month's last day:

- institutions: registry units established by then and not abolished;
- approved: quotas approved by then (a quota without a date counts from the start);
- occupied: registry slots entered by then and not left; persons: distinct ID numbers among them;
- vacant: per institution and quota type, approved minus occupied where positive;
- leaders: appointments in force; pay_gross / pay_net: the month's pay lines (fen).

So back-filling is computing past months from the entry and leave dates; a quota changed in place
is seen with its current number from its approval date. `trend` reads the stored snapshots, sums
them over the caller's row scope and the grouping asked, and gives each point its change from the
month before.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from adapters.base import Capability, Need
from adapters.registry import Sources
from hub.core.background import Background
from hub.core.codes import in_scope
from hub.core.crosswalk import Crosswalk
from hub.core.errors import BadUserInput, HubError
from hub.core.retirement import month_end
from hub.store import snapshots
from hub.store.snapshots import Figure
from resolvers.context import HubContext

log = logging.getLogger(__name__)


class Measure(StrEnum):
    """A key figure kept monthly."""

    INSTITUTIONS = "institutions"
    APPROVED = "approved"
    OCCUPIED = "occupied"
    VACANT = "vacant"
    PERSONS = "persons"
    LEADERS = "leaders"
    PAY_GROSS = "pay_gross"
    PAY_NET = "pay_net"


class TrendDimension(StrEnum):
    """What a trend can be split by."""

    REGION = "region"
    QUOTA_TYPE = "quota_type"


NO_REGION = ""  # records of units the crosswalk does not place

# What taking snapshots asks of the sources (checked with their capabilities when the hub starts).
NEEDS: tuple[Need, ...] = tuple(Need(entity, Capability.STREAM, "月度快照 / monthly snapshots")
                                for entity in ("unit", "quota", "registry_slot", "appointment", "pay_line"))


def months_back(last: str, count: int) -> list[str]:
    """`count` months ending with `last` ('YYYY-MM'), oldest first."""
    index = int(last[:4]) * 12 + int(last[5:7]) - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


def check_month(month: str | None, field: str) -> str | None:
    """A 'YYYY-MM' month as given, or BAD_USER_INPUT."""
    if month is not None:
        try:
            dt.date(int(month[:4]), int(month[5:7]), 1)
            ok = len(month) == 7 and month[4] == "-"
        except ValueError:
            ok = False
        if not ok:
            raise BadUserInput(f"月份格式应为 YYYY-MM / a month is YYYY-MM: {month!r}", field=field)
    return month


async def _all(sources: Sources, department: str, entity: str, where: dict[str, Any] | None = None) -> list[Any]:
    out: list[Any] = []
    async for chunk in sources[department].stream(entity, where=where):
        out.extend(chunk)
    return out


def _held(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    return (start is None or start <= day) and (end is None or end > day)


async def figures(sources: Sources, cw: Crosswalk, months: Sequence[str]) -> list[Figure]:
    """The key figures of each month (see the module), by region and quota type."""
    base = sources.base

    def region(department: str, local: str | None) -> tuple[str | None, str]:
        code = cw.code_of(department, local)
        ident = cw.identity(code) if code else None
        return code, (ident.region_code or NO_REGION) if ident else NO_REGION

    units = await _all(sources, base, "unit")
    quotas = await _all(sources, sources.holder("quota"), "quota")
    slots = await _all(sources, sources.holder("registry_slot"), "registry_slot")
    appointments = await _all(sources, sources.holder("appointment"), "appointment")
    pay_holder = sources.holder("pay_line")
    out: list[Figure] = []
    for month in months:
        day = month_end(month)
        values: Counter[tuple[str, str, str]] = Counter()
        for u in units:
            if _held(u.established_on, u.abolished_on, day):
                values[(Measure.INSTITUTIONS, region(base, u.local_id)[1], "")] += 1
        approved: Counter[tuple[str | None, str, str]] = Counter()
        occupied: Counter[tuple[str | None, str, str]] = Counter()
        for q in quotas:
            if q.approved_on is None or q.approved_on <= day:
                code, reg = region(sources.holder("quota"), q.unit_local_id)
                approved[(code, reg, q.quota_type)] += q.approved
        persons: dict[str, tuple[str, str]] = {}
        for s in slots:
            if s.entered_on is not None and _held(s.entered_on, s.left_on, day):
                code, reg = region(sources.holder("registry_slot"), s.unit_local_id)
                occupied[(code, reg, s.quota_type or "")] += 1
                if s.id_number and s.id_number not in persons:
                    persons[s.id_number] = (reg, s.quota_type or "")
        for (code, reg, qt), n in approved.items():
            values[(Measure.APPROVED, reg, qt)] += n
            values[(Measure.VACANT, reg, qt)] += max(0, n - occupied.get((code, reg, qt), 0))
        for (_, reg, qt), n in occupied.items():
            values[(Measure.OCCUPIED, reg, qt)] += n
        for reg, qt in persons.values():
            values[(Measure.PERSONS, reg, qt)] += 1
        for a in appointments:
            if a.start_on is not None and _held(a.start_on, a.end_on, day):
                values[(Measure.LEADERS, region(sources.holder("appointment"), a.unit_local_id)[1], "")] += 1
        for line in await _all(sources, pay_holder, "pay_line", {"month": month}):
            reg = region(pay_holder, line.unit_local_id)[1]
            values[(Measure.PAY_GROSS, reg, "")] += line.gross
            values[(Measure.PAY_NET, reg, "")] += line.net
        out += [Figure(month, m, r, q, v) for (m, r, q), v in sorted(values.items())]
    return out


async def take(sources: Sources, cw: Crosswalk, store: Any, months: Sequence[str]) -> int:
    """Compute the months' figures and store them, replacing what was stored for those months."""
    return await snapshots.replace_months(store, months, await figures(sources, cw, months))


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One month's value of a measure (in one region / quota type when split), and its change from the month before."""

    month: str
    region_code: str | None
    quota_type: str | None
    value: int
    change: int | None  # None for the first month shown


async def trend(ctx: HubContext, measure: Measure, by: Sequence[TrendDimension], from_month: str | None,
                to_month: str | None, region_code: str | None) -> list[TrendPoint]:
    """The stored monthly values of a measure in the caller's scope (and region asked), summed over what is not split."""
    check_month(from_month, "fromMonth")
    check_month(to_month, "toMonth")
    split_region, split_quota = TrendDimension.REGION in by, TrendDimension.QUOTA_TYPE in by
    sums: dict[tuple[str, str | None, str | None], int] = defaultdict(int)
    for f in await snapshots.read(ctx.require_store(), measure.value, from_month, to_month):
        if not ctx.scope.everything and not in_scope(f.region_code or None, ctx.scope.region):
            continue
        if region_code and not in_scope(f.region_code or None, region_code):
            continue
        sums[(f.month, (f.region_code or None) if split_region else None, (f.quota_type or None) if split_quota else None)] += f.value
    out: list[TrendPoint] = []
    last: dict[tuple[str | None, str | None], int] = {}
    for (month, reg, qt), value in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "")):
        out.append(TrendPoint(month, reg, qt, value, value - last[(reg, qt)] if (reg, qt) in last else None))
        last[(reg, qt)] = value
    return out


class SnapshotScheduler(Background):
    """Takes the current month's snapshot every `interval` seconds (0 disables); started by the app's lifespan."""

    name = "snapshot-schedule"

    def __init__(self, sources: Sources, crosswalk: Any, store: Any, interval: float) -> None:
        super().__init__(interval)
        self.sources, self.crosswalk, self.store = sources, crosswalk, store

    async def run_once(self) -> int:
        """Take this month's snapshot; a failure is logged, never raised (0 written)."""
        try:
            return await take(self.sources, await self.crosswalk.get(), self.store, [dt.date.today().strftime("%Y-%m")])
        except HubError as exc:
            log.warning("scheduled snapshot failed: %s", exc.message)
        except Exception:
            log.exception("scheduled snapshot failed")
        return 0
