"""Idempotent requests: a retry with the same key gets the first answer, and nothing runs twice.

A caller names a request with a key (in GraphQL: the `idempotencyKey` argument every mutation has,
or the `Idempotency-Key` header; schema/idempotency.py). A key belongs to who asks: its row is found
by a digest of the principal, the key and (for the header) the field, so one caller can never read
or block another's answer. A key lasts `HUB_IDEMPOTENCY_TTL_SECONDS` from its first use.

How a request with a key runs (`once`):

1. Reserve: insert the key's row, without an answer, in a short transaction of its own. The primary
   key lets exactly one of any number of concurrent requests with that key succeed.
2. That request runs, then stores its answer on the row.
3. Every other request with the key reads the row: other arguments -> BAD_USER_INPUT; an answer ->
   that answer, and nothing is written; no answer yet -> it polls until there is one, and after
   `HUB_IDEMPOTENCY_WAIT_SECONDS` gets CONFLICT.

The answer is not stored in the mutation's own transaction: mutations open their own (policy edits
write through Casbin's adapter, a check run writes in many), and one transaction held around them
would hold SQLite's write lock across them, deadlocking the adapter's writes. So the semantics on
failure are "at most once":

- a request refused with a HubError (bad input, not found, conflict, a source down ...) has
  written nothing (every mutation checks before it writes, in one transaction): its reservation is
  released, and a retry runs again;
- a request that fails otherwise, is cancelled, or whose process dies between reserving and
  answering may or may not have written: its row stays without an answer, and retries get CONFLICT
  ("still running or outcome unknown") until the key expires. The caller looks at the state and
  uses a new key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import string
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from hub.core.errors import BadUserInput, Conflict, HubError
from hub.store.db import Store, aware, utcnow
from hub.store.tables import idempotency_keys as keys

T = TypeVar("T")
MAX_KEY = 128
KEY_CHARACTERS = frozenset(string.ascii_letters + string.digits + string.punctuation)
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Ticket:
    """One keyed request: where its row is, who asked, what it asks (the digest of its arguments)."""

    id: str
    actor: str
    mutation: str
    digest: str


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def ticket(principal: str, key: str, mutation: str, arguments: Mapping[str, Any], slot: str = "") -> Ticket:
    """The ticket of a request with `key` by `principal`; `slot` tells apart fields sharing one key (a header).

    BAD_USER_INPUT unless the key is 1-128 visible ASCII characters.
    """
    if not 0 < len(key) <= MAX_KEY or not KEY_CHARACTERS.issuperset(key):
        raise BadUserInput(f"幂等键须为 1–{MAX_KEY} 个可见 ASCII 字符 / an idempotency key must be 1–{MAX_KEY} "
                           "visible ASCII characters", field="idempotencyKey")
    request = orjson.dumps({"mutation": mutation, "arguments": arguments}, option=orjson.OPT_SORT_KEYS, default=str)
    return Ticket(_sha256("\0".join((principal, key, slot)).encode()), principal[:128], mutation, _sha256(request))


async def once(store: Store, request: Ticket, run: Callable[[], Awaitable[T]], encode: Callable[[T], Any],
               decode: Callable[[Any], T], *, ttl: float, wait: float) -> T:
    """Run the request once per ticket and remember its answer (see the module docstring)."""
    deadline = time.monotonic() + wait
    while True:
        async with store.connect() as conn:
            row = (await conn.execute(sa.select(keys).where(keys.c.id == request.id))).first()
        if row is None or aware(row.created_at) < utcnow() - dt.timedelta(seconds=ttl):  # type: ignore[operator]
            if await _reserve(store, request, ttl):
                return await _run(store, request, run, encode)
            continue  # another request reserved it first
        if row.digest != request.digest:
            raise BadUserInput("此幂等键已用于另一个请求（操作或参数不同） / this idempotency key was used for a "
                               "different request (another mutation or other arguments)", field="idempotencyKey")
        if row.completed_at is not None:
            return decode(row.answer)
        if time.monotonic() >= deadline:
            raise Conflict("使用此幂等键的请求仍在处理或结果未知，请查看当前状态或换用新键 / the request with this "
                           "idempotency key is still running or its outcome is unknown: check the state, or use a new key")
        await asyncio.sleep(POLL_SECONDS)


async def _reserve(store: Store, request: Ticket, ttl: float) -> bool:
    """Insert the ticket's row (and drop expired ones); False if a row with its id is there already."""
    now = utcnow()
    try:
        async with store.begin() as conn:
            await conn.execute(sa.delete(keys).where(keys.c.created_at < now - dt.timedelta(seconds=ttl)))
            await conn.execute(sa.insert(keys).values(id=request.id, actor=request.actor, mutation=request.mutation,
                                                      digest=request.digest, created_at=now))
    except IntegrityError:
        return False
    return True


async def _run(store: Store, request: Ticket, run: Callable[[], Awaitable[T]], encode: Callable[[T], Any]) -> T:
    try:
        result = await run()
    except HubError:  # refused before writing anything: a retry may run again
        async with store.begin() as conn:
            await conn.execute(sa.delete(keys).where(keys.c.id == request.id))
        raise
    async with store.begin() as conn:
        await conn.execute(sa.update(keys).where(keys.c.id == request.id)
                           .values(answer=encode(result), completed_at=utcnow()))
    return result
