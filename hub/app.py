"""The Starlette application: routes, middleware and a lifespan that owns the sources."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from adapters.registry import build_sources
from hub.context import HubContext, HubState
from hub.crosswalk import CrosswalkCache
from hub.logs import request_id
from hub.settings import Settings
from schema import build_schema


class RequestId:
    """Pure ASGI middleware: take or make an X-Request-Id, expose it to logs and the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64]
        rid = given or uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class HubGraphQL(GraphQL[HubContext, None]):
    """The /graphql endpoint: a fresh HubContext (and loaders) per request."""

    async def get_context(self, request: Request, response: Any) -> HubContext:  # type: ignore[override]
        state: HubState = request.state.hub
        return state.context(request_id.get())


def lifespan(settings: Settings) -> Callable[[Starlette], Any]:
    """Make the sources and the crosswalk when the app starts; close them when it stops."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[dict[str, HubState]]:
        sources = build_sources(settings)
        state = HubState(settings, sources, CrosswalkCache(sources, ttl=settings.crosswalk_ttl))
        try:
            yield {"hub": state}
        finally:
            await sources.close()

    return run


async def healthz(request: Request) -> JSONResponse:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Readiness: each source's reachability; 503 when any is down (the hub still serves the rest)."""
    state: HubState = request.state.hub
    problems = await state.sources.readiness()
    body = {
        "status": "ok" if not any(problems.values()) else "degraded",
        "sources": {d: {"ok": p is None, "error": p} for d, p in problems.items()},
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


def create_app(settings: Settings | None = None) -> Starlette:
    """The hub as an ASGI app (uvicorn: `hub.app:create_app --factory`)."""
    settings = settings or Settings()
    graphql = HubGraphQL(build_schema(settings), graphql_ide="graphiql" if settings.graphiql else None)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[Middleware(RequestId)],
        lifespan=lifespan(settings),
    )
