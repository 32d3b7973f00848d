"""What a request may bring and an answer may weigh: body size, query length, answer size, error shape.

`BodyLimit` (pure ASGI) refuses a body over `max_body_bytes` with HTTP 413 — at once when its
Content-Length says so, else when the bytes streamed in pass the limit — so no request holds more
than that much of the process's memory. Errors outside GraphQL execution (a body that is not a
JSON object, a query too long, an answer too large) are answered in GraphQL's shape, bilingual,
with a code in `extensions`.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.errors import AnswerTooLarge, HubError, PayloadTooLarge, QueryTooLarge


def error_body(error: HubError) -> bytes:
    """A GraphQL-shaped answer with one error and no data."""
    return orjson.dumps({"data": None, "errors": [{"message": error.message, "extensions": error.extensions}]})


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
