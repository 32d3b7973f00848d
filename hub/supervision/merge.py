"""Merge-join of streams ordered by normalized ID number: one person's records at a time.

Each feed reads its source ahead in a background task (at most `depth` chunks buffered), so the
databases sort and send while Python checks rules; memory stays at a few chunks per source.
Sources order rows by the first 17 characters of the normalized ID (the 18th is a check digit);
rows sharing those 17 are grouped, then split by the full ID number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

log = logging.getLogger(__name__)

_END = object()


class Feed:
    """One source stream (async iterator of record chunks) in normalized ID order."""

    def __init__(self, name: str, chunks: AsyncIterator[list[Any]], on_rows: Callable[[int], None] | None = None,
                 depth: int = 2) -> None:
        self.name = name
        self._chunks = chunks
        self._on_rows = on_rows
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=depth)
        self._task: asyncio.Task[None] | None = None
        self.buf: list[Any] = []
        self.pos = 0
        self.finished = False
        self.blank = 0  # rows without an ID number (cannot be joined)

    def start(self) -> None:
        """Begin reading ahead."""
        self._task = asyncio.create_task(self._pump(), name=f"feed:{self.name}")

    async def _pump(self) -> None:
        try:
            async for chunk in self._chunks:
                await self._queue.put(chunk)
            await self._queue.put(_END)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the consumer, which re-raises it
            await self._queue.put(exc)

    async def stop(self) -> None:
        """Stop reading (closes the source's cursor)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()

    async def fill(self) -> bool:
        """Make a record available at `pos`; False when the stream is exhausted."""
        while self.pos >= len(self.buf):
            if self.finished:
                return False
            item = await self._queue.get()
            if item is _END:
                self.finished = True
                self.buf, self.pos = [], 0
                return False
            if isinstance(item, BaseException):
                raise item
            if self._on_rows is not None:
                self._on_rows(len(item))
            rows = [r for r in item if r.id_number]
            self.blank += len(item) - len(rows)
            self.buf, self.pos = rows, 0
        return True


async def merge(feeds: list[Feed]) -> AsyncGenerator[tuple[str, dict[str, list[Any]]], None]:
    """(17-character ID body, {feed name: records}) in ascending order over all feeds."""
    for feed in feeds:
        feed.start()
    try:
        live = [f for f in feeds if await f.fill()]
        last = ""
        unordered = 0
        while live:
            key = min(f.buf[f.pos].id_number[:17] for f in live)
            if key < last:
                unordered += 1  # a source sorted differently; the person may be split in two
                if unordered <= 5:
                    log.warning("stream out of normalized-ID order near %s", key[:6])
            last = key
            group: dict[str, list[Any]] = {}
            for feed in live:
                taken: list[Any] = []
                while True:
                    buf, pos, n = feed.buf, feed.pos, len(feed.buf)
                    while pos < n and buf[pos].id_number[:17] == key:
                        taken.append(buf[pos])
                        pos += 1
                    feed.pos = pos
                    if pos < n or not await feed.fill():
                        break
                if taken:
                    group[feed.name] = taken
            yield key, group
            live = [f for f in live if f.pos < len(f.buf) or await f.fill()]
    finally:
        for feed in feeds:
            await feed.stop()
