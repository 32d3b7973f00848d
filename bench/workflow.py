"""Onboardings end to end through the workflow engine on a PostgreSQL hub store, written back to the departments.

    .venv/bin/python -m bench.workflow                 # 100 onboardings, 20 at a time
    .venv/bin/python -m bench.workflow --count 1000 --concurrency 50
    .venv/bin/python -m bench.workflow --sources postgresql   # department databases on PostgreSQL too
    .venv/bin/python -m bench.workflow --count 200 --profile /tmp/wf.prof    # cProfile of the run (pstats file)

Generates a demo league (`--persons`; SQLite files or fresh PostgreSQL databases for the departments),
gives `--institutions` institutions room for the onboardings (approved quota raised, one large
vacancy plan each), creates a fresh PostgreSQL database for the hub store (127.0.0.1:5432, user
postgres; every database made is dropped after), then runs `--count` onboardings with
`--concurrency` in flight: each is submitted and decided at all four steps (establishment,
organization ∥ HR, finance). Every department grants writes and the engine's after-commit hook
delivers each completed onboarding to them (hub/workflow/delivery.py), as the app does, so an
onboarding is done when its slot, personnel record, post, payee and pay change are in the
departments' databases. Prints onboardings completed per second, the CPU time the hub process spent
per onboarding (all its threads; the databases' servers not included) with the load average before
and after the run, the p50/p95 latency of a decision (the last one includes the delivery) and what
the departments' databases hold afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import os
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
from hub.demo.legacy import METADATA
from hub.store import open_store
from hub.workflow.delivery import after_commit
from hub.workflow.engine import Workflow
from hub.workflow.model import Actor, Decision

PG_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STEPS = (("establishment", 1), ("organization", 1), ("hr", 1), ("finance", 1))


def _prepare(url: str, institutions: int, room: int) -> list[tuple[str, str]]:
    """Raise the quota of the institutions with most active slots and give each a big plan: (local id, type)."""
    smz, bz, plan = (METADATA.tables[t] for t in ("T_SMZ", "T_BZ", "T_YBJH"))
    engine = sa.create_engine(sync_url(url))
    with engine.begin() as conn:
        chosen = conn.execute(
            sa.select(smz.c.JGID, smz.c.BZLX).join(bz, sa.and_(bz.c.JGID == smz.c.JGID, bz.c.BZLX == smz.c.BZLX))
            .where(smz.c.RYZT == "在编").group_by(smz.c.JGID, smz.c.BZLX)
            .order_by(sa.func.count().desc(), smz.c.JGID).limit(institutions)).all()
        for n, (local, kind) in enumerate(chosen):
            conn.execute(sa.update(bz).where(bz.c["JGID"] == local, bz.c["BZLX"] == kind).values(HDS=bz.c.HDS + room))
            conn.execute(sa.insert(plan).values(JHID=f"JHBENCH{n:03d}", JGID=local, BZLX=kind, JHS=room, YYS=0,
                                                PZRQ=dt.date(2020, 1, 1), ZT="已批准"))
    engine.dispose()
    return [(str(a), str(b)) for a, b in chosen]


def _written(targets: dict[str, str]) -> dict[str, int]:
    """Rows the hub wrote: registry slots, personnel records, payees, pay changes, and the ledgers' changes."""
    counted = {"establishment": ("T_SMZ", "RYID"), "hr": ("RS_RYXX", "RYBH"), "finance": ("GZ_RY", "RYBM")}
    out: dict[str, int] = {}
    for department, (table, key) in counted.items():
        engine = sa.create_engine(sync_url(targets[department]))
        with engine.connect() as conn:
            t = METADATA.tables[table]
            out[table] = conn.execute(sa.select(sa.func.count()).where(t.c[key].like("9%") | t.c[key].like("R9%"))
                                      ).scalar_one()
            out[f"ledger:{department}"] = conn.execute(sa.text("SELECT COUNT(*) FROM " + conn.dialect.identifier_preparer
                                                               .quote_identifier("HUB_CHANGE_LEDGER"))).scalar_one()
        engine.dispose()
    return out


def _database(admin: sa.Engine, prefix: str, made: list[str]) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    made.append(name)
    return sa.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


async def run(count: int, concurrency: int, persons: int, institutions: int, on: str, profile: str | None) -> None:
    """Generate, prepare, run and print."""
    admin = sa.create_engine(sync_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
    made: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            if on == "postgresql":
                targets = {d: _database(admin, f"hubbench_{d[:3]}", made)
                           for d in ("establishment", "organization", "hr", "finance")}
            else:
                targets = sqlite_targets(Path(tmp))
            generate(targets, persons=persons, seed=11)
            chosen = _prepare(targets["establishment"], institutions, count)
            sources = build_sources(Settings(source={d: SourceSettings(url=u, writes=True) for d, u in targets.items()}))
            crosswalk = CrosswalkCache(sources)
            cw = await crosswalk.get()
            store = await open_store(_database(admin, "hubbench_wf", made), migrate=True)
            try:
                wf = Workflow(store, sources, cw, after_commit=after_commit(store, sources, crosswalk))
                actors = {d: Actor(f"{d}-bench", d, "152900", lambda _: True) for d, _ in STEPS}
                decisions: list[float] = []
                final: list[float] = []  # the finance decisions: completion and delivery
                gate = asyncio.Semaphore(concurrency)

                async def onboard(n: int) -> None:
                    local, kind = chosen[n % len(chosen)]
                    code = cw.code_of("establishment", local)
                    id_number = ids.make_id_number("152923", dt.date(2000, 1, 1) + dt.timedelta(days=n // 200),
                                                   n % 200, n % 2 == 0)
                    data = {"institutionCode": code, "idNumber": id_number, "name": f"新人{n}", "quotaType": kind,
                            "enteredOn": "2026-11-01", "payFrom": "2026-11", "category": "PI_TECHNICAL",
                            "postCategory": "TECHNICAL", "postGrade": 12, "payCategory": "PUBLIC_INSTITUTION"}
                    async with gate:
                        app = await wf.submit("ONBOARDING", data, actors["establishment"])
                        for department, _ in STEPS:
                            started = time.perf_counter()
                            await wf.decide(app.id, Decision.APPROVE, None, actors[department])
                            decisions.append(time.perf_counter() - started)
                        final.append(decisions[-1])

                load_before = os.getloadavg()[0]
                profiler = cProfile.Profile() if profile else None
                started, cpu_started = time.perf_counter(), time.process_time()
                if profiler:
                    profiler.enable()
                await asyncio.gather(*(onboard(n) for n in range(count)))
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(profile)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
                load_after = os.getloadavg()[0]
                async with store.connect() as hub:
                    waiting: int = (await hub.execute(sa.text(
                        "SELECT COUNT(*) FROM change_events WHERE delivered_at IS NULL"))).scalar_one()
            finally:
                await store.close()
                await sources.close()
            written = _written(targets)
        finally:
            with admin.connect() as dropping:
                for name in made:
                    dropping.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    q = statistics.quantiles(decisions, n=100)
    print(f"onboardings: {count} in {elapsed:.1f} s = {count / elapsed:.1f}/s end to end, written back "
          f"({concurrency} in flight, {len(chosen)} institutions, PostgreSQL store, {on} departments)")
    print(f"hub process CPU: {cpu:.1f} s = {cpu / count * 1000:.0f} ms per onboarding; load average (1 min) "
          f"{load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores")
    last = statistics.quantiles(final, n=100)
    print(f"decision latency: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms over {len(decisions)} decisions; "
          f"the completing ones (with delivery): p50 {last[49] * 1000:.0f} ms, p95 {last[94] * 1000:.0f} ms")
    print(f"written: {written}; change events not delivered: {waiting}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.workflow", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--institutions", type=int, default=10)
    parser.add_argument("--sources", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the onboardings (pstats) to FILE")
    args = parser.parse_args()
    asyncio.run(run(args.count, args.concurrency, args.persons, args.institutions, args.sources, args.profile))


if __name__ == "__main__":
    main()
