"""Concurrent load with wrk (closed loop: each connection waits for its answer), bounded in time."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("post.lua")


@dataclass(frozen=True, slots=True)
class Load:
    """What wrk measured over one run."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    failures: int  # non-200 answers, answers with GraphQL errors, socket errors and timeouts
    concurrency: int

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    """The wrk binary, or a clear error."""
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return found


def run_wrk(port: int, auth: str, bodies: list[bytes], seed: int, *, concurrency: int, seconds: int, timeout: int) -> Load:
    """Run wrk with `concurrency` connections for `seconds` against one server's /graphql, each request's
    body picked by post.lua as bench.queries.picks(len(bodies), seed) does."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", prefix="hubbench-") as file:
        file.write(b"\n".join(bodies) + b"\n")
        file.flush()
        argv = [
            wrk_path(), "-t1", f"-c{concurrency}", f"-d{seconds}s", f"--timeout={timeout}s", "-s", str(SCRIPT),
            f"http://127.0.0.1:{port}/graphql", "--", file.name, auth, str(seed),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    r = json.loads(line.removeprefix("BENCHJSON "))
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    return Load(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50_us"] / 1000,
        p90_ms=r["p90_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
        failures=r["non200"] + r["gqlerrors"] + errors,
        concurrency=concurrency,
    )
