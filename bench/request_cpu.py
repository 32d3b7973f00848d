"""CPU per request on the server side, in process: through the whole app, and through the Execution alone.

    python -m bench.request_cpu [--persons 12000] [--rounds 300] [--only small,person,10k] [--app-only] [--set NAME=VALUE ...]
    python -m bench.request_cpu --postgres hubbench [--rounds 3] [--only Q1,Q2,Q4] [--set NAME=VALUE ...]

Drives the ASGI app directly (no HTTP client, no socket: only the server's work is timed) with
its lifespan running, over the demo data (SQLite, generated once into bench/.data). For each
query and role it sends the request once to warm up, then `rounds` times (10,000-row query:
rounds // 30) through the "app" (middleware, authentication, strawberry's view, execution, JSON),
then as many times through the "execution" (`Execution.answer` and the JSON encoding only: what any
path skipping the view could at best save; left out with --app-only), and prints the median CPU time of this process per request (SQLite's reader
threads included). `--set` passes settings, to compare (`--set gc_threshold=0`).

`--postgres DATABASE`: the benchmark's queries with requests that vary as users' do, over the
PostgreSQL dataset of `python -m bench.compare` (build it with `--dataset-only`): Q1 a different
person each request, Q2 and Q4 a random page of institutions (bench/queries.py, the same seeded
sequences as the comparison). Each query is sent a few times to warm up, then in `rounds` rounds of
its requests through the app as `admin`; prints the median CPU time per request of each round and
over all, with the load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from bench import queries
from bench.dataset import pg_url, q1_people
from bench.policy_overhead import SECRET, dataset
from hub.app import create_app
from hub.auth import create_token
from hub.core.principal import Principal
from hub.core.settings import Settings, SourceSettings

SMALL = "{ regions { code name } }"
PERSON = """query Q1($id: String!) { person(idNumber: $id) {
  idNumber name institution { code name } payroll { entries(last: 12) { month gross net } } } }"""
ROWS = "{ people(first: 10000) { edges { node { idNumber name sex institution { code name } } } } }"


async def post(app: Any, state: dict[str, Any], body: bytes, token: str) -> bytes:
    """One POST /graphql through the app; the response body."""
    scope = {
        "type": "http", "method": "POST", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"",
        "root_path": "", "scheme": "http", "http_version": "1.1", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"content-type", b"application/json"), (b"accept", b"application/json"),
                    (b"authorization", f"Bearer {token}".encode()), (b"content-length", str(len(body)).encode())],
        "state": dict(state),
    }
    sent = False
    out: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            out.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(out)


async def run(settings: Settings, rounds: int, only: set[str], direct: bool) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        hub, execution = state["hub"], state.get("execution")
        tokens = {role: create_token(settings, None, [role], "152900", "1h") for role in ("admin", "auditor")}
        first = orjson.loads(await post(app, state, orjson.dumps({"query": "{ people(first: 1) { edges { node { idNumber } } } }"}),
                                        tokens["admin"]))
        person = first["data"]["people"]["edges"][0]["node"]["idNumber"]
        cases: list[tuple[str, str, dict[str, Any] | None, int]] = [
            ("small", SMALL, None, rounds), ("person", PERSON, {"id": person}, rounds // 3),
            ("10k rows", ROWS, None, max(5, rounds // 30)),
        ]
        for label, query, variables, times in cases:
            if label.split()[0] not in only:
                continue
            for role in ("admin", "auditor"):
                if role == "auditor" and label == "person":
                    continue  # the auditor may not look a person up by ID number
                body = orjson.dumps({"query": query, "variables": variables})
                answer = orjson.loads(await post(app, state, body, tokens[role]))
                assert "errors" not in answer, answer["errors"][:2]
                principal = Principal("bench", None, (role,))
                spent: dict[str, list[float]] = {"app": [], "execution": []}
                for _ in range(times):
                    start = time.process_time()
                    await post(app, state, body, tokens[role])
                    spent["app"].append(time.process_time() - start)
                for _ in range(times if execution is not None and direct else 0):
                    start = time.process_time()
                    ctx = await hub.context(principal)
                    result = await execution.answer(ctx, query, variables)
                    orjson.dumps({"data": result.data})
                    spent["execution"].append(time.process_time() - start)
                line = f"  {label + ' (' + role + ')':18s} app {statistics.median(spent['app']) * 1000:8.2f} ms"
                if spent["execution"]:
                    line += f"   execution alone {statistics.median(spent['execution']) * 1000:8.2f} ms"
                print(line, flush=True)


VARIED = {"Q1": 150, "Q2": 40, "Q4": 20}  # timed requests per round
WARMUP = 5


async def run_varied(settings: Settings, database: str, rounds: int, only: set[str]) -> None:
    """The benchmark's queries over PostgreSQL, a different person or page each request."""
    cases = {c.key: c for c in queries.CASES}
    app = create_app(settings)
    async with app.router.lifespan_context(app) as state:
        token = create_token(settings, None, ["admin"], ttl="1h")

        async def data(body: bytes) -> dict[str, Any]:
            answer = orjson.loads(await post(app, state, body, token))
            assert "errors" not in answer, answer["errors"][:2]
            return answer["data"]  # type: ignore[no-any-return]

        cursors: list[str | None] = [None]
        while len(cursors) < 20:  # the comparison's 20 pages of institutions
            info = (await data(queries.body(queries.HUB_INSTITUTION_CURSORS, {"after": cursors[-1]})))["institutions"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            cursors.append(info["endCursor"])
        variants = queries.Variants(await asyncio.to_thread(q1_people, database, 1000), {("hub", "institutions"): cursors})
        for key in (k for k in VARIED if k in only):
            case = cases[key]
            for body in queries.plan(case, "hub", variants, "varied", 17, 99).take(WARMUP):
                await data(body)
            medians = []
            everything: list[float] = []
            for round_ in range(rounds):
                spent = []
                for body in queries.plan(case, "hub", variants, "varied", 17, round_).take(VARIED[key]):
                    start = time.process_time()
                    await post(app, state, body, token)
                    spent.append(time.process_time() - start)
                medians.append(statistics.median(spent) * 1000)
                everything += spent
            rounds_text = " ".join(f"{m:.2f}" for m in medians)
            print(f"  {key}: median {statistics.median(everything) * 1000:7.2f} ms, mean "
                  f"{statistics.fmean(everything) * 1000:7.2f} ms (rounds: {rounds_text}; {len(everything)} requests)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--app-only", action="store_true", help="only through the app")
    parser.add_argument("--only", default="small,person,10k", help="the cases to run, comma-separated")
    parser.add_argument("--set", action="append", default=[], help="a setting, NAME=VALUE")
    parser.add_argument("--postgres", metavar="DATABASE", help="varied Q1, Q2, Q4 over this PostgreSQL dataset")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.set)
    if args.postgres:
        url = pg_url(args.postgres, driver="postgresql+asyncpg")
        store = Path(__file__).parent / ".data" / "request-cpu-store.db"
        store.parent.mkdir(parents=True, exist_ok=True)
        store.unlink(missing_ok=True)
        settings = Settings(jwt_secret=SECRET, audit_key=SECRET, max_page_size=10000, demo_dir=store.parent,
                            store_url=f"sqlite+aiosqlite:///{store}", store_auto_upgrade=True, log_level="warning",
                            source={d: SourceSettings(url=url) for d in ("establishment", "organization", "hr", "finance")}, **extra)
        print(f"CPU per request, varied, admin ({', '.join(args.set) or 'settings as configured'}); "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}:")
        only = set(args.only.split(",")) if args.only != "small,person,10k" else set(VARIED)
        asyncio.run(run_varied(settings, args.postgres, args.rounds if args.rounds != 300 else 3, only))
        print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return
    data = dataset(args.persons)
    settings = Settings(demo_dir=data, jwt_secret=SECRET, audit_key=SECRET, max_page_size=10000, max_cost=10**7,
                        store_url=f"sqlite+aiosqlite:///{data}/bench-store.db", store_auto_upgrade=True, **extra)
    print(f"CPU per request, median ({', '.join(args.set) or 'settings as configured'}):")
    asyncio.run(run(settings, args.rounds, set(args.only.split(",")), not args.app_only))


if __name__ == "__main__":
    main()
