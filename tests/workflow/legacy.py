"""Legacy databases for the delivery tests: empty SQLite files with a department's tables, adapters over them, their rows."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from adapters.mapping import default_mappings
from adapters.registry import Sources
from adapters.sql import SqlAdapter
from hub.core.db import sqlite_file_url, sync_url
from hub.demo.legacy import DEPARTMENT_TABLES, METADATA


def legacy_database(path: Path, department: str) -> str:
    """An SQLite file with a department's legacy tables and no rows; its URL."""
    url = sqlite_file_url(str(path))
    engine = sa.create_engine(sync_url(url))
    METADATA.create_all(engine, tables=list(DEPARTMENT_TABLES[department]))
    engine.dispose()
    return url


def sources(urls: dict[str, str], writes: set[str]) -> Sources:
    """The given departments' SQL adapters; those in `writes` grant writes."""
    mappings = default_mappings()
    return Sources({d: SqlAdapter(d, mappings[d], url, writes=d in writes, connect_timeout=1.0, retry_seconds=0)
                    for d, url in urls.items()})


def rows(url: str, table: str) -> list[tuple[object, ...]]:
    """Every row of a legacy table."""
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.select(METADATA.tables[table]))]
    finally:
        engine.dispose()
