"""The one window over GraphQL with each department's tokens: a plan, onboardings (approved after a return, rejected,
withdrawn, blocked), a leaving; row scope, idempotent retries, the audit log and the outbox's order."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hub.workflow.kinds import shipped_kinds
from tests.conftest import Hub, hub_settings, running_hub
from tests.workflow.conftest import League, onboarding

FIELDS = "id kind state currentSteps institutionCode institution { code } input precheck { allowed warnings { code } } " \
         "history { step decision actor department comment } submittedAt completedAt"
SUBMIT = f"mutation($kind: String!, $input: JSON!, $key: String) {{ submitApplication(kind: $kind, input: $input, " \
         f"idempotencyKey: $key) {{ {FIELDS} }} }}"
DECIDE = f"mutation($id: ID!, $d: ApplicationDecision!, $c: String) {{ decideApplication(id: $id, decision: $d, " \
         f"comment: $c) {{ {FIELDS} }} }}"
WITHDRAW = f"mutation($id: ID!) {{ withdrawApplication(id: $id, comment: \"不再需要\") {{ {FIELDS} }} }}"
RESUBMIT = f"mutation($id: ID!, $input: JSON) {{ resubmitApplication(id: $id, input: $input) {{ {FIELDS} }} }}"
TASKS = "{ myTasks(first: 50) { totalCount edges { node { id kind currentSteps } } } }"
BANNER = "152921"


def hire(league: League, n: int, **changes: Any) -> dict[str, Any]:
    """An onboarding entering today: the plan this test's hub approves today covers entries from today on."""
    return onboarding(league, n, enteredOn=dt.date.today().isoformat(), **changes)


class Desk:
    """One department's officer of a banner, asking the hub."""

    def __init__(self, hub: Hub, department: str, region: str = BANNER) -> None:
        from hub.auth import create_token

        self.hub = hub
        token = create_token(hub.settings, department, ["officer"], region, "1h", subject=f"{department}-{region}")
        self.headers = {"Authorization": f"Bearer {token}"}

    def ask(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.hub.client.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def do(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self.ask(query, **variables)
        assert "errors" not in body, body
        return next(iter(body["data"].values()))  # type: ignore[no-any-return]

    def refused(self, query: str, **variables: Any) -> str:
        body = self.ask(query, **variables)
        assert body.get("data") is None or not any(body["data"].values()), body
        return str(body["errors"][0]["extensions"]["code"])


def test_one_window_end_to_end(league: League) -> None:
    league.sql("establishment", "DELETE FROM T_YBJH WHERE JGID = ?", league.local_id)
    with running_hub(hub_settings(league.dir)) as hub:
        est, org, hr, fin = (Desk(hub, d) for d in ("establishment", "organization", "hr", "finance"))
        other_banner = Desk(hub, "establishment", "152922")

        # A vacancy-filling plan: the establishment office, then finance.
        plan = est.do(SUBMIT, kind="VACANCY_PLAN", input={"institutionCode": league.code, "quotaType": league.quota_type,
                                                          "places": 3})
        assert plan["state"] == "SUBMITTED" and plan["institution"] == {"code": league.code}
        assert fin.refused(DECIDE, id=plan["id"], d="APPROVE") == "FORBIDDEN"  # not its step yet
        est.do(DECIDE, id=plan["id"], d="APPROVE", c="同意")
        assert [e["node"]["id"] for e in fin.do(TASKS)["edges"]] == [plan["id"]]
        assert fin.do(DECIDE, id=plan["id"], d="APPROVE")["state"] == "COMPLETED"

        # An onboarding, retried with its key: one application.
        first_input = hire(league, 1)
        first = est.do(SUBMIT, kind="ONBOARDING", input=first_input, key="k-1")
        assert est.do(SUBMIT, kind="ONBOARDING", input=first_input, key="k-1")["id"] == first["id"]
        assert other_banner.refused(SUBMIT, kind="ONBOARDING", input=hire(league, 2)) == "FORBIDDEN"
        assert other_banner.refused(DECIDE, id=first["id"], d="APPROVE") == "FORBIDDEN"
        est.do(DECIDE, id=first["id"], d="APPROVE")
        assert {e["node"]["id"] for e in hr.do(TASKS)["edges"]} == {first["id"]}
        assert {e["node"]["id"] for e in org.do(TASKS)["edges"]} == {first["id"]}
        returned = hr.do(DECIDE, id=first["id"], d="RETURN", c="缺学历证明")
        assert returned["state"] == "RETURNED" and org.do(TASKS)["totalCount"] == 0
        again = est.do(RESUBMIT, id=first["id"], input={**first_input, "name": "新人壹"})
        assert again["state"] == "SUBMITTED" and again["input"]["name"] == "新人壹"
        est.do(DECIDE, id=first["id"], d="APPROVE")
        org.do(DECIDE, id=first["id"], d="APPROVE")
        assert hr.do(DECIDE, id=first["id"], d="APPROVE")["currentSteps"] == ["pay"]
        done = fin.do(DECIDE, id=first["id"], d="APPROVE", c="2026-11 起薪")
        assert done["state"] == "COMPLETED" and done["completedAt"]
        assert [(h["decision"], h["department"]) for h in done["history"]] == [
            ("SUBMIT", "establishment"), ("APPROVE", "establishment"), ("RETURN", "hr"), ("RESUBMIT", "establishment"),
            ("APPROVE", "establishment"), ("APPROVE", "organization"), ("APPROVE", "hr"), ("APPROVE", "finance")]

        # Rejected, withdrawn, blocked.
        second = est.do(SUBMIT, kind="ONBOARDING", input=hire(league, 2))
        assert est.do(DECIDE, id=second["id"], d="REJECT", c="不符合条件")["state"] == "REJECTED"
        third = hr.do(SUBMIT, kind="ONBOARDING", input=hire(league, 3))
        assert est.do(WITHDRAW, id=third["id"])["state"] == "WITHDRAWN"
        assert est.refused(SUBMIT, kind="ONBOARDING", input=hire(league, 4, idNumber=league.holder["id_number"])) \
            == "ALREADY_IN_SLOT"
        assert org.refused(SUBMIT, kind="ONBOARDING", input=hire(league, 5)) == "FORBIDDEN"  # no submit action

        # Leaving: the slot, HR, then pay.
        leaving = est.do(SUBMIT, kind="LEAVING", input={"institutionCode": league.code, "leftOn": "2026-11-30",
                                                         "idNumber": league.holder["id_number"], "reason": "RETIRED",
                                                         "payStopFrom": "2026-12"})
        for desk in (est, hr, fin):
            leaving = desk.do(DECIDE, id=leaving["id"], d="APPROVE")
        assert leaving["state"] == "COMPLETED"

        listed = est.do("{ applications(first: 10, state: COMPLETED) { totalCount edges { node { id kind } } } }")
        assert [e["node"]["kind"] for e in listed["edges"]] == ["LEAVING", "ONBOARDING", "VACANCY_PLAN"]
        assert other_banner.do("{ applications(first: 10) { totalCount } }")["totalCount"] == 0
        masked = hub.query(f'{{ application(id: "{first["id"]}") {{ input }} }}', role="auditor")["data"]
        assert masked["application"]["input"]["idNumber"] != first_input["idNumber"]

    with sqlite3.connect(league.dir / "hub-store.db") as conn:
        changes = conn.execute("SELECT application_id, seq, department, entity, op FROM change_events ORDER BY id").fetchall()
        audited = [r[0] for r in conn.execute("SELECT fields FROM audit_log WHERE outcome = 'ok'")]
    by_app: dict[str, list[tuple[int, str, str, str]]] = {}
    for app_id, seq, department, entity, op in changes:
        by_app.setdefault(app_id, []).append((seq, department, entity, op))
    assert by_app[plan["id"]] == [(1, "establishment", "vacancy_plan", "INSERT")]
    assert sorted(by_app[first["id"]]) == [
        (1, "establishment", "registry_slot", "INSERT"), (2, "establishment", "vacancy_plan", "UPDATE"),
        (3, "hr", "personnel", "INSERT"), (4, "hr", "post_assignment", "INSERT"),
        (5, "finance", "payee", "INSERT"), (6, "finance", "payroll_change", "INSERT")]
    assert [e for _, _, e, _ in sorted(by_app[leaving["id"]])] == ["registry_slot", "personnel", "payroll_change"]
    assert set(by_app) == {plan["id"], first["id"], leaving["id"]}  # nothing from the rejected, withdrawn, blocked
    transitions = 3 + 1 + 1 + 1 + 5 + 2 + 2 + 1 + 3  # every successful mutation above answered an application
    assert sum("Application.history" in f for f in audited) >= transitions


KINDS = "query($all: Boolean!) { applicationKinds(submittable: $all) { kind title submittable precheckAction " \
        "fields { key type title required choices choiceTitles minimum maximum } steps { step title stage } } }"


def test_application_kinds_are_the_definitions_under_the_policy(hub: Hub) -> None:
    hr, finance = Desk(hub, "hr"), Desk(hub, "finance")
    assert {k["kind"] for k in hr.do(KINDS, all=True)} == {"ONBOARDING", "LEAVING", "PAYROLL_CHANGE", "TRANSFER"}  # submit:<KIND> lines
    assert finance.do(KINDS, all=True) == []  # finance decides, never submits
    every = {k["kind"]: k for k in finance.do(KINDS, all=False)}
    assert set(every) == set(shipped_kinds()) and not any(k["submittable"] for k in every.values())
    onboarding_kind = every["ONBOARDING"]
    assert onboarding_kind["title"] == "入编 / onboarding" and onboarding_kind["precheckAction"] == "HIRE"
    fields = {f["key"]: f for f in onboarding_kind["fields"]}
    assert list(fields) == list(shipped_kinds()["ONBOARDING"].fields)  # in the definition's order
    assert fields["postGrade"] == {"key": "postGrade", "type": "INT", "title": "岗位等级 / post grade", "required": True,
                                   "choices": [], "choiceTitles": [], "minimum": 1, "maximum": 13}
    assert fields["idNumber"]["type"] == "ID_NUMBER" and fields["category"]["choices"][0] == "CIVIL_SERVANT"
    assert fields["category"]["choiceTitles"][0] == "公务员 / civil servant"  # from the code list that has every choice
    assert fields["payCategory"]["choiceTitles"] == fields["payCategory"]["choices"]  # no code list names them
    assert [(s["step"], s["stage"]) for s in onboarding_kind["steps"]] == [
        ("quota", 1), ("qualification_personnel", 2), ("qualification_cadre", 2), ("pay", 3)]  # HR and organization in parallel
    plan_fields = {f["key"]: f for f in every["VACANCY_PLAN"]["fields"]}
    assert plan_fields["document"]["required"] is False and every["VACANCY_PLAN"]["precheckAction"] is None
