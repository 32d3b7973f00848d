"""Fields computed for a whole level at once: one definition serves both executors.

A batch function takes the request context and every parent object at one level of the answer
(plus the field's arguments) and returns one value per parent, in order; a value that is an
Exception is that parent's field error. The compiled executor calls it once per level; strawberry's
executor reaches it through a per-request DataLoader, one parent at a time. Example::

    async def names(ctx: HubContext, persons: list[Person]) -> list[str | None]: ...

    name: str | None = batch_field(names, "姓名 / name", reads=reads(registry_slot={"name"}, personnel={"name"}))

A field's metadata is one typed `FieldMeta`: its batch function, and which record fields it reads
(`Reads`), so that the compiled path can have the adapters build only those (resolvers/loaders.py
`Loaders.fields`). A plain field of a type marked `@records(entity)` reads its own name of that
entity's records; a getter or batch field names what it reads: of its own records (`own`), of an
entity's records however loaded (by entity name), of the records one named loader loads only
(`via`); nothing of an entity it does not name. A getter or batch field that declares nothing
makes the whole request read complete records, so a forgotten declaration costs time, never a field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from aiodataloader import DataLoader

from resolvers.loaders import Named

if TYPE_CHECKING:
    from resolvers.context import HubContext

BatchFn = Callable[..., Awaitable[Sequence[Any]]]
C = TypeVar("C", bound=type)

_EMPTY: Mapping[Any, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Reads:
    """The record fields a field reads."""

    own: frozenset[str] = frozenset()  # of the records its parent is (a type marked @records)
    entities: Mapping[str, frozenset[str]] = field(default_factory=lambda: _EMPTY)  # entity -> fields, however its records are loaded
    via: Mapping[Named[Any, Any], frozenset[str]] = field(default_factory=lambda: _EMPTY)  # only of the records a named loader loads

    def __or__(self, other: Reads) -> Reads:
        """What two fields (or two parts of one) read together."""
        return Reads(self.own | other.own, _union(self.entities, other.entities), _union(self.via, other.via))


def _union(a: Mapping[Any, frozenset[str]], b: Mapping[Any, frozenset[str]]) -> Mapping[Any, frozenset[str]]:
    return MappingProxyType({k: a.get(k, frozenset()) | b.get(k, frozenset()) for k in {**a, **b}})


def reads(own: Collection[str] = (), *, via: Mapping[Named[Any, Any], Collection[str]] | None = None,
          **entities: Collection[str]) -> Reads:
    """`Reads` from keywords: `reads({"unit_local_id"}, personnel={"name"}, via={SlotsByPerson: {"status"}})`."""
    return Reads(frozenset(own), MappingProxyType({e: frozenset(f) for e, f in entities.items()}),
                 MappingProxyType({n: frozenset(f) for n, f in (via or {}).items()}))


@dataclass(frozen=True, slots=True)
class FieldMeta:
    """What the compiled plan knows of a strawberry field beyond its type."""

    batch: BatchFn | None = None  # its batch function (None: an attribute or a plain getter)
    reads: Reads | None = None  # what it reads (None: not declared, whole records)


_KEY = "hub"  # the one key of strawberry's field metadata the hub uses


def field_meta(definition: Any) -> FieldMeta | None:
    """The hub's metadata of a strawberry field definition (None: a plain field)."""
    found = (definition.metadata or {}).get(_KEY)
    return found if isinstance(found, FieldMeta) else None


def batched(fn: BatchFn, reads: Reads | None = None) -> dict[str, FieldMeta]:
    """Metadata for `strawberry.field(metadata=...)` naming the field's batch function (and its reads)."""
    return {_KEY: FieldMeta(fn, reads)}


def reading(own: Collection[str] = (), *, via: Mapping[Named[Any, Any], Collection[str]] | None = None,
            **entities: Collection[str]) -> dict[str, FieldMeta]:
    """Metadata of a getter: the record fields it reads (as `reads`; nothing given: none)."""
    return {_KEY: FieldMeta(None, reads(own, via=via, **entities))}


def records(entity: str) -> Callable[[C], C]:
    """Mark a type whose objects are the records of `entity` (its plain fields read theirs)."""

    def mark(cls: C) -> C:
        cls.__records__ = entity  # type: ignore[attr-defined]
        return cls

    return mark


def records_of(cls: Any) -> str | None:
    """The entity whose records a type's objects are (`@records`), if any."""
    return getattr(cls, "__records__", None)


class BatchLoader(DataLoader):  # type: ignore[misc]
    """Collects the parents asking for one field (with one set of arguments) within a tick."""

    def __init__(self, ctx: HubContext, fn: BatchFn, args: dict[str, Any]) -> None:
        super().__init__(get_cache_key=id)
        self.ctx = ctx
        self.fn = fn
        self.args = args

    async def batch_load_fn(self, parents: Sequence[Any]) -> list[Any]:
        return list(await self.fn(self.ctx, list(parents), **self.args))


class Batchers:
    """The request's batch loaders, one per (function, arguments)."""

    def __init__(self, ctx: HubContext) -> None:
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
