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
from hub.workflow.delivery import after_commit
from hub.workflow.engine import Workflow
from hub.workflow.model import Application, Decision, State
from tests.conftest import DatabaseFactory
from tests.workflow.conftest import PLAN, VACANT, League, actor, engine, onboarding

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
