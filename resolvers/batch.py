"""Fields computed for a whole level at once: one definition serves both executors.

A batch function takes the request context and every parent object at one level of the answer
(plus the field's arguments) and returns one value per parent, in order; a value that is an
Exception is that parent's field error. The compiled executor calls it once per level; strawberry's
executor reaches it through a per-request DataLoader, one parent at a time. Example::

    async def names(ctx: HubContext, persons: list[Person]) -> list[str | None]: ...

    name: str | None = batch_field(names, "姓名 / name", reads={"registry_slot": {"name"}, "personnel": {"name"}})

Fields also declare which record fields they read (`reads`), so that the compiled path can have
the adapters build only those (resolvers/loaders.py `Loaders.fields`): a plain field of a type
marked `@records(entity)` reads its own name of that entity's records; a getter or batch field
names, per entity, the fields it reads (`self`: the records it is a field of; `entity@key`: of
the records looked up by that key only), nothing for an entity it does not read. A getter or batch field that declares nothing makes the whole request
read complete records, so a forgotten declaration costs time, never a field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import strawberry
from aiodataloader import DataLoader

BatchFn = Callable[..., Awaitable[Sequence[Any]]]
C = TypeVar("C", bound=type)


@dataclass(frozen=True, slots=True)
class Batched:
    """Field metadata: the batch function behind a field."""

    fn: BatchFn


Reads = Mapping[str, Collection[str]]  # entity -> the record fields read ("self": the parent's records)


def batched(fn: BatchFn, reads: Reads | None = None) -> dict[str, Any]:
    """Metadata for `strawberry.field(metadata=...)` naming the field's batch function (and its reads)."""
    return {"hub": Batched(fn), **(reading(reads) if reads is not None else {})}


def reading(reads: Reads) -> dict[str, Any]:
    """Field metadata: the record fields a field reads, per entity ({}: none)."""
    return {"reads": {entity: frozenset(fields) for entity, fields in reads.items()}}


def records(entity: str) -> Callable[[C], C]:
    """Mark a type whose objects are the records of `entity` (its plain fields read theirs)."""

    def mark(cls: C) -> C:
        cls.__records__ = entity  # type: ignore[attr-defined]
        return cls

    return mark


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

    def release(self) -> None:
        """Drop the loaders and what they hold (new ones are made if asked again)."""
        self._loaders.clear()


ROOT = object()  # stands for the root value, which DataLoader cannot take as a key


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def batch_field(fn: BatchFn, description: str, reads: Reads | None = None) -> Any:
    """A strawberry field (without arguments) whose value comes from a batch function (reading `reads`)."""

    async def resolve(root: strawberry.Parent[Any], info: strawberry.Info):  # type: ignore[no-untyped-def]
        return await info.context.batchers.load(fn, root)

    return strawberry.field(resolver=resolve, description=description, metadata=batched(fn, reads))
