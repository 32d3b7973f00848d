"""Writes are race-safe and idempotent: 20 concurrent callers on SQLite and on a PostgreSQL hub store.

Service level: 20 concurrent lifecycle steps on one alert / one proposed freeze -> exactly one wins,
19 CONFLICT, one history row out of the state they all saw. Through the real GraphQL app (20 threads):
the same race, the same idempotency key 20 times at once (one write, 20 identical answers), and every
mutation of the schema retried with its key (nothing written the second time).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from graphql import GraphQLNonNull, GraphQLScalarType

from hub.auth import create_token
from hub.core.errors import Conflict
from hub.store import Store, open_store
from hub.store.db import utcnow
from hub.store.lifecycle import advance_many
from hub.store.tables import alert_events, casbin_rule, freeze_events, metadata
from hub.supervision import alerts, freezes
from hub.supervision.alerts import AlertStatus, record_findings, transition
from hub.supervision.freezes import FreezeStatus
from hub.supervision.model import Finding, Scope, Severity
from hub.supervision.service import open_run
from schema import build_schema
from schema.admin import AdminMutation
from schema.supervision import SupervisionMutation
from schema.workflow import WorkflowMutation
from tests.conftest import PG_ADMIN, Hub, _factory, hub_settings, running_hub
from tests.supervision.test_store import store_url  # noqa: F401  (SQLite, or a PostgreSQL database of its own)

CALLERS = 20
T = TypeVar("T")


async def _proposal(store: Store) -> tuple[int, int]:
    """An acknowledged severe alert and the freeze it proposes."""
    run = await open_run(store, Scope(), "test")
    finding = Finding("R01", Severity.SEVERE, "2026-10", "152921198503150021", "12152921MB000011X", "152921",
                      {"k": 1}, {"amount": "5,820.00"}, "消息 / message")
    async with store.begin() as conn:
        alert_id = (await record_findings(conn, run, [finding], utcnow())).opened[0]
        [freeze_id] = await freezes.propose_for_alerts(conn, [alert_id], utcnow())
    await transition(store, alert_id, AlertStatus.ACKNOWLEDGED, "officer-0")
    return alert_id, freeze_id


async def _moves_out_of(store: Store, events: sa.Table, owner: str, row_id: int, state: str) -> list[str]:
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(events.c.to_status)
                                  .where(events.c[owner] == row_id, events.c.from_status == state))
        return [r.to_status for r in rows]


@pytest.fixture
async def seeded(store_url: str) -> AsyncIterator[tuple[Store, int, int]]:  # noqa: F811
    """A fresh store (SQLite, PostgreSQL) with an acknowledged severe alert and the freeze it proposes."""
    store = await open_store(store_url, migrate=True)
    try:
        yield store, *await _proposal(store)
    finally:
        await store.close()


async def one_wins(calls: list[Awaitable[T]]) -> tuple[int, T, list[Conflict]]:
    """Run the calls at once: which one won, its answer, and the others' CONFLICTs (all of them)."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    won = [i for i, r in enumerate(results) if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == CALLERS - 1, results
    return won[0], results[won[0]], lost  # type: ignore[return-value]


async def test_one_of_twenty_resolve_or_dismiss_wins(seeded: tuple[Store, int, int]) -> None:
    store, alert_id, _ = seeded
    steps = [AlertStatus.RESOLVED if i % 2 else AlertStatus.DISMISSED for i in range(CALLERS)]
    i, won, lost = await one_wins([transition(store, alert_id, to, f"officer-{i}", "核实 / checked")
                                   for i, to in enumerate(steps)])
    assert won.status == steps[i]  # the winner is answered its own step
    assert all(" / " in e.message and e.extensions["status"] == won.status for e in lost)
    assert await _moves_out_of(store, alert_events, "alert_id", alert_id, AlertStatus.ACKNOWLEDGED) == [won.status]


async def test_one_of_twenty_confirm_or_reject_wins(seeded: tuple[Store, int, int]) -> None:
    store, _, freeze_id = seeded
    steps = [FreezeStatus.ACTIVE if i % 2 else FreezeStatus.REJECTED for i in range(CALLERS)]
    i, won, _ = await one_wins([freezes.decide(store, freeze_id, to, f"officer-{i}") for i, to in enumerate(steps)])
    assert won.status == steps[i]  # rejectFreeze is never answered ACTIVE
    assert await _moves_out_of(store, freeze_events, "freeze_id", freeze_id, FreezeStatus.PROPOSED) == [won.status]


async def test_a_system_step_leaves_a_row_someone_moved_meanwhile(seeded: tuple[Store, int, int]) -> None:
    store, alert_id, _ = seeded  # acknowledged after the "run" below read it as OPEN
    async with store.begin() as conn:
        moved = await advance_many(conn, alerts.LIFECYCLE, {alert_id: AlertStatus.OPEN},
                                   AlertStatus.RESOLVED_BY_DATA, actor="system", note=None, now=utcnow())
    assert moved == []
    assert await _moves_out_of(store, alert_events, "alert_id", alert_id, AlertStatus.OPEN) == ["ACKNOWLEDGED"]


# --- through the real GraphQL app ------------------------------------------------------------

ALERTS = "query($s: [AlertStatus!]) { alerts(first: 1000, status: $s) { edges { node { id status } } } }"
FREEZES = "query($s: [FreezeStatus!]) { freezes(status: $s) { id institutionCode } }"
RUN = "mutation($k: String) { runCheck(wait: true, idempotencyKey: $k) { id status findings } }"
STEP = """mutation($id: ID!, $note: String!, $k: String) {
  %s(id: $id, note: $note, idempotencyKey: $k) { id status history { fromStatus toStatus actor note } } }"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub over the demo data with a store of its own (SQLite or PostgreSQL), policies in the store and no
    limit on operations at once, after one check run. The tests share it: each takes alerts no other took."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('store') / 'hub.db'}"
        else:
            url = stack.enter_context(contextlib.contextmanager(_factory)(PG_ADMIN, '"'))()
        settings = hub_settings(demo_dir, store_url=url, policy_source="store", max_concurrent_operations=0,
                                policy_poll_seconds=3600)  # no reload of the rules this process changed itself
        running = stack.enter_context(running_hub(settings))
        assert data(running, RUN, k="seed")["runCheck"]["findings"] > 0
        yield running


def post(hub: Hub, query: str, variables: dict[str, Any], *, who: str = "officer-a",
         headers: dict[str, str] | None = None) -> dict[str, Any]:
    """POST an operation as the admin `who` (a key belongs to who asks); the JSON body."""
    token = create_token(hub.settings, None, ["admin"], "152900", "1h", subject=who)
    response = hub.client.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}", **(headers or {})})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def data(hub: Hub, query: str, **variables: Any) -> dict[str, Any]:
    """The data of an answer without errors (asked by officer-a)."""
    body = post(hub, query, variables)
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def at_once(calls: list[Callable[[], dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run the calls in as many threads at the same time; their answers in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def counts(hub: Hub) -> dict[str, int]:
    """Rows per store table (the audit log aside: a retry's answer is still a read of personal data)."""
    engine = sa.create_engine(_sync(hub.settings.store_url))
    try:
        with engine.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables if not t.name.startswith("audit_")}
    finally:
        engine.dispose()


def _sync(url: str) -> str:
    from hub.core.db import sync_url

    return sync_url(url).render_as_string(hide_password=False)


def first_open_alerts(hub: Hub, n: int) -> list[str]:
    return [e["node"]["id"] for e in data(hub, ALERTS, s=["OPEN"])["alerts"]["edges"][:n]]


def test_graphql_race_one_winner_and_conflicts(app: Hub) -> None:
    [alert_id] = first_open_alerts(app, 1)
    data(app, STEP % "acknowledgeAlert", id=alert_id, note="看到了 / seen")
    mutations = ["resolveAlert" if i % 2 else "dismissAlert" for i in range(CALLERS)]
    bodies = at_once([lambda i=i, m=m: post(app, STEP % m, {"id": alert_id, "note": "核实 / checked"}, who=f"officer-{i}")
                      for i, m in enumerate(mutations)])
    won = [b for b in bodies if not b.get("errors")]
    codes = [b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")]
    assert len(won) == 1 and codes == ["CONFLICT"] * (CALLERS - 1), bodies
    answer = next(iter(won[0]["data"].values()))
    history = answer["history"]
    assert [h["toStatus"] for h in history if h["fromStatus"] == "ACKNOWLEDGED"] == [answer["status"]]


def test_same_key_twenty_times_at_once_writes_once(app: Hub) -> None:
    [alert_id] = first_open_alerts(app, 1)
    before = counts(app)
    variables = {"id": alert_id, "note": "同一请求 / one request", "k": "ack-7f3c"}
    bodies = at_once([lambda: post(app, STEP % "acknowledgeAlert", variables) for _ in range(CALLERS)])
    assert all(not b.get("errors") for b in bodies), bodies
    assert all(b == bodies[0] for b in bodies) and bodies[0]["data"]["acknowledgeAlert"]["status"] == "ACKNOWLEDGED"
    after = counts(app)
    assert after["alert_events"] == before["alert_events"] + 1
    assert after["idempotency_keys"] == before["idempotency_keys"] + 1


def test_key_reuse_with_other_arguments_or_by_another_caller(app: Hub) -> None:
    first, second = first_open_alerts(app, 2)
    step = STEP % "acknowledgeAlert"
    mine = data(app, step, id=first, note="n", k="reused")
    assert data(app, step, id=first, note="n", k="reused") == mine
    other = post(app, step, {"id": second, "note": "n", "k": "reused"})
    assert other["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and " / " in other["errors"][0]["message"]
    assert second in first_open_alerts(app, 1000)  # nothing was written
    # The same key is another caller's own: it runs (and conflicts: officer-a acknowledged the alert already).
    theirs = post(app, step, {"id": first, "note": "n", "k": "reused"}, who="officer-b")
    assert theirs["errors"][0]["extensions"]["code"] == "CONFLICT"
    bad = post(app, step, {"id": second, "note": "n", "k": "空格 key"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_idempotency_key_header_covers_each_mutation_of_the_request(app: Hub) -> None:
    first, second = first_open_alerts(app, 2)
    query = """mutation($a: ID!, $b: ID!) { a: acknowledgeAlert(id: $a) { id status }
                                           b: acknowledgeAlert(id: $b) { id status } }"""
    def send() -> dict[str, Any]:
        return post(app, query, {"a": first, "b": second}, headers={"Idempotency-Key": "batch-1"})

    answer = send()
    assert not answer.get("errors") and answer["data"]["b"]["status"] == "ACKNOWLEDGED", answer
    before = counts(app)
    assert send() == answer and counts(app) == before


# --- every mutation ---------------------------------------------------------------------------


def _ids(hub: Hub, query: str, **variables: Any) -> list[str]:
    found = data(hub, query, **variables)
    rows = found["alerts"]["edges"] if "alerts" in found else found["freezes"]
    return [r["node"]["id"] if "node" in r else r["id"] for r in rows]


def _freeze_target(hub: Hub) -> str:
    return data(hub, FREEZES, s=["PROPOSED"])["freezes"][0]["institutionCode"]  # type: ignore[no-any-return]


def _deferral_target(hub: Hub) -> dict[str, str]:
    """A person past retirement (an R08 alert) and a date a year after their statutory retirement."""
    alerts = data(hub, '{ alerts(first: 1, rule: ["R08"]) { edges { node { idNumber } } } }')["alerts"]["edges"]
    person = alerts[0]["node"]["idNumber"]
    due = dt.date.fromisoformat(data(hub, "query($id: String!) { person(idNumber: $id) { retirementDate } }",
                                     id=person)["person"]["retirementDate"])
    return {"id": person, "until": due.replace(year=due.year + 1, day=min(due.day, 28)).isoformat()}


# Each mutation once, in an order where each finds what it needs; a mutation missing here fails the test.
WORKFLOW_OFFICER = "establishment"  # the workflow's mutations are asked by a department's officer, not the admin
APPLICATION = "mutation($k: String, %s) { %s(%s, idempotencyKey: $k) { id state currentSteps history { decision } } }"


def officer_data(hub: Hub, query: str, **variables: Any) -> dict[str, Any]:
    """The data of an answer without errors, asked by the league's establishment officer."""
    token = create_token(hub.settings, WORKFLOW_OFFICER, ["officer"], "152900", "1h", subject="workflow-officer")
    response = hub.client.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]  # type: ignore[no-any-return]


def _plan_input(hub: Hub) -> dict[str, Any]:
    """A one-place vacancy plan at an institution with a vacant slot."""
    found = data(hub, "{ institutions(first: 200) { edges { node { code quotas { quotaType vacant } } } } }")
    frozen = {f["institutionCode"] for f in data(hub, FREEZES)["freezes"]}
    code, kind = next((e["node"]["code"], q["quotaType"]) for e in found["institutions"]["edges"]
                      for q in e["node"]["quotas"] if q["vacant"] > 0 and e["node"]["code"] not in frozen)
    return {"institutionCode": code, "quotaType": kind, "places": 1}


def _application(hub: Hub, *then: str) -> str:
    """A new vacancy-plan application, taken through the given decisions."""
    made = officer_data(hub, APPLICATION % ("$i: JSON!", "submitApplication", 'kind: "VACANCY_PLAN", input: $i'),
                        i=_plan_input(hub), k=None)["submitApplication"]["id"]
    for decision in then:
        officer_data(hub, APPLICATION % ("$id: ID!", "decideApplication", f'id: $id, decision: {decision}, comment: "c"'),
                     id=made, k=None)
    return str(made)


SAMPLES: list[tuple[str, str, Callable[[Hub], dict[str, Any]]]] = [
    ("runCheck", """mutation($code: String!, $k: String) {
       runCheck(institutionCode: $code, wait: true, idempotencyKey: $k) { id status findings } }""",
     lambda h: {"code": _freeze_target(h)}),
    ("acknowledgeAlert", STEP % "acknowledgeAlert", lambda h: {"id": first_open_alerts(h, 1)[0], "note": "n"}),
    ("startRectifyingAlert", STEP % "startRectifyingAlert",
     lambda h: {"id": _ids(h, ALERTS, s=["ACKNOWLEDGED"])[0], "note": "n"}),
    ("resolveAlert", STEP % "resolveAlert", lambda h: {"id": _ids(h, ALERTS, s=["RECTIFYING"])[0], "note": "n"}),
    ("dismissAlert", STEP % "dismissAlert", lambda h: {"id": first_open_alerts(h, 1)[0], "note": "误报 / false"}),
    ("confirmFreeze", STEP % "confirmFreeze", lambda h: {"id": _ids(h, FREEZES, s=["PROPOSED"])[0], "note": "n"}),
    ("rejectFreeze", STEP % "rejectFreeze", lambda h: {"id": _ids(h, FREEZES, s=["PROPOSED"])[0], "note": "n"}),
    ("freezeInstitution", """mutation($code: String!, $k: String) {
       freezeInstitution(institutionCode: $code, reason: "超编 / over quota", idempotencyKey: $k) { id status } }""",
     lambda h: {"code": _freeze_target(h)}),
    ("unfreezeInstitution", STEP % "unfreezeInstitution",
     lambda h: {"id": _ids(h, FREEZES, s=["ACTIVE"])[0], "note": "n"}),
    ("recordRetirementDeferral", """mutation($id: String!, $until: Date!, $k: String) { recordRetirementDeferral(
       idNumber: $id, until: $until, document: "阿人社〔2026〕1号", idempotencyKey: $k) { id idNumber until recordedBy } }""",
     lambda h: _deferral_target(h)),
    ("addPolicyRule", """mutation($k: String) {
       addPolicyRule(subject: "analyst", object: "Freeze.reason", action: "read", idempotencyKey: $k) }""",
     lambda h: {}),
    ("removePolicyRule", """mutation($k: String) {
       removePolicyRule(subject: "analyst", object: "Freeze.reason", action: "read", idempotencyKey: $k) }""",
     lambda h: {}),
    ("acknowledgeChangeEvents", """mutation($k: String) {
       acknowledgeChangeEvents(department: FINANCE, upTo: 1000, idempotencyKey: $k) }""",
     lambda h: {}),
    ("saveReport", """mutation($k: String) { saveReport(report: "race-report", document: "{ regions { code } }",
       description: "测试 / test", idempotencyKey: $k) { name } }""", lambda h: {}),
    ("deleteReport", """mutation($k: String) { deleteReport(report: "race-report", idempotencyKey: $k) }""", lambda h: {}),
    ("submitApplication", APPLICATION % ("$i: JSON!", "submitApplication", 'kind: "VACANCY_PLAN", input: $i'),
     lambda h: {"i": _plan_input(h)}),
    ("decideApplication", APPLICATION % ("$id: ID!", "decideApplication", "id: $id, decision: APPROVE"),
     lambda h: {"id": _application(h)}),
    ("withdrawApplication", APPLICATION % ("$id: ID!", "withdrawApplication", "id: $id"),
     lambda h: {"id": _application(h)}),
    ("resubmitApplication", APPLICATION % ("$id: ID!", "resubmitApplication", "id: $id"),
     lambda h: {"id": _application(h, "RETURN")}),
]


def test_every_mutation_has_an_idempotency_key_argument() -> None:
    schema = build_schema()._schema
    assert schema.mutation_type is not None
    fields = schema.mutation_type.fields
    assert sorted(fields) == sorted(name for name, _, _ in SAMPLES), "add the new mutation to SAMPLES"
    for name, field in fields.items():
        arg = field.args.get("idempotencyKey")
        assert arg is not None, f"{name} has no idempotencyKey argument"
        assert isinstance(arg.type, GraphQLScalarType) and not isinstance(arg.type, GraphQLNonNull)
        assert arg.type.name == "String"
    merged = [f for t in (AdminMutation, SupervisionMutation, WorkflowMutation) for f in t.__strawberry_definition__.fields]
    assert all(a.python_name != "idempotency_key" for f in merged for a in f.arguments)  # copies were keyed


def test_every_mutation_retried_with_its_key_writes_nothing(app: Hub) -> None:
    for name, query, variables in SAMPLES:
        given = {**variables(app), "k": f"retry-{name}"}
        ask = officer_data if name.endswith("Application") else data
        first = ask(app, query, **given)
        before = counts(app)
        again = ask(app, query, **given)
        assert again == first, name
        assert counts(app) == before, name


# --- replicas starting at once ----------------------------------------------------------------


async def test_replicas_starting_at_once_on_a_new_store_seed_the_policies_once(store_url: str) -> None:  # noqa: F811
    """Each replica finds every rule of the file, and the store holds each once (not once per replica)."""
    from policies.grants import POLICY_PATH
    from policies.store import read_policy_file, store_enforcer

    stores = [await open_store(store_url, migrate=i == 0) for i in range(3)]
    try:
        enforcers = await asyncio.gather(*(store_enforcer(store, POLICY_PATH) for store in stores))
        lines = {tuple(row) for row in read_policy_file(POLICY_PATH)}
        for enforcer in enforcers:
            assert {("p", *rule) for rule in enforcer.get_policy()} | {("g", *rule) for rule in enforcer.get_grouping_policy()} == lines
        async with stores[0].connect() as conn:
            assert (await conn.execute(sa.select(sa.func.count()).select_from(casbin_rule))).scalar() == len(lines)
    finally:
        for store in stores:
            await store.close()
