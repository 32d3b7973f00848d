"""The audit writer: a write returns once committed and checkpointed, group commit, fail closed, counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa

import hub.store.audit
from hub.core.errors import AuditUnavailable
from hub.core.principal import Principal
from hub.store.audit import AuditEvent, AuditLog, Tally, refusal, verify
from hub.store.checkpoint import CheckpointFile, read_checkpoints
from hub.store.db import Store, open_store
from hub.store.tables import audit_log

KEY = b"unit-test-audit-key-0123456789-abcdef"


def event(i: int) -> AuditEvent:
    return AuditEvent(f"user{i % 3}", "finance", ("officer",), "152900", f"Op{i}", "h" * 64, ("Person.idNumber",), i, "ok")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/store.db"
    else:
        url = request.getfixturevalue("pg_database")()
    opened = await open_store(url, migrate=True)
    yield opened
    await opened.close()


def writer(store: Store, tmp_path: Path, **options: float) -> AuditLog:
    log = AuditLog(store, KEY, CheckpointFile(tmp_path / "checkpoints.jsonl", KEY), **options)  # type: ignore[arg-type]
    log.start()
    return log


async def count_entries(store: Store) -> int:
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(audit_log))).scalar() or 0)


@pytest.fixture
def appends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every batch the writer appends."""
    sizes: list[int] = []
    real: Callable[[sa.Connection, bytes, Sequence[AuditEvent]], tuple[int, str]] = hub.store.audit.append

    def counted(conn: sa.Connection, key: bytes, events: Sequence[AuditEvent]) -> tuple[int, str]:
        sizes.append(len(events))
        return real(conn, key, events)

    monkeypatch.setattr(hub.store.audit, "append", counted)
    return sizes


async def test_a_write_returns_once_committed_and_checkpointed(store: Store, tmp_path: Path, appends: list[int]) -> None:
    """A lone write is committed at once (no linger), and its checkpoint names it."""
    log = writer(store, tmp_path)
    for i in range(3):
        started = time.monotonic()
        await log.write(event(i))
        assert time.monotonic() - started < 1.0
        assert await count_entries(store) == i + 1  # in the table when write returns
        assert max(p for p, _ in read_checkpoints([tmp_path / "checkpoints.jsonl"], KEY)) == i + 1
    await log.close()
    assert appends == [1, 1, 1]
    assert (await verify(store, KEY, [tmp_path / "checkpoints.jsonl"])).checked == 3


async def test_concurrent_writes_share_transactions(store: Store, tmp_path: Path, appends: list[int]) -> None:
    """Writes arriving while a batch is committed go together into the next one (group commit)."""
    log = writer(store, tmp_path)
    await asyncio.gather(*(log.write(event(i)) for i in range(200)))
    await log.close()
    assert sum(appends) == 200 and len(appends) <= 3
    verdict = await verify(store, KEY, [tmp_path / "checkpoints.jsonl"])
    assert verdict.reason is None and verdict.checked == verdict.checkpointed == 200


async def test_closing_the_writer_loses_no_queued_write(store: Store, tmp_path: Path) -> None:
    """Writes queued while a batch is being written are all in the chain after close."""
    log = writer(store, tmp_path, batch=100)
    waiting = [asyncio.create_task(log.write(event(i))) for i in range(450)]
    await asyncio.sleep(0)  # the writer takes its first batch and starts writing it
    await log.close()
    await asyncio.gather(*waiting)
    verdict = await verify(store, KEY, [tmp_path / "checkpoints.jsonl"])
    assert verdict.reason is None and verdict.checked == 450


async def test_a_failed_write_refuses_its_request_and_keeps_the_counts(tmp_path: Path) -> None:
    """Store down: a waiting write raises AuditUnavailable (its answer is not sent); counts are retried until written."""
    store = await open_store(f"sqlite+aiosqlite:///{tmp_path}/store.db", migrate=True)
    async with store.begin() as conn:  # the chain's table is gone: appends fail until it is back
        await conn.execute(sa.text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    log = writer(store, tmp_path, retry_seconds=0.05)
    with pytest.raises(AuditUnavailable):
        await log.write(event(0))
    for _ in range(3):
        log.count(refusal("unauthenticated", "client:10.0.0.1"))
    closing = asyncio.create_task(log.close())  # writes the counts: failing, retried
    await asyncio.sleep(0.2)
    async with store.begin() as conn:
        await conn.execute(sa.text("ALTER TABLE audit_log_away RENAME TO audit_log"))
    await closing
    async with store.connect() as conn:
        rows = [(r.outcome, r.rows) for r in await conn.execute(sa.select(audit_log).order_by(audit_log.c.id))]
    assert rows == [("unauthenticated", 3)]  # the refused write is not in the log
    assert (await verify(store, KEY, [tmp_path / "checkpoints.jsonl"])).reason is None
    await store.close()


async def test_a_closed_log_refuses_writes(store: Store, tmp_path: Path) -> None:
    log = writer(store, tmp_path)
    await log.close()
    with pytest.raises(AuditUnavailable):
        await log.write(event(0))


def test_refusals_are_counted_per_minute_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flood from one address is one entry a minute; past `limit` addresses, the rest count as "*"."""
    now = [1_800_000_000.0]  # the start of a minute
    monkeypatch.setattr(hub.store.audit.time, "time", lambda: now[0])
    tally = Tally(limit=3)
    refused = [refusal("unauthenticated", f"client:10.0.0.{i % 5}") for i in range(1000)]
    for e in refused:
        tally.add(e)
    assert tally.due() == []  # the minute is not over
    now[0] += 60
    tally.add(refusal("denied", "alice", Principal("alice", "hr", ("officer",)), ("Person.cadre",)))
    counts = {(e.actor, e.outcome): e.rows for e in tally.due()}
    assert counts == {("client:10.0.0.0", "unauthenticated"): 200, ("client:10.0.0.1", "unauthenticated"): 200,
                      ("client:10.0.0.2", "unauthenticated"): 200, ("*", "unauthenticated"): 400}
    [denied] = tally.due(everything=True)
    assert (denied.actor, denied.fields, denied.rows, denied.department) == ("alice", ("Person.cadre",), 1, "hr")
    assert denied.operation == "count:denied@2027-01-15T08:01Z"


async def test_a_checkpoint_line_not_signed_with_the_key_is_reported(store: Store, tmp_path: Path) -> None:
    log = writer(store, tmp_path)
    await log.write(event(0))
    await log.close()
    path = tmp_path / "checkpoints.jsonl"
    path.write_text(path.read_text().replace('"id": 1,', '"id": 7,'))
    verdict = await verify(store, KEY, [path])
    assert verdict.reason is not None and "checkpoints.jsonl:1 is not signed with this key" in verdict.reason


async def test_two_writers_on_one_store_keep_one_chain(store: Store, tmp_path: Path) -> None:
    """Two processes' writers (each its own connection and checkpoint file) appending at once: one intact chain."""
    first, second = writer(store, tmp_path), AuditLog(store, KEY, CheckpointFile(tmp_path / "other.jsonl", KEY))
    second.start()
    await asyncio.gather(*(log.write(event(i)) for i in range(100) for log in (first, second)))
    await first.close()
    await second.close()
    verdict = await verify(store, KEY, [tmp_path / "checkpoints.jsonl", tmp_path / "other.jsonl"])
    assert verdict.reason is None and verdict.checked == verdict.checkpointed == 200
