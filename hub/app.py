"""The Starlette application: routes, middleware and a lifespan that owns the sources."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter
from strawberry.types import ExecutionResult

from adapters.registry import build_sources
from hub.apikeys import ApiKeyVerifier
from hub.audit import AuditLog
from hub.auth import ANONYMOUS, Authenticator, TokenVerifier
from hub.checkpoint import CheckpointFile
from hub.context import HubContext, HubState
from hub.crosswalk import CrosswalkCache
from hub.errors import BadUserInput
from hub.fastpath import KnownQueries, read_body, replay
from hub.logs import request_id
from hub.middleware import PRINCIPAL_KEY, Authenticate, RequestId
from hub.settings import Settings
from hub.store.db import Store, open_store
from hub.supervision.schedule import CheckScheduler
from policies.grants import POLICY_PATH, PolicyBook, new_enforcer
from policies.store import PolicyWatcher, store_enforcer
from schema import HubSchema, build_schema, schema_fields
from schema.masking import MASKABLE


class HubGraphQL(GraphQL[HubContext, None]):
    """The /graphql endpoint: a fresh HubContext (and loaders) per request; UTF-8 JSON via orjson.

    At most `HUB_MAX_CONCURRENT_OPERATIONS` operations execute at once (the lifespan's
    `operations` semaphore; the others wait their turn in arrival order): the hub is one thread,
    so interleaving more large answers only holds more of them in memory at once. A query answered
    cleanly is remembered, and its repeats skip the view and the extension hooks (hub/fastpath.py).
    """

    def __init__(self, schema: HubSchema, *, fast_repeats: bool = True, **options: Any) -> None:
        super().__init__(schema, **options)
        self.known = KnownQueries(schema._schema, schema.execution_context_class) if fast_repeats else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.known is not None and scope["type"] == "http" and scope["method"] == "POST":
            body = await read_body(receive)
            if body is None or await self.known.answer(scope, body, send):
                return
            receive = replay(body, receive)
        await super().__call__(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Any) -> HubContext:  # type: ignore[override]
        state: HubState = request.state.hub
        # The GraphiQL page is served without credentials; its context may read nothing.
        principal = request.scope.get(PRINCIPAL_KEY) or ANONYMOUS
        return await state.context(principal, request_id.get())

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: HubContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Execute one operation once the operations semaphore lets it in (at once when unlimited)."""
        async with request.state.operations or nullcontext():
            try:
                result = await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)
                if self.known is not None:
                    self.known.learn(request_data.query, request_data.operation_name, context, result)
                return result
            finally:
                context.release()


async def load_policies(settings: Settings, schema: HubSchema, store: Store) -> PolicyBook:
    """The policy book over the schema's fields (from the file or the store), every subject compiled."""
    seed = settings.policy_file or POLICY_PATH
    enforcer = await store_enforcer(store, seed) if settings.policy_source == "store" else new_enforcer(seed)
    book = PolicyBook(enforcer, schema_fields(schema), MASKABLE)
    book.precompile()  # in the loop: casbin parses with ast, which is not thread-safe here
    return book


def lifespan(settings: Settings, schema: HubSchema) -> Callable[[Starlette], Any]:
    """Open sources, store, policies, audit and authentication when the app starts; close them after."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            sources = build_sources(settings)
            stack.push_async_callback(sources.close)
            store = await open_store(settings.store_url)
            stack.push_async_callback(store.close)
            book = await load_policies(settings, schema, store)
            audit = None
            if settings.audit:
                key = settings.audit_secret()
                if key is None:
                    raise BadUserInput("未配置审计密钥，拒绝启动 / no audit key (HUB_AUDIT_KEY or HUB_AUDIT_KEY_FILE): not starting")
                audit = AuditLog(store, key, CheckpointFile(settings.audit_checkpoints(), key))
                audit.start()
                stack.push_async_callback(audit.close)
            if settings.policy_source == "store":
                watcher = PolicyWatcher(store, book, settings.policy_poll_seconds)
                await watcher.start()
                stack.push_async_callback(watcher.close)
            scheduler = CheckScheduler(sources, store, interval=settings.check_interval,
                                       delay=settings.check_delay, lookback=settings.check_lookback_months)
            scheduler.start()
            stack.push_async_callback(scheduler.stop)
            crosswalk = CrosswalkCache(sources, ttl=settings.crosswalk_ttl)
            state = HubState(settings, sources, crosswalk, book, store, audit)
            authenticate = Authenticator(TokenVerifier(settings), ApiKeyVerifier(store, settings.apikey_cache_seconds))
            tune_gc(settings.gc_threshold)
            limit = settings.max_concurrent_operations
            operations = asyncio.Semaphore(limit) if limit > 0 else None
            yield {"hub": state, "authenticate": authenticate, "operations": operations}

    return run


def tune_gc(threshold: int) -> None:
    """Fewer collector passes: an answer allocates tens of thousands of short-lived, acyclic objects.

    With CPython's default (a young-generation pass every 700 allocations) a 10,000-row answer
    spent ~40% of its time in the collector. What exists at startup (schema, policies, crosswalk
    code) is frozen out of later passes. 0 keeps the interpreter's default.
    """
    if threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(threshold, middle, old)


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


def create_app(settings: Settings | None = None, policy: bool = True) -> Starlette:
    """The hub as an ASGI app (uvicorn: `hub.app:create_app --factory`)."""
    settings = settings or Settings()
    schema = build_schema(settings, policy)
    graphql = HubGraphQL(schema, fast_repeats=settings.fast_repeats, graphql_ide="graphiql" if settings.graphiql else None)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[Middleware(RequestId), Middleware(Authenticate)],
        lifespan=lifespan(settings, schema),
    )
