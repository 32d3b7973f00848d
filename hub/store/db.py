"""Opening the hub store: an async engine over SQLite (default) or PostgreSQL, at the migrations' head."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.core.db import async_url, sync_url
from hub.core.errors import StoreBehind

MIGRATIONS = Path(__file__).parent / "migrations"
# Connections a PostgreSQL store opens at most, each kept once made; a checkout waits while all are out.
# A pool that keeps fewer closes the others when they are given back, and the next one costs a connect,
# a server process and its statements prepared again: with SQLAlchemy's 5 kept and 10 more, about one
# connect per onboarding under load (bench/workflow.py).
POOL_SIZE = 20
log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC (what the store writes)."""
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as aware UTC (SQLite hands times back naive)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def _prepare_sqlite(url: sa.URL) -> None:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def alembic_config() -> Config:
    """An Alembic configuration pointing at the shipped migrations (no alembic.ini)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade(url: str | sa.URL, revision: str = "head") -> None:
    """Migrate the store at `url` to `revision` (synchronous; creates an SQLite file's directory)."""
    parsed = sync_url(url)
    _prepare_sqlite(parsed)
    engine = sa.create_engine(parsed)
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


class Store:
    """The hub's own database; `begin()` is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.lock = asyncio.Lock()  # one check run at a time per process
        self.background: set[asyncio.Task[Any]] = set()  # runs started by a request, kept until done

    @property
    def dialect(self) -> str:
        """The backend name (sqlite, postgresql)."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction, committed on success.

        On SQLite the transaction begins IMMEDIATE: it takes the database's write lock at once
        (waiting up to the connect timeout), so what it reads before writing cannot change under it,
        and two writers never both hold a read lock each waits to upgrade ("database is locked").
        PostgreSQL runs READ COMMITTED: its writes are compare-and-set (hub/store/lifecycle.py) or
        guarded by unique constraints.
        """
        async with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

    @asynccontextmanager
    async def single(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a write that is one statement on PostgreSQL — its own transaction there, with no BEGIN
        and COMMIT round trips — and may take several on SQLite, in one transaction (`begin`)."""
        if self.dialect == "sqlite":
            async with self.begin() as conn:
                yield conn
        else:
            async with self.connect() as conn:
                yield conn

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads. On PostgreSQL it reads in autocommit: READ COMMITTED gives each statement
        its own snapshot anyway, and no BEGIN and ROLLBACK travel to the server around the reads."""
        async with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def sync_engine(self) -> sa.Engine:
        """A synchronous engine on the same database, for work done on a thread of its own."""
        url = sync_url(self.engine.url)
        engine = sa.create_engine(url, **_engine_options(url))
        if url.get_backend_name() == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_wal)
        return engine

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run a coroutine in the background, holding a reference until it finishes."""
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:  # recorded by the task itself (a FAILED run)
            log.warning("background task failed: %s", task.exception())

    async def close(self) -> None:
        """Wait for background runs to stop, then release the connection pool."""
        for task in list(self.background):
            task.cancel()
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        await self.engine.dispose()


def _engine_options(url: sa.URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": 30}}
    # No ping before each checkout (a round trip every time): a connection the server dropped fails its
    # statement, and SQLAlchemy then renews the pool's connections.
    return {"pool_size": POOL_SIZE, "max_overflow": 0}


def head() -> str:
    """The latest revision of the shipped migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current(conn: sa.Connection) -> str:
    """The revision a store is at ("" before its first migration)."""
    return MigrationContext.configure(conn).get_current_revision() or ""


async def open_store(url: str | sa.URL, *, migrate: bool = False) -> Store:
    """The store at `url`: migrated to the latest revision with `migrate`, else it must be there already.

    Without `migrate` a store at another revision raises StoreBehind naming `hub db upgrade`:
    migrations run once, by that command, not by every process that starts.
    """
    parsed = async_url(url)
    if migrate:
        await asyncio.to_thread(upgrade, parsed)
    else:
        _prepare_sqlite(parsed)
    engine = create_async_engine(parsed, **_engine_options(parsed))
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_wal)
    if not migrate:
        try:
            async with engine.connect() as conn:
                at_head(await conn.run_sync(current))
        except BaseException:
            await engine.dispose()
            raise
    return Store(engine)


def at_head(revision: str) -> None:
    """Raise StoreBehind, naming `hub db upgrade`, unless `revision` is the latest."""
    if revision != (latest := head()):
        raise StoreBehind(
            f"枢纽库版本 {revision or '（空）'} 落后于 {latest}，请先运行 `hub db upgrade` / the hub store is at revision "
            f"{revision or '(empty)'}, not {latest}: run `hub db upgrade` first", revision=revision, head=latest)


def revision(url: str | sa.URL) -> str:
    """The revision of the store at `url` (synchronous; "" for an SQLite file not made yet, which it does not make)."""
    parsed = sync_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        return ""
    engine = sa.create_engine(parsed)
    try:
        with engine.connect() as conn:
            return current(conn)
    finally:
        engine.dispose()


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    """Write-ahead log without a sync per commit: a commit costs microseconds, not milliseconds.

    Answers wait for their audit entry's commit (hub/store/audit.py). In WAL mode with
    `synchronous=NORMAL` a committed transaction survives the hub being killed, though not a power
    cut or an operating system crash (the last commits may be lost); PostgreSQL stores are durable
    at commit.
    """
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode")
    if str(cursor.fetchone()[0]).lower() != "wal":  # set once, by the first connection: setting it again while
        cursor.execute("PRAGMA journal_mode=WAL")  # another process writes fails "database is locked" at once
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
