"""A keep-alive GraphQL client and the sequential timing loop."""

from __future__ import annotations

import http.client
import json
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any


class GraphQLError(RuntimeError):
    """A response that is not HTTP 200 or carries GraphQL errors."""


class Client:
    """POSTs prepared bodies to one server's /graphql over one persistent connection."""

    def __init__(self, port: int, auth: str, timeout: float = 300.0) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", "Authorization": auth}
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, body: bytes) -> tuple[float, bytes]:
        """(seconds, raw response) for one request; raises GraphQLError on a non-200 answer."""
        if self._conn is None:
            self._conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            self._conn.request("POST", "/graphql", body, self.headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise GraphQLError(f"HTTP {response.status}: {data[:500]!r}")
        return elapsed, data

    def query(self, body: bytes) -> dict[str, Any]:
        """The `data` of one request; raises GraphQLError if the answer has errors."""
        _, raw = self.post(body)
        answer = json.loads(raw)
        if answer.get("errors"):
            raise GraphQLError(json.dumps(answer["errors"][:3], ensure_ascii=False)[:1500])
        return answer["data"]  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Sequential:
    """Latencies of requests sent one after another."""

    latencies: list[float]
    wall: float
    response_bytes: int  # mean size of an answer

    @property
    def median_ms(self) -> float:
        """Median latency in milliseconds."""
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile latency (nearest rank) in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] * 1000

    @property
    def rps(self) -> float:
        """Requests per second over the whole loop."""
        return len(self.latencies) / self.wall if self.wall else 0.0


def run_sequential(
    client: Client, bodies: list[bytes], *, warmup: int, max_seconds: float, min_iterations: int = 5
) -> Sequential:
    """Send the first `warmup` bodies untimed, then the others one after another, timed, until they run
    out or `max_seconds` have passed (after at least `min_iterations`)."""
    for body in bodies[:warmup]:
        client.post(body)
    latencies: list[float] = []
    size = 0
    start = time.perf_counter()
    for body in bodies[warmup:]:
        elapsed, raw = client.post(body)
        if b'"errors"' in raw:
            raise GraphQLError(raw[:1000].decode(errors="replace"))
        latencies.append(elapsed)
        size += len(raw)
        if len(latencies) >= min_iterations and time.perf_counter() - start > max_seconds:
            break
    return Sequential(latencies, time.perf_counter() - start, size // max(1, len(latencies)))
