"""The append-only, hash-chained audit log of reads of personal data (and of policy changes).

Each entry's hash covers its content and the previous entry's hash, so changing, inserting or
deleting a row breaks the chain at that row; `verify` names the first entry that does not fit.
Requests hand entries to a queue; one writer task per process appends them in batches, each
batch in one transaction that locks the chain head (so replicas sharing a store keep one chain).
After the first event of a batch the writer lingers briefly for more, so requests arriving one at
a time share a transaction instead of paying one each; a full batch or closing ends the linger.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.store.db import Store, aware, utcnow
from hub.store.tables import audit_head, audit_log

log = logging.getLogger(__name__)

GENESIS = "0" * 64
FIELDS = ("id", "at", "actor", "department", "roles", "region", "operation", "operation_hash", "fields", "rows", "outcome", "prev_hash")


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 over an entry's content (every column but `hash`), in a canonical JSON form."""
    content = {k: entry[k] for k in FIELDS}
    content["at"] = aware(content["at"]).isoformat(timespec="microseconds")  # type: ignore[union-attr]
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What a request read: who, which operation, which personal fields, how many rows, outcome."""

    actor: str
    department: str | None
    roles: tuple[str, ...]
    region: str
    operation: str
    operation_hash: str
    fields: tuple[str, ...]
    rows: int
    outcome: str


class AuditLog:
    """Queues events and appends them to the chain from one background task.

    Closing drains the queue through the same task (never cancels it in the middle of a write,
    which would drop the events it holds and leave the store's write lock behind). `linger` is
    how long the first event of a batch may wait for others (0: write as soon as the writer is
    free); events still in memory when the process is killed (not closed) are lost.
    """

    def __init__(self, store: Store, batch: int = 500, retry_seconds: float = 1.0, linger: float = 0.0) -> None:
        self.store = store
        self.batch = batch
        self.retry_seconds = retry_seconds
        self.linger = linger
        self._queue: asyncio.Queue[AuditEvent | None] = asyncio.Queue()  # None: stop after what is queued
        self._wake = asyncio.Event()  # ends a linger: a full batch is queued, or close() was called
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def record(self, event: AuditEvent) -> None:
        """Queue an event (never blocks the request)."""
        self._queue.put_nowait(event)
        if self._queue.qsize() >= self.batch - 1:  # with the event the writer holds, a full batch
            self._wake.set()

    def start(self) -> None:
        """Start the writer task."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            events, stopping = await self._take()
            while events:
                try:
                    await append(self.store, events)
                    events = []
                except Exception:  # the store is down: keep the events and try again shortly
                    log.exception("audit append failed; %d events kept for retry", len(events))
                    await asyncio.sleep(self.retry_seconds)

    async def _take(self) -> tuple[list[AuditEvent], bool]:
        """The next batch (up to `batch` events, gathered for up to `linger`) and whether to stop after it."""
        item = await self._queue.get()
        if item is not None and self.linger > 0 and not self._closing:
            self._wake.clear()
            if self._queue.qsize() < self.batch - 1:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.linger)
        events: list[AuditEvent] = []
        while item is not None:
            events.append(item)
            if len(events) >= self.batch or self._queue.empty():
                return events, False
            item = self._queue.get_nowait()
        return events, True

    async def flush(self) -> None:
        """Write everything queued so far (when no writer task runs; tests use it)."""
        events = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                events.append(item)
        if events:
            await append(self.store, events)

    async def close(self, timeout: float = 30.0) -> None:
        """Stop the writer once it has written what is queued (given up on after `timeout`)."""
        if self._task is None:
            await self.flush()
            return
        self._closing = True
        self._queue.put_nowait(None)
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            log.error("audit store unreachable at shutdown; %d queued events not written", self._queue.qsize())


async def append(store: Store, events: list[AuditEvent]) -> None:
    """Append events to the chain in one transaction that holds the chain head."""
    async with store.begin() as conn:
        head_q = sa.select(audit_head.c.last_id, audit_head.c.last_hash).where(audit_head.c.id == 1)
        if store.dialect != "sqlite":
            head_q = head_q.with_for_update()
        head = (await conn.execute(head_q)).first()
        last_id, last_hash = (head.last_id, head.last_hash) if head else (0, GENESIS)
        rows = []
        for event in events:
            last_id += 1
            entry = {
                "id": last_id, "at": utcnow(), "actor": event.actor, "department": event.department,
                "roles": list(event.roles), "region": event.region, "operation": event.operation,
                "operation_hash": event.operation_hash, "fields": list(event.fields), "rows": event.rows,
                "outcome": event.outcome, "prev_hash": last_hash,
            }
            entry["hash"] = last_hash = entry_hash(entry)
            rows.append(entry)
        await conn.execute(audit_log.insert(), rows)
        if head is None:
            await conn.execute(audit_head.insert().values(id=1, last_id=last_id, last_hash=last_hash))
        else:
            await conn.execute(audit_head.update().where(audit_head.c.id == 1).values(last_id=last_id, last_hash=last_hash))


async def entries(store: Store, chunk: int = 5000) -> AsyncIterator[dict[str, Any]]:
    """Every entry in chain order, read in chunks."""
    after = 0
    while True:
        async with store.connect() as conn:
            q = sa.select(audit_log).where(audit_log.c.id > after).order_by(audit_log.c.id).limit(chunk)
            rows = [dict(r._mapping) for r in await conn.execute(q)]
        if not rows:
            return
        for row in rows:
            yield row
        after = rows[-1]["id"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking the chain: entries checked and the first broken entry, if any."""

    checked: int
    broken_id: int | None = None
    reason: str | None = None


async def verify(store: Store) -> Verdict:
    """Walk the chain; report the first entry that was altered, inserted or follows a deleted one."""
    expected_id, prev = 1, GENESIS
    checked = 0
    async for row in entries(store):
        if row["id"] != expected_id:
            return Verdict(checked, expected_id, f"条目缺失 / entry {expected_id} is missing")
        if row["prev_hash"] != prev:
            return Verdict(checked, row["id"], "链接断裂 / does not follow the previous entry")
        if entry_hash(row) != row["hash"]:
            return Verdict(checked, row["id"], "内容被篡改 / content was altered")
        prev, expected_id, checked = row["hash"], expected_id + 1, checked + 1
    async with store.connect() as conn:
        head = (await conn.execute(sa.select(audit_head.c.last_id))).scalar()
    if head is not None and head != expected_id - 1:
        return Verdict(checked, expected_id, f"末尾条目缺失 / entries after {expected_id - 1} are missing")
    return Verdict(checked)


