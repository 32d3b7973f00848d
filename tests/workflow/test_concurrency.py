"""Racing for the last slots: 200 concurrent onboardings, 5 vacant slots → exactly 5 accepted (SQLite and PostgreSQL
stores; two engines share each store, as two replicas would)."""

from __future__ import annotations

import asyncio
from collections import Counter

from hub.store import Store, open_store
from hub.workflow.model import Blocked
from tests.conftest import DatabaseFactory
from tests.workflow.conftest import VACANT, League, actor, engine, onboarding

SUBMISSIONS = 200


async def _race(league: League, store: Store) -> None:
    replicas = [engine(league, store), engine(league, store)]
    who = actor("establishment", region=league.region)

    async def one(n: int) -> str:
        try:
            await replicas[n % 2].submit("ONBOARDING", onboarding(league, n), who)
            return "ACCEPTED"
        except Blocked as blocked:
            return str(blocked.extensions["code"])

    outcome = Counter(await asyncio.gather(*(one(n) for n in range(SUBMISSIONS))))
    assert outcome == {"ACCEPTED": VACANT, "QUOTA_EXCEEDED": SUBMISSIONS - VACANT}


async def test_sqlite_store(league: League, store: Store) -> None:
    await _race(league, store)


async def test_postgresql_store(league: League, pg_database: DatabaseFactory) -> None:
    url = pg_database()
    store = await open_store(url, migrate=True)
    try:
        await _race(league, store)
    finally:
        await store.close()


