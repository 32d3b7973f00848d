"""The one generic SQL adapter: executes any mapping on SQLite, PostgreSQL, MariaDB/MySQL."""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.util.concurrency import await_

from adapters import write
from adapters.base import Capability, Latest, Where
from adapters.breaker import Breaker
from adapters.convert import CONVERTERS, KEY_VARIANTS
from adapters.mapping import ColumnSpec, EntitySpec, Mapping
from adapters.rows import Builder, builder, column_loader, order_key
from adapters.sqlexpr import (
    ORDERED_IN_SQL,
    binary_order,
    canonical_order,
    normalized_id_body,
    normalized_id_sort_key,
)
from adapters.statements import Binder, Shape, params, split
from hub.core.changes import Change
from hub.core.db import async_url
from hub.core.errors import MappingError, SourceUnavailable
from hub.core.slots import away

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    sa.exc.DBAPIError, sa.exc.InterfaceError, asyncpg.PostgresError, asyncpg.InterfaceError,
    OSError, TimeoutError, ConnectionError,
)
_SUMMABLE = frozenset({"int", "yuan_to_fen", "decimal"})  # conversions a SQL SUM may go through (linear in the legacy value)
BACKSTOP = 1.0  # seconds past the statement timeout after which the hub stops waiting whatever the database does
COLUMN_BATCH = 100_000  # rows per Arrow batch of a columnar read (converted one batch at a time)
_TIMEOUT_CODES = (
    1969,  # MariaDB: max_statement_time exceeded
    3024,  # MySQL: max_execution_time exceeded
    sqlite3.SQLITE_BUSY,  # SQLite: still locked when the busy timeout (= the statement timeout) ran out
    sqlite3.SQLITE_INTERRUPT,  # SQLite: stopped by the progress handler at the statement timeout
)


def _timed_out(exc: BaseException) -> bool:
    """Whether a read failed because the source was too slow (a statement or connect timeout)."""
    if isinstance(exc, TimeoutError | asyncpg.QueryCanceledError):
        return True
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    code = getattr(orig, "sqlite_errorcode", None) or (orig.args[0] if orig.args else None)
    return getattr(orig, "sqlstate", None) == "57014" or code in _TIMEOUT_CODES  # 57014: PostgreSQL query_canceled


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
    inner: sa.FromClause | None = None  # the joined table's inner join, when the mapping joins one
    joined: frozenset[str] = frozenset()  # the fields read from the joined table
    base: sa.FromClause | None = None  # the entity's own table, when the mapping joins another
    join_keys: tuple[sa.ColumnElement[Any], ...] = ()  # the joined table's columns the join matches

    def source_for(self, shape: Shape) -> sa.FromClause:
        """The FROM of a read filtered by `shape`: the inner join when a condition on a joined field
        rejects NULL (a value, a list, a pattern, a bound), which a missing joined row cannot meet —
        the same rows, and the database may start from the joined table's index. SQLite keeps a LEFT
        JOIN filtered by `joined.column IN (…)` and scans the whole base table for each read."""
        if self.inner is not None and any(_rejects_null(part) and part[1] in self.joined for part in shape):
            return self.inner
        return self.source

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


def _compile(name: str, spec: EntitySpec, record: type) -> _Entity:
    tables: dict[str | None, set[str]] = {None: set()}
    for col in spec.columns.values():
        tables.setdefault(col.table, set()).add(col.name)
    if spec.join is not None:
        tables.setdefault(spec.join.table, set()).update(spec.join.match.values())
        tables[None].update(spec.join.match)
    base = sa.table(spec.table, *(sa.column(c) for c in sorted(tables[None])))
    source: sa.FromClause = base
    joined = inner = None
    if spec.join is not None:
        joined = sa.table(spec.join.table, *(sa.column(c) for c in sorted(tables[spec.join.table])))
        on = sa.and_(*(base.c[a] == joined.c[b] for a, b in spec.join.match.items()))
        source, inner = base.outerjoin(joined, on), base.join(joined, on)
    columns = {
        field: (joined if col.table else base).c[col.name]  # type: ignore[union-attr]
        for field, col in spec.columns.items()
    }
    ordered = tuple(spec.order) or tuple(spec.columns)  # a mapping's `order` names a unique key of the group
    dumpers = {f: _dumper(c) for f, c in spec.columns.items()}
    keys = tuple(joined.c[b] for b in spec.join.match.values()) if joined is not None and spec.join is not None else ()
    return _Entity(name, record, source, columns, dict(spec.columns), dumpers, ordered, order_key(ordered), {},
                   inner, frozenset(f for f, c in spec.columns.items() if c.table), base if joined is not None else None, keys)


def _rejects_null(part: Shape) -> bool:
    """Whether a shape's condition is false for a NULL value (see `_Entity.source_for`)."""
    return part[0] in ("eq", "in", "like") or (part[0] == "range" and (part[2] or part[3]))


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


def _engine(url: sa.URL, connect_timeout: float, statement_timeout: float, connections: int) -> AsyncEngine:
    """The SQLAlchemy engine of a source: `connections` pooled connections, each statement stopped by
    the database at the statement timeout (not streams, which read for as long as they need)."""
    backend = url.get_backend_name()
    options: dict[str, Any] = {}
    if issubclass(url.get_dialect().get_pool_class(url), sa.pool.QueuePool):  # type: ignore[attr-defined]
        options.update(pool_size=connections, max_overflow=0)  # never more than the source's read limit
    if backend == "postgresql":  # per statement; a stream's statements are its cursor's fetches
        settings = {"statement_timeout": str(int(statement_timeout * 1000))}
        options["connect_args"] = {"timeout": connect_timeout, "server_settings": settings}
    elif backend in ("mysql", "mariadb"):
        options["connect_args"] = {"connect_timeout": int(max(connect_timeout, 1))}
    elif backend == "sqlite":
        options["connect_args"] = {"timeout": statement_timeout}  # how long a read waits for a lock
        # No ROLLBACK when a connection goes back to the pool (a trip to its thread): reads run outside any
        # transaction (`_Qmark`), and a connection that began one (a write, a stream) ends it itself on close.
        options["pool_reset_on_return"] = None
    engine = create_async_engine(url, **options)
    if backend in ("mysql", "mariadb"):
        sa.event.listen(engine.sync_engine, "before_cursor_execute", _mysql_timeout(statement_timeout), retval=True)
    elif backend == "sqlite":
        _sqlite_timeout(engine, statement_timeout)
    return engine


def _streaming(context: Any) -> bool:
    return context is not None and "yield_per" in context.execution_options


def _mysql_timeout(seconds: float) -> Callable[..., tuple[str, Any]]:
    """Each statement but a stream's stopped by the server after `seconds` (MariaDB: lock waits included)."""

    def limit(conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> tuple[str, Any]:
        if _streaming(context) or not statement.startswith("SELECT"):
            return statement, parameters
        if conn.dialect.is_mariadb:  # type: ignore[attr-defined]
            return f"SET STATEMENT max_statement_time={seconds:g} FOR {statement}", parameters
        return f"SELECT /*+ MAX_EXECUTION_TIME({int(seconds * 1000)}) */{statement[6:]}", parameters

    return limit


def _sqlite_timeout(engine: AsyncEngine, seconds: float) -> None:
    """Each SQLite statement but a stream's stopped after `seconds` (waiting for a lock: the busy timeout).

    A progress handler on each connection stops the statement in its own thread once past the
    deadline set when it starts (the deadline lives in the connection's pool record).
    """

    @sa.event.listens_for(engine.sync_engine, "connect")
    def install(dbapi_connection: Any, record: Any) -> None:
        deadline = record.info["deadline"] = [0.0]
        check = lambda: 1 if deadline[0] and time.monotonic() > deadline[0] else 0  # noqa: E731  # nonzero stops it
        await_(record.driver_connection.set_progress_handler(check, 1000))

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def start(conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        deadline = conn.info.get("deadline")
        if deadline is not None:
            deadline[0] = 0.0 if _streaming(context) else time.monotonic() + seconds


_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")
_VALUE = re.compile(r"p(\d+)")  # the Binder's parameters: p<index of the value>


@dataclass(slots=True)
class _Qmark:
    """A read's SQLite text with `?` parameters, run on the driver in one trip to the connection's thread
    (through SQLAlchemy a read is five: cursor, execute, fetch, close, rollback).

    Each positional parameter is a value (by index) or a constant of the statement (SQLite's `OFFSET ?`);
    a list value is one `?` per item, so the text is made once per list lengths."""

    sql: str
    params: tuple[tuple[str, int | None, Any, bool], ...]  # (name, value index, constant, expanding)
    texts: dict[tuple[int, ...], str]

    @classmethod
    def of(cls, stmt: sa.Select[Any], dialect: sa.Dialect) -> _Qmark | None:
        """The statement's plan, or None when a value or a column needs SQLAlchemy's type processing."""
        if any(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in stmt.selected_columns):
            return None
        compiled = stmt.compile(dialect=dialect)
        params = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                return None
            index = _VALUE.fullmatch(name)
            params.append((name, int(index[1]) if index else None, bind.effective_value, bind.expanding))
        return cls(str(compiled), tuple(params), {})

    def bound(self, values: list[Any]) -> tuple[str, list[Any]] | None:
        """(text, parameters) for these values; None for an empty list (SQLAlchemy renders it)."""
        flat: list[Any] = []
        lengths: dict[str, int] = {}
        for name, index, constant, expanding in self.params:
            value = constant if index is None else values[index]
            if not expanding:
                flat.append(value)
                continue
            if not value:
                return None
            flat.extend(value)
            lengths[name] = len(value)
        key = tuple(lengths.values())
        sql = self.texts.get(key)
        if sql is None:
            if len(self.texts) >= 64:
                self.texts.clear()
            sql = self.texts[key] = _POSTCOMPILE.sub(lambda m: ", ".join("?" * lengths[m[1]]), self.sql)
        return sql, flat


@dataclass(slots=True)
class _Statement:
    """A read built once: the SQLAlchemy statement, and where the adapter runs it on the driver directly its
    SQL text and parameter order (asyncpg) or its `?` plan (SQLite)."""

    stmt: sa.Select[Any]
    sql: str
    names: tuple[int, ...]  # asyncpg: positional parameter i is value names[i]
    qmark: _Qmark | None = None  # SQLite


class SqlAdapter:
    """Runs a department's mapping against its database, one statement a batch.

    Statements are built with SQLAlchemy Core and compiled once per shape (adapters.statements).
    On PostgreSQL with asyncpg, reads run on asyncpg directly (a pool of autocommit connections):
    SQLAlchemy's per-execution work cost ~0.4 ms a statement, the driver's ~0.05 ms. Other
    dialects execute the cached statement through SQLAlchemy. Streaming always goes through
    SQLAlchemy (server-side cursors). Every row read is converted: nothing is kept between reads.
    """

    capabilities = Capability.READ | Capability.STREAM | Capability.AGGREGATE  # and WRITE where the department grants writes

    def __init__(
        self, department: str, mapping: Mapping, url: str, *, connect_timeout: float = 3.0,
        retry_seconds: float = 5.0, statement_timeout: float = 10.0, max_concurrent_reads: int = 8, writes: bool = False,
    ) -> None:
        self.department = department
        self.mapping = mapping
        if mapping.capabilities is not None:  # the department's own limit on what the adapter can do
            allowed = Capability(0)
            for name in mapping.capabilities:
                allowed |= Capability[name.upper()]
            self.capabilities = type(self).capabilities & allowed
        if writes:
            self.capabilities = self.capabilities | Capability.WRITE
        self._writers = write.writers(mapping)
        self._ledger_ready = False
        parsed = async_url(url)
        self.url = parsed
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.max_concurrent_reads = max_concurrent_reads
        self._turns = asyncio.Semaphore(max_concurrent_reads)  # statements and streams at once
        self.breaker = Breaker(department, retry_seconds)  # after a failed connect or a timeout, fail at once for a while
        self.engine = _engine(parsed, connect_timeout, statement_timeout, max_concurrent_reads)
        self.arrays = parsed.get_backend_name() == "postgresql"
        self._native = parsed.drivername == "postgresql+asyncpg"
        self._qmark = parsed.drivername == "sqlite+aiosqlite"
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._specs = {name: spec for name, (spec, _) in mapping.readable().items()}
        self._entities = {name: _compile(name, spec, record) for name, (spec, record) in mapping.readable().items()}
        self._statements: dict[tuple[Any, ...], _Statement] = {}
        self.statements = 0  # executed statements (hub/metrics.py, tests, benchmarks)
        self.rows = 0  # rows read by those statements (hub/metrics.py)
        self.tracer: Any = None  # an OpenTelemetry tracer: a span per read (hub/tracing.py)

    def entity(self, name: str) -> _Entity:
        try:
            return self._entities[name]
        except KeyError:
            raise MappingError(
                f"数据源「{self.department}」不提供 {name} / source '{self.department}' has no entity {name}"
            ) from None

    def entities(self) -> tuple[str, ...]:
        """The entities this source's mapping provides."""
        return tuple(self._entities)

    def supports(self, entity: str) -> bool:
        """Whether this source's mapping provides an entity."""
        return entity in self._entities

    def scope_field(self, entity: str) -> str | None:
        """The field of an entity that holds the department's unit code (for row scope)."""
        spec = self._specs.get(entity)
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
            qmark = _Qmark.of(stmt, self.engine.dialect) if self._qmark else None
            found = self._statements[key] = _Statement(stmt, sql, names, qmark)
        return found

    async def _native_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._pool_lock:
                if self._pool is None:
                    dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
                    self._pool = await asyncpg.create_pool(
                        dsn, min_size=0, max_size=self.max_concurrent_reads, timeout=self.connect_timeout,
                        reset=_keep_session, server_settings={"statement_timeout": str(int(self.statement_timeout * 1000))},
                    )
        return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        """A SQLAlchemy connection, made through the breaker within the connect timeout (which not every
        driver applies to the whole handshake: asyncmy waits for a silent server's greeting forever).

        The pool has a connection for each of the source's turns (`_turn`), so taking one never waits
        for another read to give one back: a wait here is the connect itself.
        """
        conn = await self.breaker.connect(asyncio.wait_for(self.engine.connect().start(), self.connect_timeout))
        try:
            yield conn
        except (asyncio.CancelledError, TimeoutError):
            await conn.invalidate()  # stopped mid-statement (a timeout, a cancelled request): not reused
            raise
        finally:
            await conn.close()

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """One of the source's `max_concurrent_reads` places, waited for at most the statement timeout.

        A read that cannot get one in time fails as "busy": that is contention (the source's own
        statements are each stopped at the timeout), not a failure of the source, so the breaker stays closed.
        """
        span = nullcontext() if self.tracer is None else self.tracer.start_as_current_span(
            "source read", attributes={"hub.source": self.department})
        with span:  # OpenTelemetry (hub/tracing.py), when configured
            trial = self.breaker.admit()  # a source known down fails at once (no statement runs)
            try:
                try:
                    async with asyncio.timeout(self.statement_timeout):
                        await self._turns.acquire()
                except TimeoutError:
                    raise SourceUnavailable(self.department, "busy") from None
                try:
                    trial = self.breaker.admit(trial)  # it may have failed while this read waited
                    self.statements += 1
                    yield
                    self.breaker.close()
                finally:
                    self._turns.release()
            finally:
                if trial:
                    self.breaker.end_trial()  # if it neither closed nor tripped the breaker

    def _failed(self, exc: BaseException) -> SourceUnavailable:
        """The error a read reports; a timeout also opens the breaker."""
        log.warning("source %s unavailable: %s: %s", self.department, type(exc).__name__, exc)
        reason = "timeout" if _timed_out(exc) else type(exc).__name__
        if reason == "timeout":
            self.breaker.trip(reason)
        return SourceUnavailable(self.department, reason)

    async def _run(self, statement: _Statement, values: list[Any]) -> Sequence[Any]:
        """The rows of a compiled statement for these values (SourceUnavailable if the database fails).

        The database stops the statement at the statement timeout; the hub stops waiting `BACKSTOP`
        seconds later whatever the database does. While the read waits, its operation's slot may go
        to another operation (hub/core/slots.py).
        """
        async with away(), self._turn():
            try:
                async with asyncio.timeout(self.statement_timeout + BACKSTOP):
                    rows = await self._execute(statement, values)
                    self.rows += len(rows)
                    return rows
            except _UNAVAILABLE as exc:
                raise self._failed(exc) from exc

    async def _execute(self, statement: _Statement, values: list[Any]) -> Sequence[Any]:
        if self._native:
            pool = await self._native_pool()
            native = await self.breaker.connect(pool.acquire())
            try:
                return await native.fetch(statement.sql, *(values[i] for i in statement.names))  # type: ignore[no-any-return]
            finally:
                await pool.release(native)
        bound = statement.qmark.bound(values) if statement.qmark else None
        if bound is not None:
            return await self._sqlite(*bound)
        async with self._connection() as conn:
            # Reads need no transaction: autocommit saves the BEGIN/ROLLBACK round trips.
            # A connection that died is invalidated by SQLAlchemy; the next statement reconnects.
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return (await conn.execute(statement.stmt, params(values))).all()

    async def _sqlite(self, sql: str, args: list[Any]) -> Sequence[Any]:
        """A read on SQLite in one trip to the connection's thread, stopped at the statement timeout like the others."""
        async with self._connection() as conn:
            raw = await conn.get_raw_connection()
            deadline = raw.info.get("deadline")  # the progress handler's (_sqlite_timeout)
            if deadline is not None:
                deadline[0] = time.monotonic() + self.statement_timeout
            try:
                return await raw.driver_connection.execute_fetchall(sql, args)  # type: ignore[union-attr,no-any-return]
            except sqlite3.Error as exc:
                raise sa.exc.DBAPIError(sql, args, exc) from exc

    async def fetch(
        self, entity: str, field: str, keys: Sequence[Any], where: Where | None = None,
        fields: Collection[str] | None = None, latest: Latest | None = None,
    ) -> list[Any]:
        """All records whose `field` is one of `keys`, in one statement, in no particular order.

        `fields` is a projection: only those fields (and the key and order fields) are read.
        `latest`: only each key's newest `count` records by `by`, chosen by the database with a
        window function (RANK over the key column) where `by`'s converter has an order SQL can
        compute (adapters.sqlexpr.canonical_order); otherwise every record, for the caller to pick.
        RANK, not ROW_NUMBER: records tied on `by` at the `count`-th place all come (two payee records
        of one person in the same month), so the caller's own order breaks the tie, not the database's
        arbitrary pick. A key spelled several ways in the legacy column gets its newest per spelling:
        a superset too.
        """
        if not keys:
            return []
        ent = self.entity(entity)
        projection = ent.projection(fields, field, *((latest.by,) if latest else ()))
        shape, values = split({**(where or {}), field: list(keys)}, ent.dumper)
        # Whether the database picks the newest: the converter has an order SQL computes (built with the statement).
        ranked = latest is not None and ent.specs[latest.by].convert in ORDERED_IN_SQL
        if ranked:
            values.append(latest.count)  # type: ignore[union-attr]

        def make(b: Binder) -> sa.Select[Any]:
            selected = ent.selected(projection)
            if not ranked:
                return sa.select(*selected).select_from(ent.source_for(shape)).where(*b.clauses(shape))
            newest = canonical_order(ent.column(latest.by), ent.specs[latest.by].convert)  # type: ignore[union-attr]
            assert newest is not None  # ORDERED_IN_SQL
            rank = sa.func.rank().over(  # nulls last on every dialect (PostgreSQL puts them first in DESC)
                partition_by=ent.column(field), order_by=(newest.is_(None), newest.desc()))
            inner = (sa.select(*(c.label(f"c{i}") for i, c in enumerate(selected)), rank.label("n"))
                     .select_from(ent.source_for(shape)).where(*b.clauses(shape)).subquery())
            return sa.select(*(inner.c[f"c{i}"] for i in range(len(selected)))).where(inner.c.n <= b.param())

        key = ("fetch", entity, projection, shape, latest.by if ranked else None)  # type: ignore[union-attr]
        statement = self._statement(key, make)
        build = ent.builder(projection)
        return [build(row) for row in await self._run(statement, values)]

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
            return sa.select(*ent.selected(projection)).select_from(ent.source_for(shape)).where(*conds).order_by(col).limit(b.param())

        statement = self._statement(("scan", entity, projection, shape, order_by, after is not None), make)
        build = ent.builder(projection)
        return [build(row) for row in await self._run(statement, values)]

    async def stream(
        self, entity: str, *, order_by: str | None = None, where: Where | None = None, chunk_size: int = 5000
    ) -> AsyncIterator[list[Any]]:
        """Every matching record in chunks over a server-side cursor; ID numbers in normalized order."""
        ent = self.entity(entity)
        shape, values = split(where, ent.dumper)
        stmt = sa.select(*ent.columns.values()).select_from(ent.source_for(shape)).where(*Binder(ent.column, self.arrays).clauses(shape))
        if order_by is not None:
            col = ent.column(order_by)
            normalize = ent.specs[order_by].normalize
            stmt = stmt.order_by(*(normalized_id_sort_key(col) if normalize == "id_number" else (col,)))
        build = ent.builder(tuple(ent.columns))
        async with self._turn():  # a stream holds one of the source's places until it ends
            try:
                async with self._connection() as conn:
                    result = await conn.stream(stmt.execution_options(yield_per=chunk_size), params(values))
                    async for part in result.partitions(chunk_size):
                        self.rows += len(part)
                        yield [build(row) for row in part]
            except _UNAVAILABLE as exc:
                raise self._failed(exc) from exc

    async def columns(self, entity: str, fields: Sequence[str], equal: dict[str, Any] | None = None,
                      latest: str | None = None) -> pl.DataFrame:
        """Every record's `fields` as canonical columns (adapters.columns), optionally where a field equals a
        canonical value (or one of a list): one statement, read through ConnectorX where it reads the backend,
        else as raw rows. `latest` (a field whose converter has an order SQL computes): one row per value of
        the other fields, with the greatest value of that field."""
        import connectorx as cx  # here: the hub's other paths never load ConnectorX or Polars

        from adapters import columns

        ent = self.entity(entity)
        conds = [ent.column(f).in_([x for v in (vs if isinstance(vs, list) else [vs]) for x in ent.dumper(f)(v)])
                 for f, vs in (equal or {}).items()]
        wanted, fields = fields, [f for f in fields if f in ent.columns]
        order = None if latest is None else canonical_order(ent.column(latest), ent.specs[latest].convert)
        if latest is not None and order is None:
            raise MappingError(f"{entity}.{latest} 无法在数据库中排序 / cannot be ordered in SQL")
        labels = [(sa.func.max(order) if f == latest else ent.column(f)).label(f"c{i}") for i, f in enumerate(fields)]
        source = ent.source
        if ent.base is not None and not ent.joined & {*fields, *(equal or {})} and await self._join_repeats_nothing(ent):
            source = ent.base  # the same rows without a lookup in the joined table per row
        stmt = sa.select(*labels).select_from(source).where(*conds)
        if latest is not None:
            stmt = stmt.group_by(*(ent.column(f) for f in fields if f != latest))
        url = columns.cx_url(self.url)
        async with self._turn():
            if url is not None:
                sql = columns.literal_sql(stmt, self.engine.dialect)

                def read() -> pl.DataFrame:  # Arrow batches converted as they come: one raw batch in memory at a time
                    try:
                        reader = cx.read_sql(url, sql, return_type="arrow_stream", batch_size=COLUMN_BATCH)
                    except Exception as exc:  # noqa: BLE001 - ConnectorX raises its own (Rust) error types
                        raise columns.ReadFailed(str(exc)) from exc
                    return columns.batches(reader, fields, ent.specs, ent.record, wanted)

                try:  # in a thread: the event loop stays free for the hub's other requests
                    frame = await asyncio.to_thread(read)
                except columns.ReadFailed as exc:
                    log.warning("ConnectorX could not read %s (%s); reading raw rows", self.department, exc)
                else:
                    self.rows += frame.height
                    return frame
            try:
                async with self._connection() as conn:
                    rows = (await conn.execute(stmt)).all()
            except _UNAVAILABLE as exc:
                raise self._failed(exc) from exc
            self.rows += len(rows)
            return columns.typed(await asyncio.to_thread(columns.from_rows, rows, fields, ent.specs), ent.record, wanted)

    async def _join_repeats_nothing(self, ent: _Entity) -> bool:
        """Whether no two rows of the joined table share the key the join matches (one statement, answered
        from an index on the key where there is one): then the mapping's outer join gives exactly the rows of
        the entity's own table, and a read of none of the joined fields can leave the join out."""
        keys = ent.join_keys

        def make(b: Binder) -> sa.Select[Any]:
            one: sa.ColumnElement[Any] = sa.literal_column("1")  # constants written in: a statement's parameters are the Binder's
            return (sa.select(one).where(*(k.is_not(None) for k in keys)).group_by(*keys)
                    .having(sa.func.count() > one).limit(b.param()))

        return not await self._run(self._statement(("join_repeats", ent.name), make), [1])

    async def count(
        self, entity: str, *, group_by: Sequence[str] = (), where: Where | None = None
    ) -> list[tuple[Any, ...]]:
        """Counts per group of canonical field values (converted back to canonical form)."""
        ent = self.entity(entity)
        cols = [ent.column(f) for f in group_by]
        shape, values = split(where, ent.dumper)

        def make(b: Binder) -> sa.Select[Any]:
            stmt = sa.select(*cols, sa.func.count()).select_from(ent.source_for(shape)).where(*b.clauses(shape))
            return stmt.group_by(*cols) if cols else stmt

        loads = [column_loader(ent.specs[f]) for f in group_by]
        merged: dict[tuple[Any, ...], int] = {}
        for row in await self._run(self._statement(("count", entity, tuple(group_by), shape), make), values):
            key = tuple(load(v) for load, v in zip(loads, row, strict=False))
            merged[key] = merged.get(key, 0) + row[-1]
        return [(*key, n) for key, n in merged.items()]

    async def distinct(self, entity: str, field: str) -> list[Any]:
        """The distinct canonical values of a field (nulls and values converting to nothing left out), in one
        statement: a loose index scan, each step the least legacy value above the last (a recursive CTE), so an
        index on the column answers it in as many seeks as there are values instead of reading every row.

        A field of the entity's own table is read from that table alone (the mapping's outer join keeps
        every row of it, so its values are the same); a joined field through the join.
        """
        ent = self.entity(entity)
        col = ent.column(field)
        source = ent.source if field in ent.joined else col.table

        def make(b: Binder) -> sa.Select[Any]:
            seen = sa.select(sa.func.min(col).label("v")).select_from(source).cte("hub_distinct", recursive=True)
            above = sa.select(sa.func.min(col)).select_from(source).where(col > seen.c.v).scalar_subquery()
            steps = seen.union_all(sa.select(above).where(seen.c.v.is_not(None)))
            return sa.select(steps.c.v).where(steps.c.v.is_not(None))

        load = column_loader(ent.specs[field])
        rows = await self._run(self._statement(("distinct", entity, field), make), [])
        return list({v: None for v in (load(row[0]) for row in rows) if v is not None and v != ""})

    async def apply(self, changes: Sequence[Change]) -> int:
        """WRITE: apply changes in one transaction, each at most once (adapters/write.py: the ledger);
        how many were applied. A change the database cannot take (ChangeRejected) writes nothing.

        Reads need no invalidation after it: statements read the database each time.
        """
        if Capability.WRITE not in self.capabilities:
            raise write.ChangeRejected(f"部门「{self.department}」未授权写入（HUB_SOURCE_{self.department.upper()}_WRITES） / "
                                       f"department {self.department!r} does not grant writes")
        plans = []
        for change in changes:  # every change checked before anything is written
            writer = self._writers.get(change.entity)
            if writer is None or change.department != self.department:
                raise write.ChangeRejected(f"部门「{self.department}」不可写 {change.entity} / {change.department}.{change.entity} "
                                           f"is not a writable entity of source {self.department!r}")
            plans.append((change, writer.statement(change)))
        if not plans:
            return 0
        async with away(), self._turn():
            try:
                async with asyncio.timeout(self.statement_timeout * (len(plans) + 2) + BACKSTOP), self._connection() as conn:
                    if not self._ledger_ready:
                        await write.ensure_ledger(conn)
                        self._ledger_ready = True
                    async with conn.begin():
                        return await write.apply(conn, plans)
            except (sa.exc.IntegrityError, sa.exc.DataError, sa.exc.ProgrammingError) as exc:
                raise write.ChangeRejected(f"部门「{self.department}」数据库拒绝了变更 / the {self.department} database refused "
                                           f"the changes: {type(exc.orig).__name__}: {exc.orig}") from exc
            except _UNAVAILABLE as exc:
                raise self._failed(exc) from exc

    async def aggregate(
        self, entity: str, *, group_by: Sequence[str] = (), sums: Sequence[str] = (), distinct: str | None = None,
        per_person: str | None = None, where: Where | None = None,
    ) -> list[tuple[Any, ...]]:
        """Per group of canonical field values: (values..., rows, distinct `distinct` values, sums...), one statement.

        `per_person` keeps each person's first record (by the normalized ID number, ordered by the
        mapping's `order`, nulls last as `order_key` sorts them) before grouping: DISTINCT ON on
        PostgreSQL, elsewhere ROW_NUMBER, a window function (SQLite >= 3.25, MariaDB >= 10.2, MySQL 8). Legacy values
        that map to one canonical value (two spellings of one education code) are merged here.
        """
        ent = self.entity(entity)
        shape, values = split(where, ent.dumper)
        fields = (*group_by, *sums, *((distinct,) if distinct else ()))
        for f in fields:
            ent.column(f)
        summed = {f: ent.specs[f].convert for f in sums}
        if bad := sorted(f for f, c in summed.items() if c not in _SUMMABLE):
            raise MappingError(f"{entity} 的字段 {bad} 不能求和（换算不是线性的） / {entity}.{bad} cannot be summed in SQL: "
                               f"their conversions are not one of {sorted(_SUMMABLE)}")

        def make(b: Binder) -> sa.Select[Any]:
            conds = b.clauses(shape)
            cols = {f: ent.column(f) for f in fields}
            source = ent.source_for(shape)
            if per_person is not None:
                person = ent.column(per_person)
                order = [t for f in ent.order_fields for t in (ent.column(f).is_(None), ent.column(f))]
                named: list[sa.ColumnElement[Any]] = [c.label(f"c{i}") for i, c in enumerate(cols.values())]
                if self.arrays:
                    # PostgreSQL: DISTINCT ON keeps each person's first row after one sort, without the window's
                    # row numbers (~20% of the statement). The body reversed: the same partitions, but leading
                    # bytes that differ (not the shared region and birth year), so the sort compares less.
                    body = binary_order(sa.func.reverse(normalized_id_body(person), type_=sa.String))
                    inner = sa.select(*(named or [sa.literal_column("1")])).ext(distinct_on(body)).order_by(body, *order)  # a column, even to count
                    sub = inner.select_from(source).where(*conds, person.is_not(None)).subquery()
                    source, conds = sub, []
                else:
                    # partitioned by the body's bytes: sorted by memcmp, not by the locale's rules
                    rank = sa.func.row_number().over(partition_by=normalized_id_sort_key(person), order_by=order)
                    inner = sa.select(*named, rank.label("hub_rank"))
                    sub = inner.select_from(source).where(*conds, person.is_not(None)).subquery()
                    # `<= 1`, not `= 1` (the same rows): estimated as a third of the rows, not 0.5%, the rows
                    # are grouped in a hash table instead of all sorted. A literal: no bind parameter.
                    source, conds = sub, [sub.c.hub_rank <= sa.literal_column("1")]
                cols = {f: sub.c[f"c{i}"] for i, f in enumerate(cols)}
            keys = [cols[f] for f in group_by]
            counted = sa.func.count(sa.distinct(cols[distinct])) if distinct else sa.func.count()
            # Summed as integers whatever the legacy type (a level kept as text): what `convert: int` reads.
            stmt = sa.select(*keys, sa.func.count(), counted, *(
                sa.func.sum(sa.cast(cols[f], sa.BigInteger) if summed[f] == "int" else cols[f]) for f in sums))
            stmt = stmt.select_from(source).where(*conds)
            return stmt.group_by(*keys) if keys else stmt

        key = ("aggregate", entity, tuple(group_by), tuple(sums), distinct, per_person, shape)
        rows = await self._run(self._statement(key, make), values)
        if not rows:
            return []
        # Column by column (map and zip loop in C): each distinct legacy value of a group column converted
        # once; counts as integers; each sum in the canonical unit (a yuan sum becomes fen once, after summing).
        columns = list(zip(*rows, strict=True))
        width = len(group_by)
        keys = [list(map(_Converted(column_loader(ent.specs[f])).__getitem__, c)) for f, c in zip(group_by, columns, strict=False)]
        numbers = [list(map(int, columns[width])), list(map(int, columns[width + 1])), *(
            list(map(_total(int if summed[f] == "int" else CONVERTERS[summed[f]].load), c))
            for f, c in zip(sums, columns[width + 2:], strict=True))]
        if not width:  # no GROUP BY: its one row
            return [tuple(n[0] for n in numbers)]
        if len(set(zip(*keys, strict=True))) == len(rows):  # one row per canonical group
            return list(zip(*keys, *numbers, strict=True))
        merged: dict[tuple[Any, ...], list[int]] = {}  # legacy values that stand for one canonical value
        for group, *values in zip(zip(*keys, strict=True), *numbers, strict=True):
            found = merged.setdefault(group, [0] * len(values))
            for i, v in enumerate(values):
                found[i] += v
        return [(*group, *totals) for group, totals in merged.items()]

    async def sample(self, entity: str, limit: int = 1000) -> tuple[tuple[str, ...], Sequence[Any]]:
        """Up to `limit` raw rows of an entity's mapped columns, unconverted: (the fields, in column order; the rows).
        What `hub sources check` tests the mapping's conversions on (adapters/sampling.py)."""
        ent = self.entity(entity)
        fields = tuple(ent.columns)

        def make(b: Binder) -> sa.Select[Any]:
            return sa.select(*ent.selected(fields)).select_from(ent.source).limit(b.param())

        return fields, await self._run(self._statement(("sample", entity), make), [limit])

    async def ping(self) -> None:
        """Raise SourceUnavailable unless one row of every mapped table can be read (a locked table cannot)."""
        for ent in self._entities.values():
            def make(b: Binder, ent: _Entity = ent) -> sa.Select[Any]:
                return sa.select(sa.literal_column("1")).select_from(ent.source).limit(b.param())

            await self._run(self._statement(("ping", ent.name), make), [1])

    async def close(self) -> None:
        """Release the connection pools."""
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), self.connect_timeout)
            except (TimeoutError, *_UNAVAILABLE):
                self._pool.terminate()
            self._pool = None
        await self.engine.dispose()


class _Converted(dict[Any, Any]):
    """Legacy value -> canonical value, each converted once (a GROUP BY's column holds few distinct values)."""

    def __init__(self, load: Callable[[Any], Any]) -> None:
        super().__init__()
        self.load = load

    def __missing__(self, raw: Any) -> Any:
        found = self[raw] = self.load(raw)
        return found


def _total(load: Callable[[Any], Any]) -> Callable[[Any], int]:
    """A SUM's value in the canonical unit; 0 for NULL (a group whose values are all NULL)."""
    return lambda v: 0 if v is None else load(v) or 0


async def _keep_session(conn: Any) -> None:
    """Connections are returned to the pool as they are: reads change no session state."""
