"""Precheck (事前校验): what blocks or warns against an intended action on an institution and a person.

The one-window workflow calls this before it starts an application: "no quota, no hiring" (no
vacant slot of the type, no approved vacancy plan with places left), frozen institutions, open
severe alerts on the institution or the person. `frozen(store, institution_code, kinds)` is the
freeze check alone, for the workflow to call at submission and again at completion: an ACTIVE
freeze of one of the kinds blocks (`INSTITUTION_FROZEN`), a proposed one warns (`FREEZE_PROPOSED`).
A caller that decides some codes itself names them (`decided`): the checks that give only those
codes are not run (the workflow counts vacancy beside its reservations and checks its kinds' freezes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import sqlalchemy as sa

from adapters.registry import Sources
from hub.core import ids
from hub.core.codes import PlanStatus, SlotStatus
from hub.core.crosswalk import Crosswalk
from hub.core.errors import BadUserInput
from hub.core.retirement import retirement_date, retirement_group
from hub.store import Store
from hub.store.tables import alerts
from hub.supervision.alerts import OPEN_STATES
from hub.supervision.freezes import FreezeStatus, in_force, kinds_text
from hub.supervision.model import FreezeKind, Severity

ACTIVE_NOW = {"status": [SlotStatus.ACTIVE, SlotStatus.SECONDED], "left_on": None}


class Action(StrEnum):
    """An action the workflow is about to start."""

    HIRE = "HIRE"  # 入编（招录、聘用）
    TRANSFER_IN = "TRANSFER_IN"  # 调入
    PAY_START = "PAY_START"  # 起薪
    PAY_CHANGE = "PAY_CHANGE"  # 工资变动（劳资异动）
    LEAVE = "LEAVE"  # 出编
    APPOINT = "APPOINT"  # 干部任免


# What freezes stop each action: entering a slot uses quota and hires; pay stops with payroll changes.
KINDS: dict[Action, tuple[FreezeKind, ...]] = {
    Action.HIRE: (FreezeKind.QUOTA_USE, FreezeKind.HIRING), Action.TRANSFER_IN: (FreezeKind.QUOTA_USE, FreezeKind.HIRING),
    Action.PAY_START: (FreezeKind.PAYROLL,), Action.PAY_CHANGE: (FreezeKind.PAYROLL,),
    Action.APPOINT: (FreezeKind.APPOINTMENT,),
}
ENTERING = frozenset({Action.HIRE, Action.TRANSFER_IN})
FROZEN, PROPOSED = "INSTITUTION_FROZEN", "FREEZE_PROPOSED"
VACANCY = frozenset({"QUOTA_EXCEEDED", "NO_VACANCY_PLAN"})  # the codes of `_vacancy`
FREEZES = frozenset({FROZEN, PROPOSED})  # the codes of `_freezes`
BLOCKING = frozenset({FROZEN})  # the codes of `frozen` that block; the others warn


@dataclass(frozen=True, slots=True)
class Item:
    """One reason, with a code the workflow can act on and a bilingual message."""

    code: str
    message: str

    @property
    def blocks(self) -> bool:
        """Whether this item of `frozen` blocks (an active freeze) rather than warns (a proposal)."""
        return self.code in BLOCKING


async def frozen(store: Store, institution_code: str, kinds: Sequence[FreezeKind | str]) -> list[Item]:
    """What the freezes in force of an institution say against changes of some kinds (canonical code).

    One item per freeze covering any of the kinds: `INSTITUTION_FROZEN` (blocks; `Item.blocks`) for an
    active freeze, `FREEZE_PROPOSED` (a warning) for a proposal; empty when nothing is frozen.
    """
    wanted = [FreezeKind(k) for k in kinds]
    out: list[Item] = []
    if not wanted:
        return out
    for f in await in_force(store, institution_code, wanted):
        zh, en = kinds_text([k for k in f.kinds if k in wanted])
        if f.status == FreezeStatus.ACTIVE:
            out.append(Item(FROZEN, f"机构已冻结{zh}（冻结 #{f.id}：{f.reason}） / the institution is frozen for {en} "
                                    f"(freeze #{f.id}: {f.reason})"))
        else:
            out.append(Item(PROPOSED, f"已建议冻结{zh}（#{f.id}） / a freeze of {en} is proposed (#{f.id})"))
    return out


@dataclass(slots=True)
class PrecheckResult:
    """Blockers stop the action; warnings are shown to whoever decides."""

    action: Action
    institution_code: str
    id_number: str | None
    blockers: list[Item] = field(default_factory=list)
    warnings: list[Item] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        """Whether nothing blocks the action."""
        return not self.blockers


async def precheck(sources: Sources, crosswalk: Crosswalk, store: Store, action: Action, institution_code: str,
                   id_number: str | None = None, quota_type: str | None = None,
                   today: dt.date | None = None, decided: Collection[str] = ()) -> PrecheckResult:
    """Check an intended action against freezes, quotas, vacancy plans, open severe alerts and the person
    (leaving out the checks whose codes are all `decided` by the caller)."""
    ident = crosswalk.find(institution_code)
    if ident is None:
        raise BadUserInput(f"未知机构 / unknown institution: {institution_code!r}", field="institutionCode")
    person = ids.parse_id_number(id_number) if id_number else None
    today = today or dt.date.today()
    out = PrecheckResult(action, ident.code, person)
    if not FREEZES.issubset(decided):
        await _freezes(store, out)
    local = ident.local_id(crosswalk.base)
    if action in ENTERING and local is not None and not VACANCY.issubset(decided):
        await _vacancy(sources, local, quota_type, today, out)
    await _alerts(store, out)
    if person is not None:
        await _person(sources, local, person, today, out)
    return out


async def _freezes(store: Store, out: PrecheckResult) -> None:
    for item in await frozen(store, out.institution_code, KINDS.get(out.action, ())):
        (out.blockers if item.blocks else out.warnings).append(item)


async def _vacancy(sources: Sources, local: str, quota_type: str | None, today: dt.date, out: PrecheckResult) -> None:
    """No vacant slot of the type (all types when none is given), no plan with places left: blockers."""
    quotas, slots, plans_source = (sources[sources.holder(e)] for e in ("quota", "registry_slot", "vacancy_plan"))
    approved: dict[str, int] = {}
    for q in await quotas.fetch("quota", "unit_local_id", [local]):
        approved[q.quota_type] = approved.get(q.quota_type, 0) + q.approved
    occupied = {t: n for t, n in await slots.count("registry_slot", group_by=["quota_type"],
                                                  where={**ACTIVE_NOW, "unit_local_id": local})}
    types = [quota_type] if quota_type else sorted(approved)
    vacant = {t: approved.get(t, 0) - occupied.get(t, 0) for t in types}
    if not any(v > 0 for v in vacant.values()):
        detail = ", ".join(f"{t} {approved.get(t, 0)}/{occupied.get(t, 0)}" for t in types) or "—"
        out.blockers.append(Item("QUOTA_EXCEEDED", f"无空编（核定/实有：{detail}） / no vacant slot (approved/in post: {detail})"))
    plans = [p for p in await plans_source.fetch("vacancy_plan", "unit_local_id", [local])
             if p.status != PlanStatus.REVOKED and p.approved_on is not None and p.approved_on <= today
             and (quota_type is None or p.quota_type == quota_type)]
    used = {pid: n for pid, n in await slots.count("registry_slot", group_by=["plan_id"],
                                                  where={"plan_id": [p.plan_id for p in plans]})} if plans else {}
    if not any(p.planned - used.get(p.plan_id, 0) > 0 for p in plans):
        out.blockers.append(Item("NO_VACANCY_PLAN", "无名额剩余的已批准空编补员计划 / no approved vacancy plan with places left"
                                 + (f" ({quota_type})" if quota_type else "")))


async def _alerts(store: Store, out: PrecheckResult) -> None:
    """Open severe alerts on the institution or the person: warnings."""
    subjects = [alerts.c.institution_code == out.institution_code]
    if out.id_number:
        subjects.append(alerts.c.id_number == out.id_number)
    async with store.connect() as conn:
        rows = list(await conn.execute(sa.select(alerts.c.id, alerts.c.rule, alerts.c.id_number).where(
            sa.or_(*subjects), alerts.c.status.in_([s.value for s in OPEN_STATES]),
            alerts.c.severity == Severity.SEVERE.value)))
    on_person = [r for r in rows if out.id_number and r.id_number == out.id_number]
    on_unit = [r for r in rows if r not in on_person]
    for rows_, code, zh, en in ((on_unit, "OPEN_SEVERE_ALERTS", "机构", "the institution"),
                                (on_person, "PERSON_SEVERE_ALERTS", "该人员", "the person")):
        if rows_:
            rules = ", ".join(sorted({r.rule for r in rows_}))
            out.warnings.append(Item(code, f"{zh}有 {len(rows_)} 条未处理的严重预警（{rules}） / {en} has "
                                     f"{len(rows_)} open severe alerts ({rules})"))


async def _person(sources: Sources, local: str | None, person: str, today: dt.date, out: PrecheckResult) -> None:
    """Slots the person already holds (hiring, starting pay) and statutory retirement."""
    slots = await sources[sources.holder("registry_slot")].fetch("registry_slot", "id_number", [person], ACTIVE_NOW)
    if out.action == Action.HIRE and slots:
        out.blockers.append(Item("ALREADY_IN_SLOT", "该人员已占用在编实名制编制，应走调入 / the person already holds an "
                                 "active slot: use a transfer (R09)"))
    if out.action == Action.PAY_START and not any(s.unit_local_id == local for s in slots):
        out.blockers.append(Item("NO_SLOT", "未入编不得起薪 / no pay before entering a slot in this institution (R01)"))
    if out.action == Action.LEAVE and not any(s.unit_local_id == local for s in slots):
        out.blockers.append(Item("NO_SLOT", "该人员在本机构无在编记录 / the person holds no active slot here"))
    birth = ids.id_birth_date(person)
    if birth is not None and out.action in (*ENTERING, Action.PAY_START):
        male = ids.id_sex(person) == "male"
        due = retirement_date(birth, retirement_group("male" if male else "female", False))
        if due <= today:
            out.warnings.append(Item("PAST_RETIREMENT", f"已过法定退休日期 {due} / past the statutory retirement date {due} (R08)"))
