"""The workflow engine: submit, decide, withdraw, resubmit — every transition a compare-and-set.

Submitting validates the input against the kind, runs the precheck (the supervision precheck for
the kind's action, the freeze kinds that block it, one live application per person for exclusive
kinds) and, under the institution's lock, counts the vacancy beside the live reservations and
reserves what the kind holds. Any blocker raises `Blocked` (its code the first blocker's) and the
transaction writes nothing. A decision moves the application's stage on when every parallel step
of it approved; the last approval re-runs the precheck, consumes the reservations, writes the
kind's changes to the outbox in the same transaction, and after the commit calls `after_commit`
(which delivers them; a no-op by default). Every transition is an UPDATE naming the version that
was read (`... WHERE id = :id AND version = :seen`) with its history row in the same transaction
(on PostgreSQL in the same statement, which alone is a decision's transaction when nothing else
changes): a concurrent second decision on the same step is CONFLICT.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.registry import Sources
from hub.core.changes import Change
from hub.core.crosswalk import Crosswalk, Identity
from hub.core.errors import BadUserInput, Conflict, Forbidden, NotFound
from hub.store import Store
from hub.store.db import aware, utcnow
from hub.store.outbox import enqueue
from hub.store.tables import application_events, applications
from hub.supervision import precheck as pc
from hub.workflow import effects, generated, planners
from hub.workflow import reservations as rs
from hub.workflow.kinds import Kind, Step, kind_of, shipped_kinds
from hub.workflow.model import LIVE, UNDER_REVIEW, Actor, Application, Blocked, Decision, Event, Reason, State

log = logging.getLogger(__name__)
AfterCommit = Callable[[str, Sequence[Change]], Awaitable[None]]
# The precheck's codes the engine decides itself (those checks are not run): vacancy, counted beside the
# reservations, and freezes, of the kind's declared freeze kinds.
DECIDED = pc.VACANCY | pc.FREEZES


async def _nothing() -> None:
    """An awaitable of nothing (a read a kind does not need)."""


async def _no_delivery(application_id: str, changes: Sequence[Change]) -> None:
    """The default after-commit hook: nothing (the changes wait in the outbox)."""


@dataclass(frozen=True, slots=True)
class Checked:
    """What a submission or resubmission resolved: the input, the institution and the precheck's warnings."""

    input: dict[str, Any]
    ident: Identity
    id_number: str | None
    warnings: list[Reason]
    survey: rs.Survey | None  # the departments' side of the vacancy, when the kind counts it
    kind: Kind | None = None  # the kind as it runs for this input (its route, for a routed kind)
    plan: Any = None  # what the kind's planner resolved from the input (planned kinds)


class Workflow:
    """The engine over a hub store and the department sources."""

    def __init__(self, store: Store, sources: Sources, crosswalk: Crosswalk, *,
                 kinds: Mapping[str, Kind] | None = None, after_commit: AfterCommit | None = None,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        self.store = store
        self.sources = sources
        self.crosswalk = crosswalk
        self.kinds = kinds if kinds is not None else shipped_kinds()
        self.after_commit = after_commit or _no_delivery
        self.today = today

    # --- submitting --------------------------------------------------------------------------

    async def submit(self, kind_name: str, raw_input: Mapping[str, Any] | None, actor: Actor) -> Application:
        """Accept an application (reserving what its kind holds) or raise Blocked / BAD_USER_INPUT / FORBIDDEN."""
        kind = kind_of(kind_name, self.kinds)
        if not actor.may(kind.submit):
            raise Forbidden(f"无权提交{kind.title.split(' / ')[0]}申请 / you may not submit {kind.kind} applications")
        checked = await self._check(kind, raw_input, actor)
        kind = checked.kind or kind
        app_id = new_id()
        now = utcnow()
        async with self.store.begin() as conn:
            await rs.lock(conn, _lock_names(checked))
            await self._exclusive(conn, kind, checked.id_number, None)
            await self._reserve(conn, kind, app_id, checked)
            await self._plan(conn, kind, app_id, checked)
            first = kind.stages[0]
            submitted = Application(
                id=app_id, kind=kind.kind, state=State.SUBMITTED, institution_code=checked.ident.code,
                region_code=checked.ident.region_code, id_number=checked.id_number, input=checked.input, stage=0,
                current_steps=tuple(s.name for s in first), precheck=_precheck_json(checked.warnings), version=1,
                submitted_by=actor.subject, submitted_department=actor.department, submitted_at=now, stage_since=now,
                updated_at=now, completed_at=None)
            await conn.execute(sa.insert(applications).values(
                {**{f: getattr(submitted, f) for f in _COLUMNS}, "current_steps": list(submitted.current_steps)}))
            event = _made(None, "SUBMIT", None, State.SUBMITTED, actor, now, None, None)
            await conn.execute(sa.insert(application_events), _event_row(app_id, event))
            return _with(submitted, event)

    async def _check(self, kind: Kind, raw_input: Mapping[str, Any] | None, actor: Actor,
                     final: bool = False) -> Checked:
        """Validate the input and run the precheck outside the lock (vacancy is counted under it)."""
        values = kind.validate_input(raw_input)
        kind = kind.routed(values)
        ident = self.crosswalk.find(values["institutionCode"])
        if ident is None:
            raise BadUserInput(f"未知机构 / unknown institution: {values['institutionCode']!r}", field="institutionCode")
        if not final and not actor.covers(ident.region_code):
            raise Forbidden("该机构不在您的数据范围内 / the institution lies outside your region scope")
        values["institutionCode"] = ident.code
        id_number = values.get("idNumber")
        blockers: list[Reason] = []
        warnings: list[Reason] = []
        # The precheck, the freezes, the slot rules and the vacancy survey read side by side; the first error
        # raised (in this order) is the one reported, once all have ended.
        survey = rs.survey(self.store, self.sources, ident, values["quotaType"], self.today()) \
            if kind.reserve.counts else _nothing()
        found = await asyncio.gather(
            pc.precheck(self.sources, self.crosswalk, self.store, pc.Action(kind.precheck.action), ident.code,
                        id_number, values.get("quotaType"), today=self.today(), decided=DECIDED)
            if kind.precheck.action else _nothing(),
            pc.frozen(self.store, ident.code, kind.freezes), self._slot_rules(kind, values, ident, id_number),
            survey, return_exceptions=True)
        for outcome in found:
            if isinstance(outcome, BaseException):
                raise outcome
        result, freezes, slot_rules, seen = cast(
            tuple[pc.PrecheckResult | None, list[pc.Item], list[Reason], rs.Survey | None], tuple(found))
        if result is not None:
            blockers += [Reason(i.code, i.message) for i in result.blockers]
            for item in result.warnings:
                (blockers if item.code in kind.precheck.promote else warnings).append(Reason(item.code, item.message))
        blockers += [Reason(i.code, i.message) for i in freezes if i.blocks]
        blockers += slot_rules
        plan = planners.planner(kind.planner).parse(values, self.crosswalk) if kind.planner else None
        if blockers:
            raise Blocked(blockers)
        return Checked(values, ident, id_number, warnings, seen, kind, plan)

    async def _slot_rules(self, kind: Kind, values: dict[str, Any], ident: Identity,
                          id_number: str | None) -> list[Reason]:
        """The kind's slot rules: the person holds an active slot at the institution of a field (moving
        from there), or none anywhere (coming from outside the league)."""
        rule = kind.precheck
        if not id_number or not (rule.holds_slot_at or rule.holds_no_slot):
            return []
        department = self.sources.holder("registry_slot")
        slots = await self.sources[department].fetch("registry_slot", "id_number", [id_number], pc.ACTIVE_NOW)
        found: list[Reason] = []
        if rule.holds_no_slot and slots:
            found.append(Reason("ALREADY_IN_SLOT", "该人员已在盟内在编，应走盟内调动 / the person already holds an active "
                                "slot in the league: use the within-league route"))
        if rule.holds_slot_at:
            field = rule.holds_slot_at
            origin = self.crosswalk.find(values[field])
            if origin is None:
                raise BadUserInput(f"未知机构 / unknown institution: {values[field]!r}", field=field)
            if origin.code == ident.code:
                raise BadUserInput("调出与调入机构相同 / the institution moved from is the one moved to", field=field)
            values[field] = origin.code
            if not any(s.unit_local_id == origin.local_id(department) for s in slots):
                found.append(Reason("NO_SLOT", f"该人员在调出机构 {origin.code} 无在编记录 / the person holds no active "
                                    f"slot at {origin.code}"))
        return found

    async def _plan(self, conn: AsyncConnection, kind: Kind, app_id: str, checked: Checked,
                    final: bool = False) -> Any:
        """A planned kind: validate the whole plan under the locks and reserve what it holds (at submission)."""
        if not kind.planner:
            return None
        return await planners.planner(kind.planner).check(conn, self.sources, checked.plan, app_id, self.today(),
                                                          reserve=not final)

    async def _exclusive(self, conn: AsyncConnection, kind: Kind, id_number: str | None, own: str | None) -> None:
        """One live application of an exclusive kind per person (under the person's lock)."""
        if not (kind.precheck.person_exclusive and id_number):
            return
        exclusive = [k.kind for k in self.kinds.values() if k.precheck.person_exclusive]
        other = (await conn.execute(sa.select(applications.c.id, applications.c.kind).where(
            applications.c.id_number == id_number, applications.c.kind.in_(exclusive),
            applications.c.state.in_(list(LIVE)), applications.c.id != (own or "")))).first()
        if other is not None:
            raise Blocked([Reason("APPLICATION_PENDING", f"该人员已有在办申请 {other.id}（{other.kind}） / the person "
                                  f"already has a live application {other.id} ({other.kind})")])

    async def _reserve(self, conn: AsyncConnection, kind: Kind, app_id: str, checked: Checked,
                       final: bool = False) -> dict[str, Any]:
        """Count the vacancy under the lock; reserve (at submission) or re-check the own reservation (final).

        Returns the plan values the effects refer to (`plan_id`, `used_after`)."""
        spec = kind.reserve
        if spec.post:
            await self._post(conn, app_id, checked, final)
        if not spec.counts:
            return {}
        quota_type = checked.input["quotaType"]
        assert checked.survey is not None  # made by _check for every kind that counts
        room = await rs.room(conn, checked.survey, checked.ident, quota_type, exclude=app_id)
        if spec.approved_floor:
            floor = int(checked.input[spec.approved_floor])
            if room.occupied + room.held > floor:
                raise Blocked([Reason("QUOTA_EXCEEDED", f"调整后核定数 {floor} 少于实有 {room.occupied} 与在办占用 "
                                      f"{room.held} / the new approved count {floor} is below the {room.occupied} in "
                                      f"post and {room.held} reserved")])
            return {}
        need = int(checked.input[spec.plan_places]) if spec.plan_places else 1
        if room.vacant < need:
            raise Blocked([Reason("QUOTA_EXCEEDED", f"无空编：{quota_type} 核定 {room.approved}，实有 {room.occupied}，"
                                  f"在办占用 {room.held}，需 {need} / no vacant slot: {quota_type} {room.approved} "
                                  f"approved, {room.occupied} in post, {room.held} reserved, {need} needed")])
        plan: rs.PlanRoom | None = None
        if spec.plan:
            own = room.own_plan if final else None
            entering = checked.input.get(spec.entering) if spec.entering else None
            entering_on = dt.date.fromisoformat(entering) if isinstance(entering, str) else entering
            plan = next((p for p in room.plans if p.plan_id == own), None) if own else room.plan_with_places(entering_on)
            if plan is None or plan.left < 1:
                by = f"，批准于入编日期 {entering_on} 或之前" if entering_on else ""
                by_en = f", approved on or before the entry date {entering_on}" if entering_on else ""
                raise Blocked([Reason("NO_VACANCY_PLAN", f"无名额剩余的已批准空编补员计划（{quota_type}{by}） / no "
                                      f"approved vacancy plan with places left ({quota_type}{by_en})")])
        if not final:
            await rs.reserve(conn, app_id, checked.ident.code, [
                *([(quota_type, rs.What.SLOT, None)] if spec.slot else []),
                *([(quota_type, rs.What.PLAN, plan.plan_id)] if plan is not None else [])])
        return {"plan_id": plan.plan_id, "used_after": len(plan.used | {app_id})} if plan is not None else {}

    async def _post(self, conn: AsyncConnection, app_id: str, checked: Checked, final: bool) -> None:
        """A leadership post free for the appointment (counted under the lock), held from submission on."""
        found = await rs.posts(conn, self.sources, checked.ident, checked.input["role"], checked.input["levelCode"],
                               exclude=app_id)
        if found.free < 1:
            raise Blocked([Reason("POSTS_FULL", f"领导职数已满：{found.role}/{found.scope} 核定 {found.approved}，在任 "
                                  f"{found.filled}，在办 {found.held} / leadership posts full: {found.role}/{found.scope} "
                                  f"{found.approved} approved, {found.filled} filled, {found.held} reserved")])
        if not final:
            await rs.reserve(conn, app_id, checked.ident.code, [("POST", rs.What.POST, found.key)])

    # --- deciding ----------------------------------------------------------------------------

    def actionable(self, app: Application, actor: Actor) -> list[Step]:
        """The current steps the actor may decide (department keeps the step's entity, region, Casbin action)."""
        if app.state not in UNDER_REVIEW or not actor.covers(app.region_code):
            return []
        kind = self._kind(app)
        return [s for s in (kind.step(n) for n in app.current_steps)
                if self.sources.holder(s.keeper) == actor.department and actor.may(s.action)]

    async def decide(self, app_id: str, decision: Decision, comment: str | None, actor: Actor) -> Application:
        """Approve, return or reject the actor's step of an application."""
        if decision != Decision.APPROVE and not (comment or "").strip():
            raise BadUserInput("退回或不予通过须说明理由 / returning or rejecting needs a comment", field="comment")
        app = await self.get(app_id)
        steps = self.actionable(app, actor)
        if not steps:
            if app.state not in UNDER_REVIEW:
                raise Conflict(f"申请 {app_id} 状态为 {app.state}，不能审批 / application {app_id} is {app.state}; "
                               "nothing to decide", state=str(app.state))
            raise Forbidden(f"您无权审批申请 {app_id} 的当前环节 / none of the current steps of {app_id} is yours to decide")
        step = steps[0]
        kind = self._kind(app)
        now = utcnow()
        waited = (now - app.stage_since).total_seconds()
        remaining = [n for n in app.current_steps if n != step.name]
        done: list[Change] = []
        if decision == Decision.APPROVE and not remaining and app.stage + 1 == len(kind.stages):
            done, decided = await self._complete(app, kind, step, comment, actor, now, waited)
        else:
            values: dict[str, Any]
            if decision == Decision.APPROVE:
                stage, steps_now, since = app.stage, remaining, app.stage_since
                if not remaining:
                    stage, since = app.stage + 1, now
                    steps_now = [s.name for s in kind.stages[stage]]
                to = State.IN_REVIEW
                values = {"state": to, "stage": stage, "current_steps": steps_now, "stage_since": since}
            else:
                to = State.RETURNED if decision == Decision.RETURN else State.REJECTED
                values = {"state": to, "current_steps": []}
            event = _made(step.name, decision.value, app.state, to, actor, now, comment, waited)
            if to == State.REJECTED:
                async with self.store.begin() as conn:
                    decided = await _move(conn, app, event, **values)
                    await rs.settle(conn, app.id, rs.Held.RELEASED)
            else:  # the move alone: one statement on PostgreSQL, its own transaction
                async with self.store.single() as conn:
                    decided = await _move(conn, app, event, **values)
        if done:
            try:
                await self.after_commit(app.id, done)
            except Exception:  # the changes are committed in the outbox; delivery retries them later
                log.exception("delivering the changes of %s failed; they stay in the outbox", app.id)
        return decided

    async def _complete(self, app: Application, kind: Kind, step: Step, comment: str | None, actor: Actor,
                        now: dt.datetime, waited: float) -> tuple[list[Change], Application]:
        """The last approval: precheck again, consume the reservations, write the changes to the outbox.

        Returns the changes and the completed application."""
        checked = await self._check(kind, app.input, actor, final=True)
        person = await effects.person_records(self.sources, kind, checked.ident, checked.id_number)
        origin: dict[str, Any] = {}
        if kind.precheck.holds_slot_at:
            moved_from = self.crosswalk.find(checked.input[kind.precheck.holds_slot_at])
            assert moved_from is not None  # checked
            origin = await effects.person_records(self.sources, kind, moved_from, checked.id_number, head="from")
        async with self.store.begin() as conn:
            await rs.lock(conn, _lock_names(checked))
            plan = await self._reserve(conn, kind, app.id, checked, final=True)
            planned = await self._plan(conn, kind, app.id, checked, final=True)
            values = effects.Values(app.id, checked.input, checked.ident, person, plan, self.today(), origin)
            assign = functools.partial(generated.assign, conn, self.sources)
            made = ([await assign(c) for c in await planners.planner(kind.planner).changes(self.sources, planned, app.id)]
                    if kind.planner else await effects.changes(kind, self.sources, values, assign))
            event = _made(step.name, Decision.APPROVE.value, app.state, State.COMPLETED, actor, now, comment, waited)
            moved = await _move(conn, app, event, state=State.COMPLETED, current_steps=[], completed_at=now,
                                precheck=_precheck_json(checked.warnings))
            await rs.settle(conn, app.id, rs.Held.CONSUMED)
            await enqueue(conn, made)
            return made, moved

    # --- the applicant's steps ---------------------------------------------------------------

    async def withdraw(self, app_id: str, actor: Actor, comment: str | None = None) -> Application:
        """Withdraw a live application (releasing what it holds)."""
        app = await self.get(app_id)
        self._applicant(app, actor)
        if app.state not in LIVE:
            raise Conflict(f"申请 {app_id} 状态为 {app.state}，不能撤回 / application {app_id} is {app.state}; it cannot "
                           "be withdrawn", state=str(app.state))
        now = utcnow()
        async with self.store.begin() as conn:
            event = _made(None, "WITHDRAW", app.state, State.WITHDRAWN, actor, now, comment, None)
            moved = await _move(conn, app, event, state=State.WITHDRAWN, current_steps=[])
            await rs.settle(conn, app.id, rs.Held.RELEASED)
            return moved

    async def resubmit(self, app_id: str, raw_input: Mapping[str, Any] | None, actor: Actor,
                       comment: str | None = None) -> Application:
        """Send a returned application back to its first stage, with changed input (or the same when none)."""
        app = await self.get(app_id)
        self._applicant(app, actor)
        if app.state != State.RETURNED:
            raise Conflict(f"申请 {app_id} 状态为 {app.state}，只有被退回的申请可以重新提交 / application {app_id} is "
                           f"{app.state}; only a returned one can be resubmitted", state=str(app.state))
        checked = await self._check(self.kinds[app.kind], raw_input if raw_input is not None else app.input, actor)
        kind = checked.kind or self.kinds[app.kind]
        now = utcnow()
        async with self.store.begin() as conn:
            names = _lock_names(checked) | {f"institution:{app.institution_code}"}
            await rs.lock(conn, names)
            await self._exclusive(conn, kind, checked.id_number, app.id)
            await rs.settle(conn, app.id, rs.Held.RELEASED)
            await self._reserve(conn, kind, app.id, checked)
            await self._plan(conn, kind, app.id, checked)
            event = _made(None, "RESUBMIT", app.state, State.SUBMITTED, actor, now, comment, None)
            return await _move(conn, app, event, state=State.SUBMITTED, stage=0,
                               current_steps=[s.name for s in kind.stages[0]], stage_since=now, input=checked.input,
                               institution_code=checked.ident.code, region_code=checked.ident.region_code,
                               id_number=checked.id_number, precheck=_precheck_json(checked.warnings))

    def _kind(self, app: Application) -> Kind:
        """An application's kind as it runs for its input (its route)."""
        return self.kinds[app.kind].routed(app.input)

    def _applicant(self, app: Application, actor: Actor) -> None:
        kind = self.kinds[app.kind]
        if not (actor.may(kind.submit) and actor.covers(app.region_code)):
            raise Forbidden(f"您无权处理申请 {app.id} / you may not act for the applicant of {app.id}")

    # --- reading -----------------------------------------------------------------------------

    async def get(self, app_id: str) -> Application:
        """One application with its history, or NOT_FOUND."""
        async with self.store.connect() as conn:
            found = await load(conn, [app_id])
        if not found:
            raise NotFound(f"申请 {app_id} 不存在 / application {app_id} does not exist")
        return found[0]


ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_id() -> str:
    """A new application id: `W` and 9 random characters (the id new legacy records get: it fits their
    10-character keys, and a department's row created by the hub shows which application made it)."""
    n, out = uuid.uuid4().int, []
    for _ in range(9):
        n, r = divmod(n, len(ALPHABET))
        out.append(ALPHABET[r])
    return "W" + "".join(out)


def _lock_names(checked: Checked) -> set[str]:
    names = {f"institution:{checked.ident.code}"}
    names |= {f"institution:{code}" for code in getattr(checked.plan, "institutions", ())}
    if checked.id_number:
        names.add(f"person:{checked.id_number}")
    return names


def _precheck_json(warnings: Sequence[Reason]) -> dict[str, Any]:
    return {"blockers": [], "warnings": [{"code": w.code, "message": w.message} for w in warnings]}


_EVENT = [c.name for c in application_events.c if c.name != "id"]  # a history row's columns, application_id first


def _made(step: str | None, decision: str, from_state: str | None, to_state: str, actor: Actor, at: dt.datetime,
          comment: str | None, waited: float | None) -> Event:
    return Event(step, decision, from_state, to_state, actor.subject, actor.department, at, comment, waited)


def _event_row(app_id: str, event: Event) -> dict[str, Any]:
    return {"application_id": app_id, "step": event.step, "decision": event.decision, "from_state": event.from_state,
            "to_state": event.to_state, "actor": event.actor, "department": event.department, "at": event.at,
            "comment": event.comment, "waited_seconds": event.waited_seconds}


@functools.cache
def _moving(columns: tuple[str, ...], together: bool) -> sa.Executable:
    """The compare-and-set UPDATE of `columns` (parameters `set_<column>`, `seen_id`, `seen_version`), built once
    per set of columns. `together` (PostgreSQL): with the history row in the same statement — the UPDATE a
    common table expression whose RETURNING feeds the INSERT, which inserts no row when the UPDATE moved none."""
    moved = sa.update(applications).where(applications.c.id == sa.bindparam("seen_id"),
                                          applications.c.version == sa.bindparam("seen_version")).values(
        {c: sa.bindparam(f"set_{c}", type_=applications.c[c].type) for c in columns})
    if not together:
        return moved
    cte = moved.returning(applications.c.id).cte("moved")
    row = sa.select(cte.c.id, *(sa.bindparam(f"event_{c}", type_=application_events.c[c].type) for c in _EVENT[1:]))
    return sa.insert(application_events).from_select(_EVENT, row).add_cte(cte)


async def _move(conn: AsyncConnection, app: Application, event: Event, **values: Any) -> Application:
    """Move the application on from the version it was read at and record the event in its history, or CONFLICT;
    returns it as moved (not read back). One statement on PostgreSQL, the UPDATE and the INSERT elsewhere."""
    at = utcnow()
    values = {**values, "version": app.version + 1, "updated_at": at}
    together = conn.dialect.name == "postgresql"
    params = {**{f"set_{c}": v for c, v in values.items()}, "seen_id": app.id, "seen_version": app.version}
    row = _event_row(app.id, event)
    if together:
        params.update({f"event_{c}": row[c] for c in _EVENT[1:]})
    result = await conn.execute(_moving(tuple(sorted(values)), together), params)
    if not result.rowcount:
        raise Conflict(f"申请 {app.id} 已被他人处理，请刷新后重试 / application {app.id} was changed by someone else; "
                       "read it again", state=str(app.state))
    if not together:
        await conn.execute(sa.insert(application_events), row)
    if "current_steps" in values:
        values["current_steps"] = tuple(values["current_steps"])
    if "state" in values:
        values["state"] = State(values["state"])
    return replace(app, history=(*app.history, event), **values)


def _with(app: Application, event: Event) -> Application:
    """The application as the transaction that moved it leaves it: what it wrote, known without reading it back."""
    return replace(app, history=(*app.history, event))


_COLUMNS = [f.name for f in fields(Application) if f.name != "history"]  # an application's columns


_HISTORY = [c.label(f"event_{c.name}") for c in application_events.c if c.name != "application_id"]


async def load(conn: AsyncConnection, app_ids: Sequence[str]) -> list[Application]:
    """Applications with their histories (one statement: each application's row beside each of its events),
    in the order of `app_ids`."""
    if not app_ids:
        return []
    rows: dict[str, sa.Row[Any]] = {}
    history: dict[str, list[Event]] = {}
    for r in await conn.execute(sa.select(applications, *_HISTORY).outerjoin(
            application_events, application_events.c.application_id == applications.c.id)
            .where(applications.c.id.in_(list(app_ids))).order_by(applications.c.id, application_events.c.id)):
        rows.setdefault(r.id, r)
        events = history.setdefault(r.id, [])
        if r.event_id is not None:
            events.append(Event(r.event_step, r.event_decision, r.event_from_state, r.event_to_state, r.event_actor,
                                r.event_department, _at(r.event_at), r.event_comment, r.event_waited_seconds))
    return [_application(rows[i], history[i]) for i in app_ids if i in rows]


def _at(value: dt.datetime) -> dt.datetime:
    found = aware(value)
    assert found is not None
    return found


def _application(r: sa.Row[Any], history: list[Event]) -> Application:
    return Application(r.id, r.kind, State(r.state), r.institution_code, r.region_code, r.id_number, dict(r.input),
                       r.stage, tuple(r.current_steps), dict(r.precheck), r.version, r.submitted_by,
                       r.submitted_department, _at(r.submitted_at), _at(r.stage_since), _at(r.updated_at),
                       aware(r.completed_at), tuple(history))
