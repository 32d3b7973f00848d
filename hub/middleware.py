"""ASGI middleware: request ids for the logs, and authentication of /graphql requests."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable

from asgi_correlation_id import CorrelationIdMiddleware
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.core.errors import Unauthenticated
from hub.core.principal import Principal
from hub.store.audit import refusal

PRINCIPAL_KEY = "hub.principal"
# The paths behind authentication: GraphQL, the console's who-am-I (hub/console/web.py), and every
# report export under EXPORT_PREFIX (hub/export.py).
AUTHENTICATED = ("/graphql", "/console/whoami")
EXPORT_PREFIX = "/export/"
Authenticator = Callable[[dict[bytes, bytes]], Awaitable[Principal]]


REQUEST_ID_HEADER = "X-Request-ID"
# A caller's id is kept if it is 1-64 of these characters (UUIDs, hex, ULIDs and W3C trace ids fit);
# anything else, or none, is replaced by a new uuid4 in hex.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def request_ids() -> Middleware:
    """Take or make the request's X-Request-ID, expose it to the logs (`hub.logs`), return it on the response.

    asgi-correlation-id's middleware, in front of everything else, so every answer (a 401 too) carries
    it. Its contextvar, `asgi_correlation_id.correlation_id`, holds the id while the request runs.
    """
    return Middleware(CorrelationIdMiddleware, header_name=REQUEST_ID_HEADER, generator=_new_id,
                      validator=None, transformer=_kept_or_new, update_request_header=False)


def _new_id() -> str:
    return uuid.uuid4().hex


def _kept_or_new(given: str) -> str:
    """The caller's id if well-formed, else a new one (quietly: a line per bad header would let anyone fill the log)."""
    return given if _VALID_ID.fullmatch(given) else _new_id()


class Authenticate:
    """Every /graphql, /console/whoami and report export (/export/…) request needs a bearer token or an
    API key, whatever its method or parameters; only a page request (see `is_ide_page`) does not.

    Unauthenticated requests get HTTP 401 with a bilingual GraphQL-shaped body; health endpoints
    are not behind this.
    """

    def __init__(self, app: ASGIApp, paths: tuple[str, ...] = AUTHENTICATED) -> None:
        self.app = app
        self.paths = paths

    def _guarded(self, scope: Scope) -> bool:
        """The authenticated paths but a page request, and every report export (/export/…)."""
        if scope["path"] in self.paths:
            return not _ide_page(scope)
        return str(scope["path"]).startswith(EXPORT_PREFIX)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._guarded(scope):
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
