"""Scheduled cross-checks: an asyncio task the app's lifespan starts and stops.

    scheduler = CheckScheduler(sources, store, interval=settings.check_interval)
    scheduler.start()          # in the lifespan, after the store is open
    ...
    await scheduler.stop()     # before the sources close
"""

from __future__ import annotations

import logging

from adapters.registry import Sources
from hub.core.background import Background
from hub.core.errors import HubError
from hub.store import Store
from hub.supervision.service import CheckRun, supervise

log = logging.getLogger(__name__)


class CheckScheduler(Background):
    """Runs a full, recorded cross-check every `interval` seconds (the first after `delay`)."""

    name = "supervision-schedule"

    def __init__(self, sources: Sources, store: Store, interval: float, delay: float | None = None,
                 lookback: int = 12) -> None:
        super().__init__(interval, delay)
        self.sources = sources
        self.store = store
        self.lookback = lookback
        self.last: CheckRun | None = None

    async def run_once(self) -> CheckRun | None:
        """One scheduled run; a failure is logged (and recorded as a FAILED run), never raised."""
        try:
            self.last, _ = await supervise(self.sources, self.store, actor="schedule", lookback=self.lookback,
                                           wait=True, collect=False)
        except HubError as exc:
            log.warning("scheduled cross-check failed: %s", exc.message)
            return None
        except Exception:
            log.exception("scheduled cross-check failed")
            return None
        log.info("scheduled cross-check run %s: %s findings, %s new, %s resolved by data", self.last.id,
                 self.last.findings, self.last.opened, self.last.resolved)
        return self.last
