"""Vacancy plans (空编补员计划) for R13: which entries a plan covers, and which exceed its places.

Places left at an entry = JHS minus the earlier entries citing the same plan (by RBRQ, then RYID).
Plans are few, so the run counts entries per plan with one aggregate and reads the entries of
over-used plans only; `YYS` and 已用完 are informational.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from hub.core.codes import PlanStatus
from hub.core.records import RegistrySlot, VacancyPlan


def entry_order(slot: RegistrySlot) -> tuple[Any, ...]:
    """Order of entries under one plan: entry date, then slot id (numerically when both are numbers)."""
    sid = slot.slot_id
    return (slot.entered_on or dt.date.max, (0, int(sid), sid) if sid.isdigit() else (1, 0, sid))


def excess_entries(plans: dict[str, VacancyPlan], entries: Iterable[RegistrySlot]) -> set[str]:
    """Slot ids of entries beyond their plan's planned places, given every entry citing those plans."""
    by_plan: dict[str, list[RegistrySlot]] = {}
    for slot in entries:
        if slot.plan_id in plans:
            by_plan.setdefault(slot.plan_id, []).append(slot)  # type: ignore[arg-type]
    excess: set[str] = set()
    for plan_id, slots in by_plan.items():
        slots.sort(key=entry_order)
        excess.update(s.slot_id for s in slots[max(plans[plan_id].planned, 0):])
    return excess


def plan_problem(slot: RegistrySlot, plan: VacancyPlan | None, beyond_places: bool) -> tuple[str, str] | None:
    """Why an entry was not covered by an approved plan with places left (zh, en), or None."""
    if not slot.plan_id:
        return ("未使用空编补员计划", "no vacancy plan cited")
    if plan is None:
        return (f"计划 {slot.plan_id} 不存在", f"plan {slot.plan_id} does not exist")
    if plan.unit_local_id != slot.unit_local_id:
        return ("计划属于其他单位", "the plan belongs to another institution")
    if plan.quota_type != slot.quota_type:
        return (f"计划编制类型为 {plan.quota_type}", f"the plan is for {plan.quota_type} slots")
    if plan.status == PlanStatus.REVOKED:
        return ("计划已撤销", "the plan was revoked")
    if plan.approved_on is None or (slot.entered_on is not None and plan.approved_on > slot.entered_on):
        return (f"计划批准于 {plan.approved_on or '未知日期'}，晚于入编", f"the plan was approved on {plan.approved_on or 'an unknown date'}, after the entry")
    if beyond_places:
        return (f"计划 {plan.planned} 个名额已用完", f"all {plan.planned} places of the plan were used by earlier entries")
    return None
