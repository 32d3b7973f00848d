"""Delivering the outbox: pending change events applied to the departments that grant writes.

    await deliver(store, sources)                            # every write-enabled department
    await deliver(store, sources, departments=["finance"])   # after an application completed

A department grants writes with `HUB_SOURCE_<ID>_WRITES=true` (its adapter then has the WRITE
capability). Its undelivered events are applied through its adapter in id order, a page of them
(whole applications, never one split) in one call — one transaction in the department's database —
and then marked delivered in the hub store; when the department refuses a change, the page's
applications are applied one by one up to the one refused. Delivery is at least once — a crash after the department's commit and before the
mark delivers the events again — and exactly once in effect: the adapter's ledger skips a change it
has applied (adapters/write.py). A department that is down, or refuses a change, stops where it is
(later events wait, so a department sees its changes in order) and is tried again next time; the
others go on. Events of departments that do not grant writes stay for their own systems to pull
(`changeEvents`) and acknowledge.

It runs after each completed application (`after_commit`: the hook the app gives the workflow
engine, called once the application's transaction has committed, for the departments its changes
go to; each department has its own turn, and the hooks waiting while a department's delivery runs
share its next one, which reads every event they committed, so completions arriving together are
applied in one page per department, the departments side by side), at app startup (recovery of
what a crash left) and every `HUB_DELIVERY_INTERVAL` seconds (`DeliveryLoop`, started by the app's
lifespan).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from adapters.base import Capability
from adapters.registry import Sources
from hub.core.background import Background
from hub.core.changes import Change
from hub.core.crosswalk import CrosswalkCache
from hub.core.errors import HubError
from hub.store import outbox
from hub.store.db import Store

log = logging.getLogger(__name__)
BATCH = 200  # events read from the outbox at a time


@dataclass(slots=True)
class _Turns:
    """One process's deliveries to one department: one at a time; `started` and `finished` count them."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    started: int = 0
    finished: int = 0


_TURNS: weakref.WeakKeyDictionary[Sources, dict[str, _Turns]] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class Delivered:
    """What one delivery did: changes applied and events marked per department, and why any stopped."""

    applied: dict[str, int] = field(default_factory=dict)
    delivered: dict[str, int] = field(default_factory=dict)
    pending: dict[str, str] = field(default_factory=dict)  # department -> why its events wait (bilingual)


def writable(sources: Sources, departments: Collection[str] | None = None) -> list[str]:
    """The departments (of `departments`, when given) whose adapters write."""
    return [d for d, a in sources.items()
            if Capability.WRITE in a.capabilities and (departments is None or d in departments)]


async def deliver(store: Store, sources: Sources, departments: Collection[str] | None = None,
                  crosswalk: CrosswalkCache | None = None) -> Delivered:
    """Apply the undelivered events of the write-enabled departments (of `departments`); never raises for a department."""
    result = Delivered()
    await _each(_delivery(store, sources, d, result, crosswalk) for d in writable(sources, departments))
    return result


async def deliver_committed(store: Store, sources: Sources, departments: Collection[str],
                            crosswalk: CrosswalkCache | None = None) -> Delivered:
    """Deliver the events already committed to `departments`: a department's delivery that starts after this
    call reads them, so callers waiting for the same department share its next delivery."""
    result = Delivered()
    targets = writable(sources, departments)
    tickets = {d: _turns(sources, d).started + 1 for d in targets}  # the first delivery to start from now on
    await _each(_delivery(store, sources, d, result, crosswalk, tickets[d]) for d in targets)
    return result


def _turns(sources: Sources, department: str) -> _Turns:
    return _TURNS.setdefault(sources, {}).setdefault(department, _Turns())


async def _each(deliveries: Iterable[Awaitable[None]]) -> None:
    """The departments side by side (each its own database); every one has ended before an error is raised."""
    failed = [e for e in await asyncio.gather(*deliveries, return_exceptions=True) if e is not None]
    if failed:
        raise failed[0]


async def _delivery(store: Store, sources: Sources, department: str, result: Delivered,
                    crosswalk: CrosswalkCache | None, ticket: int | None = None) -> None:
    """One delivery to a department (one at a time per process; replicas: the ledger), unless one that started
    at or after `ticket` has finished meanwhile (it read what the caller waits for)."""
    turns = _turns(sources, department)
    async with turns.lock:
        if ticket is not None and turns.finished >= ticket:
            return
        turns.started += 1
        try:
            await _department(store, sources, department, result, crosswalk)
        except HubError as exc:
            log.warning("change events of %s wait: %s", department, exc.message)
            result.pending[department] = exc.message
        finally:
            turns.finished = turns.started


def after_commit(store: Store, sources: Sources, crosswalk: CrosswalkCache | None = None
                 ) -> Callable[[str, Sequence[Change]], Awaitable[None]]:
    """The engine's after-commit hook: deliver at once to the departments a completed application's changes go to."""

    async def deliver_now(application_id: str, changes: Sequence[Change]) -> None:
        result = await deliver_committed(store, sources, {c.department for c in changes}, crosswalk)
        for department, why in result.pending.items():
            log.info("changes of %s for %s wait: %s", application_id, department, why)

    return deliver_now


async def _department(store: Store, sources: Sources, department: str, result: Delivered,
                      crosswalk: CrosswalkCache | None) -> None:
    adapter = sources[department]
    after = 0
    while True:
        groups = await outbox.batches(store, department, after=after, limit=BATCH)  # an application never split
        if not groups:
            return
        try:  # the page's applications in one transaction: one commit where there were as many as applications
            applied = await adapter.apply([e.change for group in groups for e in group])
            done = groups
        except HubError:  # one of them is refused: apply them one by one, up to the one refused
            applied, done = 0, []
            for group in groups:
                try:
                    applied += await adapter.apply([e.change for e in group])
                except HubError:
                    if done:
                        await _mark(store, department, done, applied, result, crosswalk)
                    raise
                done.append(group)
        await _mark(store, department, done, applied, result, crosswalk)
        if sum(len(group) for group in groups) < BATCH:  # the last page: what commits later, a later delivery reads
            return
        after = groups[-1][-1].id


async def _mark(store: Store, department: str, groups: list[list[outbox.Event]], applied: int, result: Delivered,
                crosswalk: CrosswalkCache | None) -> None:
    """Note applied applications' events delivered (one store transaction)."""
    events = [e for group in groups for e in group]
    await outbox.mark_delivered(store, [e.id for e in events])
    result.applied[department] = result.applied.get(department, 0) + applied
    result.delivered[department] = result.delivered.get(department, 0) + len(events)
    if crosswalk is not None and any(e.change.entity == "unit" for e in events):
        crosswalk.invalidate()  # units are what the crosswalk is built from


class DeliveryLoop(Background):
    """Delivers at startup (what a crash left pending) and then every `interval` seconds (0: only at startup)."""

    name = "change-delivery"

    def __init__(self, store: Store, sources: Sources, interval: float, crosswalk: CrosswalkCache | None = None) -> None:
        super().__init__(interval, delay=0)
        self.store = store
        self.sources = sources
        self.crosswalk = crosswalk
        self.last: Delivered | None = None

    @property
    def enabled(self) -> bool:
        """Only when some department grants writes."""
        return bool(writable(self.sources))

    async def run_once(self) -> Delivered | None:
        """One delivery; a failure of the store is logged, never raised."""
        try:
            self.last = await deliver(self.store, self.sources, crosswalk=self.crosswalk)
        except Exception:
            log.exception("change delivery failed")
            return None
        return self.last
