"""A process that completes an application and is killed (SIGKILL) at a chosen point, for test_crash.py.

    python -m tests.workflow.crash_child MODE STORE_URL LEGACY_URL

MODE: `enqueue` commits the application's change events and dies before delivering them; `apply`
(after committing them too) dies inside the department's write transaction, after its rows and ledger row are written and
before its commit; `mark` dies after the department's commit, before the events are marked
delivered; `deliver` delivers and prints what it did (JSON). The faults are this test's own
patches, in this process only: nothing in the hub's code waits for them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import orjson

from adapters import write
from hub.core.changes import Change, ChangeOp
from hub.store import open_store, outbox
from hub.workflow import delivery
from tests.workflow.legacy import sources

APPLICATION = "app-crash"
CHANGES = [
    Change(APPLICATION, 1, "establishment", "quota", ChangeOp.INSERT,
           {"unit_local_id": "JG900001", "quota_type": "SY", "approved": 10}),
    Change(APPLICATION, 2, "establishment", "registry_slot", ChangeOp.INSERT,
           {"unit_local_id": "JG900001", "id_number": "152921196503040127", "name": "张三", "quota_type": "SY",
            "status": "ACTIVE", "entered_on": "2026-10-01"}),
]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def die_now(*args: Any, **kwargs: Any) -> None:
    die()


def die_after(original: Any) -> Any:
    async def run(*args: Any, **kwargs: Any) -> Any:
        await original(*args, **kwargs)
        die()

    return run


async def main(mode: str, store_url: str, legacy_url: str) -> None:
    store = await open_store(store_url)
    if mode != "deliver":
        async with store.begin() as conn:
            await outbox.enqueue(conn, CHANGES)
    if mode == "enqueue":
        die()  # committed; the engine would deliver now
    if mode == "apply":
        write.apply = die_after(write.apply)  # type: ignore[assignment]  # rows written, transaction open
    elif mode == "mark":
        outbox.mark_delivered = die_now  # type: ignore[assignment]  # the department committed; not marked yet
    department = sources({"establishment": legacy_url}, {"establishment"})
    done = await delivery.deliver(store, department)
    await department.close()
    await store.close()
    print(orjson.dumps({"applied": done.applied, "delivered": done.delivered, "pending": done.pending}).decode())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
