"""Fixtures of the workflow tests: a demo league copied per test with one institution made ready for hiring."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import Sources
from hub.core import ids
from hub.core.crosswalk import Crosswalk, CrosswalkCache
from hub.demo.generate import generate, sqlite_targets
from hub.store import Store
from hub.workflow.engine import Workflow
from hub.workflow.model import Actor
from tests.supervision.conftest import sources_for, store  # noqa: F401 (a fixture: a fresh SQLite hub store)

VACANT = 5
PLAN = "JHTEST0001"
TODAY = dt.date(2026, 11, 15)


@pytest.fixture(scope="session")
def league_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo databases, generated once (seed 5, 300 persons)."""
    out = tmp_path_factory.mktemp("workflow-league")
    generate(sqlite_targets(out), persons=300, seed=5)
    return out


@dataclass
class League:
    """A copy of the demo league, an institution with VACANT slots of `quota_type` and a plan of 1,000 places."""

    dir: Path
    sources: Sources
    crosswalk: Crosswalk
    code: str
    local_id: str
    quota_type: str
    region: str
    holder: dict[str, Any]  # a person with an active slot at the institution: id_number, slot_id

    def sql(self, department: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
        """Run SQL on a department's legacy database (the test's own copy)."""
        with sqlite3.connect(self.dir / f"{department}.db") as conn:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows


def _prepare(out: Path) -> tuple[str, str, str]:
    """Pick a banner institution with active slots; leave it VACANT slots of their type and one big plan."""
    with sqlite3.connect(out / "establishment.db") as conn:
        local, quota_type, occupied = conn.execute(
            "SELECT s.JGID, s.BZLX, COUNT(*) FROM T_SMZ s JOIN T_JG j ON j.JGID = s.JGID JOIN T_BZ b ON "
            "b.JGID = s.JGID AND b.BZLX = s.BZLX WHERE s.RYZT = '在编' AND s.CBRQ IS NULL AND j.XZQH = '152921' "
            "GROUP BY s.JGID, s.BZLX ORDER BY COUNT(*) DESC, s.JGID LIMIT 1").fetchone()
        conn.execute("UPDATE T_BZ SET HDS = ? WHERE JGID = ? AND BZLX = ?", (occupied + VACANT, local, quota_type))
        conn.execute("DELETE FROM T_YBJH WHERE JGID = ?", (local,))
        conn.execute("INSERT INTO T_YBJH (JHID, JGID, BZLX, JHS, YYS, PZRQ, ZT) VALUES (?, ?, ?, 1000, 0, "
                     "'2020-01-01', '已批准')", (PLAN, local, quota_type))
        conn.commit()
    return local, quota_type, "152921"


@pytest.fixture
async def league(league_template: Path, tmp_path: Path) -> AsyncIterator[League]:
    out = tmp_path / "league"
    shutil.copytree(league_template, out)
    local, quota_type, region = _prepare(out)
    sources = sources_for(sqlite_targets(out))
    cw = await CrosswalkCache(sources).get()
    code = cw.code_of("establishment", local)
    assert code is not None
    with sqlite3.connect(out / "establishment.db") as conn:
        id_number, slot_id = conn.execute(
            "SELECT SFZH, RYID FROM T_SMZ WHERE JGID = ? AND RYZT = '在编' AND CBRQ IS NULL AND length(SFZH) = 18 "
            "ORDER BY RYID LIMIT 1", (local,)).fetchone()
    yield League(out, sources, cw, code, local, quota_type, region, {"id_number": id_number, "slot_id": slot_id})
    await sources.close()


def engine(league: League, hub_store: Store, **kw: Any) -> Workflow:
    """The engine over the league, today fixed."""
    return Workflow(hub_store, league.sources, league.crosswalk, today=lambda: TODAY, **kw)


def actor(department: str | None, region: str = "152900", may: Callable[[str], bool] = lambda _: True,
          subject: str | None = None) -> Actor:
    """Someone of a department holding every workflow action (the policy is tested through GraphQL)."""
    return Actor(subject or f"{department}-officer", department, region, may)


def newcomer(n: int) -> str:
    """An ID number no department knows (born 2001, Alxa Right Banner)."""
    return ids.make_id_number("152922", dt.date(2001, 1 + n % 12, 1 + n % 28), 300 + n % 200, n % 2 == 0)


def onboarding(league: League, n: int = 0, **changes: Any) -> dict[str, Any]:
    """An onboarding input for the league's institution."""
    return {"institutionCode": league.code, "idNumber": newcomer(n), "name": f"新人{n}", "quotaType": league.quota_type,
            "enteredOn": "2026-11-01", "payFrom": "2026-11", "category": "PI_TECHNICAL", "postCategory": "TECHNICAL",
            "postGrade": 12, "payCategory": "PUBLIC_INSTITUTION", **changes}
