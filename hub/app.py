"""The Starlette application: routes, middleware and a lifespan that owns the sources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from adapters.registry import build_sources
from hub.auth import Authenticator, TokenVerifier
from hub.context import HubContext, HubState
from hub.crosswalk import CrosswalkCache
from hub.logs import request_id
from hub.middleware import PRINCIPAL_KEY, Authenticate, RequestId
from hub.settings import Settings
from policies.grants import POLICY_PATH, PolicyBook, new_enforcer
from schema import HubSchema, build_schema, schema_fields
from schema.masking import MASKABLE


class HubGraphQL(GraphQL[HubContext, None]):
    """The /graphql endpoint: a fresh HubContext (and loaders) per request."""

    async def get_context(self, request: Request, response: Any) -> HubContext:  # type: ignore[override]
        state: HubState = request.state.hub
        return await state.context(request.scope[PRINCIPAL_KEY], request_id.get())


def load_policies(settings: Settings, schema: HubSchema) -> PolicyBook:
    """The policy book over the schema's fields, compiled for every subject the policy names."""
    book = PolicyBook(new_enforcer(settings.policy_file or POLICY_PATH), schema_fields(schema), MASKABLE)
    for subject in book.enforcer.get_all_subjects():
        book.grants([subject])
    return book


def lifespan(settings: Settings, schema: HubSchema) -> Callable[[Starlette], Any]:
    """Make sources, crosswalk, policies and authentication when the app starts; close them after."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        sources = build_sources(settings)
        crosswalk = CrosswalkCache(sources, ttl=settings.crosswalk_ttl)
        state = HubState(settings, sources, crosswalk, load_policies(settings, schema))
        try:
            yield {"hub": state, "authenticate": Authenticator(TokenVerifier(settings))}
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
    schema = build_schema(settings)
    graphql = HubGraphQL(schema, graphql_ide="graphiql" if settings.graphiql else None)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[Middleware(RequestId), Middleware(Authenticate)],
        lifespan=lifespan(settings, schema),
    )
