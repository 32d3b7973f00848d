"""What a request may bring and an answer may weigh: body size, query length, answer size, error shape.

`BodyLimit` (pure ASGI) refuses a body over `max_body_bytes` with HTTP 413 — at once when its
Content-Length says so, else when the bytes streamed in pass the limit — so no request holds more
than that much of the process's memory. Errors outside GraphQL execution (a body that is not a
JSON object, a query too long, an answer too large) are answered in GraphQL's shape, bilingual,
with a code in `extensions`.

Answers follow GraphQL over HTTP: a client that prefers `application/graphql-response+json` gets
that media type, and a request that fails before execution (parse, validation, policy, variable
coercion, limits) gets a 4xx status and no `data` entry; `application/json` (also for `*/*` or no
Accept) keeps the legacy rules: 200 for every GraphQL answer.
"""

from __future__ import annotations

import mimeparse
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from hub.core.errors import AnswerTooLarge, HubError, PayloadTooLarge, QueryTooLarge

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "INTERNAL": 500, "AUDIT_UNAVAILABLE": 503}  # else 400


def answer_type(accept: str) -> str:
    """The media type of an answer: application/graphql-response+json when the Accept header prefers it."""
    try:
        return mimeparse.best_match((GRAPHQL_RESPONSE, JSON), accept) or JSON  # ties (`*/*`) go to JSON
    except ValueError:  # a malformed Accept header
        return JSON


def request_error_status(result: ExecutionResult) -> int | None:
    """The HTTP status of a result whose request failed before execution, None for an executed one.

    Such a result has no data and its errors come from before execution (strawberry's
    PreExecutionError: parse, validation, policy) or have no response path (variable coercion,
    limits, a withheld answer). Field errors always have a path, so `data: null` from a field
    error stays an execution result. The status is that of the errors' codes, 400 if they differ
    (a server error wins).
    """
    errors = result.errors or []
    if result.data is not None or not errors:
        return None
    if not isinstance(result, PreExecutionError) and any(e.path for e in errors):
        return None
    statuses = {_STATUS.get((e.extensions or {}).get("code", ""), 400) for e in errors}
    worst = max(statuses)
    return worst if worst >= 500 or len(statuses) == 1 else 400


def error_body(error: HubError, media_type: str = JSON) -> bytes:
    """A GraphQL-shaped answer with one error and no data (no `data` entry at all in a graphql-response)."""
    errors = [{"message": error.message, "extensions": error.extensions}]
    return orjson.dumps({"errors": errors} if media_type == GRAPHQL_RESPONSE else {"data": None, "errors": errors})


def check_query_length(query: str | None, limit: int) -> None:
    """QueryTooLarge for a query text longer than `limit` characters."""
    if query is not None and len(query) > limit:
        raise QueryTooLarge(f"查询文本超过 {limit} 个字符 / the query text is longer than {limit} characters", limit=limit)


def encode_answer(answer: object, limit: int) -> bytes:
    """The answer as JSON, or an ANSWER_TOO_LARGE error in its place when it is over `limit` bytes."""
    content = orjson.dumps(answer)
    if len(content) <= limit:
        return content
    return error_body(AnswerTooLarge(f"应答超过 {limit} 字节，请缩小查询范围（如 first）/ the answer is larger than "
                                     f"{limit} bytes: ask for less (a smaller `first`, fewer fields)", limit=limit))


class _TooLarge(Exception):
    pass


class BodyLimit:
    """HTTP 413 (GraphQL-shaped, bilingual) for a request body over `limit` bytes; 0 disables."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = error_body(PayloadTooLarge(f"请求体超过 {self.limit} 字节 / the request body is larger than {self.limit} bytes",
                                          limit=self.limit))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
