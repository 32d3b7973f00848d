"""Freezes by kind over HTTP with each department's token: who may freeze, confirm and lift which kind, in
which row scope; the alerts a freeze answers; what the precheck and `frozen` then say."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.store import open_store
from hub.store.db import utcnow
from hub.store.tables import freeze_kinds
from hub.store.tables import freezes as freeze_table
from hub.supervision import freezes
from hub.supervision.model import FreezeKind
from hub.supervision.precheck import frozen
from tests.conftest import Hub, hub_settings, running_hub

FREEZE = """mutation($code: String!, $kinds: [FreezeKind!], $ids: [ID!], $hiring: Boolean) {
  freezeInstitution(institutionCode: $code, reason: "核查发现问题 / findings", kinds: $kinds, alertIds: $ids,
                    hiring: $hiring) { id status kinds hiring payroll alertIds institutionCode } }"""
LIFT = 'mutation($id: ID!) { unfreezeInstitution(id: $id, note: "已整改 / rectified") { status kinds } }'
CONFIRM = "mutation($id: ID!) { confirmFreeze(id: $id) { status kinds } }"
FREEZES = "query($code: String, $kinds: [FreezeKind!]) { freezes(institutionCode: $code, kinds: $kinds) { id kinds status } }"
PRECHECK = """query($code: String!, $action: PrecheckAction!) {
  precheck(action: $action, institutionCode: $code) { blockers { code message } warnings { code message } } }"""
ALERTS = """query($rule: [String!]) { alerts(first: 1000, rule: $rule) {
  edges { node { id institutionCode regionCode } } } }"""
INSTITUTIONS = "query($r: String) { institutions(first: 200, regionCode: $r) { edges { node { code regionCode } } } }"

OFFICERS = {kind: department for department, kind in (("establishment", "QUOTA_USE"), ("hr", "HIRING"),
                                                      ("finance", "PAYROLL"), ("organization", "APPOINTMENT"))}


@pytest.fixture(scope="module")
def hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub over the session's demo data with a store of its own, after one cross-check run."""
    store = tmp_path_factory.mktemp("freeze-kinds") / "hub.db"
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}")) as running:
        body = running.query("mutation { runCheck(wait: true) { status } }", role="auditor")
        assert body["data"]["runCheck"]["status"] == "DONE", body
        yield running


def ask(hub: Hub, query: str, department: str | None = None, region: str = "152900", role: str = "officer",
        **variables: Any) -> dict[str, Any]:
    """The answer to a query asked by a department's officer (or a global role)."""
    return hub.query(query, variables, role=role, department=department, region=region)


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def refused(body: dict[str, Any]) -> str:
    assert body.get("errors"), body
    return body["errors"][0]["extensions"]["code"]  # type: ignore[no-any-return]


def institutions(hub: Hub, region: str) -> list[str]:
    edges = ok(ask(hub, INSTITUTIONS, role="admin", r=region))["institutions"]["edges"]
    return [e["node"]["code"] for e in edges]


def test_each_department_freezes_only_the_kinds_it_governs(hub: Hub) -> None:
    code = institutions(hub, "152921")[0]
    for kind, department in OFFICERS.items():
        made = ok(ask(hub, FREEZE, department, code=code, kinds=[kind]))["freezeInstitution"]
        assert (made["status"], made["kinds"], made["institutionCode"]) == ("ACTIVE", [kind], code)
        others = [k for k in OFFICERS if k != kind]
        assert refused(ask(hub, FREEZE, department, code=code, kinds=others[:1])) == "FORBIDDEN"
        assert refused(ask(hub, FREEZE, department, code=code, kinds=[kind, *others])) == "FORBIDDEN"
    # HR cannot freeze payroll changes, nor through the older flags' names
    assert refused(ask(hub, FREEZE, "hr", code=code, kinds=["PAYROLL"])) == "FORBIDDEN"
    stored = ok(ask(hub, FREEZES, role="admin", code=code))["freezes"]
    assert sorted(k for f in stored if f["status"] == "ACTIVE" for k in f["kinds"]) == sorted(OFFICERS)  # the refused ones wrote nothing
    # the older argument: hiring: true is a HIRING freeze, which HR may make and finance may not
    flags = ok(ask(hub, FREEZE, "hr", code=code, hiring=True))["freezeInstitution"]
    assert (flags["kinds"], flags["hiring"], flags["payroll"]) == (["HIRING"], True, False)
    assert refused(ask(hub, FREEZE, "finance", code=code, hiring=True)) == "FORBIDDEN"
    # the auditor keeps its power to freeze, now of every kind
    every = ok(ask(hub, FREEZE, role="auditor", code=code, kinds=list(OFFICERS)))["freezeInstitution"]
    assert every["kinds"] == ["QUOTA_USE", "HIRING", "PAYROLL", "APPOINTMENT"]
    assert refused(ask(hub, FREEZE, role="analyst", code=code, kinds=["HIRING"])) == "FORBIDDEN"


def test_a_banner_officer_freezes_only_in_its_banner(hub: Hub) -> None:
    mine, theirs = institutions(hub, "152921")[1], institutions(hub, "152922")[0]
    made = ok(ask(hub, FREEZE, "hr", region="152921", code=mine, kinds=["HIRING"]))["freezeInstitution"]
    assert made["status"] == "ACTIVE"
    before = ok(ask(hub, FREEZES, role="admin", code=theirs))["freezes"]
    assert refused(ask(hub, FREEZE, "hr", region="152921", code=theirs, kinds=["HIRING"])) == "FORBIDDEN"
    assert ok(ask(hub, FREEZES, role="admin", code=theirs))["freezes"] == before
    # the league's HR froze the other banner: the banner officer can neither see nor lift it
    other = ok(ask(hub, FREEZE, "hr", code=theirs, kinds=["HIRING"]))["freezeInstitution"]
    assert refused(ask(hub, LIFT, "hr", region="152921", id=other["id"])) == "FORBIDDEN"
    seen = ok(ask(hub, FREEZES, "hr", region="152921", kinds=["HIRING"]))["freezes"]
    assert made["id"] in {f["id"] for f in seen} and other["id"] not in {f["id"] for f in seen}


def test_lifting_needs_the_kind_and_ends_the_block(hub: Hub) -> None:
    code = institutions(hub, "152923")[0]
    quota = ok(ask(hub, FREEZE, "establishment", code=code, kinds=["QUOTA_USE"]))["freezeInstitution"]
    blockers = ok(ask(hub, PRECHECK, "hr", code=code, action="HIRE"))["precheck"]["blockers"]
    frozen_items = [b for b in blockers if b["code"] == "INSTITUTION_FROZEN"]
    assert len(frozen_items) == 1 and f"#{quota['id']}" in frozen_items[0]["message"]
    assert "用编" in frozen_items[0]["message"] and "quota use" in frozen_items[0]["message"]
    pay = ok(ask(hub, PRECHECK, "finance", code=code, action="PAY_CHANGE"))["precheck"]["blockers"]
    assert "INSTITUTION_FROZEN" not in {b["code"] for b in pay}  # a quota-use freeze does not stop pay changes

    assert refused(ask(hub, LIFT, "finance", id=quota["id"])) == "FORBIDDEN"
    assert refused(ask(hub, LIFT, role="analyst", id=quota["id"])) == "FORBIDDEN"
    lifted = ok(ask(hub, LIFT, "establishment", id=quota["id"]))["unfreezeInstitution"]
    assert lifted == {"status": "LIFTED", "kinds": ["QUOTA_USE"]}
    after = ok(ask(hub, PRECHECK, "hr", code=code, action="HIRE"))["precheck"]["blockers"]
    assert "INSTITUTION_FROZEN" not in {b["code"] for b in after}

    appointments = ok(ask(hub, FREEZE, "organization", code=code, kinds=["APPOINTMENT"]))["freezeInstitution"]
    appoint = ok(ask(hub, PRECHECK, "organization", code=code, action="APPOINT"))["precheck"]["blockers"]
    assert "INSTITUTION_FROZEN" in {b["code"] for b in appoint}
    assert ok(ask(hub, LIFT, "organization", id=appointments["id"]))["unfreezeInstitution"]["status"] == "LIFTED"


def test_proposals_are_confirmed_by_the_department_of_their_kind(hub: Hub) -> None:
    proposals = ok(ask(hub, "{ freezes(status: [PROPOSED]) { id kinds institutionCode } }", role="admin"))["freezes"]
    assert proposals and all(len(p["kinds"]) == 1 for p in proposals)
    quota = next(p for p in proposals if p["kinds"] == ["QUOTA_USE"])  # an over-quota (R04) proposal
    assert refused(ask(hub, CONFIRM, "hr", id=quota["id"])) == "FORBIDDEN"
    assert ok(ask(hub, CONFIRM, "establishment", id=quota["id"]))["confirmFreeze"]["status"] == "ACTIVE"
    pay = next(p for p in proposals if p["kinds"] == ["PAYROLL"])
    warnings = ok(ask(hub, PRECHECK, "finance", code=pay["institutionCode"], action="PAY_START"))["precheck"]["warnings"]
    assert "FREEZE_PROPOSED" in {w["code"] for w in warnings}


def test_a_freeze_links_only_alerts_about_its_institution(hub: Hub) -> None:
    edges = ok(ask(hub, ALERTS, role="admin", rule=["R04"]))["alerts"]["edges"]
    first = edges[0]["node"]
    other = next(e["node"] for e in edges if e["node"]["institutionCode"] != first["institutionCode"])
    made = ok(ask(hub, FREEZE, "establishment", code=first["institutionCode"], kinds=["QUOTA_USE"],
                  ids=[first["id"]]))["freezeInstitution"]
    assert made["alertIds"] == [first["id"]]
    body = ask(hub, FREEZE, "establishment", code=first["institutionCode"], kinds=["QUOTA_USE"], ids=[other["id"]])
    assert refused(body) == "BAD_USER_INPUT" and " / " in body["errors"][0]["message"]
    body = ask(hub, FREEZE, "establishment", code=first["institutionCode"], kinds=[])
    assert refused(body) == "BAD_USER_INPUT"


async def test_frozen_says_what_the_workflow_must_know(tmp_path: Path) -> None:
    """`frozen` alone: an active freeze of a kind blocks, a proposal warns, other kinds and lifted freezes say nothing."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
    try:
        code = "12152921MB000011X"
        made = await freezes.freeze(store, code, "152921", kinds=[FreezeKind.PAYROLL, FreezeKind.APPOINTMENT],
                                    reason="吃空饷 / ghost pay", alert_ids=[], actor="finance-1")
        assert await frozen(store, code, [FreezeKind.HIRING, FreezeKind.QUOTA_USE]) == []
        assert await frozen(store, code, []) == []
        [item] = await frozen(store, code, ["PAYROLL"])
        assert item.blocks and item.code == "INSTITUTION_FROZEN" and "工资变动" in item.message
        assert "payroll changes" in item.message and "干部任免" not in item.message  # only the kinds asked
        assert await frozen(store, "another", [FreezeKind.PAYROLL]) == []
        await freezes.decide(store, made.id, freezes.FreezeStatus.LIFTED, "finance-1")
        assert await frozen(store, code, [FreezeKind.PAYROLL]) == []
        async with store.begin() as conn:
            proposal = (await conn.execute(freeze_table.insert().returning(freeze_table.c.id).values(  # as a run leaves one
                institution_code=code, region_code="152921", status="PROPOSED", reason="R01", created_by="system",
                created_at=utcnow(), updated_at=utcnow()))).scalar_one()
            await conn.execute(freeze_kinds.insert().values(freeze_id=proposal, kind="PAYROLL"))
        [warning] = await frozen(store, code, [FreezeKind.PAYROLL])
        assert (warning.code, warning.blocks) == ("FREEZE_PROPOSED", False)
    finally:
        await store.close()
