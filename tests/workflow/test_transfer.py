"""TRANSFER over GraphQL with each department's tokens: within the league (slot, HR ∥ organization, pay) and from
outside (organization file, HR, establishment, pay); the outbox's order; a transfer blocked by no vacancy."""

from __future__ import annotations

import sqlite3
from typing import Any

from tests.conftest import hub_settings, running_hub
from tests.workflow.conftest import League, newcomer
from tests.workflow.test_graphql import DECIDE, SUBMIT, TASKS, Desk


def _elsewhere(league: League) -> tuple[str, str]:
    """Someone with an active slot, a personnel record and a payee at another institution: ID number, its local id."""
    with sqlite3.connect(league.dir / "establishment.db") as conn:
        rows = conn.execute("SELECT SFZH, JGID FROM T_SMZ WHERE RYZT = '在编' AND CBRQ IS NULL AND length(SFZH) = 18 "
                            "AND JGID != ? ORDER BY RYID", (league.local_id,)).fetchall()
    with sqlite3.connect(league.dir / "hr.db") as hr, sqlite3.connect(league.dir / "finance.db") as fin:
        known = {r[0] for r in hr.execute("SELECT GMSFHM FROM RS_RYXX")} & {r[0] for r in fin.execute("SELECT SFZH FROM GZ_RY")}
    return next((i, j) for i, j in rows if i in known and rows.count((i, j)) == 1)


def _within(league: League, id_number: str, source: str, **changes: Any) -> dict[str, Any]:
    return {"institutionCode": league.code, "origin": "WITHIN_LEAGUE", "idNumber": id_number,
            "fromInstitutionCode": source, "quotaType": league.quota_type, "enteredOn": "2026-11-20",
            "payFrom": "2026-12", "document": "阿人社调〔2026〕7号", **changes}


def test_transfer_routes_through_every_signer(league: League) -> None:
    id_number, local = _elsewhere(league)
    source = league.crosswalk.code_of("establishment", local)
    with running_hub(hub_settings(league.dir)) as hub:
        est, org, hr, fin = (Desk(hub, d) for d in ("establishment", "organization", "hr", "finance"))

        # Within the league: establishment, then HR ∥ organization, then finance.
        within = est.do(SUBMIT, kind="TRANSFER", input=_within(league, id_number, source))
        assert within["currentSteps"] == ["slot"]
        assert org.refused(DECIDE, id=within["id"], d="APPROVE") == "FORBIDDEN"
        within = est.do(DECIDE, id=within["id"], d="APPROVE")
        assert sorted(within["currentSteps"]) == ["cadre", "personnel"]
        assert [e["node"]["id"] for e in org.do(TASKS)["edges"]] == [within["id"]]
        org.do(DECIDE, id=within["id"], d="APPROVE")
        assert hr.do(DECIDE, id=within["id"], d="APPROVE")["currentSteps"] == ["pay"]
        within = fin.do(DECIDE, id=within["id"], d="APPROVE")
        assert within["state"] == "COMPLETED"
        assert [(h["decision"], h["department"]) for h in within["history"]][1:] == [
            ("APPROVE", "establishment"), ("APPROVE", "organization"), ("APPROVE", "hr"), ("APPROVE", "finance")]

        # From outside: the same person is in the league, so that route is refused; a newcomer goes through.
        outside_input = {"institutionCode": league.code, "origin": "OUTSIDE", "idNumber": newcomer(7), "name": "调入人",
                         "quotaType": league.quota_type, "enteredOn": "2026-11-20", "payFrom": "2026-12",
                         "category": "PI_TECHNICAL", "postCategory": "TECHNICAL", "postGrade": 10,
                         "payCategory": "PUBLIC_INSTITUTION"}
        assert hr.refused(SUBMIT, kind="TRANSFER", input={**outside_input, "idNumber": league.holder["id_number"]}) \
            == "ALREADY_IN_SLOT"
        assert hr.refused(SUBMIT, kind="TRANSFER", input={**outside_input, "name": None}) == "BAD_USER_INPUT"
        outside = hr.do(SUBMIT, kind="TRANSFER", input=outside_input)
        for desk, steps in ((org, ["file"]), (hr, ["qualification"]), (est, ["quota"]), (fin, ["pay"])):
            assert outside["currentSteps"] == steps
            if desk is not est:
                assert est.refused(DECIDE, id=outside["id"], d="APPROVE") == "FORBIDDEN"
            outside = desk.do(DECIDE, id=outside["id"], d="APPROVE")
        assert outside["state"] == "COMPLETED"

    with sqlite3.connect(league.dir / "hub-store.db") as conn:
        rows = conn.execute("SELECT application_id, seq, department, entity, op, \"values\" FROM change_events "
                            "ORDER BY application_id, seq").fetchall()
    of = {app: [(d, e, o) for a, _, d, e, o, _ in rows if a == app] for app in (within["id"], outside["id"])}
    assert of[within["id"]] == [
        ("establishment", "registry_slot", "UPDATE"), ("establishment", "registry_slot", "INSERT"),
        ("establishment", "vacancy_plan", "UPDATE"), ("hr", "personnel", "UPDATE"), ("hr", "post_assignment", "UPDATE"),
        ("finance", "payee", "UPDATE"), ("finance", "payroll_change", "INSERT")]
    left = next(v for a, s, _, _, _, v in rows if a == within["id"] and s == 1)
    assert '"TRANSFERRED_OUT"' in left and '"LEFT"' in left
    assert '"TRANSFER"' in next(v for a, _, _, e, _, v in rows if a == within["id"] and e == "payroll_change")
    assert [e for _, e, _ in of[outside["id"]]] == ["registry_slot", "vacancy_plan", "personnel", "post_assignment",
                                                    "payee", "payroll_change"]


def test_a_transfer_into_a_full_institution_is_blocked(league: League) -> None:
    id_number, local = _elsewhere(league)
    source = league.crosswalk.code_of("establishment", local)
    league.sql("establishment", "UPDATE T_BZ SET HDS = 0 WHERE JGID = ? AND BZLX = (SELECT BZLX FROM T_BZ WHERE "
               "JGID = ? AND HDS > 0 ORDER BY HDS DESC LIMIT 1)", league.local_id, league.local_id)
    with running_hub(hub_settings(league.dir)) as hub:
        est = Desk(hub, "establishment")
        body = est.ask(SUBMIT, kind="TRANSFER", input=_within(league, id_number, source))
        error = body["errors"][0]
        assert error["extensions"]["code"] == "QUOTA_EXCEEDED" and " / " in error["message"]
        assert est.refused(SUBMIT, kind="TRANSFER", input=_within(league, league.holder["id_number"], source)) \
            == "NO_SLOT"
        assert est.do("{ applications(first: 5) { totalCount } }")["totalCount"] == 0
