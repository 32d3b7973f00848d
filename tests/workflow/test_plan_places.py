"""A plan's places counted while earlier onboardings are delivered: an onboarding that completes and is
written to the departments while another's last approval reads the departments' side is counted once
(its slot in the registry and its consumed place are the same place), on SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from adapters.registry import Sources, build_sources
from hub.core.settings import Settings, SourceSettings
from hub.demo.generate import sqlite_targets
from hub.store import Store, open_store
from hub.workflow import reservations as rs
from hub.workflow.delivery import after_commit, deliver
from hub.workflow.engine import Workflow
from hub.workflow.model import Application, Decision, State
from tests.conftest import DatabaseFactory
from tests.workflow.conftest import PLAN, TODAY, VACANT, League, actor, engine, onboarding

EST, ORG, HR, FIN = (actor(d) for d in ("establishment", "organization", "hr", "finance"))
PLACES = 2


@pytest.fixture
async def writing(league: League) -> AsyncIterator[Sources]:
    """The league's departments, every one granting writes (delivery writes the completed changes)."""
    sources = build_sources(Settings(source={d: SourceSettings(url=u, writes=True)
                                             for d, u in sqlite_targets(league.dir).items()}))
    yield sources
    await sources.close()


async def _to_last_step(wf: Workflow, n: int, league: League) -> Application:
    app = await wf.submit("ONBOARDING", onboarding(league, n), EST)
    for who in (EST, ORG, HR):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    assert app.current_steps == ("pay",)
    return app


def _before_plan_slots_are_read(sources: Sources, monkeypatch: pytest.MonkeyPatch,
                                meanwhile: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run `meanwhile` once, the next time the slots citing plans are read (inside a vacancy survey: after
    the store's completed applications were read); returns what it returned, once it has run."""
    registry = sources[sources.holder("registry_slot")]
    fetch = registry.fetch
    armed, done = [True], []

    async def fetch_after(entity: str, field: str, *args: Any, **kw: Any) -> Any:
        if entity == "registry_slot" and field == "plan_id" and armed:
            armed.clear()
            done.append(await meanwhile())
        return await fetch(entity, field, *args, **kw)

    monkeypatch.setattr(registry, "fetch", fetch_after)
    return done


async def _last_places(league: League, store: Store, sources: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
    league.sql("establishment", "UPDATE T_YBJH SET JHS = ? WHERE JHID = ?", PLACES, PLAN)
    assert VACANT > PLACES  # the plan, not the quota, is what is short
    wf = engine(league, store, after_commit=after_commit(store, sources))
    wf.sources = sources
    first, second = [await _to_last_step(wf, n, league) for n in range(PLACES)]
    # The first completes and is delivered while the second's last approval surveys the departments.
    done = _before_plan_slots_are_read(sources, monkeypatch, lambda: wf.decide(first.id, Decision.APPROVE, None, FIN))
    finished = await wf.decide(second.id, Decision.APPROVE, None, FIN)
    assert [a.state for a in done] == [State.COMPLETED] and finished.state == State.COMPLETED
    cited = league.sql("establishment", "SELECT COUNT(*) FROM T_SMZ WHERE JHID = ?", PLAN)[0][0]
    assert cited == PLACES
    assert league.sql("establishment", "SELECT YYS FROM T_YBJH WHERE JHID = ?", PLAN) == [(PLACES,)]


async def test_sqlite_store(league: League, store: Store, writing: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
    await _last_places(league, store, writing, monkeypatch)


async def test_postgresql_store(league: League, pg_database: DatabaseFactory, writing: Sources,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = await open_store(pg_database(), migrate=True)
    try:
        await _last_places(league, store, writing, monkeypatch)
    finally:
        await store.close()


async def test_a_delivered_onboarding_counts_in_the_registry_not_again_in_the_store(
        league: League, store: Store, writing: Sources) -> None:
    """Once delivered, a completed onboarding's slot is read from the registry only (the survey does not grow
    with the completed applications); before, from the store; its slot and place are counted once either way."""
    wf = engine(league, store)  # no delivery: the completion waits in the outbox
    wf.sources = writing
    ident = league.crosswalk.find(league.code)
    assert ident is not None

    async def vacancy() -> tuple[rs.Survey, rs.Room]:
        seen = await rs.survey(store, writing, ident, league.quota_type, TODAY)
        async with store.connect() as conn:
            return seen, await rs.room(conn, seen, ident, league.quota_type)

    _, before = await vacancy()
    done = await wf.decide((await _to_last_step(wf, 0, league)).id, Decision.APPROVE, None, FIN)
    assert done.state == State.COMPLETED
    waiting, counted = await vacancy()
    assert waiting.consumed == {done.id}  # read from the store: not in the registry yet
    assert (counted.occupied, counted.held) == (before.occupied + 1, 0)
    assert (await deliver(store, writing)).delivered
    arrived, recounted = await vacancy()
    assert arrived.consumed == frozenset() and arrived.made == {}  # the registry shows it
    assert recounted.occupied == counted.occupied and recounted.vacant == before.vacant - 1
    plan = next(p for p in recounted.plans if p.plan_id == PLAN)
    assert plan.left == next(p for p in before.plans if p.plan_id == PLAN).left - 1
