"""The one generic SQL adapter: executes any mapping on SQLite, PostgreSQL, MariaDB/MySQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.base import Where
from adapters.convert import CONVERTERS, KEY_VARIANTS
from adapters.mapping import ColumnSpec, EntitySpec, Mapping
from adapters.rows import Builder, builder, column_loader, order_key
from adapters.sqlexpr import normalized_id_sort_key
from adapters.statements import Binder, params, split
from hub.db import async_url
from hub.errors import MappingError, SourceUnavailable
from hub.records import RECORDS

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    sa.exc.DBAPIError, sa.exc.InterfaceError, asyncpg.PostgresError, asyncpg.InterfaceError,
    OSError, TimeoutError, ConnectionError,
)


@dataclass(slots=True)
class _Entity:
    """A mapping entity compiled once: columns to select, field -> column, row builders by projection."""

    name: str
    record: type
    source: sa.FromClause
    columns: dict[str, sa.ColumnElement[Any]]
    specs: dict[str, ColumnSpec]
    dumpers: dict[str, Callable[[Any], list[Any]]]
    order_fields: tuple[str, ...]
    order: Callable[[Any], tuple[Any, ...]]
    builders: dict[tuple[str, ...], Builder]

    def column(self, field: str) -> sa.ColumnElement[Any]:
        try:
            return self.columns[field]
        except KeyError:
            raise MappingError(f"实体 {self.name} 未映射字段 {field} / {self.name}.{field} is not mapped") from None

    def dumper(self, field: str) -> Callable[[Any], list[Any]]:
        self.column(field)
        return self.dumpers[field]

    def projection(self, fields: Collection[str] | None, *required: str, grouped: bool = True) -> tuple[str, ...]:
        """The mapped fields to read, in mapping order: those asked for, the keys, and the order fields
        when the records are grouped by key (a key's records are sorted by them: `order_key`).

        None reads every mapped field; fields the mapping does not map are left to their defaults.
        """
        if fields is None:
            return tuple(self.columns)
        wanted = {*fields, *required, *(self.order_fields if grouped else ())}
        return tuple(f for f in self.columns if f in wanted)

    def selected(self, projection: tuple[str, ...]) -> list[sa.ColumnElement[Any]]:
        return [self.columns[f] for f in projection]

    def builder(self, projection: tuple[str, ...]) -> Builder:
        found = self.builders.get(projection)
        if found is None:
            found = self.builders[projection] = builder(self.record, projection, self.specs)
        return found


def _compile(name: str, spec: EntitySpec) -> _Entity:
    tables: dict[str | None, set[str]] = {None: set()}
    for col in spec.columns.values():
        tables.setdefault(col.table, set()).add(col.name)
    if spec.join is not None:
        tables.setdefault(spec.join.table, set()).update(spec.join.match.values())
        tables[None].update(spec.join.match)
    base = sa.table(spec.table, *(sa.column(c) for c in sorted(tables[None])))
    source: sa.FromClause = base
    joined = None
    if spec.join is not None:
        joined = sa.table(spec.join.table, *(sa.column(c) for c in sorted(tables[spec.join.table])))
        source = base.outerjoin(joined, sa.and_(*(base.c[a] == joined.c[b] for a, b in spec.join.match.items())))
    columns = {
        field: (joined if col.table else base).c[col.name]  # type: ignore[union-attr]
        for field, col in spec.columns.items()
    }
    ordered = tuple(spec.order) or tuple(spec.columns)  # a mapping's `order` names a unique key of the group
    dumpers = {f: _dumper(c) for f, c in spec.columns.items()}
    return _Entity(name, RECORDS[name], source, columns, dict(spec.columns), dumpers, ordered, order_key(ordered), {})


def _dumper(spec: ColumnSpec) -> Callable[[Any], list[Any]]:
    """canonical value -> the legacy values that stand for it (several for codes and keys)."""
    if spec.values is not None:
        reverse: dict[Any, list[str]] = {}
        for raw, canonical in spec.values.items():
            reverse.setdefault(canonical, []).append(raw)
        return lambda value: reverse.get(value, [])
    if spec.normalize in KEY_VARIANTS:
        return KEY_VARIANTS[spec.normalize]
    dump = CONVERTERS[spec.convert].dump
    return lambda value: [dump(value)]


def _engine_options(url: sa.URL, timeout: float) -> dict[str, Any]:
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"connect_args": {"timeout": timeout}}
    if backend in ("mysql", "mariadb"):
        return {"connect_args": {"connect_timeout": int(max(timeout, 1))}}
    return {}


@dataclass(frozen=True, slots=True)
class _Statement:
    """A read built once: the SQLAlchemy statement, and (for asyncpg) its SQL text and parameter order."""

    stmt: sa.Select[Any]
    sql: str
    names: tuple[int, ...]  # positional parameter i is value names[i]


class SqlAdapter:
    """Runs a department's mapping against its database, one statement a batch.

    Statements are built with SQLAlchemy Core and compiled once per shape (adapters.statements).
    On PostgreSQL with asyncpg, reads run on asyncpg directly (a pool of autocommit connections):
    SQLAlchemy's per-execution work cost ~0.4 ms a statement, the driver's ~0.05 ms. Other
    dialects execute the cached statement through SQLAlchemy. Streaming always goes through
    SQLAlchemy (server-side cursors).
    """

    capabilities = frozenset({"read", "stream", "aggregate"})

    def __init__(self, department: str, mapping: Mapping, url: str, *, connect_timeout: float = 3.0) -> None:
        self.department = department
        self.mapping = mapping
        parsed = async_url(url)
        self.url = parsed
        self.connect_timeout = connect_timeout
        self.engine: AsyncEngine = create_async_engine(parsed, **_engine_options(parsed, connect_timeout))
        self.arrays = parsed.get_backend_name() == "postgresql"
        self._native = parsed.drivername == "postgresql+asyncpg"
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._entities = {name: _compile(name, spec) for name, spec in mapping.entities.items()}
        self._statements: dict[tuple[Any, ...], _Statement] = {}
        self.statements = 0  # executed statements, for tests and benchmarks

    def entity(self, name: str) -> _Entity:
        try:
            return self._entities[name]
        except KeyError:
            raise MappingError(
                f"数据源「{self.department}」不提供 {name} / source '{self.department}' has no entity {name}"
            ) from None

    def supports(self, entity: str) -> bool:
        """Whether this source's mapping provides an entity."""
        return entity in self._entities

    def scope_field(self, entity: str) -> str | None:
        """The field of an entity that holds the department's unit code (for row scope)."""
        spec = self.mapping.entities.get(entity)
        return spec.scope if spec else None

    def _statement(self, key: tuple[Any, ...], make: Callable[[Binder], sa.Select[Any]]) -> _Statement:
        """The compiled statement of a shape, made on first use."""
        found = self._statements.get(key)
        if found is None:
            stmt = make(Binder(self.entity(key[1]).column, self.arrays))
            sql = ""
            names: tuple[int, ...] = ()
            if self._native:  # asyncpg takes the text and the values in $n order
                compiled = stmt.compile(dialect=self.engine.dialect)
                sql, names = str(compiled), tuple(int(n[1:]) for n in compiled.positiontup or ())
            found = self._statements[key] = _Statement(stmt, sql, names)
        return found

    async def _native_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
                    self._pool = await asyncpg.create_pool(
                        dsn, min_size=0, max_size=10, timeout=self.connect_timeout, reset=_keep_session,
                    )
        return self._pool

    async def _run(self, statement: _Statement, values: list[Any]) -> Sequence[Any]:
        """The rows of a compiled statement for these values (SourceUnavailable if the database fails)."""
        self.statements += 1
        try:
            if self._native:
                pool = await self._native_pool()
                async with pool.acquire() as conn:
                    return await conn.fetch(statement.sql, *(values[i] for i in statement.names))  # type: ignore[no-any-return]
            async with self.engine.connect() as conn:
                # Reads need no transaction: autocommit saves the BEGIN/ROLLBACK round trips.
                # A connection that died is invalidated by SQLAlchemy; the next statement reconnects.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return (await conn.execute(statement.stmt, params(values))).all()
        except _UNAVAILABLE as exc:
            log.warning("source %s unavailable: %s: %s", self.department, type(exc).__name__, exc)
            raise SourceUnavailable(self.department, type(exc).__name__) from exc

    async def fetch(
        self, entity: str, field: str, keys: Sequence[Any], where: Where | None = None,
        fields: Collection[str] | None = None,
    ) -> list[Any]:
        """All records whose `field` is one of `keys`, in one statement, in no particular order.

        `fields` is a projection: only those fields (and the key and order fields) are read.
        """
        if not keys:
            return []
        ent = self.entity(entity)
        projection = ent.projection(fields, field)
        shape, values = split({**(where or {}), field: list(keys)}, ent.dumper)

        def make(b: Binder) -> sa.Select[Any]:
            return sa.select(*ent.selected(projection)).select_from(ent.source).where(*b.clauses(shape))

        build = ent.builder(projection)
        return [build(row) for row in await self._run(self._statement(("fetch", entity, projection, shape), make), values)]

    def order_key(self, entity: str) -> Callable[[Any], tuple[Any, ...]]:
        """The sort key listing one key's records: the mapping's `order` (else every field).

        Applied in Python, not SQL, so the order is the same whatever the database's collation.
        """
        return self.entity(entity).order

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
        """Up to `limit` records in `order_by` order after the cursor value (keyset, never OFFSET)."""
        ent = self.entity(entity)
        col = ent.column(order_by)
        projection = ent.projection(fields, order_by, grouped=False)  # ordered by the SQL
        shape, values = split(where, ent.dumper)
        if after is not None:
            values.append(ent.dumpers[order_by](after)[0])
        values.append(limit)

        def make(b: Binder) -> sa.Select[Any]:
            conds = b.clauses(shape)
            if after is not None:
                conds.append(col > b.param())
            return sa.select(*ent.selected(projection)).select_from(ent.source).where(*conds).order_by(col).limit(b.param())

        key = ("scan", entity, projection, shape, order_by, after is not None)
        build = ent.builder(projection)
        return [build(row) for row in await self._run(self._statement(key, make), values)]

    async def stream(
        self, entity: str, *, order_by: str | None = None, where: Where | None = None, chunk_size: int = 5000
    ) -> AsyncIterator[list[Any]]:
        """Every matching record in chunks over a server-side cursor; ID numbers in normalized order."""
        ent = self.entity(entity)
        shape, values = split(where, ent.dumper)
        stmt = sa.select(*ent.columns.values()).select_from(ent.source).where(*Binder(ent.column, self.arrays).clauses(shape))
        if order_by is not None:
            col = ent.column(order_by)
            normalize = ent.specs[order_by].normalize
            stmt = stmt.order_by(*(normalized_id_sort_key(col) if normalize == "id_number" else (col,)))
        build = ent.builder(tuple(ent.columns))
        self.statements += 1
        try:
            async with self.engine.connect() as conn:
                result = await conn.stream(stmt.execution_options(yield_per=chunk_size), params(values))
                async for part in result.partitions(chunk_size):
                    yield [build(row) for row in part]
        except _UNAVAILABLE as exc:
            raise SourceUnavailable(self.department, type(exc).__name__) from exc

    async def count(
        self, entity: str, *, group_by: Sequence[str] = (), where: Where | None = None
    ) -> list[tuple[Any, ...]]:
        """Counts per group of canonical field values (converted back to canonical form)."""
        ent = self.entity(entity)
        cols = [ent.column(f) for f in group_by]
        shape, values = split(where, ent.dumper)

        def make(b: Binder) -> sa.Select[Any]:
            stmt = sa.select(*cols, sa.func.count()).select_from(ent.source).where(*b.clauses(shape))
            return stmt.group_by(*cols) if cols else stmt

        loads = [column_loader(ent.specs[f]) for f in group_by]
        merged: dict[tuple[Any, ...], int] = {}
        for row in await self._run(self._statement(("count", entity, tuple(group_by), shape), make), values):
            key = tuple(load(v) for load, v in zip(loads, row, strict=False))
            merged[key] = merged.get(key, 0) + row[-1]
        return [(*key, n) for key, n in merged.items()]

    async def ping(self) -> None:
        """Raise SourceUnavailable unless the database answers."""
        ent = next(iter(self._entities.values()), None)
        if ent is None:
            return
        await self._run(self._statement(("ping", ent.name), lambda b: sa.select(sa.literal_column("1"))), [])

    async def close(self) -> None:
        """Release the connection pools."""
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), self.connect_timeout)
            except (TimeoutError, *_UNAVAILABLE):
                self._pool.terminate()
            self._pool = None
        await self.engine.dispose()


async def _keep_session(conn: Any) -> None:
    """Connections are returned to the pool as they are: reads change no session state."""
