"""The hash-chained audit log: appends chain, tampering and deletion are caught, PG and SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

import hub.audit
from hub.audit import AuditEvent, AuditLog, append, verify
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
    writer = AuditLog(store, batch=100)
    writer.start()
    for i in range(450):
        writer.record(event(i))
    await asyncio.sleep(0)  # the writer takes its first batch and starts writing it
    await writer.close()
    verdict = await verify(store)
    assert verdict.broken_id is None and verdict.checked == 450


@pytest.mark.parametrize("linger", [0.0, 0.1])
async def test_writer_keeps_events_while_the_store_is_down(tmp_path: Path, linger: float) -> None:
    """A failed append is retried with the same events; nothing is dropped."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/store.db")
    async with store.begin() as conn:  # the chain's table is gone: appends fail until it is back
        await conn.execute(sa.text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    writer = AuditLog(store, retry_seconds=0.05, linger=linger)
    writer.start()
    for i in range(3):
        writer.record(event(i))
    await asyncio.sleep(0.2)
    async with store.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    await writer.close()
    assert (await verify(store)).checked == 3
    await store.close()


@pytest.fixture
def appends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the writer appends."""
    sizes: list[int] = []
    real: Callable[[Store, list[AuditEvent]], Awaitable[None]] = hub.audit.append

    async def counted(store: Store, events: list[AuditEvent]) -> None:
        sizes.append(len(events))
        await real(store, events)

    monkeypatch.setattr(hub.audit, "append", counted)
    return sizes


async def written(store: Store, count: int, within: float = 5.0) -> int:
    """Entries in the chain once `count` are there (or `within` seconds have passed)."""
    deadline = time.monotonic() + within
    while (checked := (await verify(store)).checked) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return checked


async def test_events_one_request_at_a_time_share_a_transaction(store: Store, appends: list[int]) -> None:
    """Given a lingering writer, events recorded a few ms apart are appended in one batch."""
    writer = AuditLog(store, linger=1.0)
    writer.start()
    for i in range(10):
        writer.record(event(i))
        await asyncio.sleep(0.01)  # the writer is free to take each event on its own
    assert await written(store, 10) == 10
    assert appends == [10]
    await writer.close()
    assert (await verify(store)).broken_id is None


async def test_without_linger_each_spaced_event_is_its_own_transaction(store: Store, appends: list[int]) -> None:
    """`linger=0` keeps the writer's old behaviour: it writes as soon as it is free."""
    writer = AuditLog(store, linger=0.0)
    writer.start()
    for i in range(5):
        writer.record(event(i))
        await written(store, i + 1)
    await writer.close()
    assert appends == [1] * 5 and (await verify(store)).checked == 5


async def test_a_full_batch_ends_the_linger(store: Store, appends: list[int]) -> None:
    """Given a long linger, `batch` queued events are written without waiting for it."""
    writer = AuditLog(store, batch=5, linger=60.0)
    writer.start()
    for i in range(12):
        writer.record(event(i))
    assert await written(store, 10) == 10
    assert appends == [5, 5]
    await writer.close()
    assert appends == [5, 5, 2] and (await verify(store)).checked == 12


async def test_close_during_a_linger_writes_everything_at_once(store: Store, appends: list[int]) -> None:
    """Closing a writer that lingers ends the linger: everything is written, promptly."""
    writer = AuditLog(store, linger=60.0)
    writer.start()
    for i in range(3):
        writer.record(event(i))
    await asyncio.sleep(0.05)  # the writer holds the first event and lingers
    started = time.monotonic()
    await writer.close()
    assert time.monotonic() - started < 2.0
    assert appends == [3] and (await verify(store)).checked == 3
