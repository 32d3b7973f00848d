"""The hash-chained audit log: appends chain, tampering and deletion are caught, PG and SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub.audit import AuditEvent, append, verify
from hub.store.db import Store, open_store
from hub.store.tables import audit_log


def event(i: int) -> AuditEvent:
    return AuditEvent(f"user{i % 3}", "finance", ("officer",), "152900", f"Op{i}", "h" * 64, ("Person.idNumber",), i, "ok")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("pg_database")()
    opened = await open_store(url)
    yield opened
    await opened.close()


async def test_chain_verifies_then_tampering_is_caught(store: Store) -> None:
    await append(store, [event(i) for i in range(5)])
    await append(store, [event(i) for i in range(5, 9)])
    assert (await verify(store)).broken_id is None
    assert (await verify(store)).checked == 9
    async with store.begin() as conn:
        await conn.execute(audit_log.update().where(audit_log.c.id == 4).values(rows=999))
    verdict = await verify(store)
    assert verdict.broken_id == 4 and "altered" in (verdict.reason or "")


async def test_deleted_entries_are_caught(store: Store) -> None:
    await append(store, [event(i) for i in range(6)])
    async with store.begin() as conn:
        await conn.execute(sa.delete(audit_log).where(audit_log.c.id == 3))
    assert (await verify(store)).broken_id == 3
    async with store.begin() as conn:
        await conn.execute(sa.delete(audit_log).where(audit_log.c.id >= 3))
    verdict = await verify(store)
    assert verdict.broken_id == 3 and "missing" in (verdict.reason or "")


async def test_rehashed_forgery_still_breaks_the_link(store: Store) -> None:
    from hub.audit import entry_hash

    await append(store, [event(i) for i in range(4)])
    async with store.begin() as conn:
        row = dict((await conn.execute(sa.select(audit_log).where(audit_log.c.id == 2))).one()._mapping)
        row["rows"] = 0
        row["hash"] = entry_hash(row)  # a forger recomputes this entry's hash, not the next one's link
        await conn.execute(audit_log.update().where(audit_log.c.id == 2).values(rows=0, hash=row["hash"]))
    assert (await verify(store)).broken_id == 3




async def test_closing_the_writer_loses_no_event(store: Store) -> None:
    """Events queued while a batch is being written are all in the chain after close."""
    from hub.audit import AuditLog

    writer = AuditLog(store, batch=100)
    writer.start()
    for i in range(450):
        writer.record(event(i))
    await asyncio.sleep(0)  # the writer takes its first batch and starts writing it
    await writer.close()
    verdict = await verify(store)
    assert verdict.broken_id is None and verdict.checked == 450


async def test_writer_keeps_events_while_the_store_is_down(tmp_path: Path) -> None:
    """A failed append is retried with the same events; nothing is dropped."""
    from hub.audit import AuditLog

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    async with store.begin() as conn:  # the chain's table is gone: appends fail until it is back
        await conn.execute(sa.text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    writer = AuditLog(store, retry_seconds=0.05)
    writer.start()
    for i in range(3):
        writer.record(event(i))
    await asyncio.sleep(0.2)
    async with store.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    await writer.close()
    assert (await verify(store)).checked == 3
    await store.close()
