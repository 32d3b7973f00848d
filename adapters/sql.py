"""The one generic SQL adapter: executes any mapping on SQLite, PostgreSQL, MariaDB/MySQL."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.base import AnyOf, Contains, Prefix, Range, Where
from adapters.convert import CONVERTERS, KEY_VARIANTS, NORMALIZERS
from adapters.mapping import ColumnSpec, EntitySpec, Mapping
from adapters.sqlexpr import normalized_id_sort_key
from hub.db import async_url
from hub.errors import MappingError, SourceUnavailable
from hub.records import RECORDS

log = logging.getLogger(__name__)

_UNAVAILABLE = (sa.exc.DBAPIError, sa.exc.InterfaceError, OSError, TimeoutError, ConnectionError)


def _loader(spec: ColumnSpec) -> Callable[[Any], Any]:
    """legacy value -> canonical value for one column: convert, then normalize or map values."""
    load = CONVERTERS[spec.convert].load
    if spec.values is not None:
        values = spec.values

        def mapped(raw: Any) -> Any:
            found = values.get(raw)
            return found if found is not None or raw is None else values.get(str(raw).strip())

        return mapped
    if spec.normalize is not None:
        normalize = NORMALIZERS[spec.normalize]
        return lambda raw: normalize(load(raw))
    return load


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


@dataclass(slots=True)
class _Entity:
    """A mapping entity compiled once: columns to select, row -> record, field -> column."""

    name: str
    source: sa.FromClause
    columns: dict[str, sa.ColumnElement[Any]]
    specs: dict[str, ColumnSpec]
    build: Callable[[Sequence[Any]], Any]
    dumpers: dict[str, Callable[[Any], list[Any]]]
    order: Callable[[Any], tuple[Any, ...]]

    def column(self, field: str) -> sa.ColumnElement[Any]:
        try:
            return self.columns[field]
        except KeyError:
            raise MappingError(f"实体 {self.name} 未映射字段 {field} / {self.name}.{field} is not mapped") from None


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
    record = RECORDS[name]
    fields = tuple(spec.columns)
    build = _builder(record, fields, [spec.columns[f] for f in fields])
    dumpers = {f: _dumper(c) for f, c in spec.columns.items()}
    ordered = tuple(spec.order) or fields  # a mapping's `order` names a unique key of the group
    return _Entity(name, source, columns, dict(spec.columns), build, dumpers, _order_key(ordered))


_MISSING = object()


def _builder(record: type, fields: tuple[str, ...], specs: Sequence[ColumnSpec]) -> Callable[[Sequence[Any]], Any]:
    """row -> record, as one generated function (rows are the hot path: no per-field loop).

    The common conversions are written inline — a text column that holds a string is stripped,
    a value map is looked up — and anything else calls the column's loader (`_loader`). Records
    are frozen slotted dataclasses; their slots are filled directly (a third of the cost of the
    generated `__init__`), unmapped fields get their declared defaults.
    """
    env: dict[str, Any] = {"new": object.__new__, "R": record, "M": _MISSING}
    lines = ["def build(row):", "    o = new(R)"]
    for i, (field, spec) in enumerate(zip(fields, specs, strict=True)):
        env[f"l{i}"] = _loader(spec)
        if spec.values is not None:
            env[f"m{i}"] = spec.values
            expr = f"(x if (x := m{i}.get(v := row[{i}], M)) is not M else l{i}(v))"
        elif spec.convert == "text":
            env[f"t{i}"] = CONVERTERS["text"].load
            expr = f"((v.strip() or None) if (v := row[{i}]).__class__ is str else t{i}(v))"
            if spec.normalize is not None:
                env[f"n{i}"] = NORMALIZERS[spec.normalize]
                expr = f"n{i}{expr}"
        else:
            expr = f"l{i}(row[{i}])"
        env[f"s{i}"] = record.__dict__[field].__set__
        lines.append(f"    s{i}(o, {expr})")
    for j, f in enumerate(f for f in dataclasses.fields(record) if f.name not in fields):
        if f.default is dataclasses.MISSING:
            raise MappingError(f"{record.__name__}.{f.name} 必须映射 / must be mapped")
        env[f"d{j}"], env[f"dv{j}"] = record.__dict__[f.name].__set__, f.default
        lines.append(f"    d{j}(o, dv{j})")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - the text is made from mapping field names
    return env["build"]  # type: ignore[no-any-return]


def _order_key(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """record -> sort key over `fields`, nulls last, as one generated function."""
    parts = ", ".join(f"r.{f} is None, 0 if r.{f} is None else r.{f}" for f in fields)
    env: dict[str, Any] = {}
    exec(f"def order(r):\n    return ({parts},)", env)  # noqa: S102 - the text is made from mapping field names
    return env["order"]  # type: ignore[no-any-return]


def _engine_options(url: sa.URL, timeout: float) -> dict[str, Any]:
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"connect_args": {"timeout": timeout}}
    if backend in ("mysql", "mariadb"):
        return {"connect_args": {"connect_timeout": int(max(timeout, 1))}}
    return {}


class SqlAdapter:
    """Runs a department's mapping against its database with SQLAlchemy Core, one statement a batch."""

    capabilities = frozenset({"read", "stream", "aggregate"})

    def __init__(self, department: str, mapping: Mapping, url: str, *, connect_timeout: float = 3.0) -> None:
        self.department = department
        self.mapping = mapping
        parsed = async_url(url)
        self.url = parsed
        self.engine: AsyncEngine = create_async_engine(parsed, **_engine_options(parsed, connect_timeout))
        self._entities = {name: _compile(name, spec) for name, spec in mapping.entities.items()}
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

    def _condition(self, ent: _Entity, field: str, cond: Any) -> sa.ColumnElement[bool]:
        col = ent.column(field)
        dump = ent.dumpers[field]
        if cond is None:
            return col.is_(None)
        if isinstance(cond, Prefix):
            return col.like(_escape(cond.value) + "%", escape="\\")
        if isinstance(cond, Contains):
            return col.like("%" + _escape(cond.value) + "%", escape="\\")
        if isinstance(cond, Range):
            parts = []
            if cond.low is not None:
                parts.append(col >= dump(cond.low)[0])
            if cond.high is not None:
                parts.append(col <= dump(cond.high)[0])
            return sa.and_(sa.true(), *parts)
        if isinstance(cond, list | tuple | set | frozenset):
            raw = [r for value in cond for r in dump(value)]
            return col.in_(raw) if raw else sa.false()
        raw = dump(cond)
        return col.in_(raw) if len(raw) != 1 else col == raw[0]

    def _where(self, ent: _Entity, where: Where | None) -> list[sa.ColumnElement[bool]]:
        clauses = []
        for field, cond in (where or {}).items():
            if isinstance(cond, AnyOf):
                alternatives = [sa.and_(sa.true(), *self._where(ent, alt)) for alt in cond.alternatives]
                clauses.append(sa.or_(*alternatives) if alternatives else sa.false())
            else:
                clauses.append(self._condition(ent, field, cond))
        return clauses

    def _select(self, ent: _Entity, where: Where | None) -> sa.Select[Any]:
        return sa.select(*ent.columns.values()).select_from(ent.source).where(*self._where(ent, where))

    async def _rows(self, stmt: sa.Executable) -> Sequence[sa.Row[Any]]:
        self.statements += 1
        try:
            async with self.engine.connect() as conn:
                # Reads need no transaction: autocommit saves the BEGIN/ROLLBACK round trips.
                # A connection that died is invalidated by SQLAlchemy; the next statement reconnects.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return (await conn.execute(stmt)).all()
        except _UNAVAILABLE as exc:
            log.warning("source %s unavailable: %s: %s", self.department, type(exc).__name__, exc)
            raise SourceUnavailable(self.department, type(exc).__name__) from exc

    async def fetch(self, entity: str, field: str, keys: Sequence[Any], where: Where | None = None) -> list[Any]:
        """All records whose `field` is one of `keys`, in one statement, in no particular order."""
        if not keys:
            return []
        ent = self.entity(entity)
        stmt = self._select(ent, {**(where or {}), field: list(keys)})
        build = ent.build
        return [build(row) for row in await self._rows(stmt)]

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
    ) -> list[Any]:
        """Up to `limit` records in `order_by` order after the cursor value (keyset, never OFFSET)."""
        ent = self.entity(entity)
        col = ent.column(order_by)
        stmt = self._select(ent, where).order_by(col).limit(limit)
        if after is not None:
            stmt = stmt.where(col > ent.dumpers[order_by](after)[0])
        return [ent.build(row) for row in await self._rows(stmt)]

    async def stream(
        self, entity: str, *, order_by: str | None = None, where: Where | None = None, chunk_size: int = 5000
    ) -> AsyncIterator[list[Any]]:
        """Every matching record in chunks over a server-side cursor; ID numbers in normalized order."""
        ent = self.entity(entity)
        stmt = self._select(ent, where)
        if order_by is not None:
            col = ent.column(order_by)
            normalize = ent.specs[order_by].normalize
            stmt = stmt.order_by(*(normalized_id_sort_key(col) if normalize == "id_number" else (col,)))
        self.statements += 1
        try:
            async with self.engine.connect() as conn:
                result = await conn.stream(stmt.execution_options(yield_per=chunk_size))
                async for part in result.partitions(chunk_size):
                    yield [ent.build(row) for row in part]
        except _UNAVAILABLE as exc:
            raise SourceUnavailable(self.department, type(exc).__name__) from exc

    async def count(
        self, entity: str, *, group_by: Sequence[str] = (), where: Where | None = None
    ) -> list[tuple[Any, ...]]:
        """Counts per group of canonical field values (converted back to canonical form)."""
        ent = self.entity(entity)
        cols = [ent.column(f) for f in group_by]
        stmt = sa.select(*cols, sa.func.count()).select_from(ent.source).where(*self._where(ent, where))
        if cols:
            stmt = stmt.group_by(*cols)
        loads = [_loader(ent.specs[f]) for f in group_by]
        merged: dict[tuple[Any, ...], int] = {}
        for row in await self._rows(stmt):
            key = tuple(load(v) for load, v in zip(loads, row, strict=False))
            merged[key] = merged.get(key, 0) + row[-1]
        return [(*key, n) for key, n in merged.items()]

    async def ping(self) -> None:
        """Raise SourceUnavailable unless the database answers."""
        await self._rows(sa.select(sa.literal(1)))

    async def close(self) -> None:
        """Release the connection pool."""
        await self.engine.dispose()


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
