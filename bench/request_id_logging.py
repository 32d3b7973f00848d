"""What the request id and the JSON log line cost a request: the libraries against hand-written code.

    python -m bench.request_id_logging [--requests 20000] [--persons 2000]

The hub uses asgi-correlation-id (X-Request-ID) and python-json-logger (JSON lines), see
hub/logs.py. The baseline is the hand-written pair they replaced, kept below as it was
(`HandRequestId`, `HandJsonFormatter`). All in-process, CPU time of this process (a shared
machine's wall time mostly measures the neighbours), medians of interleaved rounds:

1. each request-id layer around an ASGI app that answers at once, minus that app alone: with a
   valid incoming X-Request-ID, without one, with an invalid one;
2. one log line through each handler (into a string buffer), shaped like uvicorn's access line,
   and one with an exception;
3. for scale, `{ __typename }` POSTed as `admin` through the whole app (every middleware, the fast
   path, the JSON answer), ASGI called directly with no HTTP client, on demo data in bench/.data.
   Over HTTP a request costs more (uvicorn's parsing), so the shares printed are upper bounds.

Prints microseconds per request and the difference as a share of (3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import io
import json
import logging
import logging.config
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.app import create_app
from hub.auth import create_token
from hub.core.settings import Settings
from hub.logs import config
from hub.middleware import request_ids

from .policy_overhead import SECRET, dataset

VALID_ID = b"0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HEADERS = {
    "valid X-Request-ID": [(b"content-type", b"application/json"), (b"x-request-id", VALID_ID)],
    "no X-Request-ID": [(b"content-type", b"application/json")],
    "invalid X-Request-ID": [(b"content-type", b"application/json"), (b"x-request-id", b"<script>" * 40)],
}

_hand_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("hand_request_id", default="-")


class HandRequestId:
    """The baseline: the hub's hand-written request-id middleware before the library."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = given or uuid.uuid4().hex
        token = _hand_request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _hand_request_id.reset(token)


class HandJsonFormatter(logging.Formatter):
    """The baseline: the hub's hand-written JSON formatter before the library."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": _hand_request_id.get(),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _scope(headers: list[tuple[bytes, bytes]], state: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
            "headers": list(headers), "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
            "state": dict(state or {})}


async def _answer_at_once(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _per_call(app: Callable[..., Awaitable[None]], headers: list[tuple[bytes, bytes]], n: int,
                    body: bytes = b"", state: Mapping[str, Any] | None = None) -> float:
    """CPU seconds per call of `app` on a fresh scope."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    start = time.process_time()
    for _ in range(n):
        sent.clear()
        await app(_scope(headers, state), receive, send)
    spent = (time.process_time() - start) / n
    assert sent and sent[0]["status"] == 200, sent[:1]
    return spent


def _handlers() -> dict[str, logging.Handler]:
    """Each variant's stderr handler, writing into a buffer."""
    logging.config.dictConfig(config("info"))
    library = logging.getLogger().handlers[0]
    hand = logging.StreamHandler()
    hand.setFormatter(HandJsonFormatter())
    for handler in (library, hand):
        handler.setStream(io.StringIO())  # type: ignore[attr-defined]
    logging.getLogger().handlers.clear()
    return {"hand-written": hand, "libraries": library}


async def middleware_cost(n: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    layer = request_ids()
    layers: dict[str, Callable[..., Awaitable[None]]] = {
        "hand-written": HandRequestId(_answer_at_once), "libraries": layer.cls(_answer_at_once, *layer.args, **layer.kwargs)}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for label, headers in HEADERS.items():
            bare = await _per_call(_answer_at_once, headers, n)
            for variant, wrapped in layers.items():
                times.setdefault((variant, label), []).append(await _per_call(wrapped, headers, n) - bare)
    return times


def log_line_cost(n: int, rounds: int) -> dict[tuple[str, str], list[float]]:
    """CPU seconds per line through each variant's handler, on a logger that has only it."""
    try:
        raise ValueError("a failure, for its traceback")
    except ValueError as exc:
        failure = exc
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for variant, handler in _handlers().items():
            access = logging.getLogger(f"bench.{variant}.access")
            access.handlers[:] = [handler]
            access.propagate = False
            access.setLevel(logging.INFO)
            start = time.process_time()
            for _ in range(n):
                access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", "/graphql", "1.1", 200)
            times.setdefault((variant, "access line"), []).append((time.process_time() - start) / n)
            start = time.process_time()
            for _ in range(n // 10):
                access.error("request failed", exc_info=failure)
            times.setdefault((variant, "line with exception"), []).append((time.process_time() - start) / (n // 10))
            lines = handler.stream.getvalue().splitlines()  # type: ignore[attr-defined]
            assert len(lines) == n + n // 10 and all(json.loads(line) for line in lines[-2:]), "one JSON object a line"
    return times


async def small_request_cost(n: int, persons: int, rounds: int) -> list[float]:
    data = dataset(persons)
    settings = Settings(demo_dir=data, jwt_secret=SECRET, audit_key=SECRET,
                        store_url=f"sqlite+aiosqlite:///{data}/bench-store.db", store_auto_upgrade=True)
    app = create_app(settings)
    token = create_token(settings, None, ["admin"], ttl="1h")
    headers = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]
    body = b'{"query": "{ __typename }"}'
    async with AsyncExitStack() as stack:
        state = await stack.enter_async_context(app.router.lifespan_context(app))  # type: ignore[arg-type]
        await _per_call(app, headers, 50, body, state)  # warm up: prepared once, then from the cache
        return [await _per_call(app, headers, n, body, state) for _ in range(rounds)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    small = statistics.median(asyncio.run(small_request_cost(args.requests // 10, args.persons, args.rounds)))
    times = {**asyncio.run(middleware_cost(args.requests, args.rounds)), **log_line_cost(args.requests, args.rounds)}
    median = {key: statistics.median(series) for key, series in times.items()}
    print(f"CPU per request, median of {args.rounds} interleaved rounds of {args.requests} calls;"
          f" {{ __typename }} through the whole app: {small * 1e6:.1f} µs")
    print(f"  {'':38s} {'hand-written':>12s} {'libraries':>10s} {'difference':>11s} {'of { __typename }':>18s}")
    what = [("request-id layer, " + label, label) for label in HEADERS]
    what += [("log line, access line", "access line"), ("log line with exception", "line with exception")]
    for title, key in what:
        hand, library = median[("hand-written", key)], median[("libraries", key)]
        print(f"  {title:38s} {hand * 1e6:9.1f} µs {library * 1e6:7.1f} µs {(library - hand) * 1e6:+8.1f} µs"
              f" {100 * (library - hand) / small:+17.1f}%")
    hand = median[("hand-written", "no X-Request-ID")] + median[("hand-written", "access line")]
    library = median[("libraries", "no X-Request-ID")] + median[("libraries", "access line")]
    print(f"  {'a request: its id and access line':38s} {hand * 1e6:9.1f} µs {library * 1e6:7.1f} µs"
          f" {(library - hand) * 1e6:+8.1f} µs {100 * (library - hand) / small:+17.1f}%")


if __name__ == "__main__":
    main()
