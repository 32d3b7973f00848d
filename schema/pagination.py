"""Relay-style connections with opaque keyset cursors."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from hub.core.errors import BadUserInput
from resolvers.batch import batch_field, reading, reads

T = TypeVar("T")


def encode_cursor(value: Any) -> str:
    """An opaque cursor for a keyset position."""
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode()


_INT64 = 2**63


def decode_cursor(cursor: str | None, kind: type[int] | type[str] | None = None) -> Any:
    """The keyset position inside a cursor: a string or a 64-bit integer (of `kind`, when given).

    Anything else — not base64, not JSON, an object, a list, a number out of range — is
    BAD_USER_INPUT, so no made-up cursor reaches a source's SQL.
    """
    if cursor is None:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        value = None
    if isinstance(value, int) and not isinstance(value, bool) and -_INT64 <= value < _INT64:
        if kind in (None, int):
            return value
    elif isinstance(value, str) and kind in (None, str):
        return value
    raise BadUserInput(f"无效的游标 / invalid cursor: {cursor[:40]!r}")


DEFAULT_PAGE_SIZE = 100  # a connection's page when `first` is not given


def page_size(first: int | None, maximum: int) -> int:
    """The page size asked for, checked against the configured maximum."""
    size = DEFAULT_PAGE_SIZE if first is None else first
    if not 0 <= size <= maximum:
        raise BadUserInput(f"first 须在 0 到 {maximum} 之间 / first must be between 0 and {maximum}")
    return size


@strawberry.type(description="分页信息 / page information")
class PageInfo:
    has_next_page: bool = strawberry.field(description="是否还有下一页 / whether more items follow")
    end_cursor: str | None = strawberry.field(description="本页最后一项的游标 / cursor of the last item")


@strawberry.type(description="连接中的一项 / one item of a connection")
class Edge(Generic[T]):
    node: T
    position: strawberry.Private[Any]  # the keyset value the cursor encodes (encoded only when asked)

    @strawberry.field(description="本项的游标 / cursor of this item", metadata=reading())
    def cursor(self) -> str:
        return encode_cursor(self.position)


def edges(nodes: Iterable[T], positions: Iterable[Any]) -> list[Edge[T]]:
    """An edge per node at its keyset position.

    Made without the dataclass __init__ (keyword arguments cost half the time of a list of 10,000
    edges); the instances are the same: the two attributes set, nothing else.
    """
    out = []
    for node, position in zip(nodes, positions, strict=True):
        made = _new(Edge)
        made.node = node
        made.position = position
        out.append(made)
    return out


_new = object.__new__


async def _total_counts(ctx: Any, connections: Sequence[Connection[Any]]) -> list[int]:
    return list(await asyncio.gather(*(c._count() for c in connections)))


@strawberry.type(description="分页列表 / a page of a list")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]
    total_count: int = batch_field(_total_counts, "符合条件的总数 / number of matching items in all pages", reads())
