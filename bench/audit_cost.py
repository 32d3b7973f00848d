"""What auditing costs a small read of personal data: `hub serve` with the audit log on and off.

    python -m bench.audit_cost [--requests 600] [--concurrency 8] [--rounds 3] [--base CHECKOUT]

Serves the demo data (SQLite, 2,000 persons, generated once into bench/.data) with a fresh SQLite
hub store, and times one small read of personal fields (three persons' ID numbers and names,
audited as one entry): sequential requests over one connection (median and p90 wall time, and the
server's CPU time per request), then `--concurrency` connections at once (requests/s, CPU per
request). Audit on and off (and, with `--base`, another checkout of the hub with audit on, e.g.
`git archive <commit> | tar -x -C /tmp/base`) alternate for `--rounds` rounds, so load on the
machine affects all alike.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.client import Client
from bench.policy_overhead import dataset
from bench.servers import Server, free_port, running

BODY = b'{"query":"query AuditCost { people(first: 3) { edges { node { idNumber name } } } }"}'


def hub_server(data: Path, work: Path, audit: bool, secret: str, code: Path | None) -> Server:
    """`hub serve` (of the checkout `code`, else this one) over the demo data with a store of its own."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | ({"PYTHONPATH": str(code)} if code else {}) | {
        "HUB_DEMO_DIR": str(data), "HUB_STORE_URL": f"sqlite+aiosqlite:///{work}/store.db", "HUB_JWT_SECRET": secret,
        "HUB_AUDIT_KEY": secret, "HUB_AUDIT": str(audit).lower(), "HUB_PORT": str(port), "HUB_LOG_LEVEL": "warning",
        "HUB_GRAPHIQL": "false", "HUB_STORE_AUTO_UPGRADE": "true",  # a store of its own, one process
    }
    hub = str(Path(sys.executable).parent / "hub")
    return Server("hub", [hub, "serve"], env, port, work / "hub.log", work, auth=token(secret))


def token(secret: str) -> str:
    """An admin token signed with the server's secret."""
    from hub.auth import create_token
    from hub.core.settings import Settings

    return "Bearer " + create_token(Settings(jwt_secret=secret), None, ["admin"], "152900", "1h")


def measure(server: Server, requests: int, concurrency: int) -> dict[str, float]:
    """Sequential median/p90 ms and CPU ms a request; concurrent requests/s and CPU ms a request."""
    auth = server.auth
    client = Client(server.port, auth)
    for _ in range(20):  # warm up (the repeats take the lean path)
        client.query(BODY)
    cpu = server.cpu_seconds()
    times = sorted(client.post(BODY)[0] for _ in range(requests))
    seq_cpu = (server.cpu_seconds() - cpu) / requests
    client.close()
    per_thread = requests // concurrency

    def worker() -> None:
        own = Client(server.port, auth)
        for _ in range(per_thread):
            own.post(BODY)
        own.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    cpu, started = server.cpu_seconds(), time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    done = per_thread * concurrency
    return {"seq_median_ms": 1000 * statistics.median(times), "seq_p90_ms": 1000 * times[int(0.9 * len(times))],
            "seq_cpu_ms": 1000 * seq_cpu, "conc_rps": done / wall,
            "conc_cpu_ms": 1000 * (server.cpu_seconds() - cpu) / done}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", type=Path, help="another checkout to measure with audit on")
    args = parser.parse_args()
    data = dataset(2000)
    secret = secrets.token_urlsafe(32)
    variants: dict[str, tuple[bool, Path | None]] = {"audit on": (True, None), "audit off": (False, None)}
    if args.base:
        variants[f"{args.base} audit on"] = (True, args.base.resolve())
    results: dict[str, list[dict[str, float]]] = {label: [] for label in variants}
    for _ in range(args.rounds):
        for label, (audit, code) in variants.items():
            with tempfile.TemporaryDirectory() as tmp:
                with running(hub_server(data, Path(tmp), audit, secret, code)) as server:
                    results[label].append(measure(server, args.requests, args.concurrency))
                if audit:
                    with sqlite3.connect(Path(tmp) / "store.db") as conn:
                        entries = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
                    print(f"{label}: {entries} entries", file=sys.stderr)
    print(f"{BODY.decode()}, {args.requests} requests, {args.concurrency} at once; medians of {args.rounds} rounds")
    for label, runs in results.items():
        summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"  {label}: sequential {summary['seq_median_ms']:.2f} ms (p90 {summary['seq_p90_ms']:.2f}), "
              f"CPU {summary['seq_cpu_ms']:.2f} ms a request; concurrent {summary['conc_rps']:.0f} req/s, "
              f"CPU {summary['conc_cpu_ms']:.2f} ms a request")


if __name__ == "__main__":
    main()
