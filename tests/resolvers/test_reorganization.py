"""Reorganization planning against the demo's raw rows: structure, quotas, posts and the merged balance of
three institutions; retirements as the forecast gives them; targets; bad input, row scope and grants."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

from tests.conftest import Hub
from tests.resolvers.stats_oracle import StatsOracle
from tests.resolvers.test_stats import _institutions

PLAN = """query($codes: [String!]!, $q: [QuotaTarget!]) { reorganizationPlan(institutionCodes: $codes, targetQuotas: $q) {
  persons institutions { institution { code } quotas { quotaType approved occupied } posts { level scope approved filled } }
  structure { institutionCode dimension value persons } retirements { institutionCode quotaType persons slots }
  mergedQuotas { quotaType approved summed persons over under freedInFiveYears }
  mergedPosts { level scope approved summed filled over under } } }"""
FORECAST = """query($code: String) { retirementForecast(years: 5, institutionCode: $code) { rows { vacancies { quotaType slots } } } }"""
JGIDS = {"JG000001", "JG000002", "JG000003"}  # three institutions of one banner


def test_agrees_with_the_raw_rows(hub: Hub, demo_dir: Path) -> None:
    local = _institutions(hub)
    codes = sorted(c for c, j in local.items() if j in JGIDS)
    body = hub.query(PLAN, {"codes": codes})
    assert "errors" not in body, body
    plan = body["data"]["reorganizationPlan"]
    oracle = StatsOracle(demo_dir, "152900", dt.date.today())
    persons = oracle.headcount(["QUOTA_TYPE"], among=JGIDS)
    assert plan["persons"] == sum(persons.values()) > 0
    merged = {(s["dimension"], s["value"]): s["persons"] for s in plan["structure"] if s["institutionCode"] is None}
    assert {k[1]: n for k, n in merged.items() if k[0] == "QUOTA_TYPE"} == {k[0]: n for k, n in persons.items()}
    assert {k[1]: n for k, n in merged.items() if k[0] == "SEX"} == {
        k[0]: n for k, n in oracle.headcount(["SEX"], among=JGIDS).items()}
    per_inst = oracle.headcount(["INSTITUTION", "EDUCATION"], among=JGIDS)
    got = {(local[s["institutionCode"]], s["value"]): s["persons"] for s in plan["structure"]
           if s["institutionCode"] and s["dimension"] == "EDUCATION"}
    assert got == per_inst
    approved: dict[str, int] = defaultdict(int)
    for jgid, bzlx, hds in oracle.o.q("SELECT JGID, BZLX, HDS FROM T_BZ"):
        if jgid in JGIDS:
            approved[bzlx] += int(hds)
    assert {q["quotaType"]: q["summed"] for q in plan["mergedQuotas"] if q["summed"]} == approved
    for q in plan["mergedQuotas"]:
        assert q["approved"] == q["summed"] and q["persons"] == persons.get((q["quotaType"],), 0)
        assert (q["over"], q["under"]) == (max(q["persons"] - q["approved"], 0), max(q["approved"] - q["persons"], 0))
    posts = sum(int(n) for j, n in oracle.o.q("SELECT JGID, HDZS FROM T_LDZS") if j in JGIDS)
    assert sum(p["summed"] for p in plan["mergedPosts"]) == posts > 0
    assert sum(p["filled"] for p in plan["mergedPosts"]) == sum(p["filled"] or 0 for i in plan["institutions"] for p in i["posts"])
    # Retirements are the forecast's, institution by institution.
    for code in codes:
        rows = hub.query(FORECAST, {"code": code})["data"]["retirementForecast"]["rows"]
        expected: dict[str, int] = defaultdict(int)
        for r in rows:
            for v in r["vacancies"]:
                expected[v["quotaType"]] += v["slots"]
        assert {r["quotaType"]: r["slots"] for r in plan["retirements"] if r["institutionCode"] == code} == expected
    freed = {q["quotaType"]: q["freedInFiveYears"] for q in plan["mergedQuotas"]}
    assert sum(freed.values()) == sum(r["slots"] for r in plan["retirements"])


def test_targets_bad_input_scope_and_grants(hub: Hub) -> None:
    local = _institutions(hub)
    codes = sorted(c for c, j in local.items() if j in JGIDS)
    plan = hub.query(PLAN, {"codes": codes, "q": [{"quotaType": "XZ", "approved": 3}]})["data"]["reorganizationPlan"]
    xz = next(q for q in plan["mergedQuotas"] if q["quotaType"] == "XZ")
    assert xz["approved"] == 3 and xz["over"] == max(xz["persons"] - 3, 0)
    unknown = hub.query(PLAN, {"codes": [*codes, "NOPE"]})
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    negative = hub.query(PLAN, {"codes": codes, "q": [{"quotaType": "XZ", "approved": -1}]})
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    outside = hub.query(PLAN, {"codes": codes}, region="152922")  # a banner officer naming another banner's institutions
    assert outside["data"] is None and outside["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hub.query(PLAN, {"codes": codes}, role="analyst")["errors"][0]["extensions"]["code"] == "FORBIDDEN"
