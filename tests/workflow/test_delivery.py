"""Delivery of the outbox (hub/workflow/delivery.py): write-enabled departments get their changes once,
in order; a department that is down keeps its events; pull departments' events stay for pulling."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hub.core.changes import Change, ChangeOp
from hub.store import open_store, outbox
from hub.workflow.delivery import DeliveryLoop, deliver
from tests.workflow.conftest import legacy_database, rows, sources

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
