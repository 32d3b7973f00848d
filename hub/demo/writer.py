"""Bulk writing of legacy rows: chunked executemany (COPY on PostgreSQL), indexes built after the load,
some departments from a second process."""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import pickle
import sqlite3
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from hub.core.db import sync_url
from hub.demo.education import TABLES as EDUCATION_TABLES
from hub.demo.legacy import DEPARTMENT_TABLES

JOINED_TABLES = {"education": EDUCATION_TABLES}  # the departments the demo joins the integrator's way


class _Database:
    """One target database (several departments may share it) through one raw DBAPI connection."""

    def __init__(self, url: sa.URL) -> None:
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect
        self.connection = self.engine.connect()  # not raw_connection(): its connect errors come unwrapped
        self.raw: Any = self.connection.connection
        if self.dialect.name == "sqlite":
            self.run("PRAGMA synchronous=OFF")  # a generated file: durability per chunk is not needed
            # Dates as ISO text, as SQLAlchemy's Date stores them: the sqlite3 module's own default
            # adapter (deprecated since Python 3.12), registered explicitly, so the driver converts
            # them while binding instead of a copy of every row.
            sqlite3.register_adapter(dt.date, dt.date.isoformat)

    def run(self, sql: str) -> None:
        cursor = self.raw.cursor()
        cursor.execute(sql)
        cursor.close()

    def ddl(self, element: sa.schema.ExecutableDDLElement) -> None:
        self.run(str(element.compile(dialect=self.dialect)))

    def close(self) -> None:
        try:
            self.raw.commit()
        finally:
            self.connection.close()
            self.engine.dispose()


Expand = Callable[[list[Any]], Iterable[tuple]]  # a table's buffered records -> its rows


class Sink:
    """Buffers rows per legacy table and inserts them in chunks into the table's database.

    `expand` names tables whose buffers hold records that become rows only when written (the pay
    lines: one record per payee). The departments in `away` are written by a second process, a
    Sink of their own that gets their chunks through a pipe, so that their inserts (and the rows
    expanded there) run beside the generation on another core; a department whose database
    another department shares stays here (two writers would lock each other out of one file)."""

    def __init__(
        self,
        targets: dict[str, str],
        chunk: int = 10_000,
        expand: dict[str, Expand] | None = None,
        away: tuple[str, ...] = (),
    ) -> None:
        self.chunk = chunk
        self.expand = expand or {}
        self.databases: dict[str, _Database] = {}
        self.where: dict[str, _Database | _Away] = {}
        self.tables: dict[str, sa.Table] = {}
        # Rows queued per table (generators append to these lists, which stay the same objects);
        # the next `flush_full` writes a table's once it holds a chunk's worth.
        self.buffers: dict[str, list[Any]] = {}
        self.sql: dict[str, str] = {}
        self.created: list[str] = []
        self.away: _Away | None = None
        try:
            self._connect(targets, away)
        except BaseException:
            self.close()
            raise

    def _connect(self, targets: dict[str, str], away: tuple[str, ...]) -> None:
        keys = {d: sync_url(url).render_as_string(hide_password=False) for d, url in targets.items()}
        shared = {k for d, k in keys.items() for e, other in keys.items() if d != e and k == other}
        remote = {d: targets[d] for d in away if d in targets and keys[d] not in shared}
        if remote:
            self.away = _Away(remote, self.chunk, self.expand)
        for department, url in targets.items():
            sync = sync_url(url)
            here = department not in remote
            db = self.databases.get(keys[department]) or (
                self.databases.setdefault(keys[department], _Database(sync)) if here else None
            )
            for table in DEPARTMENT_TABLES.get(department) or JOINED_TABLES[department]:
                self.where[table.name] = db or self.away  # type: ignore[assignment]
                self.tables[table.name], self.buffers[table.name] = table, []
                if db:
                    self.sql[table.name] = self._insert(db, table)

    @staticmethod
    def _insert(db: _Database, table: sa.Table) -> str:
        quote = db.dialect.identifier_preparer.quote
        columns = ", ".join(quote(c.name) for c in table.columns)
        if db.dialect.name == "postgresql":
            return f"COPY {quote(table.name)} ({columns}) FROM STDIN"
        mark = "?" if db.dialect.paramstyle == "qmark" else "%s"
        return (
            f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({', '.join([mark] * len(table.columns))})"
        )

    def create(self) -> None:
        """Drop the legacy tables if they exist and create them (indexes come after the load)."""
        if self.away:
            self.away.call("create")
        for name, table in self.tables.items():
            db = self.where[name]
            if isinstance(db, _Database):
                db.ddl(DropTable(table, if_exists=True))
                db.ddl(CreateTable(table))
                self.created.append(name)
        for db in self.databases.values():
            db.raw.commit()

    def flush_full(self) -> None:
        """Write every table whose buffer holds at least a chunk."""
        for table, buffer in self.buffers.items():
            if len(buffer) >= self.chunk:
                self.flush(table)

    def flush(self, table: str) -> None:
        """Write and commit a table's buffered rows (or hand them to the process that writes them)."""
        rows, db = self.buffers[table], self.where[table]
        if not rows:
            return
        if isinstance(db, _Away):
            db.send(table, rows)
        else:
            made = self.expand[table](rows) if table in self.expand else rows
            cursor = db.raw.cursor()
            if db.dialect.name == "postgresql":
                with cursor.copy(self.sql[table]) as copy:
                    for row in made:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql[table], made)
            cursor.close()
            db.raw.commit()
        rows.clear()

    def finish(self, progress: Any = None) -> None:
        """Flush everything and build the indexes (those away are built there meanwhile)."""
        for name in self.tables:
            self.flush(name)
        if self.away:
            self.away.start("finish")
        here = [name for name in self.tables if isinstance(self.where[name], _Database)]
        for done, name in enumerate(here, 1):
            db = self.where[name]
            assert isinstance(db, _Database)
            for index in sorted(self.tables[name].indexes, key=lambda ix: ix.name or ""):
                db.ddl(CreateIndex(index))
            db.raw.commit()
            if progress:
                progress("indexes", done, len(self.tables))
        if self.away:
            self.away.wait()
        if progress:
            progress("indexes", len(self.tables), len(self.tables))

    def discard(self) -> None:
        """After a failure: drop every table `create` made, so no half-written database is left."""
        if self.away:
            with contextlib.suppress(Exception):  # a process that died has written nothing more
                self.away.call("discard")
        for name in reversed(self.created):
            db = self.where[name]
            assert isinstance(db, _Database)
            with contextlib.suppress(Exception):  # a database that went away keeps what it has
                db.raw.rollback()
                db.ddl(DropTable(self.tables[name], if_exists=True))
                db.raw.commit()
        self.created.clear()

    def close(self) -> None:
        """Commit and close every connection, end the second process (safe to call twice)."""
        try:
            if self.away:
                self.away.close()
        finally:
            self.away = None
            for db in self.databases.values():
                db.close()
            self.databases.clear()


class _Away:
    """The parent's end of a Sink in a child process: chunks go down a pipe (whose buffer keeps the
    parent at most a chunk ahead), requests (create, finish, discard) are answered "ok" or with the
    child's exception."""

    def __init__(self, targets: dict[str, str], chunk: int, expand: dict[str, Expand]) -> None:
        context = multiprocessing.get_context("spawn")  # nothing of the parent's state (connections, threads)
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, targets, chunk, expand), daemon=True)
        self.process.start()
        child.close()
        self._answer()  # connected, or the child's error

    def send(self, table: str, rows: list[Any]) -> None:
        if self.pipe.poll():  # the child answers unasked only when it failed
            self._answer()
        self.pipe.send(("rows", table, rows))

    def start(self, request: str) -> None:
        self.pipe.send((request,))

    def wait(self) -> None:
        self._answer()

    def call(self, request: str) -> None:
        self.start(request)
        self.wait()

    def _answer(self) -> None:
        try:
            answer = self.pipe.recv()
        except EOFError:
            raise RuntimeError(f"the writing process ended (exit code {self.process.exitcode})") from None
        if isinstance(answer, BaseException):
            raise answer

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.pipe.send(("close",))
        self.process.join()
        self.pipe.close()


def _serve(pipe: Connection, targets: dict[str, str], chunk: int, expand: dict[str, Expand]) -> None:
    """The child's side of `_Away`: a Sink that writes the chunks it receives."""
    try:
        sink = Sink(targets, chunk, expand)
    except BaseException as error:
        pipe.send(_portable(error))
        return
    try:
        pipe.send("ok")
        while True:
            message = pipe.recv()
            if message[0] == "rows":
                _, table, rows = message
                sink.buffers[table] += rows
                sink.flush(table)
            elif message[0] == "close":
                return
            else:
                {"create": sink.create, "finish": sink.finish, "discard": sink.discard}[message[0]]()
                pipe.send("ok")
    except BaseException as error:
        with contextlib.suppress(Exception):
            sink.discard()
            pipe.send(_portable(error))
    finally:
        sink.close()


def _portable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, else a RuntimeError that says what it was."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def generated(targets: dict[str, str]) -> bool:
    """Whether every target (department -> URL) already holds its department's legacy tables, fully
    written: their indexes, which `Sink.finish` builds after the last row, all exist."""
    for department, url in targets.items():
        sync = sync_url(url)
        if sync.get_backend_name() == "sqlite" and not Path(sync.database or "").exists():
            return False  # connecting would create the file
        engine = sa.create_engine(sync)
        try:
            inspector = sa.inspect(engine)
            for table in DEPARTMENT_TABLES.get(department) or JOINED_TABLES[department]:
                if not inspector.has_table(table.name):
                    return False
                have = {index["name"] for index in inspector.get_indexes(table.name)}
                if any(index.name not in have for index in table.indexes):
                    return False
        finally:
            engine.dispose()
    return True
