"""Vacancy-filling plans (空编补员计划): every registry entry cites one with places left, unless planted."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from hub.core.codes import PlanStatus, QuotaType
from hub.demo.draws import randint
from hub.demo.institutions import Institution
from hub.demo.population import Slot
from hub.demo.spellings import PLAN_ZT
from hub.demo.world import World


class _Plans:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.rows: list[tuple] = []

    def add(
        self,
        inst: Institution,
        quota: QuotaType,
        places: int,
        approved: dt.date,
        cited: list[Slot],
        status: PlanStatus | None = None,
    ) -> str:
        jhid = f"JH{self.world.next_code('plan'):08d}"
        for slot in cited:
            slot.plan = jhid
        used = len(cited)
        status = status or (PlanStatus.USED_UP if used >= places else PlanStatus.APPROVED)
        self.rows.append((jhid, inst.jgid, quota.value, places, used, approved, PLAN_ZT[status]))
        return jhid

    def before(self, day: dt.date) -> dt.date:
        return day - dt.timedelta(days=randint(self.rng, 15, 120))


def _faulty(plans: _Plans, slot: Slot) -> None:
    """A planted R13 entry: no plan, or one that cannot cover it."""
    rng, world, fault = plans.rng, plans.world, slot.plan_fault
    if fault == "no_plan":
        return
    if fault == "revoked_plan":
        plans.add(slot.inst, slot.quota, 1, plans.before(slot.entered), [slot], PlanStatus.REVOKED)
    elif fault == "plan_after_entry":
        gap = max(1, min(90, (world.ref_end - slot.entered).days))
        plans.add(slot.inst, slot.quota, 1, slot.entered + dt.timedelta(days=randint(rng, 1, gap)), [slot])
    elif fault == "other_quota_type":
        other = next(q for q in QuotaType if q != slot.quota)
        plans.add(slot.inst, other, 1, plans.before(slot.entered), [slot])
    elif fault == "other_unit":
        unit = world.institutions[(slot.inst.idx + 1) % len(world.institutions)]
        plans.add(unit, slot.quota, 1, plans.before(slot.entered), [slot])
    elif fault == "plan_exhausted" and slot.partner is not None:
        plans.add(slot.inst, slot.quota, 1, plans.before(slot.partner.entered), [slot.partner, slot])


def build_plans(inst: Institution, slots: list[Slot], world: World) -> list[tuple]:
    """T_YBJH rows for the slots written while generating `inst`; sets each slot's JHID."""
    plans = _Plans(world, world.rng("plans", inst.idx))
    rng = plans.rng
    batches: dict[tuple[QuotaType, int], list[Slot]] = defaultdict(list)
    for slot in slots:
        if slot.plan_fault == "shared":
            continue  # cited together with a planted R13 entry
        if slot.plan_fault:
            _faulty(plans, slot)
        elif (
            slot.inst is not inst
        ):  # a slot elsewhere (earlier unit of a transfer, second slot): its own plan
            plans.add(slot.inst, slot.quota, 1, plans.before(slot.entered), [slot])
        else:
            batches[(slot.quota, slot.entered.year)].append(slot)
    for (quota, _), batch in sorted(batches.items(), key=lambda kv: (kv[0][0].value, kv[0][1])):
        first = min(s.entered for s in batch)
        plans.add(
            inst,
            quota,
            len(batch) + rng.choice((0, 0, 1, 2)),
            max(plans.before(first), inst.founded) if inst.founded <= first else first,
            batch,
        )
    for quota, _ in inst.kind.quotas:  # plans approved for current vacancies, and one revoked now and then
        if rng.random() < 0.25:
            plans.add(
                inst, quota, randint(rng, 1, 3), world.ref_end - dt.timedelta(days=randint(rng, 10, 200)), []
            )
        if rng.random() < 0.04:
            plans.add(
                inst,
                quota,
                randint(rng, 1, 2),
                world.ref_end - dt.timedelta(days=randint(rng, 200, 900)),
                [],
                PlanStatus.REVOKED,
            )
    return plans.rows
