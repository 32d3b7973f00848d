"""REORGANIZATION (机构改革 / 转隶): one plan moves people with their slots, moves approved quotas, abolishes
institutions — checked as a whole, reserved while under review, changed per department when completed.

Input (beside `institutionCode`, the institution applying, and `document`, `effectiveOn`):
- `moves`: `{"idNumber": …, "to": code}` (one person) or `{"fromInstitution": code, "to": code}` (everyone
  holding an active slot there); `quotaType` optionally changes the slot's type.
- `quotaTransfers` (划转): `{"from": code, "to": code, "quotaType": …, "count": n}`.
- `abolish`: institution codes; each gets `abolished_on` in the registry base's unit record.
Creating an institution is not a canonical change (a new unit needs a key in every department and a
crosswalk entry), so people and quotas move into existing institutions only.

The check reads set-wise, whatever the plan's size: one read of the slots of every source institution,
one of the moved persons, one of the quotas and one count of the slots of every institution touched,
one read of the hub's reservations. Blockers: `NO_SLOT` (a person moved holds no active slot),
`LEFT_WITHOUT_SLOT` (an abolished institution keeps someone not moved), `QUOTA_EXCEEDED` (an institution
whose slots after the plan — in post, moving in, held by others — exceed its approved count after the
transfers), `POSTS_FULL` (leadership appointments over the approved posts of a level after the moves),
`ABOLISHED_TARGET` (moving into an institution the plan abolishes), `APPLICATION_PENDING` (a person moved has
a live application of their own).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.registry import Sources
from hub.core import ids
from hub.core.changes import Change, ChangeOp
from hub.core.codes import REORGANIZED, PostLevel, QuotaType, SlotStatus
from hub.core.crosswalk import Crosswalk, Identity
from hub.core.errors import BadUserInput
from hub.store.db import utcnow
from hub.store.tables import applications, reservations
from hub.supervision.precheck import ACTIVE_NOW
from hub.workflow import reservations as rs
from hub.workflow.model import LIVE, Blocked, Reason

LEVELS = frozenset(level.value for level in PostLevel)


@dataclass(frozen=True, slots=True)
class Move:
    """One line of `moves`: a person, or everyone at an institution."""

    to: Identity
    id_number: str | None = None
    source: Identity | None = None
    quota_type: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    """Approved counts of a type moving from one institution to another (划转)."""

    source: Identity
    to: Identity
    quota_type: str
    count: int


@dataclass(slots=True)
class Parsed:
    """The plan as parsed from the input."""

    moves: list[Move]
    transfers: list[Transfer]
    abolish: list[Identity]
    document: str | None
    effective_on: str
    by_code: dict[str, Identity] = field(default_factory=dict)

    @property
    def institutions(self) -> list[str]:
        """Every institution the plan touches."""
        return sorted(self.by_code)


@dataclass(slots=True)
class Checked:
    """A plan checked against the departments: each moved slot with where it goes, the quotas after."""

    plan: Parsed
    moved: list[tuple[Any, Identity, str]]  # (the registry slot, to, quota type after)
    quotas: dict[tuple[str, str], int]  # (institution code, type) -> approved after, where the plan changes it
    existing: set[tuple[str, str]]  # (code, type) the quota keeper holds a record of


async def _pending(conn: AsyncConnection, persons: list[str]) -> list[Reason]:
    """`APPLICATION_PENDING`: persons moved who have a live application of their own (leaving, transfer, …)."""
    if not persons:
        return []
    found = sorted({r.id for r in await conn.execute(sa.select(applications.c.id).where(
        applications.c.id_number.in_(persons), applications.c.state.in_(list(LIVE))))})
    if not found:
        return []
    return [Reason("APPLICATION_PENDING", f"转隶人员有在办申请 {', '.join(found[:5])} / persons moved have live "
                   f"applications {', '.join(found[:5])}")]


def _bad(name: str, zh: str, en: str) -> BadUserInput:
    return BadUserInput(f"{name}: {zh} / {en}", field=name)


class Reorganization:
    """The REORGANIZATION planner."""

    def parse(self, values: Mapping[str, Any], crosswalk: Crosswalk) -> Parsed:
        by_code: dict[str, Identity] = {}

        def inst(where: str, code: Any) -> Identity:
            found = crosswalk.find(code) if isinstance(code, str) else None
            if found is None:
                raise _bad(where, f"未知机构 {code!r}", f"unknown institution {code!r}")
            by_code[found.code] = found
            return found

        def quota_type(where: str, value: Any) -> str:
            if value not in QuotaType.__members__:
                raise _bad(where, "未知编制类型", f"unknown quota type {value!r}")
            return str(value)

        moves: list[Move] = []
        for i, m in enumerate(values.get("moves") or []):
            where = f"moves[{i}]"
            if not isinstance(m, Mapping) or set(m) - {"idNumber", "fromInstitution", "to", "quotaType"} \
                    or ("idNumber" in m) == ("fromInstitution" in m):
                raise _bad(where, "须为 {idNumber|fromInstitution, to[, quotaType]}",
                           "must be {idNumber|fromInstitution, to[, quotaType]}")
            qt = quota_type(where, m["quotaType"]) if m.get("quotaType") is not None else None
            if "idNumber" in m:
                key = ids.normalize_id_number(m["idNumber"]) if isinstance(m["idNumber"], str) else None
                if not key or ids.id_number_problem(key):
                    raise _bad(where, "身份证号码无效", f"invalid ID number {m['idNumber']!r}")
                moves.append(Move(inst(where, m.get("to")), id_number=key, quota_type=qt))
            else:
                moves.append(Move(inst(where, m.get("to")), source=inst(where, m["fromInstitution"]), quota_type=qt))
        transfers: list[Transfer] = []
        for i, t in enumerate(values.get("quotaTransfers") or []):
            where = f"quotaTransfers[{i}]"
            if not isinstance(t, Mapping) or set(t) != {"from", "to", "quotaType", "count"} \
                    or not isinstance(t["count"], int) or isinstance(t["count"], bool) or t["count"] < 1:
                raise _bad(where, "须为 {from, to, quotaType, count≥1}", "must be {from, to, quotaType, count≥1}")
            transfers.append(Transfer(inst(where, t["from"]), inst(where, t["to"]),
                                      quota_type(where, t["quotaType"]), t["count"]))
        abolish = [inst(f"abolish[{i}]", c) for i, c in enumerate(values.get("abolish") or [])]
        if not (moves or transfers or abolish):
            raise BadUserInput("改革方案为空 / the plan moves, transfers and abolishes nothing", field="input")
        if any(t.to.code == t.source.code for t in transfers):
            raise _bad("quotaTransfers", "划出与划入机构相同", "a transfer from an institution to itself")
        return Parsed(moves, transfers, abolish, values.get("document"), values.get("effectiveOn") or "", by_code)

    async def check(self, conn: AsyncConnection, sources: Sources, plan: Parsed, application_id: str,
                    today: dt.date, *, reserve: bool) -> Checked:
        slot_dept, quota_dept = sources.holder("registry_slot"), sources.holder("quota")
        slots_src, quota_src = sources[slot_dept], sources[quota_dept]
        blockers: list[Reason] = []
        abolished = {i.code for i in plan.abolish}
        # Who moves: one read of the persons named, one of the slots of every institution moved out whole.
        persons = [m.id_number for m in plan.moves if m.id_number]
        by_person: dict[str, Any] = {}
        for s in await slots_src.fetch("registry_slot", "id_number", persons, ACTIVE_NOW) if persons else []:
            by_person.setdefault(s.id_number, s)
        whole = {m.source.local_id(slot_dept): m for m in plan.moves if m.source is not None}
        sources_of_abolished = {i.local_id(slot_dept): i for i in plan.abolish}
        locals_ = [x for x in {*whole, *sources_of_abolished} if x]
        at_sources = await slots_src.fetch("registry_slot", "unit_local_id", locals_, ACTIVE_NOW) if locals_ else []
        moved: dict[str, tuple[Any, Identity, str]] = {}
        missing: list[str] = []
        for m in plan.moves:
            if m.id_number:
                slot = by_person.get(m.id_number)
                if slot is None:
                    missing.append(m.id_number[:6] + "…")
                    continue
                if slot.slot_id in moved:
                    raise _bad("moves", "同一人员出现在多条转隶中", "a person is moved twice")
                moved[slot.slot_id] = (slot, m.to, m.quota_type or slot.quota_type)
        for s in at_sources:
            whole_move = whole.get(s.unit_local_id)
            if whole_move is not None and s.slot_id not in moved:
                moved[s.slot_id] = (s, whole_move.to, whole_move.quota_type or s.quota_type)
        if missing:
            blockers.append(Reason("NO_SLOT", f"{len(missing)} 名转隶人员无在编记录（{', '.join(missing[:5])}） / "
                                   f"{len(missing)} persons moved hold no active slot ({', '.join(missing[:5])})"))
        left = [s for s in at_sources if s.unit_local_id in sources_of_abolished and s.slot_id not in moved]
        if left:
            codes = sorted({sources_of_abolished[s.unit_local_id].code for s in left})
            blockers.append(Reason("LEFT_WITHOUT_SLOT", f"撤销机构 {', '.join(codes)} 尚有 {len(left)} 人未转隶，将无编可占 / "
                                   f"{len(left)} persons of the abolished {', '.join(codes)} are not moved and would "
                                   "be left without a slot"))
        into_abolished = sorted({to.code for _, to, _ in moved.values() if to.code in abolished}
                                | {t.to.code for t in plan.transfers if t.to.code in abolished})
        if into_abolished:
            blockers.append(Reason("ABOLISHED_TARGET", f"不得转入拟撤销机构 {', '.join(into_abolished)} / nothing can move "
                                   f"into an institution the plan abolishes: {', '.join(into_abolished)}"))
        # Quotas after the plan: one read of the quotas, one count of slots, one read of the reservations.
        local_of = {c: i.local_id(quota_dept) for c, i in plan.by_code.items()}
        approved: Counter[tuple[str, str]] = Counter()
        code_of_local = {v: c for c, v in local_of.items() if v}
        quota_locals = sorted(code_of_local)
        existing: set[tuple[str, str]] = set()
        for q in await quota_src.fetch("quota", "unit_local_id", quota_locals) if quota_locals else []:
            approved[(code_of_local[q.unit_local_id], q.quota_type)] += q.approved
            existing.add((code_of_local[q.unit_local_id], q.quota_type))
        slot_code = {i.local_id(slot_dept): c for c, i in plan.by_code.items() if i.local_id(slot_dept)}
        occupied: Counter[tuple[str, str]] = Counter()
        if slot_code:
            for local, qt, n in await slots_src.count("registry_slot", group_by=["unit_local_id", "quota_type"],
                                                     where={**ACTIVE_NOW, "unit_local_id": sorted(slot_code)}):
                occupied[(slot_code[local], qt)] += n
        rows = list(await conn.execute(sa.select(reservations).where(
            reservations.c.institution_code.in_(plan.institutions), reservations.c.application_id != application_id,
            reservations.c.status.in_([rs.Held.HELD, rs.Held.CONSUMED]),
            reservations.c.what.in_([rs.What.SLOT, rs.What.MOVE]))))
        consumed = sorted({r.application_id for r in rows if r.status == rs.Held.CONSUMED and r.what == rs.What.SLOT})
        arrived = {s.slot_id for s in await slots_src.fetch("registry_slot", "slot_id", consumed, fields={"slot_id"})} \
            if consumed else set()
        for r in rows:
            if r.status == rs.Held.HELD or r.application_id not in arrived:
                occupied[(r.institution_code, r.quota_type)] += 1
        after = Counter(approved)
        for t in plan.transfers:
            after[(t.source.code, t.quota_type)] -= t.count
            after[(t.to.code, t.quota_type)] += t.count
        for slot, to, qt in moved.values():
            occupied[(slot_code.get(slot.unit_local_id, ""), slot.quota_type)] -= 1
            occupied[(to.code, qt)] += 1
        touched = {(to.code, qt) for _, to, qt in moved.values()} | {(t.source.code, t.quota_type) for t in plan.transfers}
        over = sorted(k for k in touched if k[0] not in abolished and (occupied[k] > after[k] or after[k] < 0))
        if over:
            detail = ", ".join(f"{c} {qt} {occupied[(c, qt)]}/{after[(c, qt)]}" for c, qt in over[:10])
            blockers.append(Reason("QUOTA_EXCEEDED", f"改革后超编（机构 类型 实有/核定：{detail}） / over the approved "
                                   f"quota after the plan (institution type occupied/approved: {detail})"))
        blockers += await self._posts(conn, sources, moved, application_id)
        blockers += await _pending(conn, sorted({s.id_number for s, _, _ in moved.values() if s.id_number}))
        if blockers:
            raise Blocked(blockers)
        if reserve:
            now = utcnow()
            held = [(to.code, qt) for _, to, qt in moved.values()]
            held += [(t.source.code, t.quota_type) for t in plan.transfers for _ in range(t.count)]
            if held:
                await conn.execute(sa.insert(reservations), [
                    {"application_id": application_id, "institution_code": c, "quota_type": qt, "what": rs.What.MOVE,
                     "plan_id": None, "status": rs.Held.HELD, "created_at": now, "updated_at": now} for c, qt in held])
        changed = {(t.source.code, t.quota_type) for t in plan.transfers} | {(t.to.code, t.quota_type) for t in plan.transfers}
        return Checked(plan, list(moved.values()), {k: after[k] for k in sorted(changed)}, existing)

    async def _posts(self, conn: AsyncConnection, sources: Sources, moved: Mapping[str, tuple[Any, Identity, str]],
                     application_id: str) -> list[Reason]:
        """`POSTS_FULL`: a receiving institution whose open leadership appointments (head, deputy) after the moves
        exceed its approved posts of that level (unit and internal scopes together). One read of the moved
        persons' appointments, one count of the receiving institutions' appointments, one read of their posts;
        posts held by live leadership-post applications count as filled."""
        holders = sources.holders()
        if "appointment" not in holders or "leadership_post" not in holders:
            return []
        appt_dept, post_dept = holders["appointment"], holders["leadership_post"]
        goes_to = {s.id_number: to for s, to, _ in moved.values() if s.id_number}
        targets = {to.code: to for to in goes_to.values()}
        at = {local: code for code, to in targets.items() if (local := to.local_id(appt_dept))}
        change: Counter[tuple[str, str]] = Counter()
        for a in await sources[appt_dept].fetch("appointment", "id_number", sorted(goes_to), {"end_on": None}) \
                if goes_to else []:
            to = goes_to[a.id_number].code
            if a.role in LEVELS and at.get(a.unit_local_id) != to:
                change[(to, a.role)] += 1
                if a.unit_local_id in at:  # leaving one receiving institution for another
                    change[(at[a.unit_local_id], a.role)] -= 1
        if not any(n > 0 for n in change.values()):
            return []
        filled: Counter[tuple[str, str]] = Counter()
        for unit, role, n in await sources[appt_dept].count("appointment", group_by=["unit_local_id", "role"],
                                                           where={"end_on": None, "unit_local_id": sorted(at)}):
            if unit in at:
                filled[(at[unit], role)] += n
        for r in await conn.execute(sa.select(reservations.c.institution_code, reservations.c.plan_id).where(
                reservations.c.institution_code.in_(sorted(targets)), reservations.c.what == rs.What.POST,
                reservations.c.status == rs.Held.HELD, reservations.c.application_id != application_id)):
            filled[(r.institution_code, (r.plan_id or "").split("/")[0])] += 1  # posts live appointments hold
        posts_at = {local: code for code, to in targets.items() if (local := to.local_id(post_dept))}
        approved: Counter[tuple[str, str]] = Counter()
        for p in await sources[post_dept].fetch("leadership_post", "unit_local_id", sorted(posts_at)) if posts_at else []:
            approved[(posts_at[p.unit_local_id], p.level)] += p.approved
        over = sorted(k for k, n in change.items() if n > 0 and filled[k] + n > approved[k])
        if not over:
            return []
        detail = ", ".join(f"{c} {role} {filled[(c, role)] + change[(c, role)]}/{approved[(c, role)]}" for c, role in over)
        return [Reason("POSTS_FULL", f"转隶后领导职数超配（机构 职级 在任/核定：{detail}） / leadership posts over the "
                       f"approved number after the moves (institution level filled/approved: {detail})")]

    async def changes(self, sources: Sources, checked: Checked, application_id: str) -> list[Change]:
        plan = checked.plan
        out: list[Change] = []

        def add(department: str, entity: str, op: ChangeOp, values: dict[str, Any], key: dict[str, Any]) -> None:
            out.append(Change(application_id, len(out) + 1, department, entity, op, values, key))

        quota_dept, slot_dept, base = sources.holder("quota"), sources.holder("registry_slot"), sources.base
        # The registry: quotas grow first, slots move, quotas shrink, units are abolished.
        for (code, qt), approved in checked.quotas.items():
            local = plan.by_code[code].local_id(quota_dept)
            values = {"approved": approved, "document": plan.document, "approved_on": plan.effective_on}
            if (code, qt) in checked.existing:
                add(quota_dept, "quota", ChangeOp.UPDATE, values, {"unit_local_id": local, "quota_type": qt})
            else:
                add(quota_dept, "quota", ChangeOp.INSERT, {**values, "unit_local_id": local, "quota_type": qt}, {})
        # A moved person leaves the old slot and enters a new one on the effective date: the registry keeps
        # where they were before it (a slot's institution is never rewritten), and the new slot cites no plan.
        for slot, to, qt in checked.moved:
            add(slot_dept, "registry_slot", ChangeOp.UPDATE, {
                "left_on": plan.effective_on, "left_reason": REORGANIZED, "status": SlotStatus.LEFT.value},
                {"slot_id": slot.slot_id})
            kept = {f: getattr(slot, f) for f in ("id_number", "name", "sex", "birth", "ethnic_group", "education")
                    if getattr(slot, f) is not None}
            add(slot_dept, "registry_slot", ChangeOp.INSERT, {
                **kept, "unit_local_id": to.local_id(slot_dept), "quota_type": qt, "entered_on": plan.effective_on,
                "status": SlotStatus.ACTIVE.value}, {})
        for ident in plan.abolish:
            add(base, "unit", ChangeOp.UPDATE, {"abolished_on": plan.effective_on}, {"local_id": ident.local_id(base)})
        # Each other department: the person's records move to the receiving unit (one read per entity).
        to_of = {slot.id_number: to for slot, to, _ in checked.moved if slot.id_number}
        persons = sorted(to_of)
        for entity, key in (("personnel", "person_no"), ("post_assignment", "person_no"), ("cadre", "cadre_id"),
                            ("appointment", "appointment_id"), ("payee", "payee_code")):
            department = sources.holder(entity)
            records = await sources[department].fetch(entity, "id_number", persons) if persons else []
            seen: set[Any] = set()
            for r in sorted(records, key=lambda r: (r.id_number, getattr(r, key))):
                if getattr(r, "end_on", None) is not None or getattr(r, key) in seen:
                    continue
                seen.add(getattr(r, key))
                target = to_of[r.id_number].local_id(department)
                if target and r.unit_local_id != target:
                    add(department, entity, ChangeOp.UPDATE, {"unit_local_id": target}, {key: getattr(r, key)})
        return out


PLANNER = Reorganization()
