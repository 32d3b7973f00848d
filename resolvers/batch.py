"""Fields computed for a whole level at once: one definition serves both executors.

A batch function takes the request context and every parent object at one level of the answer
(plus the field's arguments) and returns one value per parent, in order; a value that is an
Exception is that parent's field error. The compiled executor calls it once per level; strawberry's
executor reaches it through a per-request DataLoader, one parent at a time. Example::

    async def names(ctx: HubContext, persons: list[Person]) -> list[str | None]: ...

    name: str | None = batch_field(names, "姓名 / name")
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from aiodataloader import DataLoader

BatchFn = Callable[..., Awaitable[Sequence[Any]]]


@dataclass(frozen=True, slots=True)
class Batched:
    """Field metadata: the batch function behind a field."""

    fn: BatchFn


def batched(fn: BatchFn) -> dict[str, Batched]:
    """Metadata for `strawberry.field(metadata=...)` naming the field's batch function."""
    return {"hub": Batched(fn)}


class BatchLoader(DataLoader):  # type: ignore[misc]
    """Collects the parents asking for one field (with one set of arguments) within a tick."""

    def __init__(self, ctx: Any, fn: BatchFn, args: dict[str, Any]) -> None:
        super().__init__(get_cache_key=id)
        self.ctx = ctx
        self.fn = fn
        self.args = args

    async def batch_load_fn(self, parents: Sequence[Any]) -> list[Any]:
        return list(await self.fn(self.ctx, list(parents), **self.args))


class Batchers:
    """The request's batch loaders, one per (function, arguments)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._loaders: dict[tuple[Any, ...], BatchLoader] = {}

    def load(self, fn: BatchFn, parent: Any, **args: Any) -> Awaitable[Any]:
        """The field's value for one parent, batched with its siblings (the root is `None`)."""
        key = (fn, *((k, _frozen(v)) for k, v in sorted(args.items())))
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = BatchLoader(self.ctx, fn, args)
        return loader.load(ROOT if parent is None else parent)  # type: ignore[no-any-return]


ROOT = object()  # stands for the root value, which DataLoader cannot take as a key


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def batch_field(fn: BatchFn, description: str) -> Any:
    """A strawberry field (without arguments) whose value comes from a batch function."""

    async def resolve(root: strawberry.Parent[Any], info: strawberry.Info):  # type: ignore[no-untyped-def]
        return await info.context.batchers.load(fn, root)

    return strawberry.field(resolver=resolve, description=description, metadata=batched(fn))
