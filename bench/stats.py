"""Benchmark `stats`: region × quota type and institution × education headcounts on PostgreSQL,
against the equivalent hand-written SQL GROUP BY.

    python -m bench.stats                      # 100,000 persons, 2,000 institutions, seed 1
    python -m bench.stats --persons 20000 --repeat 5

The dataset is the project's generator's (bench/dataset.py, `hub generate`), all four departments in
one PostgreSQL database, reused while its parameters are unchanged. Each query runs once to warm up,
then `--repeat` times; the median and the best are printed, in milliseconds:

- `hub`: the statistic answered in process by resolvers/stats.py (statements through the adapters,
  groups mapped to institutions and regions in the hub), as an admin over the league; per run, what
  the app does per request (a context with its row scope and loaders), with the garbage collector
  tuned as the app's startup tunes it (`HUB_GC_THRESHOLD`);
- `graphql`: the same through the app's GraphQL endpoint (authentication, policy, audit);
- `hub CPU ms`: the hub process's own CPU time per `hub` run (the part the load of other processes
  does not inflate);
- `sql`: one hand-written statement giving the same figures (each person counted once, at the
  first of their active slots), through asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg

from bench.dataset import Params, ensure_dataset, generator_hash, pg_url

DEPARTMENTS = ("establishment", "organization", "hr", "finance")
# The person of an ID number however spelled (15 digits, full width, lower-case x): its first 17 characters,
# normalized. 18 ASCII characters (as many bytes as characters) need no folding: the upper-cased first 17
# (ASCII: upper-cased under the "C" collation, as the hub does).
# Compared byte by byte (COLLATE "C"), as the hub's statement partitions it; `n <= 1` as the hub writes
# `n = 1` (PostgreSQL then groups in a hash table rather than sorting every person).
PERSON_KEY = """CASE WHEN char_length({s}) = 18 AND octet_length({s}) = 18 THEN upper(substr({s}, 1, 17) COLLATE "C")
    WHEN char_length({n}) = 15 THEN substr({n}, 1, 6) || '19' || substr({n}, 7, 9) ELSE substr({n}, 1, 17) END"""
FOLDED = 'upper(s."SFZH")'
for _wide, _narrow in zip("０１２３４５６７８９ｘＸ", "0123456789XX", strict=True):
    FOLDED = f"replace({FOLDED}, '{_wide}', '{_narrow}')"
PERSONS_SQL = f"""
  SELECT s."JGID", s."BZLX", s."XL",
         row_number() OVER (PARTITION BY ({PERSON_KEY.format(s='s."SFZH"', n=FOLDED)}) COLLATE "C"
                            ORDER BY s."RBRQ" IS NULL, s."RBRQ", s."RYID") AS n
  FROM "T_SMZ" s WHERE s."RYZT" IN ('在编', '借调') AND s."CBRQ" IS NULL AND s."SFZH" IS NOT NULL"""
SQL = {
    "region x quota type": f"""SELECT j."XZQH", p."BZLX", count(*) FROM ({PERSONS_SQL}) p
        JOIN "T_JG" j ON j."JGID" = p."JGID" WHERE p.n <= 1 GROUP BY 1, 2""",
    "institution x education": f"""SELECT p."JGID", p."XL", count(*) FROM ({PERSONS_SQL}) p
        WHERE p.n <= 1 GROUP BY 1, 2""",
}
BY = {"region x quota type": ["REGION", "QUOTA_TYPE"], "institution x education": ["INSTITUTION", "EDUCATION"]}
QUERY = "query($b: [Dimension!]) { stats(measures: [HEADCOUNT], by: $b) { rows { keys values } total { values } } }"


async def _time(fn: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    result = await fn()  # warm: caches, compiled statements, the crosswalk
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = await fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def _settings(database: str) -> Any:
    from hub.core.settings import Settings

    url = pg_url(database, driver="postgresql+asyncpg")
    sources: dict[str, Any] = {d: {"url": url} for d in DEPARTMENTS}
    return Settings(source=sources, jwt_secret="bench-secret-of-sufficient-length-0123456789",
                    audit_key="bench-audit-key-of-sufficient-length-0123456789", store_url="sqlite+aiosqlite:///:memory:")


async def _hub_runs(database: str, repeat: int) -> dict[str, list[float]]:
    from adapters.registry import build_sources
    from hub.app import tune_gc
    from hub.core.crosswalk import CrosswalkCache
    from hub.core.principal import Principal
    from hub.core.stats import Dimension
    from policies.grants import PolicyBook, new_enforcer
    from policies.scope import scope_for
    from resolvers.context import HubContext
    from resolvers.loaders import Loaders
    from resolvers.stats import StatsFilter, stats
    from schema import build_schema, schema_fields
    from schema.masking import MASKABLE

    settings = _settings(database)
    sources = build_sources(settings)
    crosswalk = CrosswalkCache(sources)
    grants = PolicyBook(new_enforcer(), schema_fields(build_schema(settings)), MASKABLE).grants(["admin"])
    tune_gc(settings.gc_threshold)  # the collector as the app's lifespan sets it (hub/app.py)
    out: dict[str, list[float]] = {}
    try:
        for name, by in BY.items():
            async def run(by: list[str] = by) -> Any:
                scope = scope_for(await crosswalk.get(), "152900")
                ctx = HubContext(settings, sources, crosswalk, Principal("bench", None, ("admin",), "152900"), grants,
                                 scope, Loaders(sources, scope))
                return await stats(ctx, ["HEADCOUNT"], [Dimension(d) for d in by], StatsFilter())

            await run()  # warm: the crosswalk, compiled statements
            before = sum(a.statements for _, a in sources.items())
            cpu = time.process_time()
            times, answer = await _time(run, repeat)
            out[f"{name}: hub cpu ms"] = [(time.process_time() - cpu) * 1000 / (repeat + 1)]
            per_run = (sum(a.statements for _, a in sources.items()) - before) / (repeat + 1)  # _time runs it once more
            out[name] = times
            out[f"{name}: statements per run"] = [per_run]
            out[f"{name}: groups"] = [len(answer.rows)]
            out[f"{name}: persons"] = [answer.total.values[0]]
    finally:
        await sources.close()
    return out


def _graphql_runs(database: str, repeat: int) -> dict[str, list[float]]:
    from starlette.testclient import TestClient

    from hub.app import create_app
    from hub.auth import create_token

    settings = _settings(database).model_copy(update={"store_auto_upgrade": True})
    out: dict[str, list[float]] = {}
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {create_token(settings, None, ['admin'], '152900', '1h')}"}
        for name, by in BY.items():
            def post(by: list[str] = by) -> Any:
                response = client.post("/graphql", json={"query": QUERY, "variables": {"b": by}}, headers=headers)
                body = response.json()
                assert response.status_code == 200 and "errors" not in body, body
                return body

            post()
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                post()
                times.append((time.perf_counter() - started) * 1000)
            out[name] = times
    return out


async def _sql_runs(database: str, repeat: int) -> dict[str, list[float]]:
    conn = await asyncpg.connect(pg_url(database))
    out: dict[str, list[float]] = {}
    try:
        for name, sql in SQL.items():
            async def fetch(sql: str = sql) -> Any:
                return await conn.fetch(sql)

            times, rows = await _time(fetch, repeat)
            out[name] = times
            out[f"{name}: persons"] = [sum(r[2] for r in rows)]
    finally:
        await conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", default="hubbench_stats", help="PostgreSQL database on 127.0.0.1:5432 (user postgres)")
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--institutions", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "hub-bench-stats")
    args = parser.parse_args()
    sizes = ensure_dataset(args.database, Params(args.persons, args.institutions, args.seed, generator_hash()), args.work / "dataset")
    hub = asyncio.run(_hub_runs(args.database, args.repeat))
    graphql = _graphql_runs(args.database, args.repeat)
    sql = asyncio.run(_sql_runs(args.database, args.repeat))
    print(f"dataset: {args.persons:,} persons, {sizes['T_SMZ']:,} registry rows, {sizes['T_JG']:,} institutions; "
          f"{args.repeat} runs after one warm-up; {os.cpu_count()} cores (shared: other work may be running)")
    print(f"{'query':<26}{'hub ms (median/best)':>22}{'graphql ms':>16}{'sql ms':>16}{'hub/sql':>9}  statements  groups"
          "  hub CPU ms")
    report: dict[str, Any] = {}
    for name in BY:
        h, g, s = (statistics.median(x[name]) for x in (hub, graphql, sql))
        assert hub[f"{name}: persons"] == sql[f"{name}: persons"], (hub[f"{name}: persons"], sql[f"{name}: persons"])
        print(f"{name:<26}{h:>12.1f} / {min(hub[name]):<7.1f}{g:>10.1f} / {min(graphql[name]):<5.0f}"
              f"{s:>9.1f} / {min(sql[name]):<5.1f}{h / s:>7.1f}x  {hub[f'{name}: statements per run'][0]:>10.0f}  "
              f"{hub[f'{name}: groups'][0]:>6.0f}  {hub[f'{name}: hub cpu ms'][0]:>10.0f}")
        report[name] = {"hub_ms": round(h, 1), "graphql_ms": round(g, 1), "sql_ms": round(s, 1),
                        "hub_cpu_ms": round(hub[f"{name}: hub cpu ms"][0], 1),
                        "persons": hub[f"{name}: persons"][0]}
    print(json.dumps(report, ensure_ascii=False), file=sys.stderr)


if __name__ == "__main__":
    main()
