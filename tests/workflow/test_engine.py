"""The engine: stages and parallel steps, the precheck at submission and at the end, reservations, the outbox."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from adapters.write import derived
from hub.core.errors import BadUserInput, Conflict, Forbidden
from hub.store import Store
from hub.store.outbox import events
from hub.store.tables import applications, reservations
from hub.supervision import freezes
from hub.workflow.model import Blocked, Decision, State
from tests.workflow.conftest import PLAN, VACANT, League, actor, engine, newcomer, onboarding

EST, ORG, HR, FIN = (actor(d) for d in ("establishment", "organization", "hr", "finance"))


async def _rows(store: Store, table: sa.Table) -> list[sa.Row]:
    async with store.connect() as conn:
        return list(await conn.execute(sa.select(table)))


async def test_onboarding_walks_its_stages_and_writes_its_changes_slot_before_pay(league: League, store: Store) -> None:
    delivered: list[tuple[str, list[str]]] = []

    async def hook(app_id: str, changes: object) -> None:
        delivered.append((app_id, [c.entity for c in changes]))  # type: ignore[attr-defined]

    wf = engine(league, store, after_commit=hook)
    app = await wf.submit("ONBOARDING", onboarding(league), EST)
    assert app.state == State.SUBMITTED and app.current_steps == ("quota",)
    with pytest.raises(Forbidden):  # not finance's step yet
        await wf.decide(app.id, Decision.APPROVE, None, FIN)
    app = await wf.decide(app.id, Decision.APPROVE, "用编同意", EST)
    assert app.state == State.IN_REVIEW and set(app.current_steps) == {"qualification_personnel", "qualification_cadre"}
    app = await wf.decide(app.id, Decision.APPROVE, None, ORG)  # the parallel steps in either order
    assert app.current_steps == ("qualification_personnel",)
    app = await wf.decide(app.id, Decision.APPROVE, None, HR)
    assert app.current_steps == ("pay",) and not delivered
    app = await wf.decide(app.id, Decision.APPROVE, None, FIN)
    assert app.state == State.COMPLETED and app.completed_at is not None
    assert [(e.decision, e.step, e.department) for e in app.history] == [
        ("SUBMIT", None, "establishment"), ("APPROVE", "quota", "establishment"),
        ("APPROVE", "qualification_cadre", "organization"), ("APPROVE", "qualification_personnel", "hr"),
        ("APPROVE", "pay", "finance")]
    assert all(e.waited_seconds is not None for e in app.history[1:])

    order = ["registry_slot", "vacancy_plan", "personnel", "post_assignment", "payee", "payroll_change"]
    assert delivered == [(app.id, order)]
    found = {d: await events(store, d, application_id=app.id) for d in ("establishment", "hr", "finance")}
    slot, plan = (e.change for e in found["establishment"])
    assert (slot.entity, slot.op, slot.seq) == ("registry_slot", "INSERT", 1)
    # New records carry the ids their mappings generate; later changes name them (one payee, one person number).
    assert slot.values["slot_id"] == derived("R9########", app.id, 1) and slot.values["unit_local_id"] == league.local_id
    assert slot.values["plan_id"] == PLAN and slot.values["status"] == "ACTIVE"
    assert slot.values["sex"] in ("MALE", "FEMALE") and slot.values["quota_type"] == league.quota_type
    assert (plan.entity, plan.op, dict(plan.key), dict(plan.values)) == ("vacancy_plan", "UPDATE", {"plan_id": PLAN}, {"used": 1})
    person, post = (e.change for e in found["hr"])
    assert [person.entity, post.entity] == ["personnel", "post_assignment"]
    assert post.values["person_no"] == person.values["person_no"] == derived("9#########", app.id, person.seq)
    pay = [e.change for e in found["finance"]]
    assert [c.entity for c in pay] == ["payee", "payroll_change"] and pay[1].values["kind"] == "START"
    assert pay[1].values["payee_code"] == pay[0].values["payee_code"] == derived("9#######", app.id, pay[0].seq)
    assert pay[1].values["change_id"] == derived("YD9#########", app.id, pay[1].seq)
    assert pay[1].values["from_month"] == "2026-11" and min(c.seq for c in pay) > slot.seq
    assert {r.status for r in await _rows(store, reservations)} == {"CONSUMED"}
    # The completed slot counts as occupied until the registry shows it: one fewer vacancy for the next.
    room = [await wf.submit("ONBOARDING", onboarding(league, n), EST) for n in range(1, VACANT)]
    with pytest.raises(Blocked) as blocked:
        await wf.submit("ONBOARDING", onboarding(league, 99), EST)
    assert blocked.value.extensions["code"] == "QUOTA_EXCEEDED" and len(room) == VACANT - 1


async def test_blockers_are_coded_and_write_nothing(league: League, store: Store) -> None:
    wf = engine(league, store)

    async def code_of(kind: str, data: dict[str, object]) -> str:
        with pytest.raises((Blocked, BadUserInput)) as caught:
            await wf.submit(kind, data, EST)
        return str(caught.value.extensions["code"])

    bad_id = newcomer(1)[:17] + ("0" if newcomer(1)[17] != "0" else "1")
    assert await code_of("ONBOARDING", onboarding(league, idNumber=bad_id)) == "INVALID_ID_NUMBER"
    assert await code_of("ONBOARDING", onboarding(league, idNumber=league.holder["id_number"])) == "ALREADY_IN_SLOT"
    old = "152921" + "19500101" + "011"
    from hub.core.ids import id_check_digit
    assert await code_of("ONBOARDING", onboarding(league, idNumber=old + id_check_digit(old))) == "PAST_RETIREMENT"
    other = "GQ" if league.quota_type != "GQ" else "SY"
    assert await code_of("ONBOARDING", onboarding(league, quotaType=other)) in ("QUOTA_EXCEEDED", "NO_VACANCY_PLAN")
    assert await code_of("ONBOARDING", onboarding(league, payFrom="2026-13")) == "BAD_USER_INPUT"
    assert await code_of("ONBOARDING", onboarding(league, quotaType="XX")) == "BAD_USER_INPUT"
    assert await code_of("NO_SUCH_KIND", {}) == "BAD_USER_INPUT"
    assert await code_of("VACANCY_PLAN", {"institutionCode": league.code, "quotaType": league.quota_type,
                                          "places": VACANT + 1}) == "QUOTA_EXCEEDED"
    assert await code_of("LEAVING", {"institutionCode": league.code, "idNumber": newcomer(3), "leftOn": "2026-11-30",
                                     "reason": "RESIGNED", "payStopFrom": "2026-12"}) == "NO_SLOT"
    await freezes.freeze(store, league.code, league.region, kinds=["HIRING"], reason="超编", alert_ids=[],
                         actor="auditor")
    assert await code_of("ONBOARDING", onboarding(league)) == "INSTITUTION_FROZEN"
    with pytest.raises(Forbidden):
        await wf.submit("ONBOARDING", onboarding(league), actor("establishment", may=lambda a: a.startswith("approve")))
    with pytest.raises(Forbidden):  # another banner's office
        await wf.submit("ONBOARDING", onboarding(league), actor("establishment", region="152922"))
    assert await _rows(store, applications) == [] and await _rows(store, reservations) == []


async def test_return_resubmit_reject_withdraw_and_reservations(league: League, store: Store) -> None:
    wf = engine(league, store)
    first = await wf.submit("ONBOARDING", onboarding(league, 1), EST)
    with pytest.raises(BadUserInput):  # a return needs a reason
        await wf.decide(first.id, Decision.RETURN, " ", EST)
    returned = await wf.decide(first.id, Decision.RETURN, "学历证明缺失", EST)
    assert returned.state == State.RETURNED and returned.current_steps == ()
    with pytest.raises(Conflict):
        await wf.decide(first.id, Decision.APPROVE, None, EST)
    with pytest.raises(Blocked) as pending:  # the returned one still holds the person
        await wf.submit("ONBOARDING", onboarding(league, 1), EST)
    assert pending.value.extensions["code"] == "APPLICATION_PENDING"
    again = await wf.resubmit(first.id, onboarding(league, 1, name="新人一"), EST, "已补")
    assert again.state == State.SUBMITTED and again.current_steps == ("quota",) and again.input["name"] == "新人一"
    second = await wf.submit("ONBOARDING", onboarding(league, 2), EST)
    rejected = await wf.decide(second.id, Decision.REJECT, "不符合条件", EST)
    third = await wf.submit("ONBOARDING", onboarding(league, 3), EST)
    withdrawn = await wf.withdraw(third.id, EST, "不再需要")
    assert (rejected.state, withdrawn.state) == (State.REJECTED, State.WITHDRAWN)
    with pytest.raises(Conflict):
        await wf.withdraw(third.id, EST)
    held = {(r.application_id, r.what): r.status for r in await _rows(store, reservations)}
    assert held[(first.id, "SLOT")] == "HELD" and held[(second.id, "SLOT")] == "RELEASED"
    assert held[(third.id, "PLAN")] == "RELEASED"
    assert [e.decision for e in again.history] == ["SUBMIT", "RETURN", "RESUBMIT"]
    # Released places are free again: VACANT − 1 held → VACANT − 1 more accepted.
    accepted = [await wf.submit("ONBOARDING", onboarding(league, 10 + n), EST) for n in range(VACANT - 1)]
    assert len(accepted) == VACANT - 1


async def test_two_decisions_on_one_step_one_wins(league: League, store: Store) -> None:
    wf = engine(league, store)
    app = await wf.submit("ONBOARDING", onboarding(league), EST)
    results = await asyncio.gather(wf.decide(app.id, Decision.APPROVE, None, EST),
                                   wf.decide(app.id, Decision.REJECT, "no", EST), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Application", "Conflict"]
    final = await wf.get(app.id)
    assert len(final.history) == 2


async def test_vacancy_plan_then_onboarding_uses_the_new_plan_and_leaving_stops_pay_after_the_slot(
        league: League, store: Store) -> None:
    wf = engine(league, store)
    league.sql("establishment", "DELETE FROM T_YBJH WHERE JGID = ?", league.local_id)
    plan = await wf.submit("VACANCY_PLAN", {"institutionCode": league.code, "quotaType": league.quota_type,
                                            "places": 2}, EST)
    with pytest.raises(Blocked) as none_yet:
        await wf.submit("ONBOARDING", onboarding(league), EST)
    assert none_yet.value.extensions["code"] == "NO_VACANCY_PLAN"
    await wf.decide(plan.id, Decision.APPROVE, None, EST)
    done = await wf.decide(plan.id, Decision.APPROVE, None, FIN)
    assert done.state == State.COMPLETED
    (made,) = [e.change for e in await events(store, "establishment", application_id=plan.id)]
    assert (made.entity, made.values["plan_id"], made.values["planned"]) == ("vacancy_plan", derived("JH9#######", plan.id, 1), 2)
    with pytest.raises(Blocked) as early:  # entering on 2026-11-01, before the plan's approval today
        await wf.submit("ONBOARDING", onboarding(league, 7), EST)
    assert early.value.extensions["code"] == "NO_VACANCY_PLAN" and "2026-11-01" in early.value.blockers[0].message
    hired = [await wf.submit("ONBOARDING", onboarding(league, n, enteredOn="2026-11-16"), EST) for n in range(2)]
    with pytest.raises(Blocked) as full:
        await wf.submit("ONBOARDING", onboarding(league, 5, enteredOn="2026-11-16"), EST)
    assert full.value.extensions["code"] == "NO_VACANCY_PLAN" and len(hired) == 2

    leaving = await wf.submit("LEAVING", {"institutionCode": league.code, "idNumber": league.holder["id_number"],
                                          "leftOn": "2026-11-30", "reason": "RETIRED", "payStopFrom": "2026-12"}, EST)
    for who in (EST, HR, FIN):
        leaving = await wf.decide(leaving.id, Decision.APPROVE, None, who)
    assert leaving.state == State.COMPLETED
    slot = [e.change for e in await events(store, "establishment", application_id=leaving.id)]
    pay = [e.change for e in await events(store, "finance", application_id=leaving.id)]
    assert slot[0].entity == "registry_slot" and dict(slot[0].key) == {"slot_id": league.holder["slot_id"]}
    assert slot[0].values == {"left_on": "2026-11-30", "left_reason": "RETIRED", "status": "LEFT"}
    assert pay and pay[-1].values["kind"] == "STOP" and pay[-1].seq > slot[0].seq


def _paid_holder(league: League) -> str:
    """Someone with an active slot, a personnel record and a payee at the institution (the same ID number)."""
    ident = league.crosswalk.identity(league.code)
    assert ident is not None
    slots = {r[0] for r in league.sql("establishment", "SELECT SFZH FROM T_SMZ WHERE JGID = ? AND RYZT = '在编' AND "
                                      "CBRQ IS NULL", league.local_id)}
    staff = {r[0] for r in league.sql("hr", "SELECT GMSFHM FROM RS_RYXX WHERE DWBM = ?", ident.local_id("hr"))}
    paid = {r[0] for r in league.sql("finance", "SELECT SFZH FROM GZ_RY WHERE DWDM = ?", ident.local_id("finance"))}
    return sorted(i for i in slots & staff & paid if i and len(i) == 18)[0]


async def test_quota_adjustment_keeps_occupied_and_reserved_slots_and_payroll_change_raises_pay(
        league: League, store: Store) -> None:
    wf = engine(league, store)
    (occupied,) = league.sql("establishment", "SELECT COUNT(*) FROM T_SMZ WHERE JGID = ? AND BZLX = ? AND RYZT = '在编' "
                             "AND CBRQ IS NULL", league.local_id, league.quota_type)[0]
    held = [await wf.submit("ONBOARDING", onboarding(league, n), EST) for n in range(2)]
    adjust = {"institutionCode": league.code, "quotaType": league.quota_type, "document": "阿盟编发〔2026〕9号"}
    with pytest.raises(Blocked) as below:
        await wf.submit("QUOTA_ADJUSTMENT", {**adjust, "approved": occupied + len(held) - 1}, EST)
    assert below.value.extensions["code"] == "QUOTA_EXCEEDED"
    app = await wf.submit("QUOTA_ADJUSTMENT", {**adjust, "approved": occupied + len(held)}, EST)
    for who in (EST, FIN):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    (change,) = [e.change for e in await events(store, "establishment", application_id=app.id)]
    assert (change.entity, change.op) == ("quota", "UPDATE")
    assert dict(change.key) == {"unit_local_id": league.local_id, "quota_type": league.quota_type}
    assert change.values["approved"] == occupied + len(held) and change.values["document"] == adjust["document"]

    person = _paid_holder(league)
    raise_ = await wf.submit("PAYROLL_CHANGE", {"institutionCode": league.code, "idNumber": person,
                                                "postCategory": "TECHNICAL", "postGrade": 9, "fromMonth": "2026-12"}, HR)
    with pytest.raises(Forbidden):  # the HR step comes first
        await wf.decide(raise_.id, Decision.APPROVE, None, FIN)
    for who in (HR, FIN):
        raise_ = await wf.decide(raise_.id, Decision.APPROVE, None, who)
    post = [e.change for e in await events(store, "hr", application_id=raise_.id)]
    pay = [e.change for e in await events(store, "finance", application_id=raise_.id)]
    assert [(c.entity, c.op, c.values.get("grade")) for c in post] == [("post_assignment", "UPDATE", 9)]
    assert [(c.entity, c.values["kind"], c.values["from_month"]) for c in pay] == [("payroll_change", "RAISE", "2026-12")]
    assert pay[0].values["payee_code"] and pay[0].seq > post[0].seq


async def test_the_last_approval_runs_the_precheck_again(league: League, store: Store) -> None:
    wf = engine(league, store)
    app = await wf.submit("ONBOARDING", onboarding(league), EST)
    for who in (EST, HR, ORG):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    made = await freezes.freeze(store, league.code, league.region, kinds=["PAYROLL"], reason="冒领工资",
                                alert_ids=[], actor="auditor")
    with pytest.raises(Blocked) as frozen:
        await wf.decide(app.id, Decision.APPROVE, None, FIN)
    assert frozen.value.extensions["code"] == "INSTITUTION_FROZEN"
    still = await wf.get(app.id)
    assert (still.state, still.current_steps, still.version) == (State.IN_REVIEW, ("pay",), app.version)
    assert await events(store, "finance", application_id=app.id) == []
    await freezes.decide(store, made.id, freezes.FreezeStatus.LIFTED, "auditor")

    async def failing(app_id: str, changes: object) -> None:
        raise OSError("department down")

    done = await engine(league, store, after_commit=failing).decide(app.id, Decision.APPROVE, None, FIN)
    assert done.state == State.COMPLETED  # a failed delivery leaves the changes in the outbox, the completion stands
    assert [e.change.entity for e in await events(store, "finance", application_id=app.id)] == ["payee", "payroll_change"]


async def test_leadership_post_within_the_approved_posts(league: League, store: Store) -> None:
    wf = engine(league, store)
    in_post = {r[0] for r in league.sql("organization", "SELECT A0201B FROM A02 WHERE A0265 IS NULL OR A0265 = ''")}
    ident = next(i for i in league.crosswalk.by_code.values()
                 if i.local_id("organization") and i.local_id("establishment") and i.local_id("organization") not in in_post)
    org_unit, est_unit = ident.local_id("organization"), ident.local_id("establishment")
    league.sql("organization", "INSERT INTO A01 (A0100, A0101, A0184, A0157) VALUES ('CADRETEST01', '某某', ?, ?)",
               newcomer(7), org_unit)
    league.sql("establishment", "INSERT OR REPLACE INTO T_LDZS (JGID, ZWCC, ZSLX, HDZS) VALUES (?, '副职', '内设', 1)",
               est_unit)
    post = {"institutionCode": ident.code, "role": "DEPUTY", "levelCode": "999", "title": "副科长",
            "startOn": "2026-12-01", "document": "阿组任〔2026〕1号"}
    app = await wf.submit("LEADERSHIP_POST", {**post, "idNumber": newcomer(7)}, ORG)
    with pytest.raises(Blocked) as full:
        await wf.submit("LEADERSHIP_POST", {**post, "idNumber": newcomer(8)}, ORG)
    assert full.value.extensions["code"] == "POSTS_FULL"
    with pytest.raises(Forbidden):  # the establishment office checks the posts first
        await wf.decide(app.id, Decision.APPROVE, None, ORG)
    for who in (EST, ORG):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    assert app.state == State.COMPLETED
    (made,) = [e.change for e in await events(store, "organization", application_id=app.id)]
    assert (made.entity, made.op, made.values["cadre_id"], made.values["unit_local_id"]) == (
        "appointment", "INSERT", "CADRETEST01", org_unit)
    with pytest.raises(Blocked) as still:  # the completed appointment fills the post until the department shows it
        await wf.submit("LEADERSHIP_POST", {**post, "idNumber": newcomer(8)}, ORG)
    assert still.value.extensions["code"] == "POSTS_FULL"
