"""What the policy layer costs on a 10,000-row query: the same hub with and without it.

    python -m bench.policy_overhead [--persons 12000] [--rounds 15]

Generates the demo data (SQLite) once into bench/.data, then times the same 10,000-person query
through the whole app (HTTP, auth, execution, JSON) as `admin` on a hub built without the policy
guard, masking and auditing, then with them as `admin` (everything readable) and as `auditor`
(identifiers masked). Prints medians and the overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

from starlette.testclient import TestClient

from hub.app import create_app
from hub.auth import create_token
from hub.core.settings import Settings
from hub.demo.generate import generate, sqlite_targets

QUERY = "{ people(first: 10000) { edges { node { idNumber name sex nameSource institution { code name } } } } }"  # what the auditor may read
SECRET = "bench-secret-of-sufficient-length-for-hs256"


def dataset(persons: int) -> Path:
    """The benchmark's demo data, generated once per size."""
    out = Path(__file__).parent / ".data" / f"p{persons}"
    if not (out / "manifest.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        generate(sqlite_targets(out), persons=persons, seed=1, manifest_path=out / "manifest.json")
    return out


VARIANTS = (("no policy layer", False, "admin"), ("policy, admin", True, "admin"), ("policy, auditor (masked)", True, "auditor"))


async def cpu_times(settings: Settings, rounds: int) -> dict[str, list[float]]:
    """CPU seconds per execution of the query, each variant's schema driven in-process, interleaved.

    CPU time of this process (SQLite's reader threads included) is what the policy layer can add
    to; wall time on a shared machine mostly measures the neighbours.
    """
    from hub.app import lifespan
    from hub.core.principal import Principal
    from schema import build_schema

    async with AsyncExitStack() as stack:
        runs = []
        for label, policy, role in VARIANTS:
            started = await stack.enter_async_context(lifespan(settings, build_schema(), policy=policy)(None))  # type: ignore[arg-type]
            runs.append((label, started["execution"], started["hub"], Principal("bench", None, (role,))))
        times: dict[str, list[float]] = {label: [] for label, *_ in runs}
        for round_ in range(rounds + 2):
            for label, execution, state, principal in runs:
                ctx = await state.context(principal)
                start = time.process_time()
                result = await execution.answer(ctx, QUERY)
                spent = time.process_time() - start
                assert not result.errors, result.errors[:2]
                if round_ >= 2:  # two warm-up rounds
                    times[label].append(spent)
        return times


def report(title: str, times: dict[str, list[float]]) -> None:
    """Medians and overhead against the variant without the policy layer."""
    base = statistics.median(times["no policy layer"])
    print(title)
    for label, series in times.items():
        median = statistics.median(series)
        print(f"  {label:28s} {median * 1000:8.1f} ms  overhead {100 * (median / base - 1):+5.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cpu", action="store_true", help="in-process CPU time instead of HTTP wall time")
    args = parser.parse_args()
    data = dataset(args.persons)
    settings = Settings(demo_dir=data, jwt_secret=SECRET, audit_key=SECRET, max_page_size=10000,
                        store_url=f"sqlite+aiosqlite:///{data}/bench-store.db", store_auto_upgrade=True)
    if args.cpu:
        times = asyncio.run(cpu_times(settings, args.rounds))
        report(f"10,000-row query, {args.persons} persons, CPU time per execution, median of {args.rounds} interleaved rounds:", times)
        return
    with ExitStack() as stack:
        clients = []
        for label, policy, role in VARIANTS:
            client = stack.enter_context(TestClient(create_app(settings, policy=policy)))
            headers = {"Authorization": f"Bearer {create_token(settings, None, [role], ttl='1h')}"}
            clients.append((label, client, headers))
        rows: dict[str, int] = {}
        for label, client, headers in clients:  # warm up; check the answers
            for _ in range(2):
                body = client.post("/graphql", json={"query": QUERY}, headers=headers).json()
                assert "errors" not in body, body["errors"][:2]
            rows[label] = len(body["data"]["people"]["edges"])
        times: dict[str, list[float]] = {label: [] for label, _, _ in clients}
        for _ in range(args.rounds):  # interleaved, so load on the machine affects all alike
            for label, client, headers in clients:
                start = time.perf_counter()
                client.post("/graphql", json={"query": QUERY}, headers=headers)
                times[label].append(time.perf_counter() - start)
    base = statistics.median(times["no policy layer"])
    print(f"10,000-row query ({QUERY[:60]}…), {args.persons} persons, median of {args.rounds} interleaved rounds:")
    for label, series in times.items():
        median = statistics.median(series)
        print(f"  {label:28s} {median * 1000:8.1f} ms  rows={rows[label]}  overhead {100 * (median / base - 1):+5.1f}%")


if __name__ == "__main__":
    main()
