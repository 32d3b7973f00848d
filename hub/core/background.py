"""A periodic task the app's lifespan starts and stops (scheduled cross-checks, snapshots, change delivery)."""

from __future__ import annotations

import asyncio
import contextlib


class Background:
    """One named asyncio task running `run_once` after `delay` seconds, then every `interval` seconds.

    `start()` in the lifespan, `await stop()` before what it uses closes. A non-positive interval
    disables it unless a subclass says otherwise (`enabled`); then it runs once and stops.
    """

    name = "background"

    def __init__(self, interval: float, delay: float | None = None) -> None:
        self.interval = interval
        self.delay = interval if delay is None else delay
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether `start` starts anything."""
        return self.interval > 0

    def start(self) -> None:
        """Start the task (no-op when disabled or already running)."""
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Cancel the task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> object:
        """One run; must not raise (log instead)."""
        raise NotImplementedError

    async def _loop(self) -> None:
        await asyncio.sleep(max(self.delay, 0))
        while True:
            await self.run_once()
            if self.interval <= 0:
                return
            await asyncio.sleep(self.interval)
