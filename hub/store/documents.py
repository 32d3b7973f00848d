"""Trusted documents in the hub store: GraphQL documents by the SHA-256 of their text, shared by replicas.

`hub documents add` checks documents against the schema (hub/trusted.py) before they reach
`add`; this module only keeps them. A hash names one text, so adding a document registered
already changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.core.errors import NotFound
from hub.store.db import Store, utcnow
from hub.store.tables import trusted_documents as documents


@dataclass(frozen=True, slots=True)
class Document:
    """A document to register: its hash (lower-case hex SHA-256 of `text`), text, operation names, origin."""

    sha256: str
    text: str
    operations: tuple[str, ...]
    source: str


async def add(store: Store, new: Sequence[Document]) -> list[Document]:
    """Register the documents not registered yet, in one transaction; returns those added."""
    hashes = {d.sha256 for d in new}
    async with store.begin() as conn:
        known: set[str] = set((await conn.execute(sa.select(documents.c.sha256).where(documents.c.sha256.in_(hashes)))).scalars())
        fresh = list({d.sha256: d for d in new if d.sha256 not in known}.values())
        if fresh:
            now = utcnow()
            await conn.execute(sa.insert(documents), [
                {"sha256": d.sha256, "document": d.text, "operations": list(d.operations), "source": d.source[:255],
                 "added_at": now} for d in fresh])
    return fresh


async def text(store: Store, sha256: str) -> str | None:
    """The registered text with this hash, or None."""
    async with store.connect() as conn:
        return (await conn.execute(sa.select(documents.c.document).where(documents.c.sha256 == sha256))).scalar()


async def listing(store: Store) -> list[dict[str, Any]]:
    """Every registered document's hash, operations, origin and time of registration (not its text)."""
    columns = (documents.c.sha256, documents.c.operations, documents.c.source, documents.c.added_at)
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(*columns).order_by(documents.c.added_at, documents.c.sha256))
        return [dict(row._mapping) for row in rows]


async def remove(store: Store, sha256: str) -> None:
    """Unregister a document; NOT_FOUND if none has this hash."""
    async with store.begin() as conn:
        done = await conn.execute(sa.delete(documents).where(documents.c.sha256 == sha256))
    if done.rowcount == 0:
        raise NotFound(f"没有该哈希的已登记文档 / no registered document with hash {sha256}")
