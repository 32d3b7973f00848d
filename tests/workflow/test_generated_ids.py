"""Generated ids (hub/workflow/generated.py): two applications never get the same one, an id the department
already has is skipped, a rolled-back completion frees its ids, and deliveries write the id the outbox holds
(SQLite and PostgreSQL stores). The collision is forced: every payee's first-choice code is FIRST."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from adapters.registry import Sources, build_sources
from adapters.write import derived
from hub.core.changes import Change
from hub.core.errors import SourceUnavailable
from hub.core.settings import Settings, SourceSettings
from hub.demo.generate import sqlite_targets
from hub.store import Store, open_store
from hub.store.outbox import events
from hub.store.tables import generated_ids
from hub.workflow import engine as workflow_engine
from hub.workflow import generated
from hub.workflow.delivery import deliver
from hub.workflow.engine import Workflow
from hub.workflow.model import Decision, State
from tests.conftest import DatabaseFactory
from tests.workflow.conftest import League, actor, engine, onboarding

EST, ORG, HR, FIN = (actor(d) for d in ("establishment", "organization", "hr", "finance"))
PAYEE = "9#######"  # finance's payee code template
FIRST = "90000001"


@pytest.fixture(params=["sqlite", "postgresql"])
async def hub_store(request: pytest.FixtureRequest, tmp_path: object, pg_database: DatabaseFactory) -> AsyncIterator[Store]:
    url = f"sqlite+aiosqlite:///{tmp_path}/ids.db" if request.param == "sqlite" else pg_database()
    opened = await open_store(url, migrate=True)
    yield opened
    await opened.close()


@pytest.fixture(autouse=True)
def colliding(monkeypatch: pytest.MonkeyPatch) -> None:
    def first_is_taken(template: str, application_id: str, seq: int, salt: int = 0) -> str:
        return FIRST if template == PAYEE and salt == 0 else derived(template, application_id, seq, salt)

    monkeypatch.setattr(generated, "derived", first_is_taken)


async def _completed(wf: Workflow, league: League, n: int) -> str:
    app = await wf.submit("ONBOARDING", onboarding(league, n), EST)
    for who in (EST, ORG, HR, FIN):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    assert app.state == State.COMPLETED
    return app.id


async def _payee(store: Store, app_id: str) -> Change:
    """The application's payee INSERT (its payroll change names the same code)."""
    payee, change = (e.change for e in await events(store, "finance", application_id=app_id))
    assert payee.entity == "payee" and change.values["payee_code"] == payee.values["payee_code"]
    return payee


async def _reserved(store: Store) -> dict[str, str]:
    async with store.connect() as conn:
        return {r.value: r.application_id for r in await conn.execute(
            sa.select(generated_ids).where(generated_ids.c.entity == "payee"))}


def _finance(league: League, up: bool) -> Sources:
    """Sources granting finance writes (down: its database cannot be opened)."""
    url = sqlite_targets(league.dir)["finance"] if up else f"sqlite+aiosqlite:///{league.dir}/no/such/finance.db"
    return build_sources(Settings(source={"finance": SourceSettings(url=url, writes=True)}))


async def test_colliding_first_choices_get_different_ids_and_retried_delivery_writes_them(
        league: League, hub_store: Store) -> None:
    wf = engine(league, hub_store)
    a, b = [await _completed(wf, league, n) for n in (1, 2)]
    pa, pb = await _payee(hub_store, a), await _payee(hub_store, b)
    assert pa.values["payee_code"] == FIRST
    assert pb.values["payee_code"] == derived(PAYEE, b, pb.seq, 1) != FIRST
    assert await _reserved(hub_store) == {FIRST: a, pb.values["payee_code"]: b}

    down = _finance(league, up=False)
    assert "finance" in (await deliver(hub_store, down)).pending
    await down.close()
    up = _finance(league, up=True)
    try:
        assert (await deliver(hub_store, up)).applied == {"finance": 4}
        assert (await deliver(hub_store, up)).applied == {}
    finally:
        await up.close()
    codes = (FIRST, pb.values["payee_code"])
    assert league.sql("finance", "SELECT RYBM, SFZH FROM GZ_RY WHERE RYBM IN (?, ?) ORDER BY RYBM", *codes) == sorted(
        [(FIRST, pa.values["id_number"]), (pb.values["payee_code"], pb.values["id_number"])])
    assert sorted(r[0] for r in league.sql("finance", "SELECT RYBM FROM GZ_YD WHERE RYBM IN (?, ?)", *codes)) == sorted(codes)


async def test_an_id_the_department_has_is_skipped(league: League, hub_store: Store) -> None:
    league.sql("finance", "INSERT INTO GZ_RY (RYBM, DWDM, XM) VALUES (?, '999', '旧人')", FIRST)
    app = await _completed(engine(league, hub_store), league, 1)
    payee = await _payee(hub_store, app)
    assert payee.values["payee_code"] == derived(PAYEE, app, payee.seq, 1)
    assert await _reserved(hub_store) == {payee.values["payee_code"]: app}


async def test_a_rolled_back_completion_frees_its_ids(league: League, hub_store: Store,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wf = engine(league, hub_store)
    app = await wf.submit("ONBOARDING", onboarding(league, 1), EST)
    for who in (EST, ORG, HR):
        await wf.decide(app.id, Decision.APPROVE, None, who)

    async def broken(*_: object) -> None:
        raise RuntimeError("the outbox is gone")

    with monkeypatch.context() as patch:
        patch.setattr(workflow_engine, "enqueue", broken)
        with pytest.raises(RuntimeError):
            await wf.decide(app.id, Decision.APPROVE, None, FIN)
    assert await _reserved(hub_store) == {}
    assert (await wf.decide(app.id, Decision.APPROVE, None, FIN)).state == State.COMPLETED
    assert (await _payee(hub_store, app.id)).values["payee_code"] == FIRST


async def test_a_department_down_at_completion_leaves_the_check_to_the_reservation(
        league: League, hub_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Finance unreachable when the last approval comes: the application completes with reserved ids, delivered later."""
    wf = engine(league, hub_store)
    app = await wf.submit("ONBOARDING", onboarding(league, 1), EST)
    for who in (EST, ORG, HR):
        app = await wf.decide(app.id, Decision.APPROVE, None, who)
    finance = league.sources["finance"]

    async def unreachable(*_: object, **__: object) -> None:
        raise SourceUnavailable("finance", "down")

    monkeypatch.setattr(finance, "fetch", unreachable)
    assert (await wf.decide(app.id, Decision.APPROVE, None, FIN)).state == State.COMPLETED
    assert (await _payee(hub_store, app.id)).values["payee_code"] == FIRST
    assert set(await _reserved(hub_store)) == {FIRST}
