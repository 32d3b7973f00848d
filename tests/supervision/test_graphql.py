"""GraphQL: alerts with connection paging, summaries, lifecycle mutations, freezes, precheck, runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from adapters.registry import Sources
from hub.core.retirement import add_months
from hub.core.settings import Settings
from hub.store import Store
from hub.supervision.deferrals import deferrals_of
from hub.supervision.service import supervise
from policies.grants import PolicyBook, new_enforcer
from resolvers.people import Listed, statutory_retirement
from schema.execution.executor.row_scope import ScopedExecutor
from schema.supervision import SupervisionMutation, SupervisionQuery
from tests.conftest import request_context
from tests.supervision.conftest import Demo

SCHEMA = strawberry.Schema(query=SupervisionQuery, mutation=SupervisionMutation)
SCOPED = strawberry.Schema(query=SupervisionQuery, mutation=SupervisionMutation, execution_context_class=ScopedExecutor)

ALERTS = """
query($first: Int, $after: String, $rule: [String!], $region: String) {
  alerts(first: $first, after: $after, rule: $rule, regionCode: $region) {
    totalCount
    edges { cursor node { id rule ruleTitle severity status idNumber institutionCode regionCode message evidence
                          firstMonth history { toStatus actor } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
SUMMARY = "query($by: SummaryDimension!) { alertSummary(by: $by) { key total open severeOpen } }"
STEP = """
mutation($id: ID!, $note: String!) {
  a: acknowledgeAlert(id: $id, note: $note) { status }
  r: startRectifyingAlert(id: $id) { status }
  d: resolveAlert(id: $id, note: $note) { status history { fromStatus toStatus actor note } }
}"""
ILLEGAL = "mutation($id: ID!) { resolveAlert(id: $id) { status } }"
FREEZE = """
mutation($code: String!, $ids: [ID!]) {
  freezeInstitution(institutionCode: $code, reason: "超编 / over quota", hiring: true, alertIds: $ids) {
    id status hiring payroll alertIds history { toStatus actor } }
}"""
UNFREEZE = "mutation($id: ID!) { unfreezeInstitution(id: $id, note: \"已整改\") { status history { toStatus } } }"
PRECHECK = """
query($code: String!) { precheck(action: HIRE, institutionCode: $code) { allowed blockers { code message } warnings { code } } }"""


BOOK = PolicyBook(new_enforcer(), ())  # the shipped policy's actions (freeze:<KIND>); no field table is needed here


def context(sources: Sources, store: Store, region: str = "152900", who: str = "officer-1",
            roles: tuple[str, ...] = ("admin",)) -> Any:
    """A request context of `who` with the row scope of a region (the supervision resolvers read its store)."""
    return request_context(Settings(), sources, subject=who, region=region, store=store, roles=roles,
                           grants=BOOK.grants(roles))


async def run(ctx: Any, query: str, **variables: Any) -> dict[str, Any]:
    result = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
    assert not result.errors, result.errors
    return result.data  # type: ignore[return-value]


async def test_alerts_page_summary_and_lifecycle(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=21)
    await supervise(sources, store)
    ctx = context(sources, store)

    page = (await run(ctx, ALERTS, first=10))["alerts"]
    assert page["totalCount"] == len(manifest["anomalies"]) and len(page["edges"]) == 10
    assert page["pageInfo"]["hasNextPage"]
    rest = (await run(ctx, ALERTS, first=1000, after=page["pageInfo"]["endCursor"]))["alerts"]
    ids = [e["node"]["id"] for e in page["edges"] + rest["edges"]]
    assert len(ids) == len(set(ids)) == len(manifest["anomalies"])
    node = page["edges"][0]["node"]
    assert node["history"] == [{"toStatus": "OPEN", "actor": "system"}] and " / " in node["ruleTitle"]

    by_rule = {r["key"]: r for r in (await run(ctx, SUMMARY, by="RULE"))["alertSummary"]}
    assert sorted(by_rule) == [f"R{i:02d}" for i in range(1, 17)]
    assert sum(r["total"] for r in by_rule.values()) == len(manifest["anomalies"])
    by_region = (await run(ctx, SUMMARY, by="REGION"))["alertSummary"]
    assert all(len(r["key"]) == 6 for r in by_region)

    ghost = next(e["node"] for e in page["edges"] + rest["edges"] if e["node"]["rule"] == "R01")
    steps = await run(ctx, STEP, id=ghost["id"], note="已核实 / verified")
    assert (steps["a"]["status"], steps["r"]["status"], steps["d"]["status"]) == ("ACKNOWLEDGED", "RECTIFYING", "RESOLVED")
    assert [h["actor"] for h in steps["d"]["history"]] == ["system", "officer-1", "officer-1", "officer-1"]

    other = next(e["node"] for e in rest["edges"] if e["node"]["id"] != ghost["id"])
    result = await SCHEMA.execute(ILLEGAL, variable_values={"id": other["id"]}, context_value=ctx)
    assert result.errors and (result.errors[0].extensions or {})["code"] == "CONFLICT"


async def test_row_scope_narrows_alerts_and_refuses_others(demo: Demo, store: Store) -> None:
    sources, _, _ = await demo(persons=400, seed=22)
    await supervise(sources, store)
    everything = (await run(context(sources, store), ALERTS, first=1000))["alerts"]["edges"]
    banner = "152921"
    inside = [e for e in everything if (e["node"]["regionCode"] or "").startswith(banner)]
    outside = next(e["node"] for e in everything if not (e["node"]["regionCode"] or "").startswith(banner))
    scoped = context(sources, store, region=banner)
    assert (await run(scoped, ALERTS, first=1000))["alerts"]["totalCount"] == len(inside)
    for query, variables in ((ALERTS, {"first": 1000, "region": "152922"}), (ILLEGAL, {"id": outside["id"]})):
        result = await SCOPED.execute(query, variable_values=variables, context_value=scoped)
        assert result.data is None and [(e.extensions or {})["code"] for e in result.errors or []] == ["FORBIDDEN"]
    assert (await run(context(sources, store), ALERTS, first=1000))["alerts"]["edges"] == everything  # nothing moved


async def test_freeze_precheck_and_unfreeze(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=23)
    await supervise(sources, store)
    ctx = context(sources, store, who="bianban-1")
    code = next(a["institutionCode"] for a in manifest["anomalies"] if a["rule"] == "R04")
    alerts = (await run(ctx, ALERTS, first=1000, rule=["R04"]))["alerts"]["edges"]
    cited = [e["node"]["id"] for e in alerts if e["node"]["institutionCode"] == code]

    frozen = (await run(ctx, FREEZE, code=code, ids=cited))["freezeInstitution"]
    assert (frozen["status"], frozen["hiring"], frozen["payroll"]) == ("ACTIVE", True, False)
    assert frozen["alertIds"] == cited and frozen["history"] == [{"toStatus": "ACTIVE", "actor": "bianban-1"}]
    check = (await run(ctx, PRECHECK, code=code))["precheck"]
    assert not check["allowed"] and "INSTITUTION_FROZEN" in {b["code"] for b in check["blockers"]}
    lifted = (await run(ctx, UNFREEZE, id=frozen["id"]))["unfreezeInstitution"]
    assert lifted["status"] == "LIFTED" and [h["toStatus"] for h in lifted["history"]] == ["ACTIVE", "LIFTED"]
    proposals = (await run(ctx, "{ freezes(status: [PROPOSED]) { institutionCode reason } }"))["freezes"]
    assert proposals and all("R" in p["reason"] for p in proposals)


async def test_run_check_mutation_and_runs(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=24)
    ctx = context(sources, store)
    done = (await run(ctx, "mutation { runCheck(wait: true) { id status findings opened referenceMonth } }"))["runCheck"]
    assert (done["status"], done["findings"], done["opened"]) == ("DONE", len(manifest["anomalies"]),
                                                                   len(manifest["anomalies"]))
    started = (await run(ctx, "mutation { runCheck { id status } }"))["runCheck"]
    assert started["status"] == "RUNNING"
    for task in list(store.background):
        await task
    runs = (await run(ctx, "{ checkRuns(last: 5) { id status triggeredBy } }"))["checkRuns"]
    assert [r["status"] for r in runs] == ["DONE", "DONE"] and runs[0]["triggeredBy"] == "officer-1"
    rules = (await run(ctx, "{ supervisionRules { id severity titleZh needs } }"))["supervisionRules"]
    assert len(rules) == 16


async def test_deferral_mutation_validates_person_and_dates(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=25)
    ctx = context(sources, store)
    person = next(a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R08")
    due = (await statutory_retirement(ctx, [Listed(person, None)]))[0]
    assert isinstance(due, dt.date)
    record = "mutation($id: String!, $until: Date!) { recordRetirementDeferral(idNumber: $id, until: $until) { idNumber until recordedBy } }"
    made = await run(ctx, record, id=person.lower(), until=add_months(due, 36).isoformat())
    assert made["recordRetirementDeferral"] == {"idNumber": person, "until": add_months(due, 36).isoformat(),
                                                "recordedBy": "officer-1"}
    unknown = "11010519491231002X"  # a valid ID number no department knows
    for who, until, argument in ((person, due, "until"), (person, add_months(due, 36) + dt.timedelta(days=1), "until"),
                                 ("123", due, "idNumber"), (unknown, due, "idNumber")):
        bad = await SCOPED.execute(record, variable_values={"id": who, "until": until.isoformat()}, context_value=ctx)
        assert bad.data is None and [((e.extensions or {})["code"], (e.extensions or {})["field"])
                                     for e in bad.errors or []] == [("BAD_USER_INPUT", argument)]
    assert [d.until for d in await deferrals_of(store, person)] == [add_months(due, 36)]  # only the valid one
