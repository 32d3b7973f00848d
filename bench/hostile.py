"""RSS of a running hub under the hostile inputs of issue 10 (`python -m bench.hostile`).

Generates demo data (SQLite, `--persons`), serves the hub in a subprocess with its default limits,
sends each hostile input in turn and prints the server's RSS (VmRSS) before and after each, and
its growth since the start. The inputs:

- keys: distinct 60 KB `X-API-Key` values, no valid credentials (3,000);
- big texts: distinct 4 MB query texts, authenticated (40);
- texts at the limit: distinct query texts just under `HUB_MAX_QUERY_CHARS` (1,000 aliases of
  `__typename`), each parsed, validated and answered: the caches' worst case, every one new and
  each parsed document estimated at ~2.4 MB, so each cache holds only a few (300);
- aliases: `people(first: 1000)` under 1,000 aliases, and under 300 (which fits the query length
  limit, so the cost limit decides), as analyst (50 each).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from hub.auth import create_token
from hub.core.settings import Settings

SECRET = "hostile-bench-secret-of-sufficient-length"


def rss_mib(pid: int) -> float:
    """The process's resident set size in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextmanager
def served(data: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """The hub over the demo data, in its own process, until the block ends."""
    env = {**os.environ, "HUB_DEMO_DIR": str(data), "HUB_JWT_SECRET": SECRET, "HUB_LOG_LEVEL": "warning",
           "HUB_STORE_URL": f"sqlite+aiosqlite:///{data}/store.db", "HUB_STORE_AUTO_UPGRADE": "true", "HUB_PORT": str(port)}
    argv = [sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(argv, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/healthz", b"", {})[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(10)


def request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """(status, body) of one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before the body was read (413)
            conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        return 0, b""
    finally:
        conn.close()


def graphql(port: int, query: str, headers: dict[str, str]) -> tuple[int, bytes]:
    return request(port, "POST", "/graphql", orjson.dumps({"query": query}), {**headers, "content-type": "application/json"})


def aliases(n: int) -> str:
    return "{ " + " ".join(f"a{i}: people(first: 1000) {{ edges {{ node {{ idNumber name }} }} }}" for i in range(n)) + " }"


def at_limit(n: int, limit: int) -> str:
    """A distinct query text of about `limit` characters: many aliases of a cheap field."""
    fields = []
    size = 4
    i = 0
    while size < limit - 40:
        fields.append(f"x{n}_{i}: __typename")
        size += len(fields[-1]) + 1
        i += 1
    return "{ " + " ".join(fields) + " }"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        hub = Path(sys.executable).parent / "hub"
        subprocess.run([str(hub), "generate", "--out", str(data), "--persons", str(args.persons)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        settings = Settings(jwt_secret=SECRET)
        admin = {"Authorization": f"Bearer {create_token(settings, None, ['admin'], '152900', '1h')}"}
        analyst = {"Authorization": f"Bearer {create_token(settings, None, ['analyst'], '152900', '1h')}"}
        limit = settings.max_query_chars
        cases: list[tuple[str, int, Callable[[int], tuple[int, bytes]]]] = [
            ("3,000 distinct 60 KB X-API-Key values", 3000,
             lambda n: graphql(args.port, "{ __typename }", {"X-API-Key": f"shk_{n:06d}_" + "k" * 60_000})),
            ("40 distinct 4 MB query texts (admin)", 40,
             lambda n: graphql(args.port, "{ __typename " + f"#{n}" + " " * 4_000_000 + "}", admin)),
            (f"300 distinct {limit:,}-character query texts (admin)", 300,
             lambda n: graphql(args.port, at_limit(n, limit), admin)),
            ("300 more of them", 300, lambda n: graphql(args.port, at_limit(1000 + n, limit), admin)),
            ("1,000 aliases of people(first: 1000) (analyst) x 50", 50, lambda n: graphql(args.port, aliases(1000), analyst)),
            ("300 aliases of people(first: 1000) (analyst) x 50", 50, lambda n: graphql(args.port, aliases(300), analyst)),
        ]
        with served(data, args.port) as server:
            for _ in range(20):  # warm: the first answers load the crosswalk, plans, …
                graphql(args.port, "{ people(first: 100) { edges { node { idNumber name } } } }", admin)
            start = rss_mib(server.pid)
            print(f"hub RSS after start and warm-up: {start:.0f} MiB ({args.persons:,} persons)")
            print("| input | answers | RSS before → after (MiB) | growth since start |")
            print("|---|---|---|---|")
            for title, count, send in cases:
                before = rss_mib(server.pid)
                with ThreadPoolExecutor(args.threads) as pool:
                    answers = list(pool.map(send, range(count)))
                after = rss_mib(server.pid)
                print(f"| {title} | {summary(answers)} | {before:.0f} → {after:.0f} | {after - start:+.0f} |", flush=True)


def summary(answers: list[tuple[int, bytes]]) -> str:
    """'401 ×3000' or '200 QUERY_TOO_COMPLEX ×50': statuses and error codes counted."""
    counts: dict[str, int] = {}
    for status, body in answers:
        code = ""
        try:
            parsed: Any = orjson.loads(body)
            code = parsed["errors"][0]["extensions"]["code"] if parsed.get("errors") else "ok"
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            pass
        key = f"{status} {code}".strip()
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} ×{v}" for k, v in counts.items())


if __name__ == "__main__":
    main()
