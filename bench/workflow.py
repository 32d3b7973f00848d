"""Onboardings end to end through the workflow engine on a PostgreSQL hub store.

    .venv/bin/python -m bench.workflow                 # 100 onboardings, 20 at a time (about a minute)
    .venv/bin/python -m bench.workflow --count 1000 --concurrency 50

Generates a demo league (SQLite department databases, `--persons`), gives `--institutions`
institutions room for the onboardings (approved quota raised, one large vacancy plan each), creates a
fresh PostgreSQL database for the hub store (127.0.0.1:5432, user postgres; dropped after), then runs
`--count` onboardings with `--concurrency` in flight: each is submitted and decided at all four
steps (establishment, organization ∥ HR, finance). Prints onboardings completed per second and the
p50/p95 latency of a decision. Delivery to the departments is not part of the run (the engine's
after-commit hook is left empty: the changes wait in the outbox).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from adapters.registry import build_sources
from hub.core import ids
from hub.core.crosswalk import CrosswalkCache
from hub.core.db import sync_url
from hub.core.settings import Settings, SourceSettings
from hub.demo.generate import generate, sqlite_targets
from hub.store import open_store
from hub.workflow.engine import Workflow
from hub.workflow.model import Actor, Decision

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STEPS = (("establishment", 1), ("organization", 1), ("hr", 1), ("finance", 1))


def _prepare(out: Path, institutions: int, room: int) -> list[tuple[str, str]]:
    """Raise the quota of the institutions with most active slots and give each a big plan: (local id, type)."""
    with sqlite3.connect(out / "establishment.db") as conn:
        chosen = conn.execute(
            "SELECT s.JGID, s.BZLX FROM T_SMZ s JOIN T_BZ b ON b.JGID = s.JGID AND b.BZLX = s.BZLX "
            "WHERE s.RYZT = '在编' GROUP BY s.JGID, s.BZLX ORDER BY COUNT(*) DESC LIMIT ?", (institutions,)).fetchall()
        for n, (local, kind) in enumerate(chosen):
            conn.execute("UPDATE T_BZ SET HDS = HDS + ? WHERE JGID = ? AND BZLX = ?", (room, local, kind))
            conn.execute("INSERT INTO T_YBJH (JHID, JGID, BZLX, JHS, YYS, PZRQ, ZT) VALUES (?, ?, ?, ?, 0, "
                         "'2020-01-01', '已批准')", (f"JHBENCH{n:03d}", local, kind, room))
        conn.commit()
    return [(str(a), str(b)) for a, b in chosen]


async def run(count: int, concurrency: int, persons: int, institutions: int) -> None:
    """Generate, prepare, run and print."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        targets = sqlite_targets(out)
        generate(targets, persons=persons, seed=11)
        chosen = _prepare(out, institutions, count)
        sources = build_sources(Settings(source={d: SourceSettings(url=u) for d, u in targets.items()}))
        cw = await CrosswalkCache(sources).get()
        name = f"hubbench_wf_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(sync_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        store = await open_store(sa.make_url(PG_ADMIN).set(database=name), migrate=True)
        try:
            wf = Workflow(store, sources, cw)
            actors = {d: Actor(f"{d}-bench", d, "152900", lambda _: True) for d, _ in STEPS}
            decisions: list[float] = []
            gate = asyncio.Semaphore(concurrency)

            async def onboard(n: int) -> None:
                local, kind = chosen[n % len(chosen)]
                code = cw.code_of("establishment", local)
                id_number = ids.make_id_number("152923", dt.date(2000, 1, 1) + dt.timedelta(days=n // 200), n % 200,
                                               n % 2 == 0)
                data = {"institutionCode": code, "idNumber": id_number, "name": f"新人{n}", "quotaType": kind,
                        "enteredOn": "2026-11-01", "payFrom": "2026-11", "category": "PI_TECHNICAL",
                        "postCategory": "TECHNICAL", "postGrade": 12, "payCategory": "PUBLIC_INSTITUTION"}
                async with gate:
                    app = await wf.submit("ONBOARDING", data, actors["establishment"])
                    for department, _ in STEPS:
                        started = time.perf_counter()
                        await wf.decide(app.id, Decision.APPROVE, None, actors[department])
                        decisions.append(time.perf_counter() - started)

            started = time.perf_counter()
            await asyncio.gather(*(onboard(n) for n in range(count)))
            elapsed = time.perf_counter() - started
        finally:
            await store.close()
            await sources.close()
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    q = statistics.quantiles(decisions, n=100)
    print(f"onboardings: {count} in {elapsed:.1f} s = {count / elapsed:.1f}/s "
          f"({concurrency} in flight, {len(chosen)} institutions, PostgreSQL store, SQLite departments)")
    print(f"decision latency: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms over {len(decisions)} decisions")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workflow", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--institutions", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, args.persons, args.institutions))


if __name__ == "__main__":
    main()
