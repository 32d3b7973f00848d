"""One slow department is isolated: every configured source, locked in its own database on every dialect.

While a department's tables are locked, queries that do not read it answer at once (even with
more requests on the locked source in flight than the hub has operation slots), queries that read
it answer in part with SOURCE_UNAVAILABLE after the statement timeout, /readyz names it degraded,
and once the lock ends it answers again. Waiting for a turn at a busy source never opens its breaker.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa

from adapters.mapping import default_mappings
from adapters.registry import Sources
from adapters.sql import SqlAdapter
from hub.core.crosswalk import CrosswalkCache
from hub.core.db import sync_url
from hub.core.errors import SourceUnavailable
from hub.core.slots import STEP_OUT_AFTER, OperationSlots, away
from hub.demo.generate import sqlite_targets
from tests.conftest import (
    DEPARTMENTS,
    MARIADB_ADMIN,
    PG_ADMIN,
    Hub,
    _factory,
    generate_into,
    hub_settings,
    running_hub,
)

TIMEOUT = 1.0  # HUB_STATEMENT_TIMEOUT in these tests
RETRY = 0.5  # HUB_SOURCE_RETRY_SECONDS
PROMPT = TIMEOUT / 2  # a query that waited for the locked source would take at least TIMEOUT
IN_FLIGHT = 5  # requests on the locked source at once: more than the 3 operation slots
FACETS = {  # a person's field read from each department alone
    "establishment": "registry { slotId }",
    "organization": "cadre { cadreId }",
    "hr": "personnel { personNo }",
    "finance": "payroll { onQuota }",
}
REGIONS = "{ regions { code } }"

Lock = Callable[[str], AbstractContextManager[None]]


def tables(department: str) -> list[str]:
    """Every table the department's mapping reads."""
    found = set()
    for spec in default_mappings()[department].entities.values():
        found.add(spec.table)
        if spec.join is not None:
            found.add(spec.join.table)
    return sorted(found)


@contextmanager
def server_lock(url: str, department: str) -> Iterator[None]:
    """The department's tables locked from another connection: PostgreSQL ACCESS EXCLUSIVE, MariaDB WRITE."""
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            names = [conn.dialect.identifier_preparer.quote(t) for t in tables(department)]
            postgresql = conn.dialect.name == "postgresql"
            if postgresql:
                conn.execute(sa.text(f"LOCK TABLE {', '.join(names)} IN ACCESS EXCLUSIVE MODE"))
            else:
                conn.execute(sa.text(f"LOCK TABLES {', '.join(n + ' WRITE' for n in names)}"))
            yield
            if not postgresql:
                conn.execute(sa.text("UNLOCK TABLES"))
            conn.rollback()
    finally:
        engine.dispose()


@contextmanager
def sqlite_lock(directory: Path, department: str) -> Iterator[None]:
    conn = sqlite3.connect(directory / f"{department}.db", isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def settings_for(directory: Path, urls: dict[str, str] | None = None) -> Any:
    return hub_settings(
        directory, urls, store_url=f"sqlite+aiosqlite:///{directory}/isolation-store.db",
        statement_timeout=TIMEOUT, source_retry_seconds=RETRY, ready_timeout=TIMEOUT, max_concurrent_operations=3,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def dialect_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Lock]]:
    """A hub with all four departments on one dialect, and a way to lock one department's tables."""
    directory = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        generate_into(sqlite_targets(directory), persons=120, seed=5)
        with running_hub(settings_for(directory)) as hub:
            yield hub, lambda department: sqlite_lock(directory, department)
        return
    admin, quote = (PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")
    databases = _factory(admin, quote)
    url = next(databases)()
    try:
        generate_into(dict.fromkeys(DEPARTMENTS, url), persons=120, seed=5)
        with running_hub(settings_for(directory, dict.fromkeys(DEPARTMENTS, url))) as hub:
            yield hub, lambda department: server_lock(url, department)
    finally:
        next(databases, None)  # drops the database


@pytest.fixture(scope="module")
def someone(dialect_hub: tuple[Hub, Lock]) -> str:
    """The ID number of a person every department knows (and the crosswalk built before any lock)."""
    hub, _ = dialect_hub
    body = hub.query("{ people(first: 500) { edges { node { idNumber " + " ".join(FACETS.values()) + " } } } }")
    for edge in body["data"]["people"]["edges"]:
        node = edge["node"]
        if all(node[facet.split()[0]] for facet in FACETS.values()):
            return str(node["idNumber"])
    raise AssertionError("no person known to every department in the test data")


def person(id_number: str, departments: list[str]) -> str:
    return f'{{ person(idNumber: "{id_number}") {{ idNumber {" ".join(FACETS[d] for d in departments)} }} }}'


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.monotonic()
    result = call()
    return time.monotonic() - start, result


def test_every_configured_source_has_a_query_of_its_own(dialect_hub: tuple[Hub, Lock]) -> None:
    hub, _ = dialect_hub
    assert {d for d, _ in hub.client.app_state["hub"].sources.items()} == set(DEPARTMENTS) == set(FACETS)


@pytest.mark.parametrize("locked", DEPARTMENTS)
def test_a_locked_department_costs_only_its_own_fields(dialect_hub: tuple[Hub, Lock], someone: str, locked: str) -> None:
    hub, lock = dialect_hub
    others = [d for d in DEPARTMENTS if d != locked]
    touching = person(someone, [locked, others[0]])
    # Every person is found through the registry first, so only with the establishment office
    # locked is there no person query that avoids the locked source: `regions` stands for it.
    avoiding = person(someone, others) if locked != "establishment" else None
    clean = hub.query(touching)
    assert "errors" not in clean, clean
    with lock(locked), ThreadPoolExecutor(IN_FLIGHT) as pool:
        waiting = [pool.submit(timed, lambda: hub.query(touching)) for _ in range(IN_FLIGHT)]
        time.sleep(0.2)  # they are all waiting on the locked source now
        for query in (REGIONS, avoiding):
            if query is not None:
                took, body = timed(partial(hub.query, query))
                assert "errors" not in body, body
                assert took < PROMPT, f"{query} took {took:.2f} s with {locked} locked"
        assert not any(w.done() for w in waiting)  # the prompt answers came while they waited
        assert hub.client.get("/healthz").json() == {"status": "ok"}
        took, ready = timed(lambda: hub.client.get("/readyz"))
        assert ready.status_code == 503 and took < TIMEOUT + 0.5
        sources = ready.json()["sources"]
        assert sources[locked]["status"] == "degraded" and sources[locked]["error"]
        assert all(sources[d]["status"] == "ok" for d in others)
        for took, body in (w.result(timeout=4 * TIMEOUT + 5) for w in waiting):
            assert took < 2 * TIMEOUT + 2  # a turn and a statement, each within the timeout
            assert body["data"]["person"]["idNumber"] == someone
            assert body["data"]["person"][FACETS[others[0]].split()[0]] is not None  # the rest of the answer stands
            assert {e["extensions"]["code"] for e in body["errors"]} == {"SOURCE_UNAVAILABLE"}
            assert {e["extensions"]["source"] for e in body["errors"]} == {locked}
    recovered = time.monotonic() + RETRY + 3 * TIMEOUT
    while hub.query(touching) != clean:
        assert time.monotonic() < recovered, f"{locked} did not recover after the lock ended"
        time.sleep(0.1)
    assert hub.client.get("/readyz").status_code == 200


# --- waiting for a turn is contention, not a failure of the source --------------------------------


@pytest.fixture
async def one_turn(demo_dir: Path) -> Any:
    """An adapter over the demo's finance database that runs one read at a time."""
    url = f"sqlite+aiosqlite:///{demo_dir / 'finance.db'}"
    adapter = SqlAdapter("finance", default_mappings()["finance"], url, connect_timeout=0.2, retry_seconds=5,
                         statement_timeout=TIMEOUT, max_concurrent_reads=1)
    yield adapter
    await adapter.close()


async def test_more_reads_than_connections_wait_their_turn_without_opening_the_breaker(one_turn: SqlAdapter) -> None:
    expected = await one_turn.count("payee")
    assert await asyncio.gather(*(one_turn.count("payee") for _ in range(12))) == [expected] * 12
    held = cast(AsyncGenerator[list[Any]], one_turn.stream("payee", chunk_size=1))
    await anext(held)  # a stream holds the one turn (and the one pooled connection)
    waiting = asyncio.create_task(one_turn.count("payee"))
    await asyncio.sleep(0.4)  # longer than the connect timeout: a wait for a connection is not a connect
    await held.aclose()
    assert await waiting == expected
    assert not one_turn.breaker.open


async def test_a_read_kept_from_its_turn_fails_as_busy_and_the_source_stays_closed(one_turn: SqlAdapter) -> None:
    held = cast(AsyncGenerator[list[Any]], one_turn.stream("payee", chunk_size=1))
    await anext(held)
    start = time.monotonic()
    with pytest.raises(SourceUnavailable, match="busy"):
        await one_turn.count("payee")
    assert TIMEOUT <= time.monotonic() - start < TIMEOUT + 1.0
    await held.aclose()
    assert not one_turn.breaker.open
    assert await one_turn.count("payee")  # answers at once


async def test_a_long_sqlite_statement_is_stopped_at_the_timeout(one_turn: SqlAdapter) -> None:
    endless = sa.text("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n")
    start = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="interrupted"):
        async with asyncio.timeout(TIMEOUT + 5), one_turn._connection() as conn:  # (a test that fails ends)
            await conn.execute(endless)
    assert time.monotonic() - start < TIMEOUT + 1.0  # stopped in its own thread, not just abandoned


# --- what a slow source must not hold up: operation slots, the crosswalk ---------------------------


async def test_an_operation_waiting_on_a_source_lends_its_slot_and_takes_one_back_in_turn() -> None:
    slots = OperationSlots(1)
    working: list[str] = []  # operations doing their own work (holding the slot), at every moment
    seen: list[list[str]] = []

    async def operation(name: str, wait: float, work: float) -> None:
        async with slots:
            working.append(name)
            seen.append(list(working))
            working.remove(name)
            async with away():  # waiting on a source
                await asyncio.sleep(wait)
            working.append(name)
            seen.append(list(working))
            await asyncio.sleep(work)
            working.remove(name)

    started = time.monotonic()
    waiting = asyncio.create_task(operation("slow source", 0.3, 0.0))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(operation("quick", 0.0, 0.4), timeout=STEP_OUT_AFTER + 0.45)  # did not wait 0.3 s
    await waiting
    assert all(len(now) == 1 for now in seen)  # never two at work with one slot
    assert time.monotonic() - started >= 0.4  # the slow one took the slot back only after the quick one


async def test_while_the_crosswalk_is_rebuilt_requests_use_the_previous_one() -> None:
    gate = asyncio.Event()
    gate.set()

    class Source:
        def entities(self) -> tuple[str, ...]:
            return ("unit", "registry_slot")  # the registry's keeper is the crosswalk's base

        def supports(self, entity: str) -> bool:
            return True

        async def stream(self, entity: str) -> AsyncIterator[list[Any]]:
            await gate.wait()  # a slow department
            yield []

    cache = CrosswalkCache(Sources({"establishment": Source()}))  # type: ignore[dict-item]
    first = await cache.get()
    cache.invalidate()
    gate.clear()
    rebuilding = asyncio.create_task(cache.get())
    await asyncio.sleep(0.01)
    assert await asyncio.wait_for(cache.get(), timeout=0.1) is first
    gate.set()
    assert await rebuilding is not first
