"""REORGANIZATION: a plan moving a whole institution into another, with its quotas, abolishing it; refused
plans (someone left without a slot, a target over quota); withdrawal releasing every reservation; a large plan."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.core import ids
from hub.core.crosswalk import CrosswalkCache
from hub.demo.generate import generate, sqlite_targets
from hub.store import Store, outbox
from hub.store.tables import change_events, reservations
from hub.supervision.precheck import ACTIVE_NOW
from hub.workflow.engine import Workflow
from hub.workflow.model import Blocked, Decision, State
from tests.supervision.conftest import sources_for
from tests.workflow.conftest import TODAY, League, actor, engine

STEPS = ("establishment", "organization", "hr", "finance")


def _roomy(league: League, local: str, posts: int = 1000) -> None:
    """Give an institution 100,000 approved of every quota type the league uses, and `posts` of each leadership level."""
    league.sql("establishment", "UPDATE T_BZ SET HDS = 100000 WHERE JGID = ?", local)
    league.sql("establishment", "INSERT INTO T_BZ (JGID, BZLX, HDS) SELECT DISTINCT ?, BZLX, 100000 FROM T_BZ WHERE "
               "BZLX NOT IN (SELECT BZLX FROM T_BZ WHERE JGID = ?)", local, local)
    league.sql("establishment", "DELETE FROM T_LDZS WHERE JGID = ?", local)
    league.sql("establishment", "INSERT INTO T_LDZS (JGID, ZWCC, ZSLX, HDZS) VALUES (?, '正职', '单位', ?), "
               "(?, '副职', '单位', ?)", local, posts, local, posts)


async def _source(league: League) -> tuple[str, str, dict[str, int]]:
    """Another banner institution with a few active slots: code, local id, active slots per canonical type."""
    local = league.sql("establishment", "SELECT s.JGID FROM T_SMZ s JOIN T_JG j ON j.JGID = s.JGID WHERE s.RYZT = '在编' "
                       "AND s.CBRQ IS NULL AND j.XZQH = '152921' AND s.JGID != ? GROUP BY s.JGID HAVING COUNT(*) "
                       "BETWEEN 2 AND 20 ORDER BY COUNT(*), s.JGID LIMIT 1", league.local_id)[0][0]
    code = league.crosswalk.code_of("establishment", local)
    assert code is not None
    counts = await league.sources["establishment"].count("registry_slot", group_by=["quota_type"],
                                                         where={**ACTIVE_NOW, "unit_local_id": local})
    return code, local, {t: n for t, n in counts}


def _plan(league: League, source: str, by_type: dict[str, int], **changes: Any) -> dict[str, Any]:
    return {"institutionCode": league.code, "document": "阿盟编发〔2026〕1号", "effectiveOn": "2026-12-01",
            "moves": [{"fromInstitution": source, "to": league.code}],
            "quotaTransfers": [{"from": source, "to": league.code, "quotaType": t, "count": n} for t, n in by_type.items()],
            "abolish": [source], **changes}


async def _approve_all(wf: Any, app_id: str) -> Any:
    app = None
    for department in STEPS:
        app = await wf.decide(app_id, Decision.APPROVE, None, actor(department))
    return app


async def test_a_valid_plan_completes_with_changes_per_department_in_order(league: League, store: Store) -> None:
    code, local, by_type = await _source(league)
    _roomy(league, league.local_id)
    league.sql("establishment", "UPDATE T_BZ SET HDS = 100000 WHERE JGID = ?", local)
    wf = engine(league, store)
    app = await wf.submit("REORGANIZATION", _plan(league, code, by_type), actor("establishment"))
    assert app.state == State.SUBMITTED
    done = await _approve_all(wf, app.id)
    assert done.state == State.COMPLETED
    async with store.connect() as conn:
        rows = list(await conn.execute(sa.select(change_events).where(change_events.c.application_id == app.id)
                                       .order_by(change_events.c.seq)))
        held = list(await conn.execute(sa.select(reservations.c.status).where(reservations.c.application_id == app.id)))
    assert {r.status for r in held} == {"CONSUMED"}
    moved = sum(by_type.values())
    entities = [(r.department, r.entity, r.op) for r in rows]
    establishment = [e for e in entities if e[0] == "establishment"]
    assert establishment == [("establishment", "quota", "UPDATE")] * (2 * len(by_type)) + [
        ("establishment", "registry_slot", "UPDATE"), ("establishment", "registry_slot", "INSERT")] * moved + [
        ("establishment", "unit", "UPDATE")]
    left = [r._mapping["values"] for r in rows if r.entity == "registry_slot" and r.op == "UPDATE"]
    entered = [r._mapping["values"] for r in rows if r.entity == "registry_slot" and r.op == "INSERT"]
    assert all(v == {"left_on": "2026-12-01", "left_reason": "REORGANIZED", "status": "LEFT"} for v in left)
    assert {v["unit_local_id"] for v in entered} == {league.local_id}
    assert all(v["entered_on"] == "2026-12-01" and v["status"] == "ACTIVE" and "plan_id" not in v for v in entered)
    unit = next(r for r in rows if r.entity == "unit")
    assert unit.key == {"local_id": local} and unit._mapping["values"] == {"abolished_on": "2026-12-01"}
    quotas = {(r.key["unit_local_id"], r.key["quota_type"]): r._mapping["values"]["approved"] for r in rows if r.entity == "quota"}
    assert all(quotas[(local, t)] == 100000 - n for t, n in by_type.items())
    # each other department's changes move the persons' records to the receiving unit, after the registry's
    seqs = {d: [r.seq for r in rows if r.department == d] for d in {r.department for r in rows}}
    assert max(seqs["establishment"]) < min(s for d, v in seqs.items() if d != "establishment" for s in v)
    assert {r.entity for r in rows if r.department != "establishment"} <= {"personnel", "post_assignment", "cadre", "appointment",
                                                                               "payee"}
    # delivery takes a department's changes of the application as one batch (one adapter call), even past a page
    batch = (await outbox.batches(store, "establishment", limit=3))[0]
    assert [e.change.seq for e in batch] == seqs["establishment"] and len(batch) > 3


async def test_invalid_plans_are_refused_with_codes_and_write_nothing(league: League, store: Store) -> None:
    code, local, by_type = await _source(league)
    wf = engine(league, store)
    officer = actor("establishment")
    # abolishing without moving its people
    with pytest.raises(Blocked) as left:
        await wf.submit("REORGANIZATION", _plan(league, code, by_type, moves=[]), officer)
    assert left.value.extensions["code"] == "LEFT_WITHOUT_SLOT"
    assert " / " in left.value.blockers[0].message
    # moving everyone without their quotas into a target with 5 vacant slots of one type
    league.sql("establishment", "UPDATE T_BZ SET HDS = 0 WHERE JGID = ? AND BZLX NOT IN (SELECT BZLX FROM T_BZ "
               "WHERE JGID = ? AND HDS > 0 LIMIT 0)", league.local_id, league.local_id)
    with pytest.raises(Blocked) as over:
        await wf.submit("REORGANIZATION", _plan(league, code, by_type, quotaTransfers=[]), officer)
    assert [b.code for b in over.value.blockers] == ["QUOTA_EXCEEDED"]
    assert "over the approved quota" in over.value.blockers[0].message
    async with store.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(reservations))).scalar() == 0
    # someone of the institution has a live leaving application of their own
    _roomy(league, league.local_id)
    person = next(s.id_number for s in await league.sources["establishment"].fetch(
        "registry_slot", "unit_local_id", [local], ACTIVE_NOW) if s.id_number and not ids.id_number_problem(s.id_number))
    await wf.submit("LEAVING", {"institutionCode": code, "idNumber": person, "leftOn": "2026-11-30", "reason": "RETIRED",
                                "payStopFrom": "2026-12"}, officer)
    with pytest.raises(Blocked) as pending:
        await wf.submit("REORGANIZATION", _plan(league, code, by_type), officer)
    assert [b.code for b in pending.value.blockers] == ["APPLICATION_PENDING"]


async def test_a_move_over_the_leadership_posts_is_refused(league: League, store: Store) -> None:
    _roomy(league, league.local_id, posts=0)
    slots = league.sources["establishment"]
    leaders = [a async for chunk in league.sources["organization"].stream("appointment") for a in chunk
               if a.end_on is None and a.role in ("HEAD", "DEPUTY") and a.id_number]
    holding = {s.id_number for s in await slots.fetch("registry_slot", "id_number", [a.id_number for a in leaders],
                                                      ACTIVE_NOW) if s.unit_local_id != league.local_id}
    leader = next(a for a in leaders if a.id_number in holding)
    wf = engine(league, store)
    plan = {"institutionCode": league.code, "document": "阿盟编发〔2026〕3号", "effectiveOn": "2026-12-01",
            "moves": [{"idNumber": leader.id_number, "to": league.code}]}
    with pytest.raises(Blocked) as full:
        await wf.submit("REORGANIZATION", plan, actor("establishment"))
    assert [b.code for b in full.value.blockers] == ["POSTS_FULL"]
    _roomy(league, league.local_id, posts=1000)
    assert (await wf.submit("REORGANIZATION", plan, actor("establishment"))).state == State.SUBMITTED


async def test_withdraw_releases_every_reservation(league: League, store: Store) -> None:
    code, local, by_type = await _source(league)
    _roomy(league, league.local_id)
    wf = engine(league, store)
    officer = actor("establishment")
    app = await wf.submit("REORGANIZATION", _plan(league, code, by_type), officer)
    await wf.decide(app.id, Decision.APPROVE, None, officer)
    async with store.connect() as conn:
        held = list(await conn.execute(sa.select(reservations).where(reservations.c.application_id == app.id)))
    assert len(held) == 2 * sum(by_type.values()) and {r.what for r in held} == {"MOVE"}
    assert (await wf.withdraw(app.id, officer)).state == State.WITHDRAWN
    async with store.connect() as conn:
        statuses = {r.status for r in await conn.execute(sa.select(reservations.c.status))}
        written = (await conn.execute(sa.select(sa.func.count()).select_from(change_events))).scalar()
    assert statuses == {"RELEASED"} and written == 0


async def test_a_large_plan_validates_set_wise(tmp_path: Path, store: Store) -> None:
    generate(sqlite_targets(tmp_path), persons=420, seed=11)
    sources = sources_for(sqlite_targets(tmp_path))
    try:
        crosswalk = await CrosswalkCache(sources).get()
        with sqlite3.connect(tmp_path / "establishment.db") as conn:
            target = conn.execute("SELECT JGID FROM T_JG ORDER BY JGID LIMIT 1").fetchone()[0]
            conn.execute("UPDATE T_BZ SET HDS = 100000 WHERE JGID = ?", (target,))
            conn.execute("INSERT INTO T_BZ (JGID, BZLX, HDS) SELECT DISTINCT ?, BZLX, 100000 FROM T_BZ WHERE "
                         "BZLX NOT IN (SELECT BZLX FROM T_BZ WHERE JGID = ?)", (target, target))
            conn.execute("UPDATE T_LDZS SET HDZS = 1000 WHERE JGID = ?", (target,))
            conn.commit()
            people = sorted({r[0] for r in conn.execute(
                "SELECT SFZH FROM T_SMZ WHERE RYZT = '在编' AND CBRQ IS NULL AND length(SFZH) = 18 AND JGID != ?",
                (target,)) if not ids.id_number_problem(r[0])})[:300]
        code = crosswalk.code_of("establishment", target)
        wf = Workflow(store, sources, crosswalk, today=lambda: TODAY)
        plan = {"institutionCode": code, "document": "阿盟编发〔2026〕2号", "effectiveOn": "2026-12-01",
                "moves": [{"idNumber": p, "to": code} for p in people]}
        started = time.perf_counter()
        app = await wf.submit("REORGANIZATION", plan, actor("establishment", region="15"))
        print(f"\nREORGANIZATION of {len(people)} moves validated and reserved in {time.perf_counter() - started:.2f}s")
        assert len(people) == 300 and app.state == State.SUBMITTED
        async with store.connect() as conn:
            held = (await conn.execute(sa.select(sa.func.count()).select_from(reservations))).scalar()
        assert held == 300
    finally:
        await sources.close()


def test_a_plan_over_graphql_once_per_department_with_masked_moves(league: League) -> None:
    from tests.conftest import hub_settings, running_hub
    from tests.workflow.test_graphql import DECIDE, SUBMIT, Desk

    person = league.holder["id_number"]
    other = league.sql("establishment", "SELECT JGID FROM T_JG WHERE JGID != ? AND XZQH = '152921' ORDER BY JGID LIMIT 1",
                       league.local_id)[0][0]
    _roomy(league, other)
    target = league.crosswalk.code_of("establishment", other)
    plan = {"institutionCode": league.code, "document": "阿盟编发〔2026〕4号", "effectiveOn": "2026-12-01",
            "moves": [{"idNumber": person, "to": target}]}
    with running_hub(hub_settings(league.dir)) as hub:
        est, org, hr, fin = (Desk(hub, d) for d in ("establishment", "organization", "hr", "finance"))
        assert hr.refused(SUBMIT, kind="REORGANIZATION", input=plan) == "FORBIDDEN"  # establishment submits
        app = est.do(SUBMIT, kind="REORGANIZATION", input=plan)
        assert app["currentSteps"] == ["establishment"]
        for desk in (est, org, hr, fin):
            app = desk.do(DECIDE, id=app["id"], d="APPROVE")
        assert app["state"] == "COMPLETED"
        masked = hub.query(f'{{ application(id: "{app["id"]}") {{ input }} }}', role="auditor")["data"]
        assert masked["application"]["input"]["moves"][0]["idNumber"] != person
