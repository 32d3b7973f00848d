"""The Starlette application: routes, middleware and a lifespan that owns the sources."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import IO, Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from adapters.registry import build_sources
from hub.apikeys import ApiKeyVerifier
from hub.auth import Authenticator, TokenVerifier
from hub.console import page, static_mount
from hub.console.web import console_routes
from hub.core.crosswalk import CrosswalkCache
from hub.core.errors import BadRequest, BadUserInput, HubError
from hub.core.settings import Settings
from hub.core.slots import OperationSlots
from hub.export import MEDIA, chunks, export
from hub.metrics import HubMetrics
from hub.middleware import PRINCIPAL_KEY, Authenticate, is_ide_page, request_ids
from hub.store.audit import AuditLog
from hub.store.checkpoint import CheckpointFile
from hub.store.db import Store, open_store
from hub.supervision.engine import NEEDS as CHECK_NEEDS
from hub.supervision.schedule import CheckScheduler
from hub.tracing import tracer_provider
from hub.transport import (
    GRAPHQL_RESPONSE,
    JSON,
    BodyLimit,
    answer_type,
    check_query_length,
    encode_answer,
    error_body,
    request_error_status,
)
from hub.trusted import TrustedDocuments
from hub.workflow.delivery import DeliveryLoop, after_commit
from policies.grants import POLICY_PATH, PolicyBook, new_enforcer
from policies.store import PolicyWatcher, store_enforcer
from resolvers.context import HubContext, HubState
from resolvers.trends import SnapshotScheduler
from schema import NEEDS as QUERY_NEEDS
from schema import HubSchema, build_schema, schema_fields
from schema.execution import Execution, PreparedDocuments
from schema.execution.extensions.audit import outcome
from schema.idempotency import KEY_HEADER
from schema.reports import ReportRunner

log = logging.getLogger(__name__)
NO_TOKEN_KEYS = (
    "未配置令牌验证密钥（HUB_JWT_SECRET、HUB_JWT_SECRET_FILE、HUB_JWT_PUBLIC_KEY_FILE 或 HUB_JWT_JWKS_FILE），"
    "所有 Bearer 令牌都将被拒绝（401），只有 API 密钥可用 / no token verification configured (HUB_JWT_SECRET, "
    "HUB_JWT_SECRET_FILE, HUB_JWT_PUBLIC_KEY_FILE or HUB_JWT_JWKS_FILE): every bearer token is refused with 401, "
    "only API keys work"
)


class HubGraphQL(GraphQL[HubContext, None]):
    """The /graphql endpoint: turns a request into an operation for the app's `Execution`
    (schema/execution/), with a fresh HubContext (and loaders), and its result into a response
    (UTF-8 JSON via orjson). strawberry's view reads the request (GET parameters, a JSON or
    multipart body) in one place, `parse_http_body`; `execute_single` hands it on. Query texts over
    `max_query_chars` and answers over `max_answer_bytes` are refused (hub/transport.py); malformed requests get a GraphQL-shaped, bilingual HTTP error. The answer's
    media type follows the Accept header; with application/graphql-response+json a request that
    fails before execution gets a 4xx status and no `data` entry (hub/transport.py). Before anything
    else a persisted query's hash is resolved, or an allow-listed text checked (hub/trusted.py).
    """

    def __init__(self, schema: HubSchema, settings: Settings, **options: Any) -> None:
        super().__init__(schema, **options)
        self.settings = settings

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page (hub/console): every asset served by the hub, none from a CDN; it states allow-list mode."""
        return HTMLResponse(page(trusted_only=self.settings.trusted_documents == "only"))

    def encode_json(self, data: object) -> bytes:
        return encode_answer(data, self.settings.max_answer_bytes)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # its errors (bad UTF-8 too) are json.JSONDecodeError: strawberry's 400

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # a list: strawberry refuses batches itself
            raise HTTPException(400, "请求须为 JSON 对象 / the request must be a JSON object")
        return parsed

    def should_render_graphql_ide(self, request: Any) -> bool:
        return is_ide_page(request.method, bool(request.query_params), request.headers.get("accept", ""))

    async def run(self, request: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """strawberry's run; its HTTP errors (400, 405 …) in GraphQL's shape, bilingual."""
        try:
            return await super().run(request, *args, **kwargs)
        except HTTPException as exc:
            media_type = answer_type(request.headers.get("accept", ""))
            body = error_body(BadRequest(f"请求无效 / bad request: {exc.reason}"), media_type)
            headers = {"allow": "GET, POST"} if exc.status_code == 405 else None
            return Response(body, status_code=exc.status_code, headers=headers, media_type=media_type)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        """strawberry's sub-response, carrying the media type the client asked for."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = answer_type(request.headers.get("accept", ""))
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """The answer in the negotiated media type; a request error (its status set by execute_single) has no data entry."""
        if (sub_response.status_code or 200) >= 400 and isinstance(response_data, dict):
            response_data.pop("data", None)
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = sub_response.media_type or JSON
        return response

    async def get_context(self, request: Request, response: Any) -> HubContext | None:  # type: ignore[override]
        """The request's context; none without a principal (the GraphiQL page): nothing can execute."""
        principal = request.scope.get(PRINCIPAL_KEY)
        if principal is None:
            return None
        state: HubState = request.state.hub
        context = await state.context(principal)
        context.idempotency_key = request.headers.get(KEY_HEADER)
        return context

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: HubContext,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Answer one operation through the app's Execution; measure it (hub/metrics.py); with
        application/graphql-response+json, a request error's status goes on the sub-response. The text
        run is the one trusted documents resolve (hub/trusted.py): a hash's document, or the text if allowed."""
        execution: Execution = request.state.execution
        allowed = OperationType.from_http(request_adapter.method)
        with request.state.metrics.measure(request_data.operation_name) as measured:
            try:
                request_data.query = await request.state.trusted.resolve(request_data.query, request_data.extensions)
                check_query_length(request_data.query, self.settings.max_query_chars)
                result = await execution.answer(context, request_data.query, request_data.variables,
                                                request_data.operation_name, allowed)
            except BadRequest as exc:  # a malformed persistedQuery: refused as any malformed request
                raise HTTPException(400, exc.message) from exc
            except HubError as exc:  # too long; not found, not allowed, a hash that does not match (hub/trusted.py)
                result = ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions=exc.extensions)])
            except CannotGetOperationTypeError as exc:  # as strawberry's view answers them
                raise HTTPException(400, exc.as_http_error_reason()) from exc
            except InvalidOperationTypeError as exc:
                raise HTTPException(400, exc.as_http_error_reason(request_adapter.method)) from exc
            except MissingQueryError as exc:
                raise HTTPException(400, "No GraphQL query found in the request") from exc
            measured.outcome = outcome(list(result.errors or []), result.data)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            sub_response.status_code = request_error_status(result)  # type: ignore[assignment]  # None: 200
        return result


async def load_policies(settings: Settings, schema: HubSchema, store: Store) -> PolicyBook:
    """The policy book over the schema's fields (from the file or the store), every subject compiled."""
    seed = settings.policy_file or POLICY_PATH
    enforcer = await store_enforcer(store, seed) if settings.policy_source == "store" else new_enforcer(seed)
    book = PolicyBook(enforcer, schema_fields(schema), schema.maskable)
    book.precompile()  # in the loop: casbin parses with ast, which is not thread-safe here
    return book


def lifespan(settings: Settings, schema: HubSchema, metrics: HubMetrics | None = None, policy: bool = True
             ) -> Callable[[Starlette], Any]:
    """Open sources, store, policies, audit and authentication when the app starts; close them after.

    The app's `execution` answers every operation (schema/execution/), with the app's one cache of
    prepared documents and its operation slots. `policy=False` leaves out the policy rule and the
    audit log: only the benchmark measuring what they cost runs such an app.
    """

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            sources = build_sources(settings)
            stack.push_async_callback(sources.close)
            sources.check_needs([*QUERY_NEEDS, *CHECK_NEEDS])
            store = await open_store(settings.store_url, migrate=settings.store_auto_upgrade)
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
            delivery = DeliveryLoop(store, sources, settings.delivery_interval, crosswalk)
            delivery.start()  # what a crash left pending first, then every HUB_DELIVERY_INTERVAL seconds
            stack.push_async_callback(delivery.stop)
            snapshots = SnapshotScheduler(sources, crosswalk, store, settings.snapshot_interval)
            snapshots.start()
            stack.push_async_callback(snapshots.stop)
            measured = metrics or HubMetrics()
            measured.sources.sources = sources
            if measured.provider is not None:
                stack.callback(measured.provider.shutdown)  # sends the spans still held
                for _, adapter in sources.items():
                    adapter.tracer = measured.tracer  # type: ignore[attr-defined]
            state = HubState(settings, sources, crosswalk, book, store, audit, measured,
                             after_commit(store, sources, crosswalk))
            tokens = TokenVerifier(settings)
            if not tokens.configured:
                log.warning(NO_TOKEN_KEYS)
            authenticate = Authenticator(tokens, ApiKeyVerifier(store, settings.apikey_cache_seconds))
            tune_gc(settings.gc_threshold)
            limit = settings.max_concurrent_operations
            operations = OperationSlots(limit) if limit > 0 else None
            prepared = PreparedDocuments(settings.prepared_cache_bytes)
            execution = Execution(schema, prepared, operations, max_depth=settings.max_depth, policy=policy)
            # runReport runs inside an operation that holds a slot already: its inner answer takes none.
            state.reports = ReportRunner(Execution(schema, prepared, None, max_depth=settings.max_depth, policy=policy), state)
            trusted = TrustedDocuments(store, settings.trusted_documents, settings.trusted_documents_cache_seconds,
                                       settings.max_query_chars)
            yield {"hub": state, "authenticate": authenticate, "execution": execution, "metrics": measured,
                   "trusted": trusted, "exports": ReportRunner(execution, state), "schema": schema}

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
    """Readiness: each source reads a row of each mapped table within HUB_READY_TIMEOUT, else it is
    `degraded` with the reason; 503 when any is (the hub still serves the rest). Never waits for an operation slot."""
    state: HubState = request.state.hub
    problems = await state.sources.readiness()
    body = {
        "status": "ok" if not any(problems.values()) else "degraded",
        "sources": {d: {"ok": p is None, "status": "degraded" if p else "ok", "error": p} for d, p in problems.items()},
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


EXPORT_STATUS = {"BAD_USER_INPUT": 400, "FORBIDDEN": 403, "NOT_FOUND": 404, "SOURCE_UNAVAILABLE": 503}


class ExportResponse(StreamingResponse):
    """A finished export file streamed in chunks, closed however the response ends.

    The chunks' generator closes the file when it is read to the end; but a client gone before the
    body is read leaves that generator unstarted (its `finally` never runs), and Starlette skips a
    response's background task when sending raises (a disconnect under ASGI 2.4). So the file is
    closed here, after the response whatever happened (closing it twice does nothing).
    """

    def __init__(self, file: IO[bytes], media_type: str, headers: dict[str, str]) -> None:
        super().__init__(chunks(file), media_type=media_type, headers=headers)
        self.file = file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.file.close()


async def export_report(request: Request) -> Response:
    """`GET /export/<report>.<csv|xlsx>?<variable>=<value>…`: a saved report as a file (hub/export.py)."""
    name, _, fmt = request.path_params["file"].rpartition(".")
    state: HubState = request.state.hub
    try:
        file, rows = await export(request.state.exports, state.store, request.state.schema._schema,  # type: ignore[arg-type]
                                  request.scope[PRINCIPAL_KEY], name, fmt, dict(request.query_params),
                                  state.settings.export_page_rows, state.settings.export_max_rows)
    except HubError as exc:
        return JSONResponse({"errors": [{"message": exc.message, "extensions": exc.extensions}]},
                            status_code=EXPORT_STATUS.get(exc.code, 500))
    headers = {"content-disposition": f"attachment; filename=\"{name}.{fmt}\"", "x-export-rows": str(rows)}
    return ExportResponse(file, MEDIA[fmt], headers)


def create_app(settings: Settings | None = None, policy: bool = True) -> Starlette:
    """The hub as an ASGI app (uvicorn: `hub.app:create_app --factory`)."""
    settings = settings or Settings()
    schema = build_schema(settings)
    graphql = HubGraphQL(schema, settings, graphql_ide="graphiql" if settings.graphiql else None)
    metrics = HubMetrics(settings.metrics_token, tracer_provider(settings))
    return Starlette(
        routes=[
            Route("/graphql", graphql),  # every method: the view answers others with a GraphQL-shaped 405
            Route("/export/{file}", export_report, methods=["GET"]),  # authenticated by the middleware
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            *console_routes(settings),
            static_mount(),
        ],
        middleware=middleware(settings),
        lifespan=lifespan(settings, schema, metrics, policy),
    )


# zlib's default. A 1.3 MB answer of 10,000 rows: 17-26 ms and 155.6 KB at 6, 62-74 ms and 153.2 KB at 9
# (starlette's default), on the development machine.
GZIP_LEVEL = 6


def middleware(settings: Settings) -> list[Middleware]:
    """Request ids; gzip of large answers; CORS before authentication (a preflight carries no
    credentials); authentication; the body limit."""
    stack = [request_ids()]
    if settings.gzip_min_bytes > 0:
        stack.append(Middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=GZIP_LEVEL))
    if settings.cors_origins:
        stack.append(Middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                                allow_headers=["authorization", "content-type", "x-api-key", "x-request-id", KEY_HEADER],
                                expose_headers=["x-request-id"], max_age=600))
    return [*stack, Middleware(Authenticate), Middleware(BodyLimit, limit=settings.max_body_bytes)]
