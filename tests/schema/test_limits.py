"""The bound on GraphQL operations executing at once (HUB_MAX_CONCURRENT_OPERATIONS)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from adapters.sql import SqlAdapter
from tests.conftest import Hub, hub_settings, running_hub

PEOPLE = "{ people(first: 2) { edges { node { idNumber name } } } }"  # one source scan per operation


class Gate:
    """Holds every source scan until opened; counts the scans (one per PEOPLE operation) in flight."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.opened.set()
        self.started = 0
        self.active = 0
        self.most = 0

    def close(self) -> None:
        """Hold the scans that start from now on, with fresh counts."""
        self.opened.clear()
        self.started = self.active = self.most = 0


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """A gate in front of SqlAdapter.scan (the counters change in the app's loop thread only)."""
    held = Gate()
    real = SqlAdapter.scan

    async def scan(adapter: SqlAdapter, *args: Any, **kwargs: Any) -> list[Any]:
        held.started += 1
        held.active += 1
        held.most = max(held.most, held.active)
        try:
            deadline = time.monotonic() + 10  # a failed test must not leave requests held forever
            while not held.opened.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            return await real(adapter, *args, **kwargs)
        finally:
            held.active -= 1

    monkeypatch.setattr(SqlAdapter, "scan", scan)
    return held


@pytest.fixture
def limited_hub(demo_dir: Path, tmp_path: Path) -> Callable[[int], Any]:
    """A hub allowing `limit` operations at once, with a store of its own."""

    def make(limit: int) -> Any:
        return running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/store.db",
                                        max_concurrent_operations=limit))

    return make


def until(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `condition` holds within `within` seconds."""
    deadline = time.monotonic() + within
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Threads to send requests at the same time."""
    with ThreadPoolExecutor(2) as executor:
        yield executor


def two_at_once(hub: Hub, gate: Gate, pool: ThreadPoolExecutor, while_held: Callable[[], None]) -> None:
    """Send two operations while the gate holds them; check `while_held`, open, and compare the answers."""
    alone = hub.query(PEOPLE)
    gate.close()
    answers = [pool.submit(hub.query, PEOPLE) for _ in range(2)]
    try:
        while_held()
    finally:
        gate.opened.set()
    assert [a.result(timeout=10) for a in answers] == [alone, alone]


def test_with_limit_one_operations_do_not_overlap(gate: Gate, limited_hub: Callable[[int], Any], pool: ThreadPoolExecutor) -> None:
    """Given the limit 1, a second operation waits for the first; health checks do not."""

    def one_at_a_time() -> None:
        assert until(lambda: gate.started >= 1)
        time.sleep(0.2)
        assert gate.started == 1  # the other operation waits for the first to finish
        assert hub.client.get("/healthz").status_code == 200
        assert hub.client.get("/readyz").status_code == 200

    hub: Hub
    with limited_hub(1) as hub:
        two_at_once(hub, gate, pool, one_at_a_time)
        assert gate.started == 2 and gate.most == 1


def test_unlimited_operations_overlap(gate: Gate, limited_hub: Callable[[int], Any], pool: ThreadPoolExecutor) -> None:
    """Given the limit 0, both operations run at once (so the test above can see an overlap)."""

    def both_at_once() -> None:
        assert until(lambda: gate.started == 2)

    hub: Hub
    with limited_hub(0) as hub:
        two_at_once(hub, gate, pool, both_at_once)
        assert gate.most == 2
