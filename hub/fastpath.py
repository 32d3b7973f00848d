"""Repeated queries answered without strawberry's HTTP view and extension hooks.

A query the full path (strawberry's view, validation, policy, audit and error extensions) has
answered without any error is remembered per query text, operation name and compiled grants:
its document has passed validation and the policy for those grants, and what it reads of personal
data is known. The same request again (a JSON POST) is executed directly on graphql-core with the
same executor, document and variables; the same audit entry is written (and committed) before the answer leaves. That saves 0.3–0.6 ms of CPU a
request (strawberry's view and hooks cost more than a small query's own work).

Only clean answers are served here. An answer with any error is thrown away, the entry is
forgotten and the request goes through the full path, so errors are always made and shaped by
it. Queries only read, so running one again changes nothing. A policy change compiles new grants,
which no entry matches.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
)
from starlette.types import Message, Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.utils.operation import get_first_operation

from hub.core.caches import ENTRIES, QUERY_CACHE_BYTES, BoundedCache, digest, document_bytes
from hub.core.errors import AuditUnavailable
from hub.logs import request_id
from hub.middleware import PRINCIPAL_KEY
from hub.transport import answer_type, encode_answer
from policies.grants import Grants
from schema.execution.extensions.audit import record_read
from schema.parsing import parsed


@dataclass(frozen=True, slots=True)
class _Known:
    """A query answered cleanly for one set of grants (the object is kept, so its id is not reused)."""

    grants: Grants
    document: DocumentNode
    operation: str  # the operation's name, as the audit log records it
    seen: frozenset[tuple[tuple[str, ...], str]]  # (response path, Type.field) pairs, from the policy verdict


def _known_bytes(known: _Known) -> int:
    return document_bytes(known.document) + 200 * len(known.seen)


class KnownQueries:
    """Queries answered cleanly before, by (grants, operation name, digest of the text); least recent dropped."""

    def __init__(self, schema: GraphQLSchema, executor: type | None) -> None:
        self._schema = schema
        self._executor = executor
        self._known = BoundedCache("known queries", ENTRIES, QUERY_CACHE_BYTES, _known_bytes)
        self.served = 0  # answers given here (for tests and benchmarks)

    def learn(self, query: str | None, operation_name: str | None, context: Any, result: Any) -> None:
        """Remember a query the full path answered with data and no error."""
        if query is None or result.errors or result.data is None or result.extensions:
            return
        key = (id(context.grants), operation_name, digest(query))
        known = self._known.get(key)
        if known is not None and known.grants is context.grants:  # answered here but for its form (a GET, say)
            return
        document = parsed(query)
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        if operation_name is None:
            first = get_first_operation(document)
            name = first.name.value if first is not None and first.name else ""
        else:
            name = operation_name
        self._known.put(key, _Known(context.grants, document, name, frozenset(context.fields_seen)))

    async def answer(self, scope: Scope, body: bytes, send: Send) -> bool:
        """Answer a POST of a known query and return True; False leaves the request to the full path."""
        request = _request(scope, body)
        principal = scope.get(PRINCIPAL_KEY)
        if request is None or principal is None:
            return False
        query, variables, operation_name, media_type = request
        state = scope["state"]["hub"]
        grants = state.policies.grants(principal.policy_subjects)
        key = (id(grants), operation_name, digest(query))
        known = self._known.get(key)
        if known is None or known.grants is not grants:
            return False
        with scope["state"]["metrics"].measure(operation_name) as measured:  # passed on to the full path: not counted
            context = await state.context(principal, request_id.get())
            context.fields_seen = set(known.seen)
            result = await self._run(scope, context, known.document, variables, operation_name)
            if result is None or result.errors:
                self._known.pop(key, None)  # until the full path answers it cleanly again
                return False
            try:
                await record_read(self._schema, context, query, known.operation, result.data, [])
            except AuditUnavailable:
                return False  # the full path answers: with AUDIT_UNAVAILABLE if the audit log still fails
            measured.outcome = "ok"
        content = encode_answer({"data": result.data}, state.settings.max_answer_bytes)
        headers = [(b"content-length", str(len(content)).encode()), (b"content-type", media_type.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})
        self.served += 1
        return True

    async def _run(
        self, scope: Scope, context: Any, document: DocumentNode, variables: Any, operation_name: str | None
    ) -> ExecutionResult | None:
        """The result, executed as strawberry's Schema.execute calls graphql-core (None if that raised)."""
        async with scope["state"].get("operations") or nullcontext():
            try:
                result = execute(
                    self._schema, document, None, context, variables, operation_name,
                    executor_class=self._executor, operation_extensions=None,
                    is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # strawberry's, as it passes it
                )
                return await result if isawaitable(result) else result  # type: ignore[no-any-return]
            except Exception:  # the full path makes (and reports) the same failure
                return None
            finally:
                context.release()


def _request(scope: Scope, body: bytes) -> tuple[str, dict[str, Any] | None, str | None, str] | None:
    """(query, variables, operation name, the answer's media type) of a plain JSON POST, or None for anything else."""
    content_type = accept = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"accept":
            accept = value
    if b"application/json" not in content_type or b"multipart/mixed" in accept or b"text/event-stream" in accept:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if data.__class__ is not dict or data.get("extensions") is not None:
        return None
    query, variables, operation_name = data.get("query"), data.get("variables"), data.get("operationName")
    if query.__class__ is not str or not (variables is None or variables.__class__ is dict):
        return None
    if not (operation_name is None or operation_name.__class__ is str):
        return None
    return query, variables, operation_name, answer_type(accept.decode("latin-1"))


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body (None if the client went away)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read already, then whatever the client sends next."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
