"""Delivery of the outbox (hub/workflow/delivery.py): write-enabled departments get their changes once,
in order; a department that is down keeps its events; pull departments' events stay for pulling."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

from adapters.mapping import MAPPINGS_DIR, load_mapping
from adapters.registry import Sources
from adapters.sql import SqlAdapter
from hub.core.changes import Change, ChangeOp
from hub.core.crosswalk import CrosswalkCache
from hub.core.db import sqlite_file_url
from hub.core.settings import SourceSettings
from hub.store import open_store, outbox, upgrade
from hub.workflow.delivery import DeliveryLoop, deliver
from tests.conftest import hub_settings, running_hub
from tests.workflow.legacy import legacy_database, rows, sources

QUOTA = {"unit_local_id": "JG900001", "quota_type": "SY", "approved": 10}
PAYEE = {"unit_local_id": "301000001", "name": "张三", "id_number": "152921196503040127", "sex": "FEMALE",
         "category": "PUBLIC_INSTITUTION", "on_quota": True, "on_payroll": True}


def changes(application_id: str) -> list[Change]:
    """A completed application's changes: establishment (a quota, then raised), finance (a payee), hr (a pull department)."""
    return [
        Change(application_id, 1, "establishment", "quota", ChangeOp.INSERT, QUOTA),
        Change(application_id, 2, "establishment", "quota", ChangeOp.UPDATE, {"approved": 11},
               {"unit_local_id": "JG900001", "quota_type": "SY"}),
        Change(application_id, 3, "finance", "payee", ChangeOp.INSERT, {**PAYEE, "payee_code": "90000001"}),
        Change(application_id, 4, "hr", "post_assignment", ChangeOp.INSERT,
               {"person_no": "9000000001", "category": "TECHNICAL", "grade": 9, "start_on": "2026-10-01"}),
    ]


def test_write_departments_get_their_changes_once_a_down_one_waits_pull_ones_stay(tmp_path: Path) -> None:
    establishment = legacy_database(tmp_path / "establishment.db", "establishment")
    finance = legacy_database(tmp_path / "finance.db", "finance")
    hr = legacy_database(tmp_path / "hr.db", "hr")
    finance_down = f"sqlite+aiosqlite:///{tmp_path}/no/such/dir/finance.db"

    async def run() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
        try:
            async with store.begin() as conn:
                await outbox.enqueue(conn, changes("app-1"))
            down = sources({"establishment": establishment, "finance": finance_down, "hr": hr}, {"establishment", "finance"})
            first = await deliver(store, down)
            assert first.applied == {"establishment": 2} and first.delivered == {"establishment": 2}
            assert "finance" in first.pending and "hr" not in first.pending  # hr does not grant writes: not tried
            again = await deliver(store, down)
            assert again.applied == {} and "finance" in again.pending
            await down.close()

            up = sources({"establishment": establishment, "finance": finance, "hr": hr}, {"establishment", "finance"})
            later = await deliver(store, up)
            assert later.applied == {"finance": 1} and not later.pending
            await up.close()
            assert [e.delivered_at is not None for e in await outbox.events(store, "finance")] == [True]
            [pulled] = await outbox.events(store, "hr")
            assert pulled.delivered_at is None and pulled.change.values["grade"] == 9
        finally:
            await store.close()

    asyncio.run(run())
    assert [(r[0], r[1], r[2]) for r in rows(establishment, "T_BZ")] == [("JG900001", "SY", 11)]
    assert [r[0] for r in rows(finance, "GZ_RY")] == ["90000001"]
    assert rows(hr, "RS_GWPY") == []


def test_events_applied_but_not_marked_are_marked_without_applying_again(tmp_path: Path) -> None:
    establishment = legacy_database(tmp_path / "establishment.db", "establishment")

    async def run() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
        both = sources({"establishment": establishment}, {"establishment"})
        try:
            async with store.begin() as conn:
                await outbox.enqueue(conn, changes("app-2")[:2])
            # a process applied them and died before marking them delivered
            assert await both["establishment"].apply([e.change for e in await outbox.events(store, "establishment")]) == 2
            loop = DeliveryLoop(store, both, interval=0)
            loop.start()  # at startup: recovery
            await asyncio.wait_for(loop._task, 10)  # type: ignore[arg-type]
            assert loop.last is not None and loop.last.applied == {"establishment": 0}
            assert loop.last.delivered == {"establishment": 2}
            await loop.stop()
        finally:
            await both.close()
            await store.close()

    asyncio.run(run())
    assert [(r[0], r[2]) for r in rows(establishment, "T_BZ")] == [("JG900001", 11)]


def test_a_refused_change_stops_its_department_only(tmp_path: Path) -> None:
    establishment = legacy_database(tmp_path / "establishment.db", "establishment")
    finance = legacy_database(tmp_path / "finance.db", "finance")
    refused = Change("app-3", 1, "establishment", "quota", ChangeOp.UPDATE, {"approved": 3},
                     {"unit_local_id": "JG000000", "quota_type": "SY"})  # no such row
    later = Change("app-4", 1, "establishment", "quota", ChangeOp.INSERT, QUOTA)
    paid = Change("app-4", 2, "finance", "payee", ChangeOp.INSERT, {**PAYEE, "payee_code": "90000002"})

    async def run() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
        both = sources({"establishment": establishment, "finance": finance}, {"establishment", "finance"})
        try:
            async with store.begin() as conn:
                await outbox.enqueue(conn, [refused, later, paid])
            done = await deliver(store, both)
            assert done.applied == {"finance": 1} and "no row matches" in done.pending["establishment"]
            assert [e.delivered_at for e in await outbox.events(store, "establishment")] == [None, None]  # in order
        finally:
            await both.close()
            await store.close()

    asyncio.run(run())
    assert rows(establishment, "T_BZ") == [] and len(rows(finance, "GZ_RY")) == 1


def test_the_app_delivers_what_was_pending_when_it_starts_and_reads_show_it(demo_dir: Path, tmp_path: Path) -> None:
    legacy = tmp_path / "establishment.db"
    shutil.copy(demo_dir / "establishment.db", legacy)
    url = sqlite_file_url(str(legacy))
    slot, id_number = next((r[0], r[3]) for r in rows(url, "T_SMZ") if r[12] == "在编" and len(r[3] or "") == 18)
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    upgrade(store_url)
    leave = Change("app-5", 1, "establishment", "registry_slot", ChangeOp.UPDATE,
                   {"status": "LEFT", "left_on": "2026-10-31", "left_reason": "调出"}, {"slot_id": slot})

    async def enqueue() -> None:
        store = await open_store(store_url)
        async with store.begin() as conn:
            await outbox.enqueue(conn, [leave])
        await store.close()

    asyncio.run(enqueue())
    settings = hub_settings(demo_dir, store_url=store_url, delivery_interval=0)
    settings.source["establishment"] = SourceSettings(url=url, writes=True)
    with running_hub(settings) as hub:
        deadline = time.monotonic() + 20
        while [r[12] for r in rows(url, "T_SMZ") if r[0] == slot] != ["出编"]:
            assert time.monotonic() < deadline, "not delivered at startup"
            time.sleep(0.1)
        answer = hub.query("query ($id: String!) { person(idNumber: $id) { registry { slotId status leftOn leftReason } } }",
                           {"id": id_number})
    [entry] = [e for e in answer["data"]["person"]["registry"] if e["slotId"] == slot]
    assert entry == {"slotId": slot, "status": "LEFT", "leftOn": "2026-10-31", "leftReason": "调出"}


def test_writing_a_unit_rebuilds_the_crosswalk(tmp_path: Path) -> None:
    establishment = legacy_database(tmp_path / "establishment.db", "establishment")
    text = (MAPPINGS_DIR / "establishment.yaml").read_text(encoding="utf-8")
    path = tmp_path / "establishment.yaml"
    path.write_text(text.replace("    table: T_JG\n", "    table: T_JG\n    write: true\n", 1), encoding="utf-8")
    unit = Change("app-6", 1, "establishment", "unit", ChangeOp.INSERT, {"local_id": "JG900009", "name": "新设中学"})

    async def run() -> None:
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
        adapter = SqlAdapter("establishment", load_mapping(path), establishment, writes=True)
        both = Sources({"establishment": adapter})
        crosswalk = CrosswalkCache(both)
        try:
            assert (await crosswalk.get()).find("establishment:JG900009") is None
            async with store.begin() as conn:
                await outbox.enqueue(conn, [unit])
            await deliver(store, both, crosswalk=crosswalk)
            assert (await crosswalk.get()).identity("establishment:JG900009") is not None  # rebuilt, not the kept one
        finally:
            await both.close()
            await store.close()

    asyncio.run(run())
