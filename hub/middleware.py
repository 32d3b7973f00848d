"""Pure ASGI middleware: request ids for the logs, and authentication of /graphql requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.core.errors import Unauthenticated
from hub.core.principal import Principal
from hub.logs import request_id
from hub.store.audit import refusal

PRINCIPAL_KEY = "hub.principal"
Authenticator = Callable[[dict[bytes, bytes]], Awaitable[Principal]]


class RequestId:
    """Take or make an X-Request-Id, expose it to the logs and return it on the response."""

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


class Authenticate:
    """Every /graphql request needs a bearer token or an API key, whatever its method or parameters;
    only the GraphiQL page (see `is_ide_page`) does not.

    Unauthenticated requests get HTTP 401 with a bilingual GraphQL-shaped body; health endpoints
    are not behind this.
    """

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or _ide_page(scope):
            await self.app(scope, receive, send)
            return
        authenticate: Authenticator = scope["state"]["authenticate"]
        try:
            scope[PRINCIPAL_KEY] = await authenticate(dict(scope["headers"]))
        except Unauthenticated as exc:
            scope["state"]["metrics"].denials.labels("unauthenticated").inc()
            if (audit := scope["state"]["hub"].audit) is not None:  # counted per minute and client address
                audit.count(refusal("unauthenticated", f"client:{(scope.get('client') or ('?',))[0]}"))
            await _unauthorized(send, exc)
            return
        await self.app(scope, receive, send)


def is_ide_page(method: str, has_parameters: bool, accept: str) -> bool:
    """The GraphiQL page: a browser's GET (Accept: text/html) without any URL parameter, of any spelling.

    Only it is served without credentials (and the view renders it for nothing else), so no
    encoding of a parameter's name can turn an operation into a page request.
    """
    return method == "GET" and not has_parameters and "text/html" in accept


def _ide_page(scope: Scope) -> bool:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"").decode("latin-1")
    return is_ide_page(scope["method"], bool(scope.get("query_string")), accept)


async def _unauthorized(send: Send, exc: Unauthenticated) -> None:
    body = json.dumps(
        {"data": None, "errors": [{"message": exc.message, "extensions": exc.extensions}]}, ensure_ascii=False
    ).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"www-authenticate", b'Bearer realm="staffing-hub"'),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})
