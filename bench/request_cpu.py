"""CPU per request through the whole app (HTTP, authentication, execution, JSON), in process.

    python -m bench.request_cpu [--persons 12000] [--rounds 200] [--gc 50000] [--set NAME=VALUE ...]

Sends each query once to warm up, then `rounds` times (10,000-row query: rounds // 20), and prints
the median CPU time of this process (the ASGI app's thread and SQLite's reader threads included)
per request: a small query, a one-person lookup, and a 10,000-row query, as `admin` and as
`auditor` (identifiers masked). `--set` passes settings (`--set gc_threshold=0`), to compare.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from starlette.testclient import TestClient

from bench.policy_overhead import SECRET, dataset
from hub.app import create_app
from hub.auth import create_token
from hub.core.settings import Settings

SMALL = "{ regions { code name } }"
PERSON = """query Q1($id: String!) { person(idNumber: $id) {
  idNumber name institution { code name } payroll { entries(last: 12) { month gross net } } } }"""
ROWS = "{ people(first: 10000) { edges { node { idNumber name sex institution { code name } } } } }"


def run(settings: Settings, rounds: int) -> dict[str, float]:
    """Median CPU milliseconds per request, per (query, role)."""
    out: dict[str, float] = {}
    with TestClient(create_app(settings)) as client:
        tokens = {role: create_token(settings, None, [role], "152900", "1h") for role in ("admin", "auditor")}
        first = client.post("/graphql", json={"query": "{ people(first: 1) { edges { node { idNumber } } } }"},
                            headers={"Authorization": f"Bearer {tokens['admin']}"}).json()
        person = first["data"]["people"]["edges"][0]["node"]["idNumber"]
        cases: list[tuple[str, str, dict[str, Any] | None, int]] = [
            ("small", SMALL, None, rounds), ("person", PERSON, {"id": person}, rounds), ("10k rows", ROWS, None, max(3, rounds // 20)),
        ]
        for label, query, variables, times in cases:
            for role in ("admin", "auditor"):
                if role == "auditor" and label == "person":
                    continue  # the auditor may not look a person up by ID number
                headers = {"Authorization": f"Bearer {tokens[role]}"}
                body = {"query": query, "variables": variables}
                answer = client.post("/graphql", json=body, headers=headers).json()
                assert "errors" not in answer, answer["errors"][:2]
                spent = []
                for _ in range(times):
                    start = time.process_time()
                    client.post("/graphql", json=body, headers=headers)
                    spent.append(time.process_time() - start)
                out[f"{label} ({role})"] = statistics.median(spent) * 1000
                print(f"  {label + ' (' + role + ')':22s} {out[label + ' (' + role + ')']:8.2f} ms CPU / request", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--set", action="append", default=[], help="a setting, NAME=VALUE")
    args = parser.parse_args()
    data = dataset(args.persons)
    extra = dict(item.split("=", 1) for item in args.set)
    settings = Settings(demo_dir=data, jwt_secret=SECRET, audit_key=SECRET, max_page_size=10000, max_cost=10**7,
                        store_url=f"sqlite+aiosqlite:///{data}/bench-store.db", store_auto_upgrade=True, **extra)
    print(f"CPU per request, median ({', '.join(args.set) or 'settings as configured'}):")
    run(settings, args.rounds)


if __name__ == "__main__":
    main()
