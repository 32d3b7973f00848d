"""Prometheus metrics of one app: requests, latency, source reads, loader batches, denials, source state.

Each app has its own registry (tests build several apps in one process). Request counters are
labelled by operation name and outcome (ok, partial, error, denied). Operation names come from
callers, so they are bounded: the first `OPERATION_NAMES` distinct names are kept, later ones are
counted as "other", an unnamed operation as "anonymous". Statements, rows and the breaker's state
are read from the adapters when `/metrics` is scraped; nothing is counted twice.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

OPERATION_NAMES = 50
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


class SourceCollector(Collector):
    """Per source, read at scrape time: statements executed, rows read, whether its breaker is open."""

    def __init__(self) -> None:
        self.sources: Any = None  # adapters.registry.Sources, set by the lifespan

    def collect(self) -> Iterator[Any]:
        statements = CounterMetricFamily("hub_source_statements", "SQL statements executed per source", labels=["source"])
        rows = CounterMetricFamily("hub_source_rows", "Rows read per source", labels=["source"])
        state = GaugeMetricFamily("hub_source_open", "1 while the source's breaker is open (reads fail at once)",
                                  labels=["source"])
        for department, adapter in self.sources.items() if self.sources is not None else ():
            statements.add_metric([department], getattr(adapter, "statements", 0))
            rows.add_metric([department], getattr(adapter, "rows", 0))
            breaker = getattr(adapter, "breaker", None)
            state.add_metric([department], 1.0 if breaker is not None and breaker.open else 0.0)
        yield from (statements, rows, state)


@dataclass(slots=True)
class Operation:
    """One operation being measured: its outcome once known (None: not counted)."""

    outcome: str | None = None


class HubMetrics:
    """The app's registry and its instruments, and its OpenTelemetry tracer provider if any (hub/tracing.py)."""

    def __init__(self, token: str | None = None, provider: Any = None) -> None:
        self.token = token
        self.provider = provider
        self.tracer = provider.get_tracer("staffing-hub") if provider is not None else None
        self.registry = CollectorRegistry()
        self.requests = Counter("hub_requests", "GraphQL operations by operation name and outcome",
                                ["operation", "outcome"], registry=self.registry)
        self.latency = Histogram("hub_request_seconds", "Time to execute a GraphQL operation", ["outcome"],
                                 registry=self.registry)
        self.batches = Histogram("hub_loader_batch_size", "Keys per batched source read", ["source", "entity"],
                                 buckets=BATCH_BUCKETS, registry=self.registry)
        self.denials = Counter("hub_denials", "Refused requests: unauthenticated, or denied by the policy", ["kind"],
                               registry=self.registry)
        self.sources = SourceCollector()
        self.registry.register(self.sources)
        self._names: set[str] = set()

    def operation(self, name: str | None) -> str:
        """The label of an operation name: itself while fewer than OPERATION_NAMES are known, else "other"."""
        if not name:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) < OPERATION_NAMES:
            self._names.add(name)
            return name
        return "other"

    def request(self, name: str | None, outcome: str, seconds: float) -> None:
        """Count one executed operation (a denial is also counted as one)."""
        self.requests.labels(self.operation(name), outcome).inc()
        self.latency.labels(outcome).observe(seconds)
        if outcome == "denied":
            self.denials.labels("denied").inc()

    @contextmanager
    def measure(self, name: str | None) -> Iterator[Operation]:
        """Time (and trace, with a tracer) one operation; the caller sets the outcome it counts as."""
        operation = Operation()
        span = nullcontext() if self.tracer is None else self.tracer.start_as_current_span(
            "graphql operation", attributes={"graphql.operation.name": name or ""})
        started = time.perf_counter()
        with span as current:
            yield operation
            if current is not None:
                current.set_attribute("hub.outcome", operation.outcome or "passed on")
        if operation.outcome is not None:
            self.request(name, operation.outcome, time.perf_counter() - started)

    def batch(self, source: str, entity: str, size: int) -> None:
        """One batched read of `size` keys."""
        self.batches.labels(source, entity).observe(size)

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics: open unless HUB_METRICS_TOKEN is set, then it wants `Authorization: Bearer <token>`."""
        if self.token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
                return JSONResponse({"error": "需要指标令牌 / the metrics token is required"}, status_code=401,
                                    headers={"www-authenticate": 'Bearer realm="staffing-hub-metrics"'})
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
