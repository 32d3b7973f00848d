"""A periodic task the app's lifespan starts and stops (scheduled cross-checks, change delivery)."""

from __future__ import annotations

import asyncio
import contextlib


class Background:
    """One named asyncio task: `start()` in the lifespan, `await stop()` before what it uses closes."""

    name = "background"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether `start` starts anything."""
        return True

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

    async def _loop(self) -> None:
        raise NotImplementedError
