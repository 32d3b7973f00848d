"""Per-request DataLoaders: one per (source, entity, key field), row scope built in; a batch is one statement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiodataloader import DataLoader

from adapters.base import Adapter, Where
from adapters.registry import Sources
from policies.scope import RowScope

BatchObserver = Callable[[str, str, int], None]  # (source, entity, keys in the batch)


class RecordsByKeyLoader(DataLoader):  # type: ignore[misc]
    """Loads all records of a source's entity whose `field` equals each key, in key order."""

    def __init__(
        self, adapter: Adapter, entity: str, field: str, where: Where | None = None, fields: frozenset[str] | None = None,
        observe: BatchObserver | None = None,
    ) -> None:
        super().__init__()
        self.observe = observe
        self.adapter = adapter
        self.entity = entity
        self.field = field
        self.where = where
        self.fields = fields

    async def batch_load_fn(self, keys: Sequence[Any]) -> list[list[Any]]:
        if self.observe is not None:
            self.observe(self.adapter.department, self.entity, len(keys))
        grouped: dict[Any, list[Any]] = {k: [] for k in keys}
        field = self.field
        for record in await self.adapter.fetch(self.entity, field, list(grouped), self.where, self.fields):
            bucket = grouped.get(getattr(record, field))
            if bucket is not None:
                bucket.append(record)
        order = self.adapter.order_key(self.entity)  # type: ignore[attr-defined]
        for bucket in grouped.values():
            if len(bucket) > 1:
                bucket.sort(key=order)
        return [grouped[k] for k in keys]


class Loaders:
    """The request's loaders, created on first use; never shared between requests.

    `fields` is the request's projection: per entity, the fields its answer reads (an entity not
    named is read whole), and under "entity@key" what is read only of the records looked up by
    that key. The compiled read path sets it from the document before any load.
    """

    def __init__(self, sources: Sources, scope: RowScope, observe: BatchObserver | None = None) -> None:
        self._sources = sources
        self._scope = scope
        self._observe = observe  # told each batch's size (hub/metrics.py)
        self._loaders: dict[tuple[str, str, str, str], RecordsByKeyLoader] = {}
        self.fields: dict[str, frozenset[str]] = {}

    def by(self, department: str, entity: str, field: str, where: Where | None = None, tag: str = "") -> RecordsByKeyLoader:
        """The loader of `entity` records by `field` in a department's source (`tag` names a `where`)."""
        key = (department, entity, field, tag)
        loader = self._loaders.get(key)
        if loader is None:
            adapter = self._sources[department]
            scoped = self._scope.where(department, adapter.scope_field(entity), where) or None
            loader = self._loaders[key] = RecordsByKeyLoader(adapter, entity, field, scoped, self._projection(entity, field),
                                                              self._observe)
        return loader

    def _projection(self, entity: str, field: str) -> frozenset[str] | None:
        general, by_key = self.fields.get(entity), self.fields.get(f"{entity}@{field}")
        if general is None or by_key is None:
            return general or by_key
        return general | by_key

    def release(self) -> None:
        """Drop the loaders and the records they hold (new ones are made if asked again)."""
        self._loaders.clear()
