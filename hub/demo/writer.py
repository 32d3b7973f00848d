"""Bulk writing of legacy rows: chunked executemany (COPY on PostgreSQL), indexes built after the load."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
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


class Sink:
    """Buffers rows per legacy table and inserts them in chunks into the table's database."""

    def __init__(self, targets: dict[str, str], chunk: int = 10_000) -> None:
        self.chunk = chunk
        self.databases: dict[str, _Database] = {}
        self.where: dict[str, _Database] = {}
        self.tables: dict[str, sa.Table] = {}
        # Rows queued per table (generators append to these lists, which stay the same objects);
        # the next `flush_full` writes a table's once it holds a chunk's worth.
        self.buffers: dict[str, list[tuple]] = {}
        self.sql: dict[str, str] = {}
        self.created: list[str] = []
        try:
            self._connect(targets)
        except BaseException:
            self.close()
            raise
        self.rows_written = 0

    def _connect(self, targets: dict[str, str]) -> None:
        for department, url in targets.items():
            sync = sync_url(url)
            key = sync.render_as_string(hide_password=False)
            db = self.databases.get(key) or self.databases.setdefault(key, _Database(sync))
            for table in DEPARTMENT_TABLES.get(department) or JOINED_TABLES[department]:
                self.where[table.name], self.tables[table.name], self.buffers[table.name] = db, table, []
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
        for name, table in self.tables.items():
            db = self.where[name]
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
        """Write and commit a table's buffered rows."""
        rows, db = self.buffers[table], self.where[table]
        if not rows:
            return
        cursor = db.raw.cursor()
        if db.dialect.name == "postgresql":
            with cursor.copy(self.sql[table]) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.sql[table], rows)
        cursor.close()
        db.raw.commit()
        self.rows_written += len(rows)
        self.buffers[table].clear()

    def finish(self, progress: Any = None) -> None:
        """Flush everything and build the indexes."""
        for name in self.tables:
            self.flush(name)
        for done, (name, table) in enumerate(self.tables.items(), 1):
            for index in sorted(table.indexes, key=lambda ix: ix.name or ""):
                self.where[name].ddl(CreateIndex(index))
            self.where[name].raw.commit()
            if progress:
                progress("indexes", done, len(self.tables))

    def discard(self) -> None:
        """After a failure: drop every table `create` made, so no half-written database is left."""
        for name in reversed(self.created):
            db = self.where[name]
            with contextlib.suppress(Exception):  # a database that went away keeps what it has
                db.raw.rollback()
                db.ddl(DropTable(self.tables[name], if_exists=True))
                db.raw.commit()
        self.created.clear()

    def close(self) -> None:
        """Commit and close every connection (safe to call twice)."""
        for db in self.databases.values():
            db.close()
        self.databases.clear()


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
