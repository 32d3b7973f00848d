"""changeEvents and acknowledgeChangeEvents: a department's system pulls its own events and acknowledges
them; another department's are refused; officers read but do not acknowledge; reads are audited."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.core.changes import Change, ChangeOp
from hub.store import open_store, outbox
from tests.conftest import Hub, hub_settings, running_hub

EVENTS = """query ($department: Department!, $after: Int) {
  changeEvents(department: $department, after: $after, first: 10) {
    id department applicationId seq entity op key values createdAt deliveredAt acknowledgedAt } }"""
ACK = """mutation ($department: Department!, $upTo: Int!) { acknowledgeChangeEvents(department: $department, upTo: $upTo) }"""
PAYEE = {"payee_code": "90000001", "id_number": "152921196503040127", "name": "张三", "on_payroll": True}


@pytest.fixture(scope="module")
def hub_with_events(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    store_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('events')}/store.db"
    with running_hub(hub_settings(demo_dir, store_url=store_url)) as hub:
        async def enqueue() -> None:
            store = await open_store(store_url)
            async with store.begin() as conn:
                await outbox.enqueue(conn, [
                    Change("app-1", 1, "finance", "payee", ChangeOp.INSERT, PAYEE),
                    Change("app-1", 2, "establishment", "registry_slot", ChangeOp.UPDATE, {"status": "LEFT"},
                           {"slot_id": "R000000001"}),
                    Change("app-2", 1, "finance", "payroll_change", ChangeOp.INSERT,
                           {"payee_code": "90000001", "kind": "START", "from_month": "2026-11"}),
                ])
            await store.close()

        asyncio.run(enqueue())
        yield hub


def events(hub: Hub, of: str, after: int | None = None, **who: Any) -> dict[str, Any]:
    """changeEvents of department `of`, asked by `who` (role, department, region)."""
    return hub.query(EVENTS, {"department": of.upper(), "after": after}, **who)


def test_a_department_system_pulls_its_own_events_in_order(hub_with_events: Hub) -> None:
    answer = events(hub_with_events, "finance", role="integration", department="finance")
    assert "errors" not in answer
    got = answer["data"]["changeEvents"]
    assert [(e["applicationId"], e["seq"], e["entity"], e["op"]) for e in got] == [
        ("app-1", 1, "payee", "INSERT"), ("app-2", 1, "payroll_change", "INSERT")]
    assert got[0]["values"] == PAYEE and got[0]["department"] == "FINANCE" and got[0]["deliveredAt"] is None
    after = events(hub_with_events, "finance", after=got[0]["id"], role="integration", department="finance")
    assert [e["applicationId"] for e in after["data"]["changeEvents"]] == ["app-2"]
    audit = hub_with_events.query("{ auditEntries(first: 1) { edges { node { actor fields rows } } } }")
    [entry] = [e["node"] for e in audit["data"]["auditEntries"]["edges"]]
    assert "ChangeEvent.values" in entry["fields"] and entry["rows"] == 1  # names and ID numbers were read


def test_another_departments_events_are_refused(hub_with_events: Hub) -> None:
    for who in ({"role": "integration", "department": "finance"}, {"role": "officer", "department": "finance"}):
        answer = events(hub_with_events, "establishment", **who)
        assert answer["data"] is None
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]
    regional = events(hub_with_events, "finance", role="integration", department="finance", region="152921")
    assert regional["data"] is None and regional["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert hub_with_events.query(ACK, {"department": "ESTABLISHMENT", "upTo": 10**6}, role="integration",
                                 department="finance")["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = events(hub_with_events, "establishment")
    assert [e["entity"] for e in admin["data"]["changeEvents"]] == ["registry_slot"]


def test_the_department_system_acknowledges_officers_only_read(hub_with_events: Hub) -> None:
    first = events(hub_with_events, "finance", role="integration", department="finance")["data"]["changeEvents"][0]
    officer = hub_with_events.query(ACK, {"department": "FINANCE", "upTo": first["id"]}, role="officer", department="finance")
    assert officer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert events(hub_with_events, "finance", role="officer", department="finance")["data"]["changeEvents"]
    ack = {"department": "FINANCE", "upTo": first["id"]}
    assert hub_with_events.query(ACK, ack, role="integration", department="finance")["data"] == {"acknowledgeChangeEvents": 1}
    assert hub_with_events.query(ACK, {**ack, "upTo": first["id"]}, role="integration",
                                 department="finance")["data"] == {"acknowledgeChangeEvents": 0}
    got = events(hub_with_events, "finance", role="integration", department="finance")["data"]["changeEvents"]
    assert [e["acknowledgedAt"] is not None for e in got] == [True, False]
    bad = hub_with_events.query(ACK, {**ack, "upTo": -1}, role="integration", department="finance")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
