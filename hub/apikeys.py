"""API keys for systems: stored hashed in the hub store, revocable, each bound to a principal."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.core.caches import BoundedCache
from hub.core.errors import NotFound, Unauthenticated
from hub.core.principal import Principal, check_claims
from hub.store.db import Store, utcnow
from hub.store.tables import api_keys

PREFIX = "shk"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: the only time its secret is shown."""

    key_id: str
    key: str


async def create_key(store: Store, name: str, department: str | None, roles: list[str], region: str, created_by: str,
                     departments: tuple[str, ...]) -> IssuedKey:
    """Issue a key for a department of `departments` (the department table's ids); only its hash is stored."""
    check_claims(department, roles, region, departments)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    async with store.begin() as conn:
        await conn.execute(api_keys.insert().values(
            key_id=key_id, name=name, key_hash=_digest(secret), department=department, roles=roles,
            region=region, created_by=created_by, created_at=utcnow(), revoked_at=None,
        ))
    return IssuedKey(key_id, f"{PREFIX}_{key_id}_{secret}")


async def revoke_key(store: Store, key_id: str) -> None:
    """Revoke a key; NOT_FOUND if there is no such live key."""
    async with store.begin() as conn:
        done = await conn.execute(
            api_keys.update().where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
        )
    if done.rowcount == 0:
        raise NotFound(f"没有该有效密钥 / no live API key {key_id!r}")


async def list_keys(store: Store) -> list[dict[str, Any]]:
    """Every key's metadata (never its secret)."""
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))
        return [{k: v for k, v in r._mapping.items() if k != "key_hash"} for r in rows]


_KEY = re.compile(rf"{PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_-]{{32}})")  # as create_key makes them
LOOKUPS = 4096  # key ids remembered, found or not (a key id is 12 characters, a row a few hundred bytes)


class ApiKeyVerifier:
    """Checks `X-API-Key` values against the store, caching lookups (found or not) for a few seconds."""

    def __init__(self, store: Store, ttl: float = 5.0) -> None:
        self.store = store
        self.ttl = ttl
        self._cache = BoundedCache("api key lookups", LOOKUPS, LOOKUPS * 1024)

    async def verify(self, key: str) -> Principal:
        """The key's principal; Unauthenticated for unknown, malformed or revoked keys.

        Only a key of the form `create_key` issues is looked up: anything else is refused before
        the store is asked or anything is remembered.
        """
        match = _KEY.fullmatch(key)
        if match is None:
            raise Unauthenticated("API 密钥格式错误 / malformed API key")
        row = await self._lookup(match.group(1))
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _digest(match.group(2))):
            raise Unauthenticated("API 密钥无效或已吊销 / invalid or revoked API key")
        return Principal(f"apikey:{row.key_id}:{row.name}", row.department, tuple(row.roles), row.region, "apikey")

    async def _lookup(self, key_id: str) -> Any:
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.store.connect() as conn:
            row = (await conn.execute(sa.select(api_keys).where(api_keys.c.key_id == key_id))).first()
        self._cache.put(key_id, (time.monotonic() + self.ttl, row))
        return row
