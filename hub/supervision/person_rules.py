"""Person rules: each a small function over one person's facts at the reference month.

What each rule means is docs/supervision.md §Each rule as the code reads it.

A function returns a Hit (stable facts + evidence) or None. Example::

    def ghost_pay(p: Facts, w: World) -> Hit | None:
        if p.active or not p.lines:
            return None
        return Hit({"payees": [...]}, {"month": w.month, ...}, institution_code=...)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from hub.core import ids
from hub.core.codes import (
    CIVIL_SERVICE_SCALE,
    QUOTA_CATEGORIES,
    REORGANIZED,
    EmploymentStatus,
    Funding,
    InsuranceStatus,
    PersonnelCategory,
    PostCategory,
    QuotaType,
)
from hub.core.records import PayLine, RegistrySlot
from hub.core.retirement import retirement_date, retirement_group
from hub.supervision.deferred import Deferred, PayHistory, PlanLookup
from hub.supervision.facts import Facts, PersonCheck, World, current_at, month_of, yuan
from hub.supervision.identity_rules import birth_sex_mismatch, invalid_id, name_mismatch
from hub.supervision.model import Hit
from hub.supervision.plans import plan_problem

QUOTA_TYPES: dict[str | None, QuotaType] = {q.value: q for q in QuotaType}
LEFT_BY_HR = {EmploymentStatus.DECEASED: ("死亡", "died"), EmploymentStatus.RESIGNED: ("辞职", "resigned")}


def _amount(lines: list[PayLine]) -> str:
    return yuan(sum(line.gross for line in lines))


def _slot_label(w: World, slot: RegistrySlot) -> str:
    return f"{w.label(w.institution('registry_slot', slot.unit_local_id))} {slot.slot_id}"


def on_quota_lines(p: Facts) -> list[PayLine]:
    """Pay lines of the month paid as on-quota staff (编外 payees are legitimately outside the registry)."""
    out = []
    for line in p.lines:
        payee = p.payee(line.payee_code)
        if payee is None or payee.on_quota is not False:
            out.append(line)
    return out


def ghost_pay(p: Facts, w: World) -> Hit | None:
    """R01: paid as on-quota staff in the month, no active registry slot."""
    if p.active or not p.lines:
        return None
    lines = on_quota_lines(p)
    if not lines:
        return None
    left = max((s.left_on for s in p.view.slots if s.left_on), default=None)
    payers = p.pay_units(w)
    evidence = {"month": w.month, "amount": _amount(lines), "payer": ", ".join(w.label(c) for c in payers),
                "lastLeft": month_of(left) or "—"}
    return Hit({"payees": sorted({line.payee_code for line in lines})}, evidence, payers[0] if payers else None)


def unpaid(p: Facts, w: World) -> Hit | None:
    """R02: an active slot outside self-funded institutions, paid by nobody in the month."""
    if not p.active or p.lines:
        return None
    slots = [s for s in p.active if w.funding(s.unit_local_id) != Funding.SELF]
    if not slots:
        return None
    slot = slots[0]
    code = w.institution("registry_slot", slot.unit_local_id)
    evidence = {"month": w.month, "unit": w.label(code), "quotaType": slot.quota_type or "—",
                "entered": str(slot.entered_on or "—")}
    return Hit({"slots": sorted(s.slot_id for s in slots)}, evidence, code)


def unit_mismatch(p: Facts, w: World) -> Hit | None:
    """R03: paid in the month by an institution where the person holds no active slot (both placed)."""
    if not p.active or not p.lines:
        return None
    held = {w.institution("registry_slot", s.unit_local_id) for s in p.active}
    stray = [c for c in p.pay_units(w) if c not in held and w.placed(c)]
    if not stray:
        return None
    registry = sorted(c for c in held if c)
    evidence = {"month": w.month, "registryUnit": ", ".join(w.label(c) for c in registry),
                "payUnit": ", ".join(w.label(c) for c in stray)}
    return Hit({"registry": registry, "payroll": stray}, evidence, registry[0] if registry else None)


def category_mismatch(p: Facts, w: World) -> Hit | None:
    """R05: an active slot's quota type does not admit the person's HR category."""
    if not p.active or not p.employed:
        return None
    category = next((x.category for x in p.employed if x.category), None)
    if category is None:
        return None
    for slot in p.active:
        quota_type = QUOTA_TYPES.get(slot.quota_type)
        allowed = QUOTA_CATEGORIES.get(quota_type) if quota_type else None
        if allowed is not None and PersonnelCategory(category) not in allowed:
            code = w.institution("registry_slot", slot.unit_local_id)
            evidence = {"unit": w.label(code), "quotaType": slot.quota_type, "category": category}
            return Hit({"slot": slot.slot_id, "quotaType": slot.quota_type, "category": category}, evidence, code)
    return None


def _slot_for(p: Facts, w: World, line: PayLine) -> RegistrySlot | None:
    """The active slot a pay line belongs to: the one at the paying institution, else the only one."""
    payer = w.institution("pay_line", p.pay_unit(line))
    for slot in p.active:
        if w.institution("registry_slot", slot.unit_local_id) == payer:
            return slot
    return p.active[0] if len(p.active) == 1 else None


def scale_mismatch(p: Facts, w: World) -> Hit | None:
    """R06: XZ/ZF/CG slots paid on the PI post/step scale, or SY/JS/GQ slots on the civil-servant scale."""
    if not p.active or not p.lines:
        return None
    for line in p.lines:
        slot = _slot_for(p, w, line)
        quota_type = QUOTA_TYPES.get(slot.quota_type) if slot else None
        if slot is None or quota_type is None:
            continue
        civil = quota_type in CIVIL_SERVICE_SCALE
        if civil and line.position_pay + line.step_pay > 0:
            scale, items = ("PI", f"GWGZ {yuan(line.position_pay)}, XJGZ {yuan(line.step_pay)}")
        elif not civil and line.post_pay + line.grade_pay > 0:
            scale, items = ("CIVIL", f"ZWGZ {yuan(line.post_pay)}, JBGZ {yuan(line.grade_pay)}")
        else:
            continue
        zh, en = {"PI": ("事业单位岗位/薪级工资", "PI post/step"), "CIVIL": ("公务员职务/级别工资", "civil-servant post/grade")}[scale]
        evidence = {"month": w.month, "quotaType": slot.quota_type, "scaleZh": zh, "scaleEn": en, "items": items}
        return Hit({"slot": slot.slot_id, "scale": scale}, evidence, w.institution("registry_slot", slot.unit_local_id))
    return None


def _worker_post(p: Facts, w: World) -> bool:
    """A woman is in a worker post if her slot is GQ, her HR category is PI worker or her current post is."""
    slots = p.active or p.view.slots
    return (
        any(s.quota_type == QuotaType.GQ for s in slots)
        or any(x.category == PersonnelCategory.PI_WORKER for x in p.employed)
        or any(x.category == PostCategory.WORKER and current_at(x.start_on, x.end_on, w.end) for x in p.view.posts)
    )


def past_retirement(p: Facts, w: World) -> Hit | None:
    """R08: statutory retirement date on or before the month's last day, still in post or paid, no deferral."""
    if not (p.active or p.lines) or p.id_number in w.deferred:
        return None
    birth = ids.id_birth_date(p.id_number) if len(p.id_number) == 18 and p.id_number[:17].isdigit() else None
    if birth is None:
        return None
    male = ids.id_sex(p.id_number) == "male"
    due = retirement_date(birth, retirement_group("male" if male else "female", not male and _worker_post(p, w)))
    if due > w.end:
        return None
    where = ("在编且领薪", "in post and paid") if p.active and p.lines else (("在编", "in post") if p.active else ("领薪", "paid"))
    evidence = {"birth": str(birth), "retirement": str(due), "month": w.month, "whereZh": where[0], "whereEn": where[1]}
    return Hit({"retirement": str(due)}, evidence, p.home(w))


def duplicate(p: Facts, w: World) -> Hit | None:
    """R09: two or more active slots, or two or more pay rows in the month under any payee codes."""
    if len(p.active) < 2 and len(p.lines) < 2:
        return None
    slots = sorted(s.slot_id for s in p.active) if len(p.active) > 1 else []
    payees = sorted(line.payee_code for line in p.lines) if len(p.lines) > 1 else []
    evidence = {"month": w.month, "slotCount": len(p.active), "payCount": len(p.lines),
                "slots": ", ".join(_slot_label(w, s) for s in p.active) or "—", "payees": ", ".join(payees) or "—"}
    return Hit({"slots": slots, "payees": payees}, evidence, p.home(w))


def no_plan(p: Facts, w: World) -> Hit | None:
    """R13: a slot entered (by the reference month) without an approved plan with places left of its type. A slot
    entered without a plan on the day a reorganization moved the person out of another slot needs none."""
    bad = []
    moved_on = {s.left_on for s in p.view.slots if s.left_reason == REORGANIZED and s.left_on}
    for slot in p.view.slots:
        if slot.entered_on is None or slot.entered_on > w.end or (not slot.plan_id and slot.entered_on in moved_on):
            continue
        problem = plan_problem(slot, w.plans.get(slot.plan_id or ""), slot.slot_id in w.plan_excess)
        if problem is not None:
            bad.append((slot, problem))
    if not bad:
        return None
    zh = "；".join(f"{_slot_label(w, s)} {s.entered_on} 入编（计划 {s.plan_id or '无'}）：{r[0]}" for s, r in bad)
    en = "; ".join(f"{_slot_label(w, s)} entered {s.entered_on} (plan {s.plan_id or 'none'}): {r[1]}" for s, r in bad)
    slot = bad[0][0]
    return Hit({"slots": sorted(s.slot_id for s, _ in bad)}, {"entriesZh": zh, "entriesEn": en},
               w.institution("registry_slot", slot.unit_local_id))


Event = tuple[dt.date, str, str, str, str | None]  # (date, zh, en, reference, institution code)


def leaving_events(p: Facts, w: World) -> list[Event]:
    """Leaving the last slot (with no other active slot: else a transfer), dying or resigning, by the month end."""
    events: list[Event] = []
    if not p.active:  # leaving one slot while holding another active slot is a transfer
        left = [s for s in p.view.slots if s.left_on and s.left_on <= w.end]
        if left:
            slot = max(left, key=lambda s: s.left_on or dt.date.min)
            reason = slot.left_reason or "出编"
            events.append((slot.left_on, f"出编（{reason}）", "left the slot", slot.slot_id,  # type: ignore[arg-type]
                           w.institution("registry_slot", slot.unit_local_id)))
    for x in p.view.personnel:
        if x.status in LEFT_BY_HR and x.status_on and x.status_on <= w.end:
            zh, en = LEFT_BY_HR[EmploymentStatus(x.status)]
            events.append((x.status_on, f"人社登记{zh}", en, x.person_no, w.institution("personnel", x.unit_local_id)))
    return events


def needs_pay_history(p: Facts, w: World) -> bool:
    """Whether R14 must see the months before the reference month: a payee who has left, died or resigned."""
    return bool(p.view.payees) and bool(leaving_events(p, w))


def pay_after_leaving(p: Facts, w: World) -> Hit | None:
    """R14: left the slot (holding no other active slot), died or resigned; pay in a later month."""
    if not p.view.pay:
        return None
    events = leaving_events(p, w)
    if not events:
        return None
    day, zh, en, ref, code = min(events, key=lambda e: e[0])
    after = [line for line in p.view.pay if line.month > (month_of(day) or "")]
    if not after:
        return None
    months = sorted({line.month for line in after})
    span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
    evidence = {"eventZh": zh, "eventEn": en, "date": str(day), "months": span, "amount": _amount(after)}
    return Hit({"event": en, "ref": ref, "date": str(day)}, evidence, code or p.home(w))


def insurance_mismatch(p: Facts, w: World) -> Hit | None:
    """R15: pension deducted while insurance ended/suspended, or insured while nothing was deducted."""
    if not p.lines or not p.view.insurance:
        return None
    statuses = {i.status for i in p.view.insurance if i.status}
    pension = sum(line.pension for line in p.lines)
    insured = InsuranceStatus.INSURED in statuses
    if pension > 0 and not insured and statuses & {InsuranceStatus.ENDED, InsuranceStatus.SUSPENDED}:
        kind = "DEDUCTED_NOT_INSURED"
    elif insured and pension == 0:
        kind = "INSURED_NOT_DEDUCTED"
    else:
        return None
    evidence = {"month": w.month, "pension": yuan(pension), "status": "/".join(sorted(statuses))}
    return Hit({"kind": kind}, evidence, p.home(w))


def quota_flag_mismatch(p: Facts, w: World) -> Hit | None:
    """R16: a payee paid in the month flagged 编外 while holding an active slot, or 在编 while holding none."""
    for code in sorted({line.payee_code for line in p.lines}):
        payee = p.payee(code)
        if payee is None or payee.on_quota is None or payee.on_quota == bool(p.active):
            continue
        flag = ("在编", "on-quota") if payee.on_quota else ("编外", "off-quota")
        registry = ("无在编记录", "no active slot") if payee.on_quota else ("在编", "an active slot")
        evidence = {"payee": code, "flagZh": flag[0], "flagEn": flag[1], "registryZh": registry[0],
                    "registryEn": registry[1]}
        return Hit({"payee": code, "onQuota": payee.on_quota}, evidence, w.institution("payee", payee.unit_local_id))
    return None


def needs_plans(p: Facts, w: World) -> bool:
    """Whether R13 must see vacancy plans: the person entered a slot by the reference month."""
    return any(s.entered_on is not None and s.entered_on <= w.end for s in p.view.slots)


@dataclass(frozen=True, slots=True)
class PersonRule:
    """How the engine applies a person rule: its check, and, for a rule that needs data only some persons
    need, who needs it (`wants`) and the lookup fetching it a batch at a time (deferred.py) instead of
    holding every plan or streaming every month. A rule is added by declaring it here.

    `may_hit`: a condition over the columnar pass's person frame (SQL as `polars.sql_expr` reads it;
    columnar.py lists the columns), true for every person the check can fire on (a superset; the check
    decides). Without one, the columnar engine runs the check on every person."""

    check: PersonCheck
    lookup: type[Deferred] | None = None
    wants: Callable[[Facts, World], bool] | None = None
    may_hit: str | None = None

    def __post_init__(self) -> None:
        if (self.lookup is None) != (self.wants is None):
            raise ValueError("a person rule's lookup and who wants it go together")

    def __call__(self, p: Facts, w: World) -> Hit | None:
        return self.check(p, w)


PERSON_RULES: dict[str, PersonRule] = {
    "R01": PersonRule(ghost_pay, may_hit="active = 0 AND lines > 0"),
    "R02": PersonRule(unpaid, may_hit="active > 0 AND lines = 0"),
    "R03": PersonRule(unit_mismatch, may_hit="active > 0 AND lines > 0 AND stray_pay"),
    "R05": PersonRule(category_mismatch, may_hit="category_conflict"),
    "R06": PersonRule(scale_mismatch, may_hit="scale_conflict"),
    "R08": PersonRule(past_retirement, may_hit="(active > 0 OR lines > 0) AND NOT deferred AND retirement_due"),
    "R09": PersonRule(duplicate, may_hit="active > 1 OR lines > 1"),
    "R10": PersonRule(invalid_id, may_hit="invalid_id"),
    "R11": PersonRule(birth_sex_mismatch, may_hit="birth_conflict OR sex_conflict"),
    "R12": PersonRule(name_mismatch, may_hit="name_conflict"),
    "R13": PersonRule(no_plan, PlanLookup, needs_plans, may_hit="plan_problem"),
    "R14": PersonRule(pay_after_leaving, PayHistory, needs_pay_history, may_hit="paid_after_leaving"),
    "R15": PersonRule(insurance_mismatch, may_hit=(
        "lines > 0 AND insurance > 0 AND ((pension > 0 AND NOT insured AND ended) OR (insured AND pension = 0))")),
    "R16": PersonRule(quota_flag_mismatch, may_hit="lines > 0 AND quota_flag_conflict"),
}
