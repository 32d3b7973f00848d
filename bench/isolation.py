"""One slow department is isolated: `python -m bench.isolation`.

Builds (or reuses) a PostgreSQL demo dataset, serves the hub on it with its default settings,
then locks finance's pay tables (`GZ_RY`, `GZ_YB`: `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` in
another connection) for `--lock-seconds` while `--in-flight` clients keep asking for payroll.
Meanwhile it times `{ regions { code } }` (reads no department) and an institution query (reads
the establishment office only) every 100 ms, and asks /readyz. When the lock ends, it measures
how long until a payroll query answers cleanly again. Prints the figures (the README records them).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.client import Client
from bench.compare import hub_token
from bench.dataset import Params, ensure_dataset, generator_hash, pg_url, q1_people
from bench.servers import Server, free_port, running

BENCH = Path(__file__).resolve().parent
REGIONS = "{ regions { code } }"
INSTITUTION = "query($code: String!) { institution(code: $code) { code name quotas { quotaType approved occupied } } }"
PAYROLL = "query($id: String!) { person(idNumber: $id) { idNumber payroll { entries(last: 3) { month gross } } } }"
PAY_TABLES = ("GZ_RY", "GZ_YB")


def body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def ms(values: list[float]) -> str:
    """median / p99 / max of seconds, in ms."""
    if not values:
        return "—"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})"


def sample(client: Client, requests: dict[str, bytes], seconds: float, every: Any = None) -> dict[str, list[float]]:
    """Each request's latency every 100 ms for `seconds`; `every` called every 5 s."""
    found: dict[str, list[float]] = {name: [] for name in requests}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for name, request in requests.items():
            took, got = answer(client, request)
            assert not got.get("errors"), got
            found[name].append(took)
        if every is not None and len(found["regions"]) % 50 == 10:
            every()
        time.sleep(0.1)
    return found


def answer(client: Client, request: bytes) -> tuple[float, dict[str, Any]]:
    took, raw = client.post(request)
    return took, json.loads(raw)


class Payroll(threading.Thread):
    """A client asking for payroll again and again, `pause` seconds after each answer, until stopped."""

    def __init__(self, port: int, auth: str, request: bytes, stop: threading.Event, pause: float) -> None:
        super().__init__(daemon=True)
        self.client = Client(port, auth, timeout=120)
        self.request = request
        self.stop = stop
        self.pause = pause
        self.answers: list[tuple[float, float, tuple[str, ...]]] = []  # (finished at, seconds, error codes)

    def run(self) -> None:
        while not self.stop.is_set():
            took, got = answer(self.client, self.request)
            codes = tuple(sorted({e.get("extensions", {}).get("code", "?") for e in got.get("errors", [])}))
            self.answers.append((time.monotonic(), took, codes))
            self.stop.wait(self.pause)
        self.client.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.isolation", description=__doc__.splitlines()[0])
    p.add_argument("--database", default="hubisolation", help="PostgreSQL database on 127.0.0.1:5432 (user postgres)")
    p.add_argument("--persons", type=int, default=20_000)
    p.add_argument("--institutions", type=int, default=400)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lock-seconds", type=float, default=40.0)
    p.add_argument("--in-flight", type=int, default=6, help="clients asking for payroll during the lock")
    p.add_argument("--pause", type=float, default=0.1, help="seconds each payroll client waits after an answer")
    p.add_argument("--hub-env", action="append", default=[], metavar="HUB_NAME=VALUE", help="a hub setting (repeatable)")
    p.add_argument("--work", type=Path, default=BENCH / ".work" / "isolation")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = Params(args.persons, args.institutions, args.seed, generator_hash())
    ensure_dataset(args.database, params, args.work / "dataset")
    person = q1_people(args.database, 1)[0]
    (args.work / "hub").mkdir(parents=True, exist_ok=True)
    store = args.work / "hub" / "store.db"
    store.unlink(missing_ok=True)
    url = pg_url(args.database)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {f"HUB_SOURCE_{d}_URL": url for d in ("ESTABLISHMENT", "ORGANIZATION", "HR", "FINANCE")}
    env |= {"HUB_JWT_SECRET": secrets.token_hex(32), "HUB_STORE_URL": f"sqlite+aiosqlite:///{store}",
            "HUB_LOG_LEVEL": "error", "HUB_GRAPHIQL": "false", "HUB_DEMO_DIR": str(args.work / "hub")}
    env |= dict(item.split("=", 1) for item in args.hub_env)
    auth = "Bearer " + hub_token(env, "admin")
    port = free_port()
    argv_ = [str(Path(sys.executable).with_name("hub")), "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = Server("hub", argv_, env, port, args.work / "hub.log", args.work / "hub", auth=auth)
    with running(server):
        return measure(args, port, auth, person)


def measure(args: argparse.Namespace, port: int, auth: str, person: str) -> int:
    probe = Client(port, auth, timeout=120)
    code = probe.query(body("{ institutions(first: 1) { edges { node { code } } } }"))["institutions"]["edges"][0]["node"]["code"]
    requests = {"regions": body(REGIONS), "institution": body(INSTITUTION, {"code": code})}
    payroll = body(PAYROLL, {"id": person})
    assert not answer(probe, payroll)[1].get("errors")
    before = sample(probe, requests, args.lock_seconds)  # the same sampling, nothing locked, no payroll clients
    stop = threading.Event()
    lock = psycopg.connect(pg_url(args.database))
    tables = ", ".join(f'"{t}"' for t in PAY_TABLES)
    lock.execute(f"LOCK TABLE {tables} IN ACCESS EXCLUSIVE MODE")
    locked_at = time.monotonic()
    workers = [Payroll(port, auth, payroll, stop, args.pause) for _ in range(args.in_flight)]
    for worker in workers:
        worker.start()
    ready: list[tuple[float, int, Any]] = []

    def readyz() -> None:
        started = time.monotonic()
        status, health = _get(port, "/readyz")
        ready.append((time.monotonic() - started, status, health["sources"]["finance"]))

    unlocked = threading.Event()
    ended: list[float] = []

    def unlock() -> None:  # on time, whatever the requests in flight
        lock.rollback()
        ended.append(time.monotonic())
        unlocked.set()

    threading.Timer(locked_at + args.lock_seconds - time.monotonic(), unlock).start()
    during = sample(probe, requests, locked_at + args.lock_seconds - time.monotonic(), readyz)
    unlocked.wait()
    unlocked_at = ended[0]
    lock.close()
    recovered = None
    while recovered is None and time.monotonic() < unlocked_at + 60:
        if not answer(probe, payroll)[1].get("errors"):
            recovered = time.monotonic() - unlocked_at
        else:
            time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join(180)
    locked = [a for w in workers for a in w.answers if a[0] <= unlocked_at]
    print(f"finance's {', '.join(PAY_TABLES)} locked for {args.lock_seconds:.0f} s, {args.in_flight} clients asking for"
          f" payroll ({args.pause:g} s after each answer)")
    for name in requests:
        print(f"{name:12} nothing locked:  {ms(before[name])}")
        print(f"{name:12} during the lock: {ms(during[name])}")
    kinds: dict[tuple[str, ...], int] = {}
    for _, _, codes in locked:
        kinds[codes] = kinds.get(codes, 0) + 1
    print(f"payroll during the lock: {ms([a[1] for a in locked])}; answers by error codes: "
          + ", ".join(f"{'+'.join(k) or 'none'}: {n}" for k, n in sorted(kinds.items())))
    for took, status, finance in ready:
        print(f"/readyz during the lock: HTTP {status} in {took * 1000:.0f} ms, finance: {finance}")
    print(f"recovery after the lock ended: {'not within 60 s' if recovered is None else f'{recovered:.2f} s'}")
    probe.close()
    return 0 if recovered is not None else 1


def _get(port: int, path: str) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
