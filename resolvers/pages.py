"""Keyset pages of a source's entity, in the caller's row scope, reading only what the answer reads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from resolvers.context import HubContext

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items with their keyset positions, whether more follow, and a way to count all."""

    items: list[T]
    positions: list[Any]  # each item's keyset value
    more: bool
    end: Any  # the keyset value the next page starts after (None: an empty page)
    count: Callable[[], Awaitable[int]]


async def scan(ctx: HubContext, department: str, entity: str, key: str, where: dict[str, Any], size: int,
               after: Any) -> tuple[list[Any], bool]:
    """Up to `size` records ordered by the unique `key` after the cursor value, and whether more follow (one statement)."""
    rows = await ctx.sources[department].scan(entity, order_by=key, where=ctx.scoped(department, entity, where), after=after,
                                              limit=size + 1, fields=ctx.loaders.fields.get(entity))
    return rows[:size], len(rows) > size


async def count(ctx: HubContext, department: str, entity: str, where: dict[str, Any]) -> int:
    """How many records match, in the caller's scope."""
    return int(sum(row[-1] for row in await ctx.sources[department].count(entity, where=ctx.scoped(department, entity, where))))
