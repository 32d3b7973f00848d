"""The adapter contract: what the hub asks of a department's database, whatever it is.

An adapter declares its capabilities (a `Capability` flag: READ, STREAM, AGGREGATE, WRITE), checked when
the sources are built against what the hub asks of each entity (`Need`, adapters.registry.check_needs), is configured explicitly (department, mapping, URL, connect timeout) and
returns canonical records (hub.core.records); a source that does not answer raises SourceUnavailable.
A non-SQL source is a class implementing this protocol, registered under the entry-point group
`staffing_hub.adapters` and named by `adapter:` in its mapping file. Example::

    class CsvAdapter:
        capabilities = Capability.READ
        def __init__(self, department: str, mapping: Mapping, url: str, *, connect_timeout: float) -> None: ...
        async def fetch(self, entity, field, keys, where=None, fields=None): ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import Flag, auto
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import polars as pl

    from adapters.mapping import Mapping as MappingFile
    from hub.core.changes import Change


class Capability(Flag):
    """What an adapter can do; each maps to methods of the protocol below."""

    READ = auto()  # fetch by key, keyset scan, ping
    STREAM = auto()  # every matching record in chunks, in a normalized order (stream)
    AGGREGATE = auto()  # grouped counts, sums and per-person counts done by the source (count, aggregate)
    WRITE = auto()  # write-back to the department's database (the workflow issue)

    @property
    def names(self) -> list[str]:
        """The single capabilities held, lower case: ['read', 'stream']."""
        return [c.name.lower() for c in Capability if c in self and c.name]


@dataclass(frozen=True, slots=True)
class Need:
    """What a part of the hub asks of the source keeping an entity: a capability, and why (bilingual).

    `entity` "unit" is asked of every department that maps it, "*" of every entity every source maps,
    any other entity of the one department keeping it.
    """

    entity: str
    capability: Capability
    purpose: str


@dataclass(frozen=True, slots=True)
class Prefix:
    """Filter: the field's value starts with `value` (e.g. a region code scope)."""

    value: str


@dataclass(frozen=True, slots=True)
class Contains:
    """Filter: the field's value contains `value` (name search)."""

    value: str


@dataclass(frozen=True, slots=True)
class Range:
    """Filter: low <= value <= high (either end open when None)."""

    low: Any = None
    high: Any = None


@dataclass(frozen=True, slots=True)
class IdShard:
    """Filter on an ID number field: shard `index` of `count` (at most 10) of the persons.

    A record belongs to the shard of the 17th character of its normalized number (the last digit
    before the check digit): digit d goes to shard d mod count; shard 0 also takes numbers without
    such a digit (and blank ones). Every spelling of one number falls in the same shard.
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (1 <= self.count <= 10 and 0 <= self.index < self.count):
            raise ValueError("an ID shard is one of 1 to 10 shards")

    @property
    def digits(self) -> tuple[str, ...]:
        """The 17th characters of the numbers in this shard."""
        return tuple(d for d in "0123456789" if int(d) % self.count == self.index)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Filter: any of the alternatives holds (each a {field: condition} mapping); OR of ANDs."""

    alternatives: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Latest:
    """Fetch only each key's `count` records with the greatest `by` (pay: the last 3 months), and those tied with them."""

    by: str
    count: int


NEVER = AnyOf(())  # a condition no row meets (an entity with no scope field under a regional scope)

# A filter maps canonical field -> a value (equality), a list/tuple/set (IN), None (IS NULL),
# or one of the classes above; the whole mapping is an AND. AnyOf goes under the key "*".
Where = Mapping[str, Any]


class Adapter(Protocol):
    """A department source: batch fetch by key, keyset scans, streaming, counts."""

    department: str
    mapping: MappingFile  # what it was configured with (hub sources check reads every mapped entity)
    capabilities: Capability
    statements: int  # reads issued so far; a batch (a fetch, a scan page, a count) is one (metrics, the conformance kit)

    def entities(self) -> tuple[str, ...]:
        """The entities this source maps."""
        ...

    def supports(self, entity: str) -> bool:
        """Whether the source provides an entity."""
        ...

    def scope_field(self, entity: str) -> str | None:
        """The field of an entity holding the department's unit code, for row scope."""
        ...

    async def fetch(
        self, entity: str, field: str, keys: Sequence[Any], where: Where | None = None,
        fields: Collection[str] | None = None, latest: Latest | None = None,
    ) -> list[Any]:
        """All records whose `field` is one of `keys` (one statement), in no particular order.

        `fields`, when given, is all the caller reads of the records: an adapter may leave the
        other fields unread (unset) or return whole records. `latest`, when given, asks only for
        each key's newest records by a field (the caller still picks them; an adapter may return more,
        and must return every record tied on the field with the `count`-th: the caller breaks ties).
        """
        ...

    def order_key(self, entity: str) -> Callable[[Any], Any]:
        """The sort key of one key's records (fetch returns them in no order; the loaders sort each key's)."""
        ...

    async def scan(
        self,
        entity: str,
        *,
        order_by: str,
        where: Where | None = None,
        after: Any = None,
        limit: int = 100,
        fields: Collection[str] | None = None,
    ) -> list[Any]:
        """Up to `limit` records ordered by the unique field `order_by`, after the cursor value (`fields` as in fetch)."""
        ...

    def stream(
        self, entity: str, *, order_by: str | None = None, where: Where | None = None, chunk_size: int = 5000
    ) -> AsyncIterator[list[Any]]:
        """Every matching record in chunks, with bounded memory; `order_by` a field (normalized order)."""
        ...

    async def count(
        self, entity: str, *, group_by: Sequence[str] = (), where: Where | None = None
    ) -> list[tuple[Any, ...]]:
        """Row counts, one tuple (group values..., count) per group; one tuple (count,) without groups."""
        ...

    async def distinct(self, entity: str, field: str) -> list[Any]:
        """The distinct canonical values of a field, without nulls (one statement; the pay months)."""
        ...

    async def aggregate(
        self, entity: str, *, group_by: Sequence[str] = (), sums: Sequence[str] = (), distinct: str | None = None,
        per_person: str | None = None, where: Where | None = None,
    ) -> list[tuple[Any, ...]]:
        """AGGREGATE: one tuple (group values..., rows, distinct values of `distinct`, sum of each of `sums`) per
        group, in one statement; without `distinct` its place holds the row count again.

        `per_person`, a field holding ID numbers: only each person's first record (in the mapping's `order`)
        among those matching `where` counts, so `rows` counts persons, not records; records without an ID
        number do not count.
        """
        ...

    async def apply(self, changes: Sequence[Change]) -> int:
        """WRITE: apply changes (hub.core.changes) in one transaction, each at most once: a change whose
        (application_id, seq) the database already holds is skipped. Returns how many were applied."""
        ...

    async def ping(self) -> None:
        """Raise SourceUnavailable unless the database answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class ColumnReader(Protocol):
    """An adapter that also reads whole columns at once (the bulk cross-check; adapters.columns).

    Optional: a source without it is read record by record.
    """

    async def columns(self, entity: str, fields: Sequence[str], equal: dict[str, Any] | None = None,
                      latest: str | None = None) -> pl.DataFrame:
        """Every record's `fields` as canonical columns (filtered by `equal`; `latest`: see SqlAdapter.columns)."""
        ...
